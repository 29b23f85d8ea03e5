package sqlstore

import (
	"context"
	"testing"
	"time"
)

// TestSyncIDSequences checks the hook for importers that keep ids: after
// rows are inserted with explicit ids, SyncIDSequences makes new rows get
// ids after them, and never moves a sequence back.
func TestSyncIDSequences(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		first := createUser(t, s, "first") // the sequence has been used once
		for _, q := range []string{
			`INSERT INTO users (id, username, username_key, email, password_hash, created_at) VALUES (1000, 'old', 'old', 'old@example.com', 'h', 0)`,
			`INSERT INTO posts (id, user_id, title, content, date_posted) VALUES (5000, 1000, 't', 'c', 0)`,
		} {
			if _, err := s.write.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SyncIDSequences(ctx); err != nil {
			t.Fatalf("SyncIDSequences() = %v", err)
		}
		u := createUser(t, s, "next")
		p := createPost(t, s, u, "next", time.Time{})
		if u.ID <= 1000 || p.ID <= 5000 {
			t.Errorf("after importing user 1000 and post 5000, new ids are user %d and post %d, want larger", u.ID, p.ID)
		}

		// The imported rows go; the sequences stay where they were.
		if _, err := s.write.ExecContext(ctx, `DELETE FROM users WHERE id >= 1000`); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncIDSequences(ctx); err != nil {
			t.Fatalf("SyncIDSequences() = %v", err)
		}
		if v := createUser(t, s, "later"); v.ID <= u.ID || v.ID == first.ID {
			t.Errorf("after SyncIDSequences with the largest ids deleted, a new user got id %d, want more than %d", v.ID, u.ID)
		}
	})
}
