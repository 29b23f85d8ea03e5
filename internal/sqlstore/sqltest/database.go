package sqltest

import (
	"context"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"
	"time"
)

// DatabaseURL returns the URL of a new, empty database of its own on the
// test server, for a test that needs a whole database rather than a
// schema (pg_dump and pg_restore work on databases), and its name. The
// database is dropped when tb ends, whoever is still connected to it.
// Without EnvPostgresURL it skips tb.
func DatabaseURL(tb testing.TB) (databaseURL, name string) {
	tb.Helper()
	server := ServerURL(tb)
	admin.once.Do(func() { admin.db, admin.err = sql.Open("pgx", server) })
	if admin.err != nil {
		tb.Fatalf("%s: %v", EnvPostgresURL, admin.err)
	}
	name = "quill_test_db_" + hex.EncodeToString(randomBytes(tb, 8))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		tb.Fatalf("create a database on the %s server: %v", EnvPostgresURL, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(server) // ServerURL checked that it parses
	u.Path = "/" + name
	return u.String(), name
}
