package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// migrationFiles holds one numbered set of migrations per dialect:
// migrations/<dialect>/0001_name.sql, ….
//
//go:embed migrations
var migrationFiles embed.FS

// MigrationStatus describes one migration: a known one, applied or not, or
// one the database has applied that this build does not know (a newer
// quill ran against it).
type MigrationStatus struct {
	Version   int
	Name      string
	Applied   bool
	AppliedAt time.Time // zero unless Applied
}

type migration struct {
	version int
	name    string // file name without the number and ".sql"
	file    string
}

// migrationSteps are the parts of migrations that SQL cannot do: each runs
// in its migration's transaction, after its SQL, on every dialect.
var migrationSteps = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2: fillUsernameSkeletons,
}

// migrationList lists the dialect's migrations in order.
func (d dialect) migrationList() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, d.migrations)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, name, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", e.Name())
		}
		if len(ms) > 0 && ms[len(ms)-1].version == v {
			return nil, fmt.Errorf("migration %s: version %d used twice", e.Name(), v)
		}
		ms = append(ms, migration{version: v, name: name, file: path.Join(d.migrations, e.Name())})
	}
	// ReadDir sorts by file name; sort by number in case widths differ.
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms, nil
}

// schema_migrations is created outside the numbered set: it records them.
// The SQL is the same on every dialect.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at BIGINT  NOT NULL
)`

// Migrate applies the migrations the database has not seen yet, in order,
// each in its own transaction with its schema_migrations row. Applying them
// twice is a no-op, and of several processes migrating at once one applies
// them while the others wait (an advisory lock on PostgreSQL, the write
// lock on SQLite), then find nothing to do. A database migrated by a newer
// quill (it has versions this build does not know) is refused.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := s.dialect.migrationList()
	if err != nil {
		return err
	}
	// One connection for the whole run: it holds the lock.
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect.lockMigrations != nil {
		unlock, err := s.dialect.lockMigrations(ctx, conn)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if _, err := conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	err = conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].version {
		return fmt.Errorf("database schema is at version %d but this quill knows only up to %d: run a newer quill", newest, ms[len(ms)-1].version)
	}
	for _, m := range ms {
		if err := s.apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration on conn unless it has been applied. The check
// is inside the write transaction, so a concurrent migrator that got there
// first is seen.
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	body, err := migrationFiles.ReadFile(m.file)
	if err != nil {
		return fmt.Errorf("read migration %d: %w", m.version, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d %s: begin: %w", m.version, m.name, err)
	}
	defer tx.Rollback()
	var done bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&done)
	if err != nil {
		return fmt.Errorf("migration %d %s: %w", m.version, m.name, err)
	}
	if done {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %d %s: %w", m.version, m.name, err)
	}
	if step := migrationSteps[m.version]; step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("migration %d %s: %w", m.version, m.name, err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, micros(s.timestamp()))
	if err != nil {
		return fmt.Errorf("record migration %d %s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d %s: commit: %w", m.version, m.name, err)
	}
	return nil
}

// MigrationStatus lists every migration this build knows, in order, whether
// the database has applied it, and after them any the database has applied
// that this build does not know. It changes nothing.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	ms, err := s.dialect.migrationList()
	if err != nil {
		return nil, err
	}
	applied := map[int]MigrationStatus{}
	var exists bool
	if err := s.read.QueryRowContext(ctx, s.dialect.hasMigrationsTable).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	if exists {
		rows, err := s.read.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				st MigrationStatus
				at int64
			)
			if err := rows.Scan(&st.Version, &st.Name, &at); err != nil {
				return nil, fmt.Errorf("read schema_migrations: %w", err)
			}
			st.Applied, st.AppliedAt = true, fromMicros(at)
			applied[st.Version] = st
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
	}
	var out []MigrationStatus
	for _, m := range ms {
		st, ok := applied[m.version]
		if !ok {
			st = MigrationStatus{Version: m.version, Name: m.name}
		}
		delete(applied, m.version)
		out = append(out, st)
	}
	unknown := make([]MigrationStatus, 0, len(applied))
	for _, st := range applied {
		unknown = append(unknown, st)
	}
	slices.SortFunc(unknown, func(a, b MigrationStatus) int { return a.Version - b.Version })
	return append(out, unknown...), nil
}

// fillUsernameSkeletons sets users.username_skeleton for every account.
// Of accounts whose names look alike, which a database made before
// skeletons may hold, the oldest keeps its skeleton and the others stay
// without one: they keep their names, but a rename is checked.
func fillUsernameSkeletons(ctx context.Context, tx *sql.Tx) error {
	type user struct {
		id       int64
		username string
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, username FROM users ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read usernames: %w", err)
	}
	var users []user
	for rows.Next() {
		var u user
		if err := rows.Scan(&u.id, &u.username); err != nil {
			rows.Close()
			return fmt.Errorf("read usernames: %w", err)
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read usernames: %w", err)
	}
	set, err := tx.PrepareContext(ctx, `UPDATE users SET username_skeleton = $1 WHERE id = $2`)
	if err != nil {
		return fmt.Errorf("set username skeletons: %w", err)
	}
	defer set.Close()
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		skeleton := blog.UsernameSkeleton(u.username)
		if seen[skeleton] {
			continue
		}
		seen[skeleton] = true
		if _, err := set.ExecContext(ctx, skeleton, u.id); err != nil {
			return fmt.Errorf("set the username skeleton of user %d: %w", u.id, err)
		}
	}
	return nil
}
