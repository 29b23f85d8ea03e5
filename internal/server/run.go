package server

import (
	"context"
	"maps"
	"sync"
	"time"
)

// Background work: what the server does between requests. Run drives it.

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
	// pruneEvery is how often expired sessions and reset tokens are deleted.
	pruneEvery = time.Hour
	// drainWait bounds the work done after Run's context ends: the last
	// writes of session uses, and the reset mails already queued.
	drainWait = 5 * time.Second
)

// Run does the server's background work until ctx ends: it writes the
// recorded session uses every flushEvery (sooner when many pile up),
// sends password reset mails, and deletes expired sessions and reset
// tokens every pruneEvery. When ctx ends, it sends the mails already
// queued and writes the last uses, for at most drainWait, then returns.
//
// Call Run once, and end its context only after the HTTP server has
// stopped taking requests (http.Server.Shutdown), so nothing is recorded
// or queued after the last write.
func (s *Server) Run(ctx context.Context) {
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		s.sendResets(ctx)
	}()
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainWait)
			s.flushLastUsed(drain)
			cancel()
			<-mailDone
			return
		case <-flush.C:
			s.flushLastUsed(ctx)
		case <-s.lastUsed.full:
			s.flushLastUsed(ctx)
		case <-prune.C:
			s.prune(ctx)
		}
	}
}

// prune deletes what has expired. Expired rows are already refused on
// use; this only keeps the tables small.
func (s *Server) prune(ctx context.Context) {
	now := s.now()
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		s.logger.Warn("could not delete expired sessions", "err", err)
	}
	if _, err := s.store.DeleteExpiredPasswordResets(ctx, now); err != nil {
		s.logger.Warn("could not delete expired password reset tokens", "err", err)
	}
}

// flushLastUsed writes the recorded session uses in one transaction. If
// that fails, they are kept for the next try.
func (s *Server) flushLastUsed(ctx context.Context) {
	uses := s.lastUsed.take()
	if len(uses) == 0 {
		return
	}
	if err := s.store.TouchSessions(ctx, uses); err != nil {
		s.logger.Warn("could not record when sessions were last used; will retry", "sessions", len(uses), "err", err)
		s.lastUsed.putBack(uses)
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
