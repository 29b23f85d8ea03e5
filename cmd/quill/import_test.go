package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/testclock"
)

// python is the interpreter the fixture script needs, with Debian's
// python3-passlib, python3-argon2 and python3-bcrypt.
const python = "/usr/bin/python3"

// fastapiLogin is one user of the fixture and the password they chose.
type fastapiLogin struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Scheme   string `json:"scheme"`
}

// fastapiFixture writes the FastAPI tutorial database of
// testdata/make_fastapi_db.py and returns its path and who can log in with
// what. Without Python and passlib the test is skipped, unless
// QUILL_REQUIRE_PYTHON is set (as CI sets it), when it fails.
func fastapiFixture(tb testing.TB) (string, map[string]fastapiLogin) {
	tb.Helper()
	missing := func(what string) {
		tb.Helper()
		msg := what + "; the FastAPI fixture needs " + python + " with Debian's python3-passlib, python3-argon2 and python3-bcrypt"
		if os.Getenv("QUILL_REQUIRE_PYTHON") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	if _, err := os.Stat(python); err != nil {
		missing(python + " is missing")
	}
	if out, err := exec.Command(python, "-c", "import passlib, argon2, bcrypt").CombinedOutput(); err != nil {
		missing(fmt.Sprintf("python cannot import passlib, argon2 and bcrypt (%v: %s)", err, bytes.TrimSpace(out)))
	}
	path := filepath.Join(tb.TempDir(), "fastapi.db")
	cmd := exec.Command(python, "testdata/make_fastapi_db.py", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("make_fastapi_db.py: %v\n%s", err, stderr.String())
	}
	var manifest struct {
		Logins []fastapiLogin `json:"logins"`
	}
	if err := json.Unmarshal(out, &manifest); err != nil {
		tb.Fatalf("make_fastapi_db.py printed %q: %v", out, err)
	}
	logins := map[string]fastapiLogin{}
	for _, l := range manifest.Logins {
		logins[l.Username] = l
	}
	return path, logins
}

// writeMedia makes the tutorial's media/profile_pics folder: bob's JPEG and
// heidi's PNG, not square (judy's file is missing, ivan's name is an attack).
func writeMedia(tb testing.TB) (dir string) {
	tb.Helper()
	dir = filepath.Join(tb.TempDir(), "profile_pics")
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for x := range 480 {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	var jpg, pngData bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		tb.Fatal(err)
	}
	if err := png.Encode(&pngData, img); err != nil {
		tb.Fatal(err)
	}
	for name, data := range map[string][]byte{"bob.jpg": jpg.Bytes(), "heidi.png": pngData.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// lines splits output into lines, without the final newline.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestImportFastAPI(t *testing.T) {
	t.Parallel()
	source, logins := fastapiFixture(t)
	media := writeMedia(t)
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "quill.db")
	env := []string{"DATABASE_URL=" + dbURL}

	importAs := func(step string, want []string, flags ...string) {
		t.Helper()
		got := quillCmd(t, dir, env, "", append([]string{"import-fastapi", source, "--media", media}, flags...)...)
		if got.code != 0 {
			t.Fatalf("%s: import exited %d\nstdout: %s\nstderr: %s", step, got.code, got.stdout, got.stderr)
		}
		if diff := cmp.Diff(want, lines(got.stdout)); diff != "" {
			t.Errorf("%s: report (-want +got):\n%s", step, diff)
		}
		// Not a terminal: plain progress lines.
		for _, re := range []string{`(?m)^users: 14/14 100%, [\d,]+/s$`, `(?m)^posts: 14/14 100%, [\d,]+/s$`} {
			if !regexp.MustCompile(re).MatchString(got.stderr) {
				t.Errorf("%s: progress %q does not match %s", step, got.stderr, re)
			}
		}
	}
	pictureWarnings := []string{
		`user 11 "ivan": warning: picture name "../../etc/passwd" is not a plain file name; the user gets the default avatar`,
		`user 12 "judy": warning: picture missing.jpg is not in ` + media + `; the user gets the default avatar`,
	}
	taken := ` is taken by user 1 "Alice" (quill ignores case and width in usernames, and names that look alike count as one)`
	skippedAuthors := []string{
		`post 7: skipped: its author, user 99, is not in the FastAPI database`,
		`post 8: skipped: invalid title: string should have at least 1 character`,
		`post 9: skipped: invalid title: string should not be only whitespace`,
		`post 10: skipped: invalid content: string should have at least 1 character`,
		`post 11: skipped: its author, user 7, was skipped (see above)`,
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}

	importAs("first import", cat([]string{
		`user 5 "ALICE": skipped: "ALICE"` + taken + `; --on-conflict=rename imports it under a new name`,
		`user 6 "Ａｌｉｃｅ": skipped: "Ａｌｉｃｅ"` + taken + `; --on-conflict=rename imports it under a new name`,
		`user 7 "erin": skipped: invalid email: value is not a valid email address: an email address must have an @-sign`,
		`user 8 "frank smith": skipped: invalid username: username may contain only letters, digits, '_', '-' and '.'; --on-conflict=rename imports it under a new name`,
		`user 9 "grace": skipped: email carol@example.com is used by user 3 "carol" (quill ignores case in emails)`,
	}, pictureWarnings, []string{
		`user 13 "peggy": warning: the password hash (scheme pbkdf2-sha256) is not one quill verifies (Argon2 and bcrypt are); the user must reset their password`,
		`post 5: skipped: its author, user 5, was skipped (see above)`,
		`post 6: skipped: its author, user 6, was skipped (see above)`,
	}, skippedAuthors, []string{
		`post 12: skipped: its author, user 8, was skipped (see above)`,
		`users: 9 imported (0 renamed), 0 already there, 5 skipped`,
		`posts: 6 imported, 0 already there, 8 skipped`,
	}))

	importAs("rename", cat([]string{
		`user 5 "ALICE": renamed to "ALICE-2": "ALICE"` + taken,
		// "Ａｌｉｃｅ-2" is "alice-2" too, which ALICE-2 took.
		`user 6 "Ａｌｉｃｅ": renamed to "Ａｌｉｃｅ-3": "Ａｌｉｃｅ"` + taken,
		`user 7 "erin": skipped: invalid email: value is not a valid email address: an email address must have an @-sign`,
		`user 8 "frank smith": renamed to "frank_smith": username may contain only letters, digits, '_', '-' and '.'`,
		`user 9 "grace": skipped: email carol@example.com is used by user 3 "carol" (quill ignores case in emails)`,
	}, pictureWarnings, skippedAuthors, []string{
		`users: 3 imported (3 renamed), 9 already there, 2 skipped`,
		`posts: 3 imported, 6 already there, 5 skipped`,
	}), "--on-conflict=rename")

	base := startQuill(t, map[string]string{"DATABASE_URL": dbURL, "SECRET_KEY": testKey}).URL

	// Users log in with their old passwords, by username or email in any
	// case; legacy hashes are replaced by quill's Argon2id at once.
	store := openStoreAt(t, dbURL)
	ctx := context.Background()
	for _, tc := range []struct {
		login, as string // as: the fixture user whose password is used
	}{
		{"alice", "Alice"},                  // passlib argon2
		{"BOB@example.com", "bob"},          // pwdlib (argon2-cffi) argon2
		{"carol", "carol"},                  // passlib bcrypt
		{"dave@example.com", "dave"},        // bcrypt
		{"trent", "trent"},                  // argon2-cffi, no picture
		{"alice-2", "ALICE"},                // renamed for case
		{"alice.wide@example.com", "Ａｌｉｃｅ"}, // renamed for width
		{"frank_smith", "frank smith"},      // renamed for a space
	} {
		l := logins[tc.as]
		before, err := store.User(ctx, l.ID)
		if err != nil {
			t.Fatalf("%s: User(%d) = %v", tc.login, l.ID, err)
		}
		if code := login(t, base, tc.login, l.Password); code != http.StatusOK {
			t.Errorf("log in as %s (%s hash) = %d, want 200", tc.login, l.Scheme, code)
			continue
		}
		after, err := store.User(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || after.PasswordHash == before.PasswordHash {
			t.Errorf("%s: after login the hash is %.40q…, want a new quill Argon2id hash", tc.login, after.PasswordHash)
		}
	}
	if code := login(t, base, "alice", "not alice's password"); code != http.StatusUnauthorized {
		t.Errorf("log in with a wrong password = %d, want 401", code)
	}
	if code := login(t, base, "peggy", logins["peggy"].Password); code != http.StatusUnauthorized {
		t.Errorf("log in with an unsupported (pbkdf2) hash = %d, want 401", code)
	}

	// Posts keep their authors and dates.
	var page struct {
		Total int64 `json:"total"`
		Posts []struct {
			ID         int64  `json:"id"`
			DatePosted string `json:"date_posted"`
			Author     struct {
				Username string `json:"username"`
			} `json:"author"`
		} `json:"posts"`
	}
	getJSON(t, base+"/api/posts?limit=100", &page)
	gotPosts := map[int64]string{}
	for _, p := range page.Posts {
		gotPosts[p.ID] = p.DatePosted + " " + p.Author.Username
	}
	wantPosts := map[int64]string{
		1:  "2024-01-02T03:04:05.123456Z Alice",
		2:  "2024-01-03T03:04:05.123456Z bob",
		3:  "2024-02-01T12:30:00Z carol",
		4:  "2024-02-02T12:00:00.5Z carol", // written as 14:00:00.5+02:00
		5:  "2024-01-05T03:04:05.123456Z ALICE-2",
		6:  "2024-01-06T03:04:05.123456Z Ａｌｉｃｅ-3",
		12: "2024-01-12T03:04:05.123456Z frank_smith",
		13: "2024-03-01T08:00:00Z dave",
		14: "1999-12-31T23:59:59.999999Z trent",
	}
	if diff := cmp.Diff(wantPosts, gotPosts); diff != "" || page.Total != 9 {
		t.Errorf("posts: total %d, want 9; (-want +got):\n%s", page.Total, diff)
	}

	// Pictures are made into quill's 300×300 JPEGs and kept under their old
	// names, so old links work; the others have the default avatar.
	for _, tc := range []struct {
		id   int64
		file string
	}{{2, "bob.jpg"}, {10, "heidi.png"}, {12, ""}} {
		var u struct {
			ImageFile *string `json:"image_file"`
			ImagePath string  `json:"image_path"`
		}
		getJSON(t, fmt.Sprintf("%s/api/users/%d", base, tc.id), &u)
		if tc.file == "" {
			if u.ImageFile != nil || u.ImagePath != "/static/profile_pics/default.jpg" {
				t.Errorf("user %d: image_file %v, image_path %q; want the default avatar", tc.id, u.ImageFile, u.ImagePath)
			}
			continue
		}
		if u.ImageFile == nil || *u.ImageFile != tc.file || u.ImagePath != "/media/profile_pics/"+tc.file {
			t.Errorf("user %d: image_file %v, image_path %q; want %s", tc.id, u.ImageFile, u.ImagePath, tc.file)
			continue
		}
		resp, err := http.Get(base + u.ImagePath)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || cfg.Width != 300 || cfg.Height != 300 {
			t.Errorf("GET %s = %d, %dx%d JPEG (%v); want a 300×300 JPEG", u.ImagePath, resp.StatusCode, cfg.Width, cfg.Height, err)
		}
	}

	// Importing again after the logins duplicates nothing and leaves the
	// upgraded hashes alone; without --on-conflict=rename, the users renamed
	// before are there already, not skipped.
	alice, _ := store.User(ctx, 1)
	importAs("again", cat([]string{
		`user 7 "erin": skipped: invalid email: value is not a valid email address: an email address must have an @-sign`,
		`user 9 "grace": skipped: email carol@example.com is used by user 3 "carol" (quill ignores case in emails)`,
	}, pictureWarnings, skippedAuthors, []string{
		`users: 0 imported (0 renamed), 12 already there, 2 skipped`,
		`posts: 0 imported, 9 already there, 5 skipped`,
	}))
	if again, _ := store.User(ctx, 1); again.PasswordHash != alice.PasswordHash {
		t.Errorf("importing again replaced an upgraded hash")
	}
	getJSON(t, base+"/api/posts?limit=100", &page)
	if page.Total != 9 || len(page.Posts) != 9 {
		t.Errorf("after importing again: total %d, %d posts; want 9", page.Total, len(page.Posts))
	}

	// New users and posts get ids after the imported ones.
	var created struct {
		ID int64 `json:"id"`
	}
	postJSON(t, base+"/api/users", "", `{"username":"newcomer","email":"new@example.com","password":"a fresh passphrase"}`, &created)
	if created.ID <= 14 {
		t.Errorf("a user registered after the import got id %d, want more than 14", created.ID)
	}
	token := loginToken(t, base, "newcomer", "a fresh passphrase")
	postJSON(t, base+"/api/posts", token, `{"title":"after","content":"the import"}`, &created)
	if created.ID <= 14 {
		t.Errorf("a post created after the import got id %d, want more than 14", created.ID)
	}
}

func TestImportFastAPIWithoutMedia(t *testing.T) {
	t.Parallel()
	source, _ := fastapiFixture(t)
	dir := t.TempDir()
	got := quillCmd(t, dir, []string{"DATABASE_URL=sqlite:///./quill.db"}, "", "import-fastapi", "--on-conflict", "rename", source)
	if got.code != 0 {
		t.Fatalf("import exited %d: %s", got.code, got.stderr)
	}
	out := lines(got.stdout)
	if want := "4 users have a profile picture; to import them, run again with --media DIR (the app's media/profile_pics folder)"; out[len(out)-1] != want {
		t.Errorf("last line = %q, want %q", out[len(out)-1], want)
	}
	if strings.Contains(got.stdout, "picture missing.jpg") {
		t.Errorf("without --media, pictures were looked at:\n%s", got.stdout)
	}
}

func TestImportFastAPIErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := []string{"DATABASE_URL=sqlite:///./quill.db"}
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("not a database, just text that is long enough to have a header"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A quill database is not the tutorial's.
	for _, db := range []string{"quill.db", "other.db"} {
		if got := quillCmd(t, dir, env, "", "migrate", "--database-url", "sqlite:///./"+db); got.code != 0 {
			t.Fatalf("migrate: %s", got.stderr)
		}
	}
	runSteps(t, dir, env, []cliStep{
		{name: "no path", args: []string{"import-fastapi"}, code: 2,
			wantErr: `import-fastapi takes one argument: the path of the FastAPI app's SQLite database`},
		{name: "two paths", args: []string{"import-fastapi", "a.db", "b.db"}, code: 2, wantErr: `takes one argument`},
		{name: "bad on-conflict", args: []string{"import-fastapi", "a.db", "--on-conflict=overwrite"}, code: 2,
			wantErr: `--on-conflict="overwrite": use skip or rename`},
		{name: "missing file", args: []string{"import-fastapi", "missing.db"}, code: 1,
			wantErr: `^quill: cannot read missing.db: no such file or directory; give the path of the FastAPI app's SQLite database \(often blog.db\)\n$`},
		{name: "a directory", args: []string{"import-fastapi", "."}, code: 1, wantErr: `is a directory`},
		{name: "not a database", args: []string{"import-fastapi", notDB}, code: 1, wantErr: `is it a SQLite database\?`},
		{name: "a quill database", args: []string{"import-fastapi", "other.db"}, code: 1,
			wantErr: `^quill: other.db is a quill database, not the FastAPI tutorial's\n$`},
		{name: "the database quill would write", args: []string{"import-fastapi", "./quill.db"}, code: 1,
			wantErr: `^quill: ./quill.db is the database DATABASE_URL names; quill needs a database of its own`},
		{name: "media not a directory", args: []string{"import-fastapi", "other.db", "--media", notDB}, code: 1,
			wantErr: `--media .* is not a directory`},
	})
}

// login posts the OAuth2 password form and returns the status.
func login(tb testing.TB, base, username, password string) int {
	tb.Helper()
	resp, err := http.PostForm(base+"/api/users/token", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// loginToken logs in and returns the access token.
func loginToken(tb testing.TB, base, username, password string) string {
	tb.Helper()
	resp, err := http.PostForm(base+"/api/users/token", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tok) != nil {
		tb.Fatalf("log in as %s: status %d", username, resp.StatusCode)
	}
	return tok.AccessToken
}

func getJSON(tb testing.TB, u string, v any) {
	tb.Helper()
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
}

func postJSON(tb testing.TB, u, token, body string, v any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("POST %s = %d: %s", u, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("POST %s: %v", u, err)
	}
}

// TestImportFastAPIBatches imports in batches of a few rows, so names,
// emails and authors meet across transactions, and expects the same report
// and data as one batch gives.
func TestImportFastAPIBatches(t *testing.T) {
	t.Parallel()
	source, _ := fastapiFixture(t)
	media := writeMedia(t)
	ctx := context.Background()
	importWith := func(batch int) (report string, dbURL string) {
		t.Helper()
		src, err := openFastAPI(ctx, source)
		if err != nil {
			t.Fatal(err)
		}
		defer src.db.Close()
		dbURL = "sqlite:///" + filepath.Join(t.TempDir(), "quill.db")
		store, err := openStore(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		quill := newApp(config{Argon2: auth.DefaultParams}, store, nil, 1, nil)
		var out bytes.Buffer
		clock := testclock.New()
		im := &importer{
			src: src, app: quill, hasher: newTestHasher(), media: media, rename: true, batch: batch,
			out: &out, progress: io.Discard, now: clock.Now,
			sourceUsers: map[int64]bool{}, skipped: map[int64]bool{},
		}
		if err := im.run(ctx); err != nil {
			t.Fatalf("import in batches of %d: %v", batch, err)
		}
		return out.String(), dbURL
	}
	whole, wholeURL := importWith(importBatch)
	for _, batch := range []int{1, 4} {
		report, dbURL := importWith(batch)
		if diff := cmp.Diff(lines(whole), lines(report)); diff != "" {
			t.Errorf("batches of %d: report (-one batch +batches):\n%s", batch, diff)
		}
		if diff := cmp.Diff(dump(t, wholeURL), dump(t, dbURL)); diff != "" {
			t.Errorf("batches of %d: data (-one batch +batches):\n%s", batch, diff)
		}
	}
}

// dump lists the users and posts of a quill database, one string each.
func dump(tb testing.TB, dbURL string) []string {
	tb.Helper()
	store := openStoreAt(tb, dbURL)
	ctx := context.Background()
	var out []string
	for id := int64(1); id <= 20; id++ {
		if u, err := store.User(ctx, id); err == nil {
			out = append(out, fmt.Sprintf("user %d %q %s %q %.20s", u.ID, u.Username, u.Email, u.ImageFile, u.PasswordHash))
		}
	}
	page, err := store.Posts(ctx, 0, blog.PageRequest{Limit: 100})
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range page.Posts {
		out = append(out, fmt.Sprintf("post %d by %d at %s: %q %q", p.ID, p.AuthorID, p.DatePosted, p.Title, p.Content))
	}
	return out
}

func newTestHasher() *auth.Hasher {
	return auth.NewHasher(auth.DefaultParams, 1, time.Second, nil)
}
