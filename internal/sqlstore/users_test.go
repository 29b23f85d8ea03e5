package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/testclock"
)

// createUser adds a user called name, with email name@example.com.
func createUser(tb testing.TB, s *Store, name string) *blog.User {
	tb.Helper()
	u := &blog.User{Username: name, Email: name + "@example.com", PasswordHash: "$argon2id$" + name}
	if err := s.Write(context.Background(), func(tx *Tx) error { return tx.CreateUser(context.Background(), u) }); err != nil {
		tb.Fatalf("CreateUser(%q) = %v", name, err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		u := &blog.User{Username: "Alice", Email: "Alice@Example.COM", PasswordHash: "$argon2id$x", ImageFile: "a.jpg"}
		if err := s.Write(ctx, func(tx *Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
			t.Fatalf("CreateUser() = %v", err)
		}
		want := &blog.User{ID: u.ID, Username: "Alice", Email: "alice@example.com", PasswordHash: "$argon2id$x",
			ImageFile: "a.jpg", CreatedAt: clock.Now()}
		if u.ID <= 0 {
			t.Errorf("CreateUser set ID = %d, want > 0", u.ID)
		}
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("CreateUser() left the user mismatched (-want +got):\n%s", diff)
		}
		got, err := s.User(ctx, u.ID)
		if err != nil {
			t.Fatalf("User(%d) = %v", u.ID, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("User(%d) mismatch (-want +got):\n%s", u.ID, diff)
		}

		// Ids are not reused after a delete.
		write(t, s, func(tx *Tx) error { _, err := tx.DeleteUser(ctx, u.ID); return err })
		if v := createUser(t, s, "victor"); v.ID <= u.ID {
			t.Errorf("a new user got id %d after id %d was deleted, want a fresh id", v.ID, u.ID)
		}
	})
}

func TestCreateUserTaken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, _ := newTestStore(t, db)
		createUser(t, s, "Alice")
		tests := []struct {
			name     string
			username string
			email    string
			want     error
		}{
			{name: "same name", username: "Alice", email: "other1@example.com", want: blog.ErrUsernameTaken},
			{name: "lower case", username: "alice", email: "other2@example.com", want: blog.ErrUsernameTaken},
			{name: "upper case", username: "ALICE", email: "other3@example.com", want: blog.ErrUsernameTaken},
			{name: "full width", username: "Ａｌｉｃｅ", email: "other4@example.com", want: blog.ErrUsernameTaken},
			{name: "same email", username: "bob", email: "Alice@example.com", want: blog.ErrEmailTaken},
			{name: "email case", username: "carol", email: "ALICE@EXAMPLE.COM", want: blog.ErrEmailTaken},
			// The username is checked first: its error is the one to report.
			{name: "both taken", username: "alice", email: "alice@example.com", want: blog.ErrUsernameTaken},
			{name: "similar but different", username: "Alice2", email: "alice2@example.com", want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := &blog.User{Username: tt.username, Email: tt.email, PasswordHash: "h"}
				err := s.Write(context.Background(), func(tx *Tx) error { return tx.CreateUser(context.Background(), u) })
				if !errors.Is(err, tt.want) {
					t.Errorf("CreateUser(%q, %q) = %v, want %v", tt.username, tt.email, err, tt.want)
				}
			})
		}
	})
}

func TestUserByLogin(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, _ := newTestStore(t, db)
		alice := createUser(t, s, "Alice")
		tests := []struct {
			name  string
			typed string // what the user typed in the login form
			want  *blog.User
		}{
			{name: "username", typed: "Alice", want: alice},
			{name: "username other case", typed: "aLiCe", want: alice},
			{name: "username full width", typed: "Ａｌｉｃｅ", want: alice},
			{name: "email", typed: "alice@example.com", want: alice},
			{name: "email upper case", typed: " ALICE@Example.com ", want: alice},
			{name: "unknown username", typed: "bob", want: nil},
			{name: "unknown email", typed: "bob@example.com", want: nil},
			{name: "username is not an email", typed: "alice@", want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				key := blog.LoginKey(tt.typed)
				got, err := s.UserByLogin(context.Background(), key)
				if tt.want == nil {
					if !errors.Is(err, blog.ErrUserNotFound) {
						t.Errorf("UserByLogin(%q) = %v, %v, want ErrUserNotFound", key, got, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("UserByLogin(%q) = %v", key, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("UserByLogin(%q) mismatch (-want +got):\n%s", key, diff)
				}
			})
		}
	})
}

// updateProfile runs tx.UpdateProfile(u) in a Write of its own.
func updateProfile(s *Store, u *blog.User) error {
	return s.Write(context.Background(), func(tx *Tx) error { return tx.UpdateProfile(context.Background(), u) })
}

func TestUpdateProfile(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		createUser(t, s, "bob")
		tests := []struct {
			name   string
			change func(u *blog.User)
			want   error
		}{
			{name: "nothing", change: func(u *blog.User) {}},
			{name: "own name in another case", change: func(u *blog.User) { u.Username = "ALICE" }},
			{name: "new name", change: func(u *blog.User) { u.Username = "Alicia" }},
			{name: "new email, lower-cased", change: func(u *blog.User) { u.Email = "New@Example.com" }},
			// A caller that read the user before a password change must
			// not write after it.
			{name: "password changed since read", change: func(u *blog.User) { u.PasswordHash, u.Username = "$argon2id$other", "stale" }, want: blog.ErrInvalidToken},
			{name: "taken name", change: func(u *blog.User) { u.Username = "Bob" }, want: blog.ErrUsernameTaken},
			{name: "taken name full width", change: func(u *blog.User) { u.Username = "ｂｏｂ" }, want: blog.ErrUsernameTaken},
			{name: "taken email", change: func(u *blog.User) { u.Email = "BOB@example.com" }, want: blog.ErrEmailTaken},
			// The username is checked first: its error is the one to report.
			{name: "taken name and email", change: func(u *blog.User) { u.Username, u.Email = "BOB", "bob@example.com" }, want: blog.ErrUsernameTaken},
			// Deleted meanwhile; its name is nobody's now.
			{name: "missing user", change: func(u *blog.User) { u.ID, u.Username = 999_999, "ghost" }, want: blog.ErrUserNotFound},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// A fresh user per row, renamed to alice (the last row's is
				// deleted by now).
				orig := createUser(t, s, fmt.Sprintf("row%d", i))
				orig.Username = "alice"
				if err := updateProfile(s, orig); err != nil {
					t.Fatalf("UpdateProfile(rename to alice) = %v", err)
				}
				t.Cleanup(func() {
					s.Write(ctx, func(tx *Tx) error { _, err := tx.DeleteUser(ctx, orig.ID); return err })
				})

				u := *orig
				tt.change(&u)
				err := updateProfile(s, &u)
				if !errors.Is(err, tt.want) {
					t.Fatalf("UpdateProfile() = %v, want %v", err, tt.want)
				}
				want := orig
				if err == nil {
					want = &u
					want.Email = strings.ToLower(want.Email)
				}
				got, err := s.User(ctx, orig.ID)
				if err != nil {
					t.Fatalf("User(%d) = %v", orig.ID, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("User(%d) after UpdateProfile mismatch (-want +got):\n%s", orig.ID, diff)
				}
			})
		}
	})
}

func TestSetPasswordHash(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		u := createUser(t, s, "alice")
		tests := []struct {
			name      string
			id        int64
			old, new_ string
			want      error
			wantHash  string
		}{
			// A login whose hash needs no upgrade writes the hash it
			// verified, to check that it is still the stored one.
			{name: "unchanged", id: u.ID, old: u.PasswordHash, new_: u.PasswordHash, wantHash: u.PasswordHash},
			{name: "stale old hash", id: u.ID, old: "$2b$legacy", new_: "$argon2id$a", want: blog.ErrInvalidToken, wantHash: u.PasswordHash},
			{name: "current old hash", id: u.ID, old: u.PasswordHash, new_: "$argon2id$b", wantHash: "$argon2id$b"},
			{name: "again with the replaced hash", id: u.ID, old: u.PasswordHash, new_: "$argon2id$c", want: blog.ErrInvalidToken, wantHash: "$argon2id$b"},
			{name: "missing user", id: 999_999, old: "$argon2id$b", new_: "$argon2id$d", want: blog.ErrUserNotFound, wantHash: "$argon2id$b"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Write(ctx, func(tx *Tx) error { return tx.SetPasswordHash(ctx, tt.id, tt.old, tt.new_) })
				if !errors.Is(err, tt.want) {
					t.Errorf("SetPasswordHash(%d, %q, %q) = %v, want %v", tt.id, tt.old, tt.new_, err, tt.want)
				}
				if got := passwordHash(t, s, u.ID); got != tt.wantHash {
					t.Errorf("hash after SetPasswordHash = %q, want %q", got, tt.wantHash)
				}
			})
		}
	})
}

func TestReplacePasswordHash(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		tests := []struct {
			name     string
			id       int64
			hash     string
			want     error
			wantHash string // alice's afterwards
		}{
			{name: "whatever the stored hash", id: alice.ID, hash: "$argon2id$new", wantHash: "$argon2id$new"},
			{name: "the same again", id: alice.ID, hash: "$argon2id$new", wantHash: "$argon2id$new"},
			{name: "missing user", id: 999_999, hash: "$argon2id$x", want: blog.ErrUserNotFound, wantHash: "$argon2id$new"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Write(ctx, func(tx *Tx) error { return tx.ReplacePasswordHash(ctx, tt.id, tt.hash) })
				if !errors.Is(err, tt.want) {
					t.Errorf("ReplacePasswordHash(%d, %q) = %v, want %v", tt.id, tt.hash, err, tt.want)
				}
				if got := passwordHash(t, s, alice.ID); got != tt.wantHash {
					t.Errorf("alice's hash after ReplacePasswordHash = %q, want %q", got, tt.wantHash)
				}
			})
		}
		if got := passwordHash(t, s, bob.ID); got != bob.PasswordHash {
			t.Errorf("bob's hash after alice's were replaced = %q, want %q", got, bob.PasswordHash)
		}
	})
}

// TestUserNotFound checks every call that names a user, with a user that
// does not exist.
func TestUserNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		const id = 424242
		now := clock.Now()
		inTx := func(step func(tx *Tx) error) func() error {
			return func() error { return s.Write(ctx, step) }
		}
		tests := []struct {
			name string
			call func() error
		}{
			{"User", func() error { _, err := s.User(ctx, id); return err }},
			{"UserByLogin username", func() error { _, err := s.UserByLogin(ctx, "nobody"); return err }},
			{"UserByLogin email", func() error { _, err := s.UserByLogin(ctx, "nobody@example.com"); return err }},
			{"Posts", func() error { _, err := s.Posts(ctx, id, blog.PageRequest{}); return err }},
			{"Tx.User", inTx(func(tx *Tx) error { _, err := tx.User(ctx, id); return err })},
			{"UpdateProfile", inTx(func(tx *Tx) error {
				return tx.UpdateProfile(ctx, &blog.User{ID: id, Username: "x", Email: "x@example.com"})
			})},
			{"SetPasswordHash", inTx(func(tx *Tx) error { return tx.SetPasswordHash(ctx, id, "h", "h2") })},
			{"ReplacePasswordHash", inTx(func(tx *Tx) error { return tx.ReplacePasswordHash(ctx, id, "h") })},
			{"DeleteUser", inTx(func(tx *Tx) error { _, err := tx.DeleteUser(ctx, id); return err })},
			{"CreatePost", inTx(func(tx *Tx) error {
				return tx.CreatePost(ctx, &blog.Post{AuthorID: id, Title: "t", Content: "c"})
			})},
			{"CreateSession", inTx(func(tx *Tx) error {
				sess := &blog.Session{ID: "s", UserID: id, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
				return tx.CreateSession(ctx, sess, []byte("refresh"))
			})},
			{"CreatePasswordReset", inTx(func(tx *Tx) error {
				return tx.CreatePasswordReset(ctx, id, []byte("token"), now, now.Add(time.Hour))
			})},
			{"SavePicture", inTx(func(tx *Tx) error { _, err := tx.SavePicture(ctx, id, "x.jpg", []byte("x")); return err })},
			{"DeletePicture", inTx(func(tx *Tx) error { return tx.DeletePicture(ctx, id) })},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.call(); !errors.Is(err, blog.ErrUserNotFound) {
					t.Errorf("%s(missing user) = %v, want ErrUserNotFound", tt.name, err)
				}
			})
		}
		if diff := cmp.Diff([]string{}, tableRows(t, s)["users"]); diff != "" {
			t.Errorf("users after the calls for a missing user (-want +got):\n%s", diff)
		}
	})
}

// TestDeleteUser checks the number of posts DeleteUser reports gone with
// the user: what the user has at the time, however the posts came.
func TestDeleteUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		tests := []struct {
			name         string
			created      int // by CreatePost
			imported     int // by InsertPosts
			deletedFirst int // of the created, by DeletePost
			want         int64
		}{
			{name: "no posts", want: 0},
			{name: "one post", created: 1, want: 1},
			{name: "some deleted before", created: 3, deletedFirst: 2, want: 1},
			{name: "all deleted before", created: 2, deletedFirst: 2, want: 0},
			{name: "imported and created", created: 2, imported: 3, want: 5},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := createUser(t, s, fmt.Sprint("user", i))
				var posts []*blog.Post
				for j := range tt.created {
					posts = append(posts, createPost(t, s, u, fmt.Sprint("post ", j), time.Time{}))
				}
				imports := make([]blog.Post, tt.imported)
				for j := range imports {
					imports[j] = blog.Post{Title: "imported", Content: "c", AuthorID: u.ID}
				}
				if _, err := s.InsertPosts(ctx, imports); err != nil {
					t.Fatal(err)
				}
				for _, p := range posts[:tt.deletedFirst] {
					write(t, s, func(tx *Tx) error { return tx.DeletePost(ctx, p.ID) })
				}
				var got int64
				write(t, s, func(tx *Tx) error {
					var err error
					got, err = tx.DeleteUser(ctx, u.ID)
					return err
				})
				if got != tt.want {
					t.Errorf("DeleteUser() = %d, want %d", got, tt.want)
				}
				err := s.Write(ctx, func(tx *Tx) error {
					var err error
					got, err = tx.DeleteUser(ctx, u.ID)
					return err
				})
				if got != 0 || !errors.Is(err, blog.ErrUserNotFound) {
					t.Errorf("DeleteUser() again = %d, %v, want 0, ErrUserNotFound", got, err)
				}
			})
		}
	})
}

// TestDeleteUserCascades checks that a user's posts, sessions, picture and
// reset tokens go with them, and nobody else's.
func TestDeleteUserCascades(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		now := clock.Now()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		for _, u := range []*blog.User{alice, bob} {
			createPost(t, s, u, u.Username+"'s post", time.Time{})
			createSession(t, s, u, u.Username+"'s session", now, time.Hour)
			createReset(t, s, u, u.Username+"'s token", now)
			write(t, s, func(tx *Tx) error {
				_, err := tx.SavePicture(ctx, u.ID, u.Username+".jpg", []byte("jpeg"))
				return err
			})
		}

		var posts int64
		write(t, s, func(tx *Tx) error {
			var err error
			posts, err = tx.DeleteUser(ctx, alice.ID)
			return err
		})
		if posts != 1 {
			t.Errorf("DeleteUser() = %d posts, want 1", posts)
		}
		if _, err := s.User(ctx, alice.ID); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("User(deleted) = %v, want ErrUserNotFound", err)
		}
		rows := map[int64]map[string]int{}
		for _, u := range []*blog.User{alice, bob} {
			rows[u.ID] = map[string]int{}
			for _, table := range []string{"posts", "sessions", "pictures", "password_resets"} {
				var n int
				if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE user_id = $1`, u.ID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				rows[u.ID][table] = n
			}
		}
		want := map[int64]map[string]int{
			alice.ID: {"posts": 0, "sessions": 0, "pictures": 0, "password_resets": 0},
			bob.ID:   {"posts": 1, "sessions": 1, "pictures": 1, "password_resets": 1},
		}
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("rows per user after deleting alice mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestOtherPasswordHashes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		const current = "$argon2id$v=19$m=65536,t=3,p=4$"
		hashes := []string{
			current + "salt1$hash1",
			current + "salt2$hash2",
			"$argon2id$v=19$m=19456,t=2,p=1$salt$hash", // older parameters
			"$2b$12$legacybcrypthash",                  // imported
			"$ARGON2ID$v=19$m=65536,t=3,p=4$salt$hash", // differs in case only
			"$argon2id$",                               // shorter than the prefix
		}
		for i, h := range hashes {
			u := &blog.User{Username: fmt.Sprint("user", i), Email: fmt.Sprint("user", i, "@example.com"), PasswordHash: h}
			write(t, s, func(tx *Tx) error { return tx.CreateUser(ctx, u) })
		}
		tests := []struct {
			name   string
			prefix string
			want   []string
		}{
			{name: "current parameters", prefix: current, want: hashes[2:]},
			{name: "argon2id", prefix: "$argon2id$", want: []string{hashes[3], hashes[4]}},
			{name: "no prefix", prefix: "", want: []string{}},
			{name: "nobody's", prefix: "$scrypt$", want: hashes},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := []string{}
				if err := s.OtherPasswordHashes(ctx, tt.prefix, func(h string) { got = append(got, h) }); err != nil {
					t.Fatalf("OtherPasswordHashes(%q) = %v", tt.prefix, err)
				}
				if diff := cmp.Diff(tt.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
					t.Errorf("OtherPasswordHashes(%q) mismatch (-want +got):\n%s", tt.prefix, diff)
				}
			})
		}
	})
}

// variant spells "alice" with letter j in upper case when bit j of i is set
// and in full width when (i+j)%3 == 0, so i = 0…31 gives 32 spellings of one
// name.
func variant(i int) string {
	var b strings.Builder
	for j, r := range "alice" {
		if i&(1<<j) != 0 {
			r = unicode.ToUpper(r)
		}
		if (i+j)%3 == 0 {
			r += 'ａ' - 'a' // the full-width form
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestConcurrentRegistration(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		for _, stores := range []int{1, 2} {
			// Two stores on one database are two server instances: they race
			// inside the database, not in one connection pool.
			t.Run(fmt.Sprintf("%d stores", stores), func(t *testing.T) {
				url := db.url(t)
				var ss []*Store
				for range stores {
					s := openTestStore(t, url, testclock.New())
					if err := s.Migrate(context.Background()); err != nil {
						t.Fatal(err)
					}
					openWriters(t, s)
					ss = append(ss, s)
				}
				const n = 32
				errs := make([]error, n)
				together(n, func(i int) {
					u := &blog.User{Username: variant(i), Email: fmt.Sprintf("user%d@example.com", i), PasswordHash: "h"}
					errs[i] = ss[i%stores].Write(context.Background(), func(tx *Tx) error {
						return tx.CreateUser(context.Background(), u)
					})
				})
				won := 0
				for i, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, blog.ErrUsernameTaken):
						t.Errorf("CreateUser(%q) = %v, want nil or ErrUsernameTaken", variant(i), err)
					}
				}
				if won != 1 {
					t.Errorf("%d of %d registrations of one name succeeded, want 1", won, n)
				}
			})
		}
	})
}

func TestConcurrentRenames(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, _ := newTestStore(t, db)
		const n = 6
		users := make([]*blog.User, n)
		for i := range users {
			users[i] = createUser(t, s, fmt.Sprintf("user%d", i))
		}
		openWriters(t, s)
		errs := make([]error, n)
		together(n, func(i int) {
			users[i].Username = variant(i * 5)
			errs[i] = updateProfile(s, users[i])
		})
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, blog.ErrUsernameTaken):
				t.Errorf("UpdateProfile(user%d → %q) = %v, want nil or ErrUsernameTaken", i, users[i].Username, err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d renames to one name succeeded, want 1", won, n)
		}
	})
}
