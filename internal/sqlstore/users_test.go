package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
)

// createUser adds a user called name, with email name@example.com.
func createUser(tb testing.TB, s *Store, name string) *blog.User {
	tb.Helper()
	u := &blog.User{Username: name, Email: name + "@example.com", PasswordHash: "$argon2id$" + name}
	if err := s.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("CreateUser(%q) = %v", name, err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		u := &blog.User{Username: "Alice", Email: "Alice@Example.COM", PasswordHash: "$argon2id$x", ImageFile: "a.jpg"}
		if err := s.CreateUser(ctx, u); err != nil {
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
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
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
			{name: "similar but different", username: "Alice2", email: "alice2@example.com", want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := &blog.User{Username: tt.username, Email: tt.email, PasswordHash: "h"}
				if err := s.CreateUser(context.Background(), u); !errors.Is(err, tt.want) {
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

func TestUpdateUser(t *testing.T) {
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
			{name: "missing user", change: func(u *blog.User) { u.ID = 999_999 }, want: blog.ErrUserNotFound},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// A fresh user per row, renamed to alice (the last row's is
				// deleted by now).
				orig := createUser(t, s, fmt.Sprintf("row%d", i))
				orig.Username = "alice"
				if err := s.UpdateUser(ctx, orig); err != nil {
					t.Fatalf("UpdateUser(rename to alice) = %v", err)
				}
				t.Cleanup(func() { s.DeleteUser(ctx, orig.ID) })

				u := *orig
				tt.change(&u)
				err := s.UpdateUser(ctx, &u)
				if !errors.Is(err, tt.want) {
					t.Fatalf("UpdateUser() = %v, want %v", err, tt.want)
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
					t.Errorf("User(%d) after UpdateUser mismatch (-want +got):\n%s", orig.ID, diff)
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
			wantOK    bool
			wantHash  string
		}{
			{name: "stale old hash", id: u.ID, old: "$2b$legacy", new_: "$argon2id$a", wantOK: false, wantHash: u.PasswordHash},
			{name: "current old hash", id: u.ID, old: u.PasswordHash, new_: "$argon2id$b", wantOK: true, wantHash: "$argon2id$b"},
			{name: "again with the replaced hash", id: u.ID, old: u.PasswordHash, new_: "$argon2id$c", wantOK: false, wantHash: "$argon2id$b"},
			{name: "missing user", id: 999_999, old: "$argon2id$b", new_: "$argon2id$d", wantOK: false, wantHash: "$argon2id$b"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ok, err := s.SetPasswordHash(ctx, tt.id, tt.old, tt.new_)
				if err != nil || ok != tt.wantOK {
					t.Errorf("SetPasswordHash() = %v, %v, want %v, nil", ok, err, tt.wantOK)
				}
				got, err := s.User(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.PasswordHash != tt.wantHash {
					t.Errorf("hash after SetPasswordHash = %q, want %q", got.PasswordHash, tt.wantHash)
				}
			})
		}
	})
}

func TestUserNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		const id = 424242
		tests := []struct {
			name string
			call func() error
		}{
			{"User", func() error { _, err := s.User(ctx, id); return err }},
			{"UserByLogin username", func() error { _, err := s.UserByLogin(ctx, "nobody"); return err }},
			{"UserByLogin email", func() error { _, err := s.UserByLogin(ctx, "nobody@example.com"); return err }},
			{"UpdateUser", func() error { return s.UpdateUser(ctx, &blog.User{ID: id, Username: "x", Email: "x@example.com"}) }},
			{"DeleteUser", func() error { return s.DeleteUser(ctx, id) }},
			{"CreatePost", func() error { return s.CreatePost(ctx, &blog.Post{AuthorID: id, Title: "t", Content: "c"}) }},
			{"Posts", func() error { _, err := s.Posts(ctx, id, blog.PageRequest{}); return err }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.call(); !errors.Is(err, blog.ErrUserNotFound) {
					t.Errorf("%s(missing user) = %v, want ErrUserNotFound", tt.name, err)
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
					s := openTestStore(t, url, newTestClock())
					if err := s.Migrate(context.Background()); err != nil {
						t.Fatal(err)
					}
					ss = append(ss, s)
				}
				const n = 32
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						u := &blog.User{Username: variant(i), Email: fmt.Sprintf("user%d@example.com", i), PasswordHash: "h"}
						errs[i] = ss[i%stores].CreateUser(context.Background(), u)
					})
				}
				wg.Wait()
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
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() {
				u.Username = variant(i * 5)
				errs[i] = s.UpdateUser(context.Background(), u)
			})
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, blog.ErrUsernameTaken):
				t.Errorf("UpdateUser(user%d → %q) = %v, want nil or ErrUsernameTaken", i, users[i].Username, err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d renames to one name succeeded, want 1", won, n)
		}
	})
}
