package sqlstore

import (
	"slices"
	"sync"

	"github.com/quill-blog/quill/internal/blog"
)

// The read cache answers the hottest reads (a session with its user, a page
// of posts) from memory, and is exact: an entry serves only while the
// database is at the very commit it was read at (walVersion), so any write,
// by this process or another (quill user … on the same file), empties it
// before the next read. It is for SQLite in WAL mode; PostgreSQL, whose
// instances cannot see each other's memory, reads the database every time.

// maxCached bounds the entries of each kind: reaching it empties the kind,
// which costs only re-reading.
const maxCached = 10_000

// readCache holds what was read at one version of the database.
type readCache struct {
	wal *walVersion

	mu       sync.RWMutex
	at       version // the version every entry below was read at
	sessions map[string]sessionEntry
	pages    map[pageKey]*blog.PostPage
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
}

func newReadCache(wal *walVersion) *readCache {
	return &readCache{wal: wal, sessions: map[string]sessionEntry{}, pages: map[pageKey]*blog.PostPage{}}
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
	if len(c.sessions) >= maxCached {
		clear(c.sessions)
	}
	c.sessions[e.session.ID] = e
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
	if len(c.pages) >= maxCached {
		clear(c.pages)
	}
	c.pages[k] = copyPage(p)
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
		clear(c.pages)
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
