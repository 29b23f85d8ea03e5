package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Creating and migrating a schema costs PostgreSQL a good part of a
// second of CPU, which for hundreds of API scenarios is most of their
// time. MigratedPostgresURL hands out migrated schemas instead and takes
// them back when a test ends: emptied and refilled from a pristine copy
// (the rows the migrations insert, the sequences where they started),
// which costs a few milliseconds.
//
// The schemas of a test process are named quill_pool_<id>_…, and it holds
// an advisory lock on its id while it runs; a process that finds schemas
// of an id nobody holds drops them (their process has ended).

var pool = struct {
	once sync.Once
	err  error

	mu       sync.Mutex
	id       string
	lock     *sql.Conn // holds the advisory lock on id
	pristine string
	free     []string
	made     int
}{}

// MigratedPostgresURL returns the URL of a schema on the test server that
// migrate has migrated and nothing else has changed, for tb alone. The
// schema goes back to the pool when tb ends. Every call in a process must
// pass the same migrate. Without EnvPostgresURL it skips tb.
func MigratedPostgresURL(tb testing.TB, migrate func(ctx context.Context, url string) error) string {
	tb.Helper()
	server := ServerURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool.once.Do(func() { pool.err = startPool(ctx, server, migrate) })
	if pool.err != nil {
		tb.Fatalf("schema pool on the %s server: %v", EnvPostgresURL, pool.err)
	}

	pool.mu.Lock()
	var schema string
	reused := len(pool.free) > 0
	if reused {
		schema, pool.free = pool.free[len(pool.free)-1], pool.free[:len(pool.free)-1]
	} else {
		pool.made++
		schema = fmt.Sprintf("quill_pool_%s_%d", pool.id, pool.made)
	}
	pool.mu.Unlock()
	if !reused {
		if err := makeSchema(ctx, server, schema, migrate); err != nil {
			tb.Fatalf("make a test schema: %v", err)
		}
	}

	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := resetSchema(ctx, schema, pool.pristine); err != nil {
			tb.Logf("test schema %s not reused: %v", schema, err)
			if _, err := admin.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
				tb.Errorf("drop test schema %s: %v", schema, err)
			}
			return
		}
		pool.mu.Lock()
		pool.free = append(pool.free, schema)
		pool.mu.Unlock()
	})
	return schemaURL(server, schema)
}

// startPool takes the process's lock, drops the schemas of ended
// processes, and makes the pristine schema.
func startPool(ctx context.Context, server string, migrate func(ctx context.Context, url string) error) error {
	if err := openAdmin(server); err != nil {
		return err
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	pool.id = hex.EncodeToString(b)
	var err error
	if pool.lock, err = admin.db.Conn(ctx); err != nil {
		return err
	}
	if _, err := pool.lock.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext($1))`, "quill_pool_"+pool.id); err != nil {
		return err
	}
	if err := dropAbandoned(ctx); err != nil {
		return err
	}
	pool.pristine = "quill_pool_" + pool.id + "_pristine"
	return makeSchema(ctx, server, pool.pristine, migrate)
}

// dropAbandoned drops the pool schemas of processes that hold no lock.
func dropAbandoned(ctx context.Context) error {
	rows, err := pool.lock.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'quill\_pool\_%'`)
	if err != nil {
		return err
	}
	byID := map[string][]string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(name, "quill_pool_"), "_")
		byID[id] = append(byID[id], name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, schemas := range byID {
		var free bool
		if err := pool.lock.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, "quill_pool_"+id).Scan(&free); err != nil {
			return err
		}
		if !free {
			continue // a live process's
		}
		for _, s := range schemas {
			if _, err := pool.lock.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+s+` CASCADE`); err != nil {
				return err
			}
		}
		if _, err := pool.lock.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext($1))`, "quill_pool_"+id); err != nil {
			return err
		}
	}
	return nil
}

func makeSchema(ctx context.Context, server, schema string, migrate func(ctx context.Context, url string) error) error {
	if _, err := admin.db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return err
	}
	if err := migrate(ctx, schemaURL(server, schema)); err != nil {
		return fmt.Errorf("migrate %s: %w", schema, err)
	}
	return nil
}

// resetSchema makes schema hold what pristine holds, in one transaction:
// every table emptied and refilled from pristine's table of that name,
// every sequence set to where pristine's is. Triggers and foreign keys are
// off meanwhile (session_replication_role, for a superuser), so the order
// does not matter and the counters the triggers keep are copied too.
func resetSchema(ctx context.Context, schema, pristine string) error {
	tx, err := admin.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return err
	}
	names := func(query string) ([]string, error) {
		rows, err := tx.QueryContext(ctx, query, schema)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, rows.Err()
	}
	tables, err := names(`SELECT tablename FROM pg_tables WHERE schemaname = $1`)
	if err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`DELETE FROM %[1]s.%[3]s; INSERT INTO %[1]s.%[3]s OVERRIDING SYSTEM VALUE SELECT * FROM %[2]s.%[3]s`,
			schema, pristine, quoteIdent(t))
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reset table %s: %w", t, err)
		}
	}
	seqs, err := names(`SELECT sequencename FROM pg_sequences WHERE schemaname = $1`)
	if err != nil {
		return err
	}
	for _, s := range seqs {
		q := fmt.Sprintf(`SELECT setval('%[1]s.%[3]s', last_value, is_called) FROM %[2]s.%[3]s`, schema, pristine, quoteIdent(s))
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reset sequence %s: %w", s, err)
		}
	}
	return tx.Commit()
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// schemaURL is the server's URL with schema as the search path.
func schemaURL(server, schema string) string {
	u, _ := url.Parse(server) // ServerURL's callers checked it parses
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
