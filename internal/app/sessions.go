package app

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/sqlstore"
)

const (
	// touchAfter: a request records its session's use only when the stored
	// last use is at least this old. last_used_at is therefore accurate to
	// about a minute, which is what a list of sessions needs.
	touchAfter = time.Minute
	// flushEvery is how often recorded uses are written, all in one
	// transaction.
	flushEvery = 30 * time.Second
	// maxPendingUses bounds the uses held in memory. Reaching it starts a
	// write early; past twice as many, new ones are dropped until the write
	// is done (they are informational, and the next request records again).
	maxPendingUses = 10_000
)

// Sessions lists the caller's live sessions, newest first.
func (a *App) Sessions(ctx context.Context, c *Caller) ([]blog.Session, error) {
	return a.userSessions(ctx, c.User.ID)
}

func (a *App) userSessions(ctx context.Context, userID int64) ([]blog.Session, error) {
	sessions, err := a.store.Sessions(ctx, userID, a.now())
	if err != nil {
		return nil, err
	}
	for i := range sessions {
		// A use recorded but not yet written is the fresher truth.
		if t, ok := a.lastUsed.at(sessions[i].ID); ok && t.After(sessions[i].LastUsedAt) {
			sessions[i].LastUsedAt = t
		}
	}
	return sessions, nil
}

// EndSession ends one of the caller's sessions (the current one too: that
// is a logout). Someone else's session is blog.ErrSessionNotFound, as is a
// missing one: ids are not confirmed to exist.
func (a *App) EndSession(ctx context.Context, c *Caller, id string) error {
	if id == "" || len(id) > 64 {
		return blog.ErrSessionNotFound
	}
	return a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		return tx.DeleteSession(ctx, c.User.ID, id)
	})
}

// EndOtherSessions ends every session of the caller's but the current one,
// and returns how many it ended.
func (a *App) EndOtherSessions(ctx context.Context, c *Caller) (int64, error) {
	var n int64
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		var err error
		n, err = tx.DeleteSessions(ctx, c.User.ID, c.Session.ID)
		return err
	})
	return n, err
}

// touch records that the session was used now, unless the stored time is
// recent enough (see touchAfter). Run writes the records in batches.
func (a *App) touch(sess *blog.Session) {
	if now := a.now(); now.Sub(sess.LastUsedAt) >= touchAfter {
		a.lastUsed.record(sess.ID, now)
	}
}

// flushLastUsed writes the recorded session uses in one transaction. If
// that fails, they are kept for the next try.
func (a *App) flushLastUsed(ctx context.Context) {
	uses := a.lastUsed.take()
	if len(uses) == 0 {
		return
	}
	if err := a.store.TouchSessions(ctx, uses); err != nil {
		a.logger.Warn("could not record when sessions were last used; will retry", "sessions", len(uses), "err", err)
		a.lastUsed.putBack(uses)
	}
}

// lastUsed holds session use times not yet written to the database, so an
// authenticated request costs no write. It is safe for concurrent use.
type lastUsed struct {
	mu      sync.Mutex
	pending map[string]time.Time
	full    chan struct{} // receives when pending reaches maxPendingUses
}

func newLastUsed() *lastUsed {
	return &lastUsed{pending: map[string]time.Time{}, full: make(chan struct{}, 1)}
}

// record notes that session id was used at t.
func (l *lastUsed) record(id string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.pending[id]; ok {
		if t.After(old) {
			l.pending[id] = t
		}
		return
	}
	if len(l.pending) >= 2*maxPendingUses {
		return
	}
	l.pending[id] = t
	if len(l.pending) == maxPendingUses {
		select {
		case l.full <- struct{}{}:
		default:
		}
	}
}

// at returns the recorded use of session id, if there is one.
func (l *lastUsed) at(id string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.pending[id]
	return t, ok
}

// take returns the recorded uses and forgets them.
func (l *lastUsed) take() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	uses := l.pending
	l.pending = make(map[string]time.Time, len(uses))
	return uses
}

// putBack restores uses a failed write took, keeping any newer ones
// recorded meanwhile.
func (l *lastUsed) putBack(uses map[string]time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	merged := maps.Clone(uses)
	for id, t := range l.pending {
		if t.After(merged[id]) {
			merged[id] = t
		}
	}
	if len(merged) <= 2*maxPendingUses {
		l.pending = merged
	}
}
