package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/quill-blog/quill/internal/blog"
)

// TestLookAlikeUsernames checks that the unique index on the username's
// skeleton refuses names that look like a taken one, everywhere a name is
// written: a new account, a rename, a bulk insert.
func TestLookAlikeUsernames(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		admin := createUser(t, s, "admin")
		bob := createUser(t, s, "bob")
		for _, name := range []string{"аdmin", "ΑDMIN", "ᴀdmin", "adm1n"} {
			err := s.Write(ctx, func(tx *Tx) error {
				return tx.CreateUser(ctx, &blog.User{Username: name, Email: "x@example.com", PasswordHash: "h"})
			})
			if !errors.Is(err, blog.ErrUsernameTaken) {
				t.Errorf("CreateUser(%q) beside admin = %v, want ErrUsernameTaken", name, err)
			}
			if taken, err := s.UsernameTaken(ctx, name); !taken || err != nil {
				t.Errorf("UsernameTaken(%q) = %t, %v, want true", name, taken, err)
			}
		}
		if taken, err := s.UsernameTaken(ctx, "carol"); taken || err != nil {
			t.Errorf("UsernameTaken(carol) = %t, %v, want false", taken, err)
		}
		err := s.Write(ctx, func(tx *Tx) error {
			u := *bob
			u.Username = "аdmin"
			return tx.UpdateProfile(ctx, &u)
		})
		if !errors.Is(err, blog.ErrUsernameTaken) {
			t.Errorf("UpdateProfile(bob → аdmin) = %v, want ErrUsernameTaken", err)
		}
		results, err := s.InsertUsers(ctx, []blog.User{{ID: 50, Username: "ΑDMIN", Email: "greek@example.com", PasswordHash: "h"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := (blog.RowResult{Outcome: blog.RowUsernameTaken, Holder: admin.ID}); results[0] != want {
			t.Errorf("InsertUsers(ΑDMIN) = %+v, want %+v", results[0], want)
		}
		results, err = s.InsertUsers(ctx, []blog.User{{ID: 51, Username: "ΑDMIN", Email: "greek@example.com", PasswordHash: "h"}},
			func(name string, n int) string { return "greek-admin" })
		if err != nil || results[0].Outcome != blog.RowInserted {
			t.Errorf("InsertUsers(ΑDMIN, renamed) = %+v, %v, want inserted under another name", results, err)
		}
	})
}

// TestFillUsernameSkeletons checks the migration step for databases made
// before skeletons: every account gets its skeleton, but of accounts that
// already look alike only the oldest does. The others keep their names and
// may change their email; a rename is checked.
func TestFillUsernameSkeletons(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		// Rows as an older quill wrote them: no skeleton.
		for _, q := range []string{
			`INSERT INTO users (id, username, username_key, email, password_hash, created_at) VALUES (1, 'admin', 'admin', 'a@example.com', 'h', 0)`,
			`INSERT INTO users (id, username, username_key, email, password_hash, created_at) VALUES (2, 'аdmin', 'аdmin', 'b@example.com', 'h', 0)`,
			`INSERT INTO users (id, username, username_key, email, password_hash, created_at) VALUES (3, 'carol', 'carol', 'c@example.com', 'h', 0)`,
		} {
			if _, err := s.write.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		write(t, s, func(tx *Tx) error { return fillUsernameSkeletons(ctx, tx.tx) })
		want := map[int64]sql.Null[string]{
			1: {V: blog.UsernameSkeleton("admin"), Valid: true},
			2: {},
			3: {V: blog.UsernameSkeleton("carol"), Valid: true},
		}
		for id, w := range want {
			var got sql.Null[string]
			if err := s.read.QueryRowContext(ctx, `SELECT username_skeleton FROM users WHERE id = $1`, id).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != w {
				t.Errorf("user %d's skeleton = %+v, want %+v", id, got, w)
			}
		}
		second, err := s.User(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		second.Email = "new@example.com"
		write(t, s, func(tx *Tx) error { return tx.UpdateProfile(ctx, second) })
		second.Username = "adm1n"
		err = s.Write(ctx, func(tx *Tx) error { return tx.UpdateProfile(ctx, second) })
		if !errors.Is(err, blog.ErrUsernameTaken) {
			t.Errorf("renaming the look-alike to another look-alike = %v, want ErrUsernameTaken", err)
		}
	})
}
