package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/quill-blog/quill/internal/sqlstore/sqltest"
)

// TestServePostgresNeedsSecretKey checks that with PostgreSQL an unset
// SECRET_KEY stops start-up with one line saying why and what to do, and
// no key is generated (instances must share one; a key per instance would
// make each reject the others' tokens).
func TestServePostgresNeedsSecretKey(t *testing.T) {
	for _, databaseURL := range []string{"postgres://quill@127.0.0.1:1/quill", "postgresql://quill@127.0.0.1:1/quill"} {
		t.Run(databaseURL, func(t *testing.T) {
			t.Chdir(t.TempDir())
			env := map[string]string{"DATABASE_URL": databaseURL}
			var stdout, stderr strings.Builder
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
			if err == nil {
				t.Fatal("serve with PostgreSQL and no SECRET_KEY succeeded")
			}
			var msg strings.Builder
			if code := exitCode(err, &msg); code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			line := msg.String()
			for _, want := range []string{"SECRET_KEY is not set", "PostgreSQL", "every instance", "quill secret"} {
				if !strings.Contains(line, want) {
					t.Errorf("start-up error %q does not mention %q", line, want)
				}
			}
			if strings.Count(line, "\n") != 1 {
				t.Errorf("start-up error is not one line: %q", line)
			}
			if _, err := os.Stat(".env"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a .env was written (%v); with PostgreSQL no key may be generated", err)
			}
		})
	}
}

// TestMigratePostgres runs `quill migrate` and `quill migrate status` on
// PostgreSQL.
func TestMigratePostgres(t *testing.T) {
	databaseURL := sqltest.PostgresURL(t)
	t.Chdir(t.TempDir())
	env := map[string]string{"DATABASE_URL": databaseURL}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "status"}, "0001 init pending"},
		{[]string{"migrate"}, " migration(s); the database is up to date"},
		{[]string{"migrate", "up"}, "applied 0 migration(s)"},
		{[]string{"migrate", "status"}, "0001 init 20"},
	} {
		var stdout, stderr strings.Builder
		if err := run(context.Background(), tc.args, getenv, strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Fatalf("quill %s = %v\n%s", strings.Join(tc.args, " "), err, stderr.String())
		}
		if got := strings.Join(strings.Fields(stdout.String()), " "); !strings.Contains(got, tc.want) {
			t.Errorf("quill %s printed %q, want it to contain %q", strings.Join(tc.args, " "), stdout.String(), tc.want)
		}
	}
}
