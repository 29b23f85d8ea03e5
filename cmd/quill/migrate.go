package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/quill-blog/quill/internal/sqlstore"
)

// migrate applies pending migrations (up, the default) or lists them
// (status).
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, fs, err := loadConfig("migrate", args, getenv, stderr, " [up|status]")
	if err != nil {
		return err
	}
	action := "up"
	switch fs.NArg() {
	case 0:
	case 1:
		action = fs.Arg(0)
	default:
		return &usageError{"migrate takes one argument: up or status"}
	}
	if action != "up" && action != "status" {
		return &usageError{fmt.Sprintf("migrate: unknown action %q; use up or status", action)}
	}
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, time.Now)
	if err != nil {
		return fmt.Errorf("cannot open the database: %v; check DATABASE_URL", err)
	}
	defer store.Close()
	if action == "up" {
		before, err := pending(ctx, store)
		if err != nil {
			return err
		}
		if err := store.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		fmt.Fprintf(stdout, "applied %d migration(s); the database is up to date\n", before)
		return nil
	}
	status, err := store.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, m := range status {
		applied := "pending"
		if m.Applied {
			applied = m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", m.Version, m.Name, applied)
	}
	return tw.Flush()
}

func pending(ctx context.Context, store *sqlstore.Store) (int, error) {
	status, err := store.MigrationStatus(ctx)
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	n := 0
	for _, m := range status {
		if !m.Applied {
			n++
		}
	}
	return n, nil
}
