package app

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/quill-blog/quill/internal/blog"
)

const (
	// searchWait is how long a search waits for a slot (see
	// searchSlots) before it is turned away.
	searchWait = 2 * time.Second
	// defaultSearchTimeout is how long a search may run. A search ranks
	// at most blog.MaxSearchResults posts, but finding them costs a pass
	// over every post that has each of its words: a prefix or a phrase of
	// very common words can take seconds on a large blog. It is a bound,
	// not a budget: an ordinary search on a loaded server takes a fraction
	// of it.
	defaultSearchTimeout = 5 * time.Second
)

var (
	// ErrSearchBusy is the answer to a search that found no free slot in
	// time.
	ErrSearchBusy = &blog.Error{Kind: blog.Unavailable, Code: "busy", Message: "Too many searches are running; try again",
		RetryAfter: searchWait}
	// ErrSearchTooSlow is the answer to a search that did not finish in
	// time: its words are too common, and other words would narrow it, or
	// the server is overloaded. It says both, as a 503: which it was,
	// neither the server nor the client can tell.
	ErrSearchTooSlow = &blog.Error{Kind: blog.Unavailable, Code: "search_too_slow",
		Message:    "Search took too long; try again, or with more or rarer words, or a longer prefix",
		RetryAfter: searchWait}
)

// SearchPosts returns a page of the posts that match req.Query, best
// first (see blog.SearchPage): everyone's when authorID is 0, otherwise
// that user's (a missing user is blog.ErrUserNotFound). A query that
// cannot be read, a cursor of another query, or req.Problems, is a 422
// listing them all. A search that finds no slot free within searchWait is
// ErrSearchBusy; one that runs out of time, ErrSearchTooSlow.
func (a *App) SearchPosts(ctx context.Context, authorID int64, req blog.SearchRequest) (*blog.SearchPage, error) {
	var v blog.Validator
	q := v.SearchQuery(req.Query)
	v.Problems = append(v.Problems, req.Problems...)
	if len(v.Problems) == 0 {
		v.CheckSearchCursor(req.Cursor, q)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	skip := req.Skip
	if req.Cursor != nil {
		skip = req.Cursor.Offset
	}
	if err := a.searches.acquire(ctx); err != nil {
		return nil, err
	}
	defer a.searches.release()
	searchCtx, cancel := context.WithTimeout(ctx, a.searchTimeout)
	defer cancel()
	page, err := a.store.SearchPosts(searchCtx, authorID, q, skip, req.Limit)
	if err != nil && ctx.Err() == nil && searchCtx.Err() != nil {
		a.log(ctx).Info("search took too long", "query", q.String(), "timeout", a.searchTimeout)
		return nil, ErrSearchTooSlow
	}
	if err != nil {
		return nil, err
	}
	for i := range page.Posts {
		a.render(&page.Posts[i])
	}
	return page, nil
}

// searchSlots bounds the searches running at once. A search is the one
// read a visitor can make cost tens of milliseconds or more of the
// database's time; with the slots, a burst of them leaves connections
// and processors for every other request.
type searchSlots struct {
	sem  *semaphore.Weighted
	wait time.Duration
}

// newSearchSlots returns n slots, a search waiting at most wait for one.
func newSearchSlots(n int, wait time.Duration) *searchSlots {
	return &searchSlots{sem: semaphore.NewWeighted(int64(n)), wait: wait}
}

// defaultSearchSlots is half the processors, at least two: SQLite's
// readers are at least four, or as many as the processors.
func defaultSearchSlots() int { return max(2, runtime.GOMAXPROCS(0)/2) }

// acquire takes a slot, waiting at most s.wait, and less if ctx ends
// first: then it is ErrSearchBusy. The wait uses the real clock: it
// bounds how long a request is held, which no test asserts on.
func (s *searchSlots) acquire(ctx context.Context) error {
	if ctx.Err() != nil {
		return ErrSearchBusy
	}
	if s.sem.TryAcquire(1) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	if err := s.sem.Acquire(ctx, 1); err != nil {
		return ErrSearchBusy
	}
	return nil
}

// release gives back a slot taken by acquire.
func (s *searchSlots) release() { s.sem.Release(1) }
