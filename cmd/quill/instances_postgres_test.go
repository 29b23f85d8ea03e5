package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/quill-blog/quill/internal/picture/picturetest"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
)

// testSecret is the SECRET_KEY every instance of a test shares.
const testSecret = "0123456789abcdef0123456789abcdef-shared-by-all-instances"

// instanceEnv is the configuration of instances on databaseURL. They sit
// behind a load balancer on 127.0.0.1, whose X-Forwarded-For they trust.
// GOMAXPROCS sets how many password hashes run at once: registrations arrive
// 32 at a time here, on 2 cores.
func instanceEnv(databaseURL string) map[string]string {
	return map[string]string{
		"DATABASE_URL":    databaseURL,
		"SECRET_KEY":      testSecret,
		"TRUSTED_PROXIES": "127.0.0.1/32",
		"GOMAXPROCS":      "16",
	}
}

// TestInstancesSharePostgres runs two quill processes on one PostgreSQL
// database, as behind a load balancer, and checks that a client cannot
// tell which one it talks to: tokens, logouts, pictures, uniqueness and
// login throttling hold across both.
func TestInstancesSharePostgres(t *testing.T) {
	databaseURL := sqltest.PostgresURL(t)
	bin := raceableQuillBinary(t)
	// Launched together: both migrate the new database at once.
	a := launchInstance(t, "A", bin, instanceEnv(databaseURL))
	b := launchInstance(t, "B", bin, instanceEnv(databaseURL))
	a.waitReady(t)
	b.waitReady(t)

	const password = "violet-harbour-lantern-93"

	t.Run("sessions", func(t *testing.T) {
		a.register(t, "alice", "alice@example.com", password)
		token := a.login(t, "alice@example.com", password)

		if status, body := b.call(t, "GET", "/api/users/me", "", bearer(token)); status != http.StatusOK || !strings.Contains(string(body), `"username":"alice"`) {
			t.Fatalf("GET /api/users/me on B with a token from A = %d %s, want 200 and alice", status, body)
		}
		status, body := b.call(t, "POST", "/api/posts", `{"title":"From B","content":"written on B"}`, bearer(token))
		if status != http.StatusCreated {
			t.Fatalf("POST /api/posts on B = %d %s, want 201", status, body)
		}
		var post struct{ ID int64 }
		json.Unmarshal(body, &post)
		if status, body := a.call(t, "GET", fmt.Sprintf("/api/posts/%d", post.ID), "", nil); status != http.StatusOK {
			t.Errorf("GET the post from B on A = %d %s, want 200", status, body)
		}

		if status, body := a.call(t, "POST", "/api/users/logout", "", bearer(token)); status != http.StatusNoContent {
			t.Fatalf("logout on A = %d %s, want 204", status, body)
		}
		for _, in := range []*instance{b, a} {
			status, body := in.call(t, "GET", "/api/users/me", "", bearer(token))
			if status != http.StatusUnauthorized || !strings.Contains(string(body), `"invalid_token"`) {
				t.Errorf("GET /api/users/me on %s after logout on A = %d %s, want 401 invalid_token", in.Name, status, body)
			}
		}
	})

	t.Run("refresh and password change", func(t *testing.T) {
		b.register(t, "bea", "bea@example.com", password)
		form := "username=bea&password=" + password
		status, data := a.call(t, "POST", "/api/users/token", form, formHeader)
		if status != http.StatusOK {
			t.Fatalf("login on A = %d %s", status, data)
		}
		var first struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		json.Unmarshal(data, &first)

		// A refresh token from A rotates on B: the session is one row.
		refresh := "grant_type=refresh_token&refresh_token=" + first.RefreshToken
		if status, data := b.call(t, "POST", "/api/users/token", refresh, formHeader); status != http.StatusOK {
			t.Fatalf("refresh on B with A's refresh token = %d %s, want 200", status, data)
		}
		// A password change on B ends every other session, A's included.
		other := b.login(t, "bea", password)
		body := fmt.Sprintf(`{"current_password":%q,"new_password":"copper-meadow-falcon-71"}`, password)
		if status, data := b.call(t, "PATCH", "/api/users/me/password", body, bearer(other)); status != http.StatusOK {
			t.Fatalf("password change on B = %d %s, want 200", status, data)
		}
		if status, data := a.call(t, "GET", "/api/users/me", "", bearer(first.AccessToken)); status != http.StatusUnauthorized {
			t.Errorf("GET /api/users/me on A with a session the change on B ended = %d %s, want 401", status, data)
		}
		if status, data := a.call(t, "GET", "/api/users/me", "", bearer(other)); status != http.StatusOK {
			t.Errorf("GET /api/users/me on A with the session that changed the password = %d %s, want 200", status, data)
		}
	})

	t.Run("pictures", func(t *testing.T) {
		id := a.register(t, "pia", "pia@example.com", password)
		token := a.login(t, "pia", password)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "me.png")
		fw.Write(picturetest.PNG(picturetest.Quadrants(64, 64, picturetest.Upright)))
		mw.Close()
		header := bearer(token)
		header.Set("Content-Type", mw.FormDataContentType())
		status, data := a.call(t, "PATCH", fmt.Sprintf("/api/users/%d/picture", id), body.String(), header)
		if status != http.StatusOK {
			t.Fatalf("upload a picture on A = %d %s, want 200", status, data)
		}
		var u struct {
			ImagePath string `json:"image_path"`
		}
		json.Unmarshal(data, &u)
		status, data = b.call(t, "GET", u.ImagePath, "", nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s on B = %d, want 200", u.ImagePath, status)
		}
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the picture B serves is not a JPEG: %v", err)
		}
		picturetest.CheckQuadrants(t, m, picturetest.Upright)
	})

	t.Run("one name, 32 registrations at once", func(t *testing.T) {
		const n = 32
		statuses := make([]int, n)
		bodies := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			in := []*instance{a, b}[i%2]
			body, _ := json.Marshal(map[string]string{
				"username": nameVariant("robin", i),
				"email":    fmt.Sprintf("robin%d@example.com", i),
				"password": password,
			})
			// Each from its own client address, as the balancer reports it.
			header := http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i+1)}}
			wg.Go(func() {
				<-start
				statuses[i], bodies[i], errs[i] = in.try(context.Background(), "POST", "/api/users", string(body), header)
			})
		}
		close(start)
		wg.Wait()
		created := 0
		for i := range n {
			switch {
			case errs[i] != nil:
				t.Errorf("registration %d (%q): %v", i, nameVariant("robin", i), errs[i])
			case statuses[i] == http.StatusCreated:
				created++
			case statuses[i] != http.StatusBadRequest || !strings.Contains(string(bodies[i]), `"username_taken"`):
				t.Errorf("registration %d (%q) = %d %s, want 201 or 400 username_taken", i, nameVariant("robin", i), statuses[i], bodies[i])
			}
		}
		if created != 1 {
			t.Errorf("%d registrations succeeded, want exactly 1", created)
		}
		db, err := sql.Open("pgx", databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var users int
		if err := db.QueryRow(`SELECT count(*) FROM users WHERE username_key = 'robin'`).Scan(&users); err != nil {
			t.Fatal(err)
		}
		if users != 1 {
			t.Errorf("%d users named robin in the database, want 1", users)
		}
	})

	t.Run("failed logins share one throttle", func(t *testing.T) {
		a.register(t, "carol", "carol@example.com", password)
		wrong := "username=carol&password=not-the-password"
		// After 5 consecutive failures, further attempts wait (docs/security.md).
		for i := range 5 {
			in := []*instance{a, b}[i%2]
			if status, body := in.call(t, "POST", "/api/users/token", wrong, formHeader); status != http.StatusUnauthorized {
				t.Fatalf("failed login %d on %s = %d %s, want 401", i+1, in.Name, status, body)
			}
		}
		for _, in := range []*instance{a, b} {
			res, err := client.Post(in.URL+"/api/users/token", "application/x-www-form-urlencoded", strings.NewReader(wrong))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("the 6th failed login on %s = %d %s, want 429 with Retry-After", in.Name, res.StatusCode, body)
			}
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("throttled login on %s = 429 %s without Retry-After", in.Name, body)
			}
		}
	})
}

// nameVariant spells name in the i-th of 32 ways that are one username:
// letter k is upper case if bit k of i is set, and full width if bit k of
// i*7 is (RFC 8265 case mapping folds both).
func nameVariant(name string, i int) string {
	var sb strings.Builder
	for k, r := range []rune(name) {
		if i>>(k%5)&1 == 1 {
			r = []rune(strings.ToUpper(string(r)))[0]
		}
		if (i*7)>>(k%5)&1 == 1 {
			r += 0xFF21 - 'A' // the full-width form of an ASCII letter
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
