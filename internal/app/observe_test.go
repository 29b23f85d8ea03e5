package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/quilltest"
)

// observer counts what an App tells its Observer.
type observer struct {
	mu     sync.Mutex
	logins map[app.LoginOutcome]int
	mails  map[app.ResetMailOutcome]int
	told   chan struct{} // a value after each call, dropped when full
}

func newObserver() *observer {
	return &observer{logins: map[app.LoginOutcome]int{}, mails: map[app.ResetMailOutcome]int{}, told: make(chan struct{}, 1)}
}

func (o *observer) Login(out app.LoginOutcome) {
	o.mu.Lock()
	o.logins[out]++
	o.mu.Unlock()
	o.notify()
}

func (o *observer) ResetMail(out app.ResetMailOutcome) {
	o.mu.Lock()
	o.mails[out]++
	o.mu.Unlock()
	o.notify()
}

func (o *observer) notify() {
	select {
	case o.told <- struct{}{}:
	default:
	}
}

func (o *observer) loginCounts() map[app.LoginOutcome]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return clone(o.logins)
}

func (o *observer) mailCounts() map[app.ResetMailOutcome]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return clone(o.mails)
}

func clone[K comparable](m map[K]int) map[K]int {
	c := make(map[K]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// waitMails waits until the mail outcomes are want, for at most 10 s: the
// mail worker runs in the background.
func (o *observer) waitMails(tb testing.TB, want map[app.ResetMailOutcome]int) {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		got := o.mailCounts()
		if cmp.Equal(want, got) {
			return
		}
		select {
		case <-o.told:
		case <-deadline:
			tb.Fatalf("reset mail outcomes mismatch after 10 s (-want +got):\n%s", cmp.Diff(want, got))
		}
	}
}

func TestObserverCountsLogins(t *testing.T) {
	for _, db := range quilltest.DBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			obs := newObserver()
			q := quilltest.New(t, db, quilltest.Options{App: func(c *app.Config) { c.Observer = obs }})
			ctx := t.Context()
			register(t, q, "alice", "alice@example.com")
			login := func(name, password string) error {
				_, err := q.App.LogIn(ctx, app.Credentials{Username: name, Password: password}, app.SessionStart{})
				return err
			}

			wantError(t, "LogIn(right password)", login("alice", alicePassword), nil)
			wantError(t, "LogIn(no such account)", login("nobody", alicePassword), blog.ErrBadCredentials)
			wantKind(t, "LogIn(no password)", login("alice", ""), blog.Unprocessable)
			for range blog.FreeLoginFailures {
				wantError(t, "LogIn(wrong password)", login("alice", "a wrong guess"), blog.ErrBadCredentials)
			}
			wantKind(t, "LogIn(right password, throttled)", login("alice", alicePassword), blog.TooManyRequests)
			q.CloseDatabase()
			if err := login("alice", alicePassword); blog.ErrorKind(err) != blog.Internal {
				t.Errorf("LogIn(database closed) = %v, want an internal error", err)
			}

			want := map[app.LoginOutcome]int{
				app.LoginOK:             1,
				app.LoginBadCredentials: 1 + blog.FreeLoginFailures,
				app.LoginInvalid:        1,
				app.LoginThrottled:      1,
				app.LoginError:          1,
			}
			if diff := cmp.Diff(want, obs.loginCounts()); diff != "" {
				t.Errorf("login outcomes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// blockingMailer holds every reset mail until release is closed (or its
// context ends), and fails those to fail@example.com. Other mails pass.
type blockingMailer struct {
	entered chan struct{}
	release chan struct{}
}

func (m *blockingMailer) Send(ctx context.Context, msg mail.Message) error {
	if msg.Subject != "Reset your password" {
		return nil
	}
	select {
	case m.entered <- struct{}{}:
	default:
	}
	select {
	case <-m.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if msg.To == "fail@example.com" {
		return errors.New("the mail server said no")
	}
	return nil
}

func TestObserverCountsResetMails(t *testing.T) {
	mailer := &blockingMailer{entered: make(chan struct{}, 1), release: make(chan struct{})}
	obs := newObserver()
	q := quilltest.New(t, quilltest.SQLite, quilltest.Options{App: func(c *app.Config) {
		c.Observer = obs
		c.Mailer = mailer
	}})
	ctx := t.Context()
	register(t, q, "alice", "alice@example.com")
	register(t, q, "failing", "fail@example.com")
	ask := func(email string) {
		t.Helper()
		if err := q.App.RequestPasswordReset(ctx, app.ResetRequest{Email: email}); err != nil {
			t.Fatalf("RequestPasswordReset(%s) = %v", email, err)
		}
	}

	ask("alice@example.com")
	<-mailer.entered // the worker holds Alice's mail: the queue is empty
	if n, c := q.App.ResetMailQueue(); n != 0 || c < 1 {
		t.Fatalf("ResetMailQueue() = %d, %d, want 0 waiting", n, c)
	}
	ask("alice@example.com") // within a minute of the last: ignored
	ask("fail@example.com")
	_, capacity := q.App.ResetMailQueue()
	for i := range capacity - 1 {
		ask(fmt.Sprintf("nobody%d@example.com", i))
	}
	if n, _ := q.App.ResetMailQueue(); n != capacity {
		t.Fatalf("ResetMailQueue() length = %d, want %d (full)", n, capacity)
	}
	ask("one-too-many@example.com")
	obs.waitMails(t, map[app.ResetMailOutcome]int{app.ResetMailRepeated: 1, app.ResetMailDropped: 1})

	close(mailer.release)
	obs.waitMails(t, map[app.ResetMailOutcome]int{
		app.ResetMailRepeated:  1,
		app.ResetMailDropped:   1,
		app.ResetMailSent:      1,
		app.ResetMailFailed:    1,
		app.ResetMailNoAccount: capacity - 1,
	})
	if n, _ := q.App.ResetMailQueue(); n != 0 {
		t.Errorf("ResetMailQueue() length after sending = %d, want 0", n)
	}
}

func TestLiveSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, q *quilltest.Quill) {
		ctx := t.Context()
		count := func(want int64) {
			t.Helper()
			if n, err := q.App.LiveSessions(ctx); err != nil || n != want {
				t.Errorf("LiveSessions() = %d, %v, want %d, nil", n, err, want)
			}
		}
		count(0)
		register(t, q, "alice", "alice@example.com")
		register(t, q, "bob", "bob@example.com")
		alice := logIn(t, q, "alice", alicePassword)
		logIn(t, q, "alice", alicePassword)
		logIn(t, q, "bob", alicePassword)
		count(3)
		if err := q.App.LogOut(ctx, alice); err != nil {
			t.Fatal(err)
		}
		count(2)
		q.Clock.Advance(quilltest.SessionTTL)
		count(0)
	})
}

// The store's errors reach LiveSessions' caller.
func TestLiveSessionsDatabaseClosed(t *testing.T) {
	q := quilltest.New(t, quilltest.SQLite)
	q.CloseDatabase()
	if _, err := q.App.LiveSessions(t.Context()); err == nil {
		t.Error("LiveSessions() with the database closed = nil error, want one")
	}
}
