package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/quilltest"
)

// These tests send requests at once through real HTTP connections, to
// show that the database, not luck, keeps names unique and that
// hashing is a bounded resource. Run them with -race.

// reply is a response's status and body.
type reply struct {
	status int
	body   string
	header http.Header
}

// together runs the n requests made by req at the same moment (as near as
// goroutines allow) against srv and returns their replies, in order.
func together(t *testing.T, srv *httptest.Server, n int, req func(i int) *http.Request) []reply {
	t.Helper()
	replies := make([]reply, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		r := req(i)
		wg.Go(func() {
			<-start
			res, err := srv.Client().Do(r)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				t.Errorf("request %d: read body: %v", i, err)
			}
			replies[i] = reply{res.StatusCode, string(b), res.Header}
		})
	}
	close(start)
	wg.Wait()
	return replies
}

// newRequest builds a request to srv or fails the test.
func newRequest(t *testing.T, srv *httptest.Server, method, path, contentType, body string, header http.Header) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	return r
}

// variants returns n spellings of name that are one username: case
// changes, and every other one in full-width letters.
func variants(name string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		var b strings.Builder
		for j, r := range name {
			if i&(1<<(j%len(name))) != 0 {
				r = unicode.ToUpper(r)
			}
			if i%2 == 1 {
				r += 'Ａ' - 'A' // full width
			}
			b.WriteRune(r)
		}
		out = append(out, b.String())
	}
	return out
}

func TestConcurrentRegistrations(t *testing.T) {
	const n = 32
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			ts := newTestServerWith(t, db, noLimits)
			srv := httptest.NewServer(ts.handler)
			defer srv.Close()
			names := variants("alice", n)
			replies := together(t, srv, n, func(i int) *http.Request {
				body := fmt.Sprintf(`{"username":%q,"email":"user%d@example.com","password":"a-long-passphrase-4"}`, names[i], i)
				return newRequest(t, srv, "POST", "/api/users", "application/json", body, nil)
			})
			created := 0
			for i, r := range replies {
				switch {
				case r.status == http.StatusCreated:
					created++
				case r.status == http.StatusBadRequest && r.body == `{"detail":"Username already registered","code":"username_taken"}`+"\n":
				default:
					t.Errorf("registration of %q = %d %s, want 201 or 400 username_taken", names[i], r.status, r.body)
				}
			}
			if created != 1 {
				t.Errorf("%d of %d registrations of one name succeeded, want exactly 1", created, n)
			}
		})
	}
}

func TestConcurrentRenames(t *testing.T) {
	const n = 6
	for _, db := range testDBs() {
		t.Run(db.Name, func(t *testing.T) {
			ts := newTestServerWith(t, db, noLimits)
			srv := httptest.NewServer(ts.handler)
			defer srv.Close()
			type account struct {
				id    int64
				token string
			}
			var accounts []account
			for i := range n {
				name := fmt.Sprint("user", i)
				id := ts.register(t, name, name+"@example.com", "a-long-passphrase-4")
				accounts = append(accounts, account{id, ts.login(t, name, "a-long-passphrase-4")})
			}
			names := variants("zed", n)
			replies := together(t, srv, n, func(i int) *http.Request {
				return newRequest(t, srv, "PATCH", fmt.Sprintf("/api/users/%d", accounts[i].id), "application/json",
					fmt.Sprintf(`{"username":%q}`, names[i]), http.Header{"Authorization": {"Bearer " + accounts[i].token}})
			})
			renamed := 0
			for i, r := range replies {
				switch {
				case r.status == http.StatusOK:
					renamed++
				case r.status == http.StatusBadRequest && strings.Contains(r.body, `"code":"username_taken"`):
				default:
					t.Errorf("rename to %q = %d %s, want 200 or 400 username_taken", names[i], r.status, r.body)
				}
			}
			if renamed != 1 {
				t.Errorf("%d of %d renames to one name succeeded, want exactly 1", renamed, n)
			}
		})
	}
}

// TestHashSlotsBusy floods logins at a server with one hash slot and no
// patience: some must get 503 with Retry-After, none anything but 200 or
// 503, and authenticated reads, which hash nothing, keep getting 200
// meanwhile.
func TestHashSlotsBusy(t *testing.T) {
	ts := newTestServerWith(t, testDBs()[0], noLimits, quilltest.Options{App: func(c *app.Config) {
		// 4 MiB per hash takes milliseconds: long enough to collide.
		c.Hasher = auth.NewHasher(auth.Params{Memory: 4096, Iterations: 1, Parallelism: 1}, 1, time.Millisecond, nil)
	}})
	ts.register(t, "alice", "alice@example.com", alicePassword)
	token := ts.login(t, "alice", alicePassword)
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()

	login := url.Values{"username": {"alice"}, "password": {alicePassword}}.Encode()
	busy := 0
	deadline := time.Now().Add(30 * time.Second)
	for busy == 0 && time.Now().Before(deadline) {
		replies := together(t, srv, 24, func(i int) *http.Request {
			if i%3 == 0 {
				return newRequest(t, srv, "GET", "/api/users/me", "", "", http.Header{"Authorization": {"Bearer " + token}})
			}
			return newRequest(t, srv, "POST", "/api/users/token", formURL, login, nil)
		})
		for i, r := range replies {
			switch {
			case i%3 == 0:
				if r.status != http.StatusOK {
					t.Fatalf("GET /api/users/me during a login flood = %d %s, want 200", r.status, r.body)
				}
			case r.status == http.StatusOK:
			case r.status == http.StatusServiceUnavailable:
				busy++
				var e struct{ Detail, Code string }
				if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Code != "busy" {
					t.Errorf("503 body %s, want code busy", r.body)
				}
				if got := r.header.Get("Retry-After"); got != "2" {
					t.Errorf("503 Retry-After = %q, want 2", got)
				}
			default:
				t.Fatalf("login during a flood = %d %s, want 200 or 503", r.status, r.body)
			}
		}
	}
	if busy == 0 {
		t.Errorf("no login got 503 with one hash slot and concurrent logins")
	}
}
