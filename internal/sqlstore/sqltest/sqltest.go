// Package sqltest gives tests their own PostgreSQL database to run on, so
// the store suite, the API scenarios and the end-to-end tests run on both
// dialects.
//
// The server is the one QUILL_TEST_POSTGRES_URL names (scripts/pg-test-cluster.sh
// starts a throwaway one). Each test gets a schema of its own on it, so
// tests run in parallel without seeing each other's rows: a new one from
// PostgresURL, dropped when the test ends, or a migrated one from
// MigratedPostgresURL, given back for reuse.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvPostgresURL names the variable holding the test server's URL, a
// superuser's (or one allowed to create schemas).
const EnvPostgresURL = "QUILL_TEST_POSTGRES_URL"

// SkipReason is why PostgreSQL runs are skipped when EnvPostgresURL is unset.
const SkipReason = EnvPostgresURL + " is not set: skipping the PostgreSQL run " +
	`(eval "$(scripts/pg-test-cluster.sh start)" starts a throwaway server)`

// ServerURL returns EnvPostgresURL, or skips tb with SkipReason.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvPostgresURL)
	if u == "" {
		tb.Skip(SkipReason)
	}
	if _, err := url.Parse(u); err != nil {
		tb.Fatalf("%s is not a URL: %v", EnvPostgresURL, err)
	}
	return u
}

var admin = struct {
	once sync.Once
	db   *sql.DB
	err  error
}{}

// PostgresURL returns the URL of a new, empty schema on the test server,
// dropped with everything in it when tb ends; the URL's search_path makes
// it the schema that every table is created in and read from. Without
// EnvPostgresURL it skips tb.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL(tb)
	if err := openAdmin(server); err != nil {
		tb.Fatalf("%s: %v", EnvPostgresURL, err)
	}
	schema := "quill_test_" + hex.EncodeToString(randomBytes(tb, 8))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema on the %s server: %v", EnvPostgresURL, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return schemaURL(server, schema)
}

// openAdmin connects to the test server once per process, and makes sure
// the database has the extensions quill's migrations use, in the public
// schema. Extensions are per database: made by the migration of a test
// schema, one would live in that schema and go when the test drops it,
// from under every other schema's functions; and two migrations creating
// it at once would collide.
func openAdmin(server string) error {
	admin.once.Do(func() {
		if admin.db, admin.err = sql.Open("pgx", server); admin.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := admin.db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public`)
		if err != nil {
			admin.err = fmt.Errorf("create the unaccent extension: %w", err)
		}
	})
	return admin.err
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}
