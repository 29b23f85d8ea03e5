package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// backupEnv is the configuration of the backup tests: ./blog.db.
func backupEnv() map[string]string {
	return map[string]string{"SECRET_KEY": testKey, "RATE_LIMITS": "off"}
}

// oneLineError checks that err is printed as one line with exit status
// code and mentions each of want, and returns the message.
func oneLineError(t *testing.T, err error, code int, want ...string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", want)
	}
	var stderr bytes.Buffer
	if got := exitCode(err, &stderr); got != code {
		t.Errorf("exit status for %v = %d, want %d", err, got, code)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
		t.Errorf("error %q is not one line", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	return msg
}

// wroteRE is the line quill backup prints.
var wroteRE = regexp.MustCompile(`^wrote (/\S+): [0-9.]+ KiB \((\d+) bytes\), (\d+) users?, (\d+) posts?, (\d+) pictures?, (\d+) sessions?\n$`)

func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := backupEnv()

	// No database yet: nothing is created.
	_, _, err := runQuill(t, env, "backup", "early.db")
	oneLineError(t, err, 1, "no database at ./blog.db", "DATABASE_URL")
	if _, err := os.Stat("blog.db"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("quill backup created the database it was to copy (%v)", err)
	}

	s := startQuill(t, env)
	const password = "orchard-lantern-velvet-12"
	s.mustCall(t, http.StatusCreated, "POST", "/api/users", "application/json",
		`{"username":"alice","email":"alice@example.com","password":"`+password+`"}`, "")
	tok := s.mustCall(t, http.StatusOK, "POST", "/api/users/token", "application/x-www-form-urlencoded",
		url.Values{"username": {"alice"}, "password": {password}}.Encode(), "")
	token, _ := tok["access_token"].(string)
	s.mustCall(t, http.StatusCreated, "POST", "/api/posts", "application/json", `{"title":"Kept","content":"in the backup"}`, token)

	// While the server runs.
	_, _, err = runQuill(t, env, "backup", "backups/first.db", "--database-url", "sqlite:///./blog.db")
	oneLineError(t, err, 1, "directory", "backups", "does not exist")
	if err := os.Mkdir("backups", 0o700); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runQuill(t, env, "backup", "backups/first.db")
	if err != nil {
		t.Fatalf("quill backup while serving = %v\n%s", err, stderr)
	}
	m := wroteRE.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("quill backup printed %q, want one line like %q", stdout, "wrote /path: 104.0 KiB (106496 bytes), 1 user, 1 post, 0 pictures, 1 session")
	}
	if m[1] != filepath.Join(dir, "backups", "first.db") || m[3] != "1" || m[4] != "1" || m[5] != "0" || m[6] != "1" {
		t.Errorf("quill backup printed %q, want the absolute path and 1 user, 1 post, 0 pictures, 1 session", stdout)
	}
	if fi, err := os.Stat("backups/first.db"); err != nil {
		t.Errorf("no backup file: %v", err)
	} else if m[2] != strconv.FormatInt(fi.Size(), 10) {
		t.Errorf("quill backup says %s bytes, the file has %d", m[2], fi.Size())
	}

	// Never over an existing file.
	before, _ := os.ReadFile("backups/first.db")
	_, _, err = runQuill(t, env, "backup", "backups/first.db")
	oneLineError(t, err, 1, "first.db", "never overwrites")
	if after, _ := os.ReadFile("backups/first.db"); !bytes.Equal(before, after) {
		t.Error("a refused backup changed the existing file")
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"backup"}, "backup takes one argument"},
		{"two files", []string{"backup", "a.db", "b.db"}, "backup takes one argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runQuill(t, env, tc.args...)
			oneLineError(t, err, 2, tc.want)
		})
	}
	for _, cmd := range []string{"backup", "restore"} {
		var stdout, stderr strings.Builder
		err := run(t.Context(), []string{cmd, "--help"}, envFunc(env), strings.NewReader(""), &stdout, &stderr)
		if !errors.Is(err, errHelp) || !strings.Contains(stderr.String(), "Usage: quill "+cmd+" [flags] FILE") {
			t.Errorf("quill %s --help = %v, printed %q", cmd, err, stderr.String())
		}
	}
	t.Run("in-memory", func(t *testing.T) {
		_, _, err := runQuill(t, map[string]string{"DATABASE_URL": "sqlite://:memory:"}, "backup", "x.db")
		oneLineError(t, err, 1, "in-memory")
	})
}

// TestBackupPostgresSaysPgDump checks that with PostgreSQL quill backup and
// quill restore give the pg_dump or pg_restore command to use instead, in
// one line, without the password or quill's own URL parameters.
func TestBackupPostgresSaysPgDump(t *testing.T) {
	t.Chdir(t.TempDir())
	env := map[string]string{"DATABASE_URL": "postgres://quill:s3cret-pw@db.internal:5432/quill?sslmode=verify-full&pool_max_conns=4"}
	_, _, err := runQuill(t, env, "backup", "quill dump.pgdump")
	msg := oneLineError(t, err, 1, "pg_dump --format=custom --file='quill dump.pgdump' --dbname='postgres://quill@db.internal:5432/quill?sslmode=verify-full'")
	_, _, err = runQuill(t, env, "restore", "quill.pgdump")
	msg += oneLineError(t, err, 1, "pg_restore --clean --if-exists --dbname='postgres://quill@db.internal:5432/quill?sslmode=verify-full' quill.pgdump",
		"every quill instance stopped")
	for _, secret := range []string{"s3cret-pw", "pool_max_conns"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the advice %q shows %q", msg, secret)
		}
	}
}

func TestRestoreCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := backupEnv()
	const password = "orchard-lantern-velvet-12"
	register := func(s *quillServer, name string) {
		t.Helper()
		s.mustCall(t, http.StatusCreated, "POST", "/api/users", "application/json",
			`{"username":"`+name+`","email":"`+name+`@example.com","password":"`+password+`"}`, "")
	}

	s := startQuill(t, env)
	register(s, "alice")
	if _, stderr, err := runQuill(t, env, "backup", "alice.db"); err != nil {
		t.Fatalf("quill backup = %v\n%s", err, stderr)
	}
	register(s, "bob")

	// Not while the server has the database open; nothing changes.
	before, _ := os.ReadFile("blog.db")
	_, _, err := runQuill(t, env, "restore", "alice.db")
	oneLineError(t, err, 1, "has the database open", "stop it first")
	if after, _ := os.ReadFile("blog.db"); !bytes.Equal(before, after) {
		t.Error("a refused restore changed the database")
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	// Nor from a file that is not a quill backup.
	if err := os.WriteFile("notes.txt", bytes.Repeat([]byte("notes "), 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = runQuill(t, env, "restore", "notes.txt")
	oneLineError(t, err, 1, "cannot restore notes.txt", "not a SQLite database")
	_, _, err = runQuill(t, env, "restore")
	oneLineError(t, err, 2, "restore takes one argument")

	stdout, stderr, err := runQuill(t, env, "restore", "alice.db")
	if err != nil {
		t.Fatalf("quill restore = %v\n%s", err, stderr)
	}
	if !regexp.MustCompile(`^restored alice\.db into \./blog\.db: [0-9.]+ KiB \(\d+ bytes\), 1 user, 0 posts, 0 pictures, 0 sessions; the database it replaced is blog\.db\.before-restore-\d{8}T\d{6}Z\n$`).MatchString(stdout) {
		t.Errorf("quill restore printed %q", stdout)
	}

	// The restored database is the backup: alice is there, bob is not.
	s = startQuill(t, env)
	s.mustCall(t, http.StatusOK, "POST", "/api/users/token", "application/x-www-form-urlencoded",
		url.Values{"username": {"alice"}, "password": {password}}.Encode(), "")
	if status, body := s.call(t, "POST", "/api/users/token", "application/x-www-form-urlencoded",
		url.Values{"username": {"bob"}, "password": {password}}.Encode(), ""); status != http.StatusUnauthorized {
		t.Errorf("bob, registered after the backup, logs in: %d %v", status, body)
	}
	register(s, "bob")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestBackupStartupErrors checks that bad backup settings stop quill serve
// with one line naming the setting.
func TestBackupStartupErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"keep 0", map[string]string{"BACKUP_KEEP": "0"}, []string{`BACKUP_KEEP="0"`, "from 1"}},
		{"keep negative", map[string]string{"BACKUP_KEEP": "-3"}, []string{`BACKUP_KEEP="-3"`}},
		{"keep not a number", map[string]string{"BACKUP_KEEP": "seven"}, []string{`BACKUP_KEEP="seven"`}},
		{"interval negative", map[string]string{"BACKUP_INTERVAL": "-1h"}, []string{`BACKUP_INTERVAL="-1h"`, "24h"}},
		{"interval zero", map[string]string{"BACKUP_INTERVAL": "0s"}, []string{`BACKUP_INTERVAL="0s"`}},
		{"interval in days", map[string]string{"BACKUP_INTERVAL": "1d"}, []string{`BACKUP_INTERVAL="1d"`}},
		{"interval unparsable", map[string]string{"BACKUP_INTERVAL": "daily"}, []string{`BACKUP_INTERVAL="daily"`}},
		{"dir missing", map[string]string{"BACKUP_DIR": "/no/such/dir"}, []string{`BACKUP_DIR="/no/such/dir"`, "does not exist"}},
		{"dir is a file", map[string]string{"BACKUP_DIR": file}, []string{"BACKUP_DIR=", "not a directory"}},
		{"dir with PostgreSQL", map[string]string{"BACKUP_DIR": ".", "DATABASE_URL": "postgres://quill@127.0.0.1:1/quill"},
			[]string{"BACKUP_DIR is set", "PostgreSQL", "pg_dump"}},
		{"dir with an in-memory database", map[string]string{"BACKUP_DIR": ".", "DATABASE_URL": "sqlite://:memory:"},
			[]string{"BACKUP_DIR is set", "no SQLite file"}},
	}
	if runtime.GOOS == "linux" {
		// Not writable even by root, who the permission bits do not stop.
		tests = append(tests, struct {
			name string
			env  map[string]string
			want []string
		}{"dir not writable", map[string]string{"BACKUP_DIR": "/proc"}, []string{`BACKUP_DIR="/proc"`, "not writable"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			env := backupEnv()
			for k, v := range tt.env {
				env[k] = v
			}
			_, _, err := runQuill(t, env, "serve", "--addr", "127.0.0.1:0")
			oneLineError(t, err, 1, tt.want...)
			if _, err := os.Stat("blog.db"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused start created the database (%v)", err)
			}
		})
	}
}

// TestScheduledBackups runs quill serve with a backup every second,
// keeping two, until it has deleted an old one, then stops it.
func TestScheduledBackups(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("backups", 0o700); err != nil {
		t.Fatal(err)
	}
	env := backupEnv()
	env["BACKUP_DIR"], env["BACKUP_INTERVAL"], env["BACKUP_KEEP"] = "backups", "1s", "2"
	s := startQuill(t, env)
	s.mustCall(t, http.StatusCreated, "POST", "/api/users", "application/json",
		`{"username":"alice","email":"alice@example.com","password":"orchard-lantern-velvet-12"}`, "")
	deadline := time.Now().Add(time.Minute)
	for strings.Count(s.logs.String(), `msg="old backup deleted"`) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no four scheduled backups within a minute; the log:\n%s", s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("serve with scheduled backups did not stop cleanly: %v", err)
	}
	logs := s.logs.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`msg="scheduled backups" dir=\S+/backups every=1s keep=2 first=\d{4}-\d\d-\d\dT`),
		regexp.MustCompile(`msg="backup written" path=\S+/backups/quill-backup-\d{8}T\d{6}Z\.db bytes=\d+ users=1 posts=0 pictures=0 sessions=0`),
		regexp.MustCompile(`msg="old backup deleted" path=\S+/backups/quill-backup-\d{8}T\d{6}Z\.db`),
	} {
		if !want.MatchString(logs) {
			t.Errorf("the log has no line matching %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "backup failed") {
		t.Errorf("a scheduled backup failed:\n%s", logs)
	}
	es, err := os.ReadDir("backups")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Errorf("backups/ holds %d files, want the 2 newest backups", len(es))
	}
	// Each is a good backup.
	for _, e := range es {
		if _, _, err := runQuill(t, backupEnv(), "restore", filepath.Join("backups", e.Name()), "--database-url", "sqlite:///./restored-"+e.Name()); err != nil {
			t.Errorf("restore %s = %v", e.Name(), err)
		}
	}
}

// TestRestoreByHand follows the docs' restore without quill restore: stop
// quill, move the database and its -wal and -shm away, copy the backup in
// its place, start quill.
func TestRestoreByHand(t *testing.T) {
	t.Chdir(t.TempDir())
	env := backupEnv()
	const password = "orchard-lantern-velvet-12"
	s := startQuill(t, env)
	s.mustCall(t, http.StatusCreated, "POST", "/api/users", "application/json",
		`{"username":"alice","email":"alice@example.com","password":"`+password+`"}`, "")
	if _, stderr, err := runQuill(t, env, "backup", "alice.db"); err != nil {
		t.Fatalf("quill backup = %v\n%s", err, stderr)
	}
	s.mustCall(t, http.StatusCreated, "POST", "/api/users", "application/json",
		`{"username":"bob","email":"bob@example.com","password":"`+password+`"}`, "")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	if err := os.Rename("blog.db", "blog.db.old"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"blog.db-wal", "blog.db-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile("alice.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("blog.db", data, 0o600); err != nil {
		t.Fatal(err)
	}

	s = startQuill(t, env)
	s.mustCall(t, http.StatusOK, "POST", "/api/users/token", "application/x-www-form-urlencoded",
		url.Values{"username": {"alice"}, "password": {password}}.Encode(), "")
	if status, body := s.call(t, "POST", "/api/users/token", "application/x-www-form-urlencoded",
		url.Values{"username": {"bob"}, "password": {password}}.Encode(), ""); status != http.StatusUnauthorized {
		t.Errorf("bob, registered after the backup, logs in after the restore: %d %v", status, body)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}
