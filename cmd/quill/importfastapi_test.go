package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"image"
	"image/gif"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/picture"
	"github.com/quill-blog/quill/internal/testclock"
)

func TestParseNaiveUTC(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-01-02 03:04:05.123456", time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)}, // SQLAlchemy
		{"2024-01-02 03:04:05", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},                // sqlite3, CURRENT_TIMESTAMP
		{"2024-01-02T03:04:05.5", time.Date(2024, 1, 2, 3, 4, 5, 500000000, time.UTC)},
		{"2024-01-02 03:04:05.500000+02:00", time.Date(2024, 1, 2, 1, 4, 5, 500000000, time.UTC)}, // aware datetime
		{"2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02 03:04:05-0130", time.Date(2024, 1, 2, 4, 34, 5, 0, time.UTC)},
		{"2024-01-02 03:04", time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)},
		{"2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{" 2024-01-02 03:04:05 ", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseNaiveUTC(tt.in)
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("parseNaiveUTC(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "yesterday", "1700000000", "2024-13-01 00:00:00", "02/01/2024", "2024-01-02 25:00:00"} {
		if got, err := parseNaiveUTC(in); err == nil {
			t.Errorf("parseNaiveUTC(%q) = %v, want an error", in, got)
		}
	}
}

func TestNumbered(t *testing.T) {
	long := strings.Repeat("é", blog.MaxUsername)
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"alice", 2, "alice-2"},
		{"Ａｌｉｃｅ", 13, "Ａｌｉｃｅ-13"},
		{long, 2, strings.Repeat("é", blog.MaxUsername-2) + "-2"},
		{long, 100, strings.Repeat("é", blog.MaxUsername-4) + "-100"},
	}
	for _, tt := range tests {
		got := numbered(tt.name, tt.n)
		if got != tt.want {
			t.Errorf("numbered(%q, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
		var v blog.Validator
		if v.Username(got); len(v.Problems) > 0 {
			t.Errorf("numbered(%q, %d) = %q, which is not a valid username: %v", tt.name, tt.n, got, v.Problems)
		}
	}
}

func TestFixUsername(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"frank smith", "frank_smith"},
		{"me@home", "me_home"},
		{"tab\there", "tab_here"},
		{"ok.name-1_x", "ok.name-1_x"},
		{"Zoë", "Zoë"},
		{"e\u0301", "é"}, // NFC
		{"", "user42"},
		{strings.Repeat("a b", 30), strings.Repeat("a_b", 16) + "a_"},
		{"bad\xffutf8", "bad_utf8"},
	}
	for _, tt := range tests {
		got := fixUsername(tt.name, 42)
		if got != tt.want {
			t.Errorf("fixUsername(%q) = %q, want %q", tt.name, got, tt.want)
		}
		var v blog.Validator
		if v.Username(got); len(v.Problems) > 0 || utf8.RuneCountInString(got) > blog.MaxUsername {
			t.Errorf("fixUsername(%q) = %q, which is not a valid username: %v", tt.name, got, v.Problems)
		}
	}
}

func TestPlainFileName(t *testing.T) {
	for _, name := range []string{"a1b2c3d4.jpg", "default.jpg", "x_y-z.JPEG"} {
		if !plainFileName(name) {
			t.Errorf("plainFileName(%q) = false, want true", name)
		}
	}
	for _, name := range []string{"", ".hidden.jpg", "../x.jpg", "a/b.jpg", `a\b.jpg`, "a b.jpg", "é.jpg", "a%2fb.jpg", strings.Repeat("a", 201)} {
		if plainFileName(name) {
			t.Errorf("plainFileName(%q) = true, want false", name)
		}
	}
}

func TestHashProblem(t *testing.T) {
	tests := []struct{ hash, want string }{
		{"", "the user has no password hash"},
		{"$pbkdf2-sha256$29000$salt$hash", "the password hash (scheme pbkdf2-sha256) is not one quill verifies (Argon2 and bcrypt are)"},
		{"plaintext!", "the password hash (scheme unknown) is not one quill verifies (Argon2 and bcrypt are)"},
		{"$a/../b$x", "the password hash (scheme unknown) is not one quill verifies (Argon2 and bcrypt are)"},
	}
	for _, tt := range tests {
		if got := hashProblem(tt.hash); got != tt.want {
			t.Errorf("hashProblem(%q) = %q, want %q", tt.hash, got, tt.want)
		}
		if tt.hash != "" && strings.Contains(hashProblem(tt.hash), tt.hash) {
			t.Errorf("hashProblem(%q) shows the hash", tt.hash)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args      []string
		wantMedia string
		wantArgs  []string
	}{
		{[]string{"old.db"}, "", []string{"old.db"}},
		{[]string{"--media", "m", "old.db"}, "m", []string{"old.db"}},
		{[]string{"old.db", "--media", "m"}, "m", []string{"old.db"}},
		{[]string{"a", "--media=m", "b"}, "m", []string{"a", "b"}},
		{[]string{"a", "--", "--media", "m"}, "", []string{"a", "--media", "m"}},
		{[]string{"--", "-x"}, "", []string{"-x"}},
		{nil, "", []string{}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		media := fs.String("media", "", "")
		if err := parseInterleaved(fs, tt.args); err != nil {
			t.Errorf("parseInterleaved(%q) = %v", tt.args, err)
			continue
		}
		if *media != tt.wantMedia || !cmp.Equal(append([]string{}, fs.Args()...), tt.wantArgs) {
			t.Errorf("parseInterleaved(%q): media %q, args %q; want %q, %q", tt.args, *media, fs.Args(), tt.wantMedia, tt.wantArgs)
		}
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	if err := parseInterleaved(fs, []string{"a", "--nope"}); err == nil {
		t.Errorf("parseInterleaved with an unknown flag after an argument = nil, want an error")
	}
}

func TestMeterPlain(t *testing.T) {
	clock := testclock.New()
	var out bytes.Buffer
	m := newMeter(&out, false, clock.Now, "posts", 1000)
	for range 10 {
		clock.Advance(time.Second)
		m.add(35) // 350 rows in 10 s
	}
	clock.Advance(time.Second)
	m.add(650) // jumps past several tenths: one line
	m.finish()
	want := []string{
		"posts: 105/1000 10%, 35/s",
		"posts: 210/1000 21%, 35/s",
		"posts: 315/1000 31%, 35/s",
		"posts: 1000/1000 100%, 90/s",
	}
	if diff := cmp.Diff(want, lines(out.String())); diff != "" {
		t.Errorf("plain progress (-want +got):\n%s", diff)
	}

	out.Reset()
	m = newMeter(&out, false, clock.Now, "users", 0)
	m.finish()
	if got := out.String(); got != "users: 0/0 100%\n" {
		t.Errorf("progress of nothing = %q", got)
	}
}

func TestMeterTerminal(t *testing.T) {
	clock := testclock.New()
	var out bytes.Buffer
	m := newMeter(&out, true, clock.Now, "users", 100_000)
	clock.Advance(time.Second)
	m.add(1000) // drawn: nothing on screen yet
	clock.Advance(time.Millisecond)
	m.add(1000) // too soon to redraw
	clock.Advance(time.Second)
	m.add(48_000)
	m.clear()
	clock.Advance(time.Second)
	m.add(50_000)
	m.finish()
	const erase = "\r\033[K"
	want := erase + "users  [------------------------------] 1,000/100,000 1%, 1,000/s" +
		erase + "users  [###############---------------] 50,000/100,000 50%, 24,987/s" +
		erase + // cleared for a report line
		erase + "users  [##############################] 100,000/100,000 100%, 33,322/s" +
		erase + "users  [##############################] 100,000/100,000 100%, 33,322/s\n"
	if got := out.String(); got != want {
		t.Errorf("terminal progress:\n got %q\nwant %q", got, want)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReadPicture(t *testing.T) {
	dir := t.TempDir()
	var jpg, gifData bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gifData, img, nil); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"a.jpg":     jpg.Bytes(),
		"b.gif":     gifData.Bytes(),
		"notes.jpg": []byte("these are not pixels"),
		"cut.jpg":   jpg.Bytes()[:len(jpg.Bytes())/2],
		"huge.jpg":  append(jpg.Bytes(), make([]byte, picture.MaxBytes)...),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "quill.db")
	store, err := openStore(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	im := &importer{app: newApp(config{Argon2: auth.DefaultParams}, store, nil, 1, nil), media: dir}
	users, err := im.app.ImportUsers(ctx, []blog.User{{ID: 1, Username: "alice", Email: "alice@example.com", PasswordHash: "h"}}, nil)
	if err != nil || users[0].Outcome != blog.RowInserted {
		t.Fatalf("ImportUsers() = %v, %v", users, err)
	}
	alice := &blog.User{ID: 1}
	for _, name := range []string{"a.jpg", "b.gif"} {
		su := &sourceUser{id: 1, image: sql.Null[string]{V: name, Valid: true}}
		if problem, err := im.picture(ctx, alice, su, false); problem != "" || err != nil {
			t.Errorf("picture(%s) = %q, %v, want it imported", name, problem, err)
			continue
		}
		u, err := im.app.User(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		data, _, err := im.app.Picture(ctx, u.ImageFile)
		if err != nil {
			t.Fatalf("the picture imported from %s: %v", name, err)
		}
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != picture.Size || cfg.Height != picture.Size {
			t.Errorf("the picture imported from %s = %dx%d (%v), want a %d-pixel square JPEG", name, cfg.Width, cfg.Height, err, picture.Size)
		}
	}
	for name, want := range map[string]string{
		"notes.jpg":   "picture notes.jpg: file is not a JPEG, PNG, GIF or WebP image",
		"cut.jpg":     "picture cut.jpg: image is corrupt or truncated",
		"huge.jpg":    "picture huge.jpg: file is too large (max 5 MiB)",
		"missing.jpg": "picture missing.jpg is not in " + dir,
		"../a.jpg":    `picture name "../a.jpg" is not a plain file name`,
	} {
		su := &sourceUser{id: 1, image: sql.Null[string]{V: name, Valid: true}}
		if problem, err := im.picture(ctx, alice, su, false); problem != want || err != nil {
			t.Errorf("picture(%s) = %q, %v; want %q", name, problem, err, want)
		}
	}
}
