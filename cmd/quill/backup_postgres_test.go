package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/picture/picturetest"
	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
)

// TestPostgresDumpRestore follows the PostgreSQL backup of
// docs/deployment.md on a database of its own on the test server: users
// and posts (and a picture) are written through the API, the database is
// saved with pg_dump -Fc, dropped, created again and filled with
// pg_restore --clean --if-exists; then quill starts on it, every user
// logs in and sees its posts, and new rows get new ids.
func TestPostgresDumpRestore(t *testing.T) {
	databaseURL, name := sqltest.DatabaseURL(t)
	pgDump := backupTool(t, "pg_dump", "Debian: apt-get install postgresql-client")
	pgRestore := backupTool(t, "pg_restore", "Debian: apt-get install postgresql-client")
	admin, err := sql.Open("pgx", sqltest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	bin := quillBinary(t)
	env := instanceEnv(databaseURL)
	env["RATE_LIMITS"] = "off"

	const password = "harbour-cobalt-willow-31"
	type account struct {
		id     int64
		name   string
		titles []string
	}
	var accounts []account
	before := launchInstance(t, "before", bin, env)
	before.waitReady(t)
	for i := range 3 {
		a := account{name: fmt.Sprintf("user%d", i)}
		a.id = before.register(t, a.name, a.name+"@example.com", password)
		token := before.login(t, a.name, password)
		for j := range 3 {
			title := fmt.Sprintf("%s post %d", a.name, j)
			body, _ := json.Marshal(map[string]string{"title": title, "content": "saved by pg_dump"})
			if status, data := before.call(t, "POST", "/api/posts", string(body), bearer(token)); status != http.StatusCreated {
				t.Fatalf("POST /api/posts = %d %s", status, data)
			}
			a.titles = append(a.titles, title)
		}
		accounts = append(accounts, a)
	}
	imagePath := uploadPicture(t, before, accounts[0].id, before.login(t, accounts[0].name, password))
	_, picture := before.call(t, "GET", imagePath, "", nil)

	dump := filepath.Join(t.TempDir(), "quill.pgdump")
	pg := func(tool string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %q: %v\n%s", filepath.Base(tool), args, err, out)
		}
	}
	pg(pgDump, "--format=custom", "--file="+dump, "--dbname="+databaseURL)

	// A user registered after the dump is gone after the restore.
	before.register(t, "late", "late@example.com", password)
	if err := before.Stop(time.Minute); err != nil {
		t.Fatal(err)
	}
	// Over the database as it is, the way the docs restore: --clean drops
	// what the dump recreates.
	pg(pgRestore, "--clean", "--if-exists", "--exit-on-error", "--dbname="+databaseURL, dump)
	ctx := context.Background()
	for _, stmt := range []string{`DROP DATABASE ` + name, `CREATE DATABASE ` + name} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// And into the empty database that replaced the dropped one.
	pg(pgRestore, "--clean", "--if-exists", "--exit-on-error", "--dbname="+databaseURL, dump)

	after := launchInstance(t, "after", bin, env)
	after.waitReady(t)
	for _, a := range accounts {
		token := after.login(t, a.name, password)
		status, data := after.call(t, "GET", fmt.Sprintf("/api/users/%d/posts?limit=100", a.id), "", bearer(token))
		if status != http.StatusOK {
			t.Fatalf("GET the posts of %s = %d %s", a.name, status, data)
		}
		var page struct {
			Posts []struct {
				Title string `json:"title"`
			} `json:"posts"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range page.Posts {
			got = append(got, p.Title)
		}
		slices.Sort(got)
		if !slices.Equal(got, a.titles) {
			t.Errorf("the posts of %s after the restore = %q, want %q", a.name, got, a.titles)
		}
	}
	if status, data := after.call(t, "GET", imagePath, "", nil); status != http.StatusOK || !bytes.Equal(data, picture) {
		t.Errorf("GET %s after the restore = %d (%d bytes), want the picture (%d bytes)", imagePath, status, len(data), len(picture))
	}
	if status, _ := after.call(t, "POST", "/api/users/token", "username=late&password="+password, formHeader); status != http.StatusUnauthorized {
		t.Errorf("the user registered after the dump logs in after the restore: %d", status)
	}
	// The sequences came back with the rows: a new account gets a new id.
	if id := after.register(t, "newcomer", "newcomer@example.com", password); id <= accounts[len(accounts)-1].id {
		t.Errorf("a user registered after the restore got id %d, not after %d", id, accounts[len(accounts)-1].id)
	}
}

// uploadPicture sets a picture for the user through in and returns the
// image_path it is served at.
func uploadPicture(tb testing.TB, in *instance, userID int64, token string) string {
	tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "me.png")
	fw.Write(picturetest.PNG(picturetest.Quadrants(64, 64, picturetest.Upright)))
	mw.Close()
	header := bearer(token)
	header.Set("Content-Type", mw.FormDataContentType())
	status, data := in.call(tb, "PATCH", fmt.Sprintf("/api/users/%d/picture", userID), body.String(), header)
	if status != http.StatusOK {
		tb.Fatalf("upload a picture = %d %s, want 200", status, data)
	}
	var u struct {
		ImagePath string `json:"image_path"`
	}
	if err := json.Unmarshal(data, &u); err != nil || u.ImagePath == "" {
		tb.Fatalf("upload a picture: no image_path in %s", data)
	}
	return u.ImagePath
}
