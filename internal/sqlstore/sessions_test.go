package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
)

// createSession adds a session for u that started at created and lasts ttl.
func createSession(tb testing.TB, s *Store, u *blog.User, id string, created time.Time, ttl time.Duration) *blog.Session {
	tb.Helper()
	sess := &blog.Session{ID: id, UserID: u.ID, CreatedAt: created, LastUsedAt: created, ExpiresAt: created.Add(ttl),
		UserAgent: "test agent", IP: "192.0.2.1"}
	err := s.Write(context.Background(), func(tx *Tx) error {
		return tx.CreateSession(context.Background(), sess, []byte("refresh hash of "+id))
	})
	if err != nil {
		tb.Fatalf("CreateSession(%q) = %v", id, err)
	}
	return sess
}

func TestSessionUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		live := createSession(t, s, alice, "live", now.Add(-time.Hour), 2*time.Hour)
		createSession(t, s, alice, "expired", now.Add(-2*time.Hour), time.Hour)
		createSession(t, s, alice, "expires now", now.Add(-time.Hour), time.Hour)
		createSession(t, s, bob, "bob's", now, time.Hour)
		write(t, s, func(tx *Tx) error { _, err := tx.DeleteUser(ctx, bob.ID); return err })

		tests := []struct {
			name     string
			id       string
			wantSess *blog.Session
			wantUser *blog.User
			wantErr  error
		}{
			{name: "live", id: "live", wantSess: live, wantUser: alice},
			{name: "expired", id: "expired", wantErr: blog.ErrInvalidToken},
			{name: "expires at this instant", id: "expires now", wantErr: blog.ErrInvalidToken},
			{name: "missing", id: "nope", wantErr: blog.ErrInvalidToken},
			{name: "empty id", id: "", wantErr: blog.ErrInvalidToken},
			{name: "user deleted", id: "bob's", wantErr: blog.ErrInvalidToken},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				sess, u, err := s.SessionUser(ctx, tt.id, now)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SessionUser(%q) error = %v, want %v", tt.id, err, tt.wantErr)
				}
				if diff := cmp.Diff(tt.wantSess, sess); diff != "" {
					t.Errorf("SessionUser(%q) session mismatch (-want +got):\n%s", tt.id, diff)
				}
				if diff := cmp.Diff(tt.wantUser, u); diff != "" {
					t.Errorf("SessionUser(%q) user mismatch (-want +got):\n%s", tt.id, diff)
				}
			})
		}
	})
}

func TestCreateSessionRefreshHashUnique(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		createSession(t, s, alice, "one", clock.Now(), time.Hour)
		sess := &blog.Session{ID: "two", UserID: alice.ID, CreatedAt: clock.Now(), LastUsedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}
		err := s.Write(ctx, func(tx *Tx) error { return tx.CreateSession(ctx, sess, []byte("refresh hash of one")) })
		if err == nil {
			t.Error("CreateSession with another session's refresh hash succeeded")
		}
	})
}

// TestCreateSessionUserDeleted checks that a session for a user deleted
// meanwhile (a login racing the account's deletion) is
// blog.ErrUserNotFound, which a client may see, not an internal error, and
// is not stored.
func TestCreateSessionUserDeleted(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		newSession := func(id string, u *blog.User) func(tx *Tx) error {
			return func(tx *Tx) error {
				sess := &blog.Session{ID: id, UserID: u.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
				return tx.CreateSession(ctx, sess, []byte("refresh hash of "+id))
			}
		}
		deleteUser := func(u *blog.User) func(tx *Tx) error {
			return func(tx *Tx) error { _, err := tx.DeleteUser(ctx, u.ID); return err }
		}

		// Deleted between the login's read and its write.
		alice := createUser(t, s, "alice")
		write(t, s, deleteUser(alice))
		if err := s.Write(ctx, newSession("late", alice)); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("CreateSession(deleted user) = %v, want ErrUserNotFound", err)
		}

		// Deleted while logins are under way.
		bob := createUser(t, s, "bob")
		openWriters(t, s)
		const n = 8
		errs := make([]error, n+1)
		together(n+1, func(i int) {
			if i == n {
				errs[i] = s.Write(ctx, deleteUser(bob))
				return
			}
			errs[i] = s.Write(ctx, newSession(fmt.Sprint("bob", i), bob))
		})
		if errs[n] != nil {
			t.Fatalf("DeleteUser(bob) during logins = %v", errs[n])
		}
		for i, err := range errs[:n] {
			if err != nil && !errors.Is(err, blog.ErrUserNotFound) {
				t.Errorf("CreateSession(bob%d) during bob's deletion = %v, want nil or ErrUserNotFound", i, err)
			}
		}
		if diff := cmp.Diff([]string{}, tableRows(t, s)["sessions"]); diff != "" {
			t.Errorf("sessions after their users were deleted (-want +got):\n%s", diff)
		}
	})
}

func TestDeleteSession(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createSession(t, s, alice, "a1", clock.Now(), time.Hour)
		createSession(t, s, bob, "b1", clock.Now(), time.Hour)

		tests := []struct {
			name    string
			userID  int64
			id      string
			wantErr error
		}{
			{name: "another user's", userID: alice.ID, id: "b1", wantErr: blog.ErrSessionNotFound},
			{name: "missing", userID: alice.ID, id: "nope", wantErr: blog.ErrSessionNotFound},
			{name: "own", userID: alice.ID, id: "a1"},
			{name: "own, again", userID: alice.ID, id: "a1", wantErr: blog.ErrSessionNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Write(ctx, func(tx *Tx) error { return tx.DeleteSession(ctx, tt.userID, tt.id) })
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("DeleteSession(%d, %q) = %v, want %v", tt.userID, tt.id, err, tt.wantErr)
				}
			})
		}
		if _, _, err := s.SessionUser(ctx, "a1", clock.Now()); !errors.Is(err, blog.ErrInvalidToken) {
			t.Errorf("SessionUser(deleted) = %v, want ErrInvalidToken", err)
		}
		if _, _, err := s.SessionUser(ctx, "b1", clock.Now()); err != nil {
			t.Errorf("SessionUser(bob's) = %v after alice tried to delete it", err)
		}
	})
}

// sessionIDs lists the user's live session ids, newest first.
func sessionIDs(tb testing.TB, s *Store, userID int64, now time.Time) []string {
	tb.Helper()
	sessions, err := s.Sessions(context.Background(), userID, now)
	if err != nil {
		tb.Fatalf("Sessions(%d) = %v", userID, err)
	}
	ids := []string{}
	for _, sess := range sessions {
		ids = append(ids, sess.ID)
	}
	return ids
}

func TestSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		first := createSession(t, s, alice, "first", now.Add(-3*time.Hour), 24*time.Hour)
		createSession(t, s, alice, "expired", now.Add(-2*time.Hour), time.Hour)
		createSession(t, s, alice, "last", now.Add(-time.Minute), 24*time.Hour)
		createSession(t, s, alice, "middle", now.Add(-time.Hour), 24*time.Hour)
		createSession(t, s, bob, "bob's", now, time.Hour)

		if diff := cmp.Diff([]string{"last", "middle", "first"}, sessionIDs(t, s, alice.ID, now)); diff != "" {
			t.Errorf("Sessions(alice) mismatch (-want +got):\n%s", diff)
		}
		sessions, err := s.Sessions(ctx, alice.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(*first, sessions[2]); diff != "" {
			t.Errorf("Sessions(alice)[2] mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{}, sessionIDs(t, s, 424242, now)); diff != "" {
			t.Errorf("Sessions(missing user) mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestDeleteSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createSession(t, s, bob, "b1", now, time.Hour)

		tests := []struct {
			name     string
			sessions []string // alice's before
			except   string
			wantN    int64
			want     []string // alice's after
		}{
			{name: "all but the current one", sessions: []string{"a1", "a2", "a3"}, except: "a2", wantN: 2, want: []string{"a2"}},
			{name: "another user's id as the exception", sessions: []string{"a4"}, except: "b1", wantN: 2, want: []string{}},
			{name: "none left to end", except: "a2", wantN: 0, want: []string{}},
			{name: "no exception", sessions: []string{"a5", "a6"}, except: "", wantN: 2, want: []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, id := range tt.sessions {
					createSession(t, s, alice, id, now, time.Hour)
				}
				var n int64
				write(t, s, func(tx *Tx) error {
					var err error
					n, err = tx.DeleteSessions(context.Background(), alice.ID, tt.except)
					return err
				})
				if n != tt.wantN {
					t.Errorf("DeleteSessions(%q) = %d, want %d", tt.except, n, tt.wantN)
				}
				if diff := cmp.Diff(tt.want, sessionIDs(t, s, alice.ID, now)); diff != "" {
					t.Errorf("alice's sessions after DeleteSessions mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"b1"}, sessionIDs(t, s, bob.ID, now)); diff != "" {
					t.Errorf("bob's sessions after DeleteSessions(alice) mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestTouchSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		start := clock.Now()
		alice := createUser(t, s, "alice")
		createSession(t, s, alice, "a", start, 24*time.Hour)
		createSession(t, s, alice, "b", start, 24*time.Hour)
		createSession(t, s, alice, "c", start, 24*time.Hour)

		if err := s.TouchSessions(ctx, nil); err != nil {
			t.Errorf("TouchSessions(nil) = %v", err)
		}
		later := start.Add(10 * time.Minute)
		err := s.TouchSessions(ctx, map[string]time.Time{
			"a":    later,
			"b":    start.Add(-time.Minute), // older than what is stored: ignored
			"gone": later,
		})
		if err != nil {
			t.Fatalf("TouchSessions() = %v", err)
		}
		sessions, err := s.Sessions(ctx, alice.ID, start)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]time.Time{}
		for _, sess := range sessions {
			got[sess.ID] = sess.LastUsedAt
		}
		want := map[string]time.Time{"a": later, "b": start, "c": start}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("LastUsedAt after TouchSessions mismatch (-want +got):\n%s", diff)
		}

		// Many at once, as the server batches them.
		batch := map[string]time.Time{}
		for i := range 500 {
			id := fmt.Sprintf("s%03d", i)
			createSession(t, s, alice, id, start, time.Hour)
			batch[id] = later
		}
		if err := s.TouchSessions(ctx, batch); err != nil {
			t.Fatalf("TouchSessions(500 sessions) = %v", err)
		}
		sess, _, err := s.SessionUser(ctx, "s499", start)
		if err != nil {
			t.Fatal(err)
		}
		if !sess.LastUsedAt.Equal(later) {
			t.Errorf("LastUsedAt of s499 = %v, want %v", sess.LastUsedAt, later)
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice := createUser(t, s, "alice")
		createSession(t, s, alice, "expired", now.Add(-2*time.Hour), time.Hour)
		createSession(t, s, alice, "expires now", now.Add(-time.Hour), time.Hour)
		createSession(t, s, alice, "live", now, time.Hour)

		n, err := s.DeleteExpiredSessions(ctx, now)
		if err != nil || n != 2 {
			t.Errorf("DeleteExpiredSessions() = %d, %v, want 2, nil", n, err)
		}
		if diff := cmp.Diff([]string{"live"}, sessionIDs(t, s, alice.ID, now.Add(-24*time.Hour))); diff != "" {
			t.Errorf("sessions left mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestRotateRefresh(t *testing.T) {
	const grace = 10 * time.Second
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		h := func(s string) []byte { return []byte("hash " + s) }

		// step is one call and what it must give.
		type step struct {
			name          string
			advance       time.Duration
			presented     string // the hash is "refresh hash of <id>" for "first"
			next          string
			wantErr       error
			wantRetry     bool
			wantIssuedAgo time.Duration // IssuedAt is now minus this
		}
		tests := []struct {
			name  string
			steps []step
			alive bool // the session exists after the last step
		}{
			{
				name: "rotate, then rotate the new one",
				steps: []step{
					{name: "first use", presented: "first", next: "t1"},
					{name: "use of the new token", advance: time.Hour, presented: "t1", next: "t2"},
				},
				alive: true,
			},
			{
				name: "retry within the grace window",
				steps: []step{
					{name: "first use", presented: "first", next: "t1"},
					{name: "retry", advance: grace - time.Second, presented: "first", next: "t1", wantRetry: true, wantIssuedAgo: grace - time.Second},
					{name: "retry at the window's end", advance: time.Second, presented: "first", next: "t1", wantRetry: true, wantIssuedAgo: grace},
					{name: "the new token still works", presented: "t1", next: "t2"},
				},
				alive: true,
			},
			{
				name: "reuse after the grace window",
				steps: []step{
					{name: "first use", presented: "first", next: "t1"},
					{name: "reuse", advance: grace + time.Microsecond, presented: "first", next: "t1", wantErr: blog.ErrRefreshReused},
					{name: "the new token died with the session", presented: "t1", next: "t2", wantErr: blog.ErrInvalidRefresh},
				},
			},
			{
				name: "reuse of a token two rotations old",
				steps: []step{
					{name: "first use", presented: "first", next: "t1"},
					{name: "second use", presented: "t1", next: "t2"},
					{name: "reuse of the first", presented: "first", next: "t1", wantErr: blog.ErrRefreshReused},
				},
			},
			{
				name: "the previous token with another successor",
				steps: []step{
					{name: "first use", presented: "first", next: "t1"},
					{name: "retry claiming another successor", presented: "first", next: "other", wantErr: blog.ErrRefreshReused},
				},
			},
			{
				name: "the current token after its session expired",
				steps: []step{
					{name: "use at expiry", advance: 24 * time.Hour, presented: "first", next: "t1", wantErr: blog.ErrInvalidRefresh},
				},
			},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := fmt.Sprintf("session%d", i)
				sess := createSession(t, s, alice, id, clock.Now(), 24*time.Hour)
				hash := func(name string) []byte {
					if name == "first" {
						return []byte("refresh hash of " + id)
					}
					return h(id + name)
				}
				for _, st := range tt.steps {
					now := clock.Advance(st.advance)
					rot, err := s.RotateRefresh(ctx, id, hash(st.presented), hash(st.next), now, grace)
					if !errors.Is(err, st.wantErr) {
						t.Fatalf("%s: RotateRefresh() error = %v, want %v", st.name, err, st.wantErr)
					}
					if err != nil {
						continue
					}
					if rot.Retry != st.wantRetry || !rot.IssuedAt.Equal(now.Add(-st.wantIssuedAgo)) {
						t.Errorf("%s: RotateRefresh() = retry %v issued %v, want retry %v issued %v",
							st.name, rot.Retry, rot.IssuedAt, st.wantRetry, now.Add(-st.wantIssuedAgo))
					}
					if diff := cmp.Diff(*sess, rot.Session); diff != "" {
						t.Errorf("%s: session mismatch (-want +got); refreshing must not extend it:\n%s", st.name, diff)
					}
				}
				_, _, err := s.SessionUser(ctx, id, clock.Now())
				if alive := err == nil; alive != tt.alive {
					t.Errorf("after the steps, SessionUser() = %v; want alive %v", err, tt.alive)
				}
			})
		}
		if _, err := s.RotateRefresh(ctx, "missing", []byte("x"), []byte("y"), clock.Now(), grace); !errors.Is(err, blog.ErrInvalidRefresh) {
			t.Errorf("RotateRefresh(missing session) = %v, want ErrInvalidRefresh", err)
		}
	})
}

// TestRotateRefreshConcurrent checks that concurrent uses of one token
// rotate it once: every other caller sees a retry of that rotation.
func TestRotateRefreshConcurrent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		createSession(t, s, alice, "s", clock.Now(), time.Hour)
		openWriters(t, s)
		const n = 16
		var (
			mu               sync.Mutex
			rotated, retried int
			errs             []error
		)
		together(n, func(int) {
			rot, err := s.RotateRefresh(ctx, "s", []byte("refresh hash of s"), []byte("next"), clock.Now(), 10*time.Second)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case rot.Retry:
				retried++
			default:
				rotated++
			}
		})
		if rotated != 1 || retried != n-1 || len(errs) > 0 {
			t.Errorf("%d concurrent RotateRefresh: %d rotated, %d retries, errors %v; want 1, %d, none", n, rotated, retried, errs, n-1)
		}
	})
}
