package sqlstore

import (
	"slices"
	"sync"

	"github.com/quill-blog/quill/internal/blog"
)

// The read cache answers the hottest reads (a session with its user, a page
// of posts, an account's TOTP factor, which GET /api/users/me reads) from
// memory, and is exact: an entry serves only while the
// database is at the very commit it was read at (walVersion), so any write,
// by this process or another (quill user … on the same file), empties it
// before the next read. It is for SQLite in WAL mode; PostgreSQL, whose
// instances cannot see each other's memory, reads the database every time.

// Bounds of the cache. Reaching one empties that kind, which costs only
// re-reading. Pages are bounded by their size too: a client asking for
// every page of a large blog must not grow the server's memory.
const (
	maxCachedSessions = 10_000
	maxCachedPages    = 1_000
	maxCachedPageSize = 32 << 20 // bytes of posts, roughly
)

// readCache holds what was read at one version of the database.
type readCache struct {
	wal *walVersion

	mu        sync.RWMutex
	at        version // the version every entry below was read at
	sessions  map[string]sessionEntry
	totps     map[int64]*blog.TOTP // by user id; nil: the user has none
	pages     map[pageKey]*blog.PostPage
	pageBytes int // the size of pages, by pageSize
}

type sessionEntry struct {
	session blog.Session
	user    blog.User
}

// pageKey names a page of posts.
type pageKey struct {
	author int64
	skip   int64
	limit  int
	cursor blog.Cursor
	after  bool // the page is after cursor
	before bool // the page is just before cursor
}

func newReadCache(wal *walVersion) *readCache {
	return &readCache{wal: wal, sessions: map[string]sessionEntry{}, totps: map[int64]*blog.TOTP{}, pages: map[pageKey]*blog.PostPage{}}
}

// version returns the database's version now; ok is false when it cannot
// be trusted (a commit is being written), and then nothing may be served
// from the cache nor stored in it.
func (c *readCache) version() (version, bool) {
	if c == nil {
		return version{}, false
	}
	return c.wal.read()
}

// session returns the cached session id and its user if the database is
// still at v.
func (c *readCache) session(v version, id string) (sessionEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.at != v {
		return sessionEntry{}, false
	}
	e, ok := c.sessions[id]
	return e, ok
}

// storeSession keeps a session and its user read at version v: v must have
// been taken before the read began, so that a commit during the read makes
// the entry stale rather than wrongly fresh.
func (c *readCache) storeSession(v version, e sessionEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reset(v) {
		return
	}
	if len(c.sessions) >= maxCachedSessions {
		clear(c.sessions)
	}
	c.sessions[e.session.ID] = e
}

// totp returns a copy of the cached TOTP factor of the user (nil for
// none) if the database is still at v; ok is false when it is not cached.
func (c *readCache) totp(v version, userID int64) (t *blog.TOTP, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.at != v {
		return nil, false
	}
	t, ok = c.totps[userID]
	return copyTOTP(t), ok
}

// storeTOTP keeps the user's TOTP factor (nil for none), read at version
// v (see storeSession).
func (c *readCache) storeTOTP(v version, userID int64, t *blog.TOTP) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reset(v) {
		return
	}
	if len(c.totps) >= maxCachedSessions {
		clear(c.totps)
	}
	c.totps[userID] = copyTOTP(t)
}

func copyTOTP(t *blog.TOTP) *blog.TOTP {
	if t == nil {
		return nil
	}
	cp := *t
	cp.Sealed = slices.Clone(t.Sealed)
	return &cp
}

// page returns a copy of the cached page k if the database is still at v.
func (c *readCache) page(v version, k pageKey) (*blog.PostPage, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.at != v {
		return nil, false
	}
	p, ok := c.pages[k]
	if !ok {
		return nil, false
	}
	return copyPage(p), true
}

// storePage keeps a copy of page k, read at version v (see storeSession).
func (c *readCache) storePage(v version, k pageKey, p *blog.PostPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reset(v) {
		return
	}
	n := pageSize(p)
	if len(c.pages) >= maxCachedPages || c.pageBytes+n > maxCachedPageSize {
		clear(c.pages)
		c.pageBytes = 0
	}
	if n > maxCachedPageSize {
		return
	}
	c.pages[k] = copyPage(p)
	c.pageBytes += n
}

// reset makes v the cache's version, emptying it if it was at another;
// it reports false when v is older than what the cache holds (the caller's
// read may predate entries already stored), so the caller keeps nothing.
// Versions are not ordered, so "older" is judged by the database: an entry
// is stored only if the database is still at v.
func (c *readCache) reset(v version) bool {
	if now, ok := c.wal.read(); !ok || now != v {
		return false // something committed during the read: not worth keeping
	}
	if c.at != v {
		c.at = v
		clear(c.sessions)
		clear(c.totps)
		clear(c.pages)
		c.pageBytes = 0
	}
	return true
}

// copyPage copies p deeply enough that the copy's caller cannot change the
// cached page: posts are values whose strings are immutable.
func copyPage(p *blog.PostPage) *blog.PostPage {
	cp := *p
	cp.Posts = slices.Clone(p.Posts)
	if p.NextCursor != nil {
		c := *p.NextCursor
		cp.NextCursor = &c
	}
	return &cp
}

// pageSize is roughly the memory p holds: its posts' text and a little
// for each post's other fields.
func pageSize(p *blog.PostPage) int {
	n := 0
	for i := range p.Posts {
		n += len(p.Posts[i].Title) + len(p.Posts[i].Content) + len(p.Posts[i].Author.Username) + 256
	}
	return n
}
