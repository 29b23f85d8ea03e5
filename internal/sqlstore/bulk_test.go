package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/quill-blog/quill/internal/blog"
)

func TestInsertUsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		native := createUser(t, s, "native") // id 1, registered before the import
		joined := time.Date(2020, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))

		users := []blog.User{
			{ID: 10, Username: "Alice", Email: "Alice@Example.COM", PasswordHash: "$2b$04$x", CreatedAt: joined},
			{ID: 11, Username: "ALICE", Email: "alice2@example.com", PasswordHash: "h"},
			{ID: 12, Username: "bob", Email: "ALICE@example.com", PasswordHash: "h"},
			{ID: native.ID, Username: "mallory", Email: "mallory@example.com", PasswordHash: "h"},
			{ID: 13, Username: "Native", Email: "n2@example.com", PasswordHash: "h"},
			{Username: "seeded", Email: "seeded@example.com", PasswordHash: "h"},
		}
		got, err := s.InsertUsers(ctx, users, nil)
		if err != nil {
			t.Fatalf("InsertUsers() = %v", err)
		}
		want := []blog.RowResult{
			{Outcome: blog.RowInserted},
			{Outcome: blog.RowUsernameTaken, Holder: 10},
			{Outcome: blog.RowEmailTaken, Holder: 10},
			{Outcome: blog.RowIDTaken, Holder: native.ID},
			{Outcome: blog.RowUsernameTaken, Holder: native.ID},
			{Outcome: blog.RowInserted},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("InsertUsers() results (-want +got):\n%s", diff)
		}
		alice, err := s.User(ctx, 10)
		if err != nil {
			t.Fatalf("User(10) = %v", err)
		}
		wantAlice := &blog.User{ID: 10, Username: "Alice", Email: "alice@example.com", PasswordHash: "$2b$04$x",
			CreatedAt: joined.UTC().Truncate(time.Microsecond)}
		if diff := cmp.Diff(wantAlice, alice); diff != "" {
			t.Errorf("imported user (-want +got):\n%s", diff)
		}
		if users[5].ID <= 13 || !users[5].CreatedAt.Equal(clock.Now()) {
			t.Errorf("seeded user got id %d, created %v; want an id after 13, created now", users[5].ID, users[5].CreatedAt)
		}

		// Ids continue after the imported ones.
		if u := createUser(t, s, "later"); u.ID <= users[5].ID {
			t.Errorf("a user registered after the import got id %d, want more than %d", u.ID, users[5].ID)
		}

		// Renaming: a taken name gets the first free suffix; an email
		// cannot be renamed.
		suffix := func(name string, n int) string { return fmt.Sprintf("%s-%d", name, n) }
		createUser(t, s, "alice-2")
		renamed := []blog.User{
			{ID: 20, Username: "ＡＬＩＣＥ", Email: "wide@example.com", PasswordHash: "h"},
			{ID: 21, Username: "alice", Email: "ALICE@example.com", PasswordHash: "h"},
		}
		got, err = s.InsertUsers(ctx, renamed, suffix)
		if err != nil {
			t.Fatalf("InsertUsers(rename) = %v", err)
		}
		want = []blog.RowResult{{Outcome: blog.RowInserted}, {Outcome: blog.RowEmailTaken, Holder: 10}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("InsertUsers(rename) results (-want +got):\n%s", diff)
		}
		if renamed[0].Username != "ＡＬＩＣＥ-3" || renamed[1].Username != "alice" {
			t.Errorf("usernames after renaming = %q, %q; want ＡＬＩＣＥ-3 (alice-2 is taken) and alice (not inserted)",
				renamed[0].Username, renamed[1].Username)
		}

		// Importing again changes nothing, even after a user changed their
		// email, and whether or not names are renamed.
		alice.Email = "new@example.com"
		write(t, s, func(tx *Tx) error { return tx.UpdateProfile(ctx, alice) })
		again := []blog.User{
			{ID: 10, Username: "Alice", Email: "alice@example.com", PasswordHash: "other"},
			{ID: 20, Username: "ＡＬＩＣＥ", Email: "wide@example.com", PasswordHash: "h"},
		}
		got, err = s.InsertUsers(ctx, again, suffix)
		if err != nil {
			t.Fatalf("InsertUsers(again) = %v", err)
		}
		want = []blog.RowResult{{Outcome: blog.RowExists, Holder: 10}, {Outcome: blog.RowExists, Holder: 20}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("InsertUsers(again) results (-want +got):\n%s", diff)
		}
		if again[1].Username != "ＡＬＩＣＥ" {
			t.Errorf("a user that was not inserted was renamed to %q", again[1].Username)
		}
		if u, _ := s.User(ctx, 10); u.PasswordHash != "$2b$04$x" {
			t.Errorf("importing again changed a password hash to %q", u.PasswordHash)
		}
	})
}

func TestInsertPosts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		day := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)

		posts := []blog.Post{
			{ID: 100, Title: "a", Content: "x", AuthorID: alice.ID, DatePosted: day},
			{ID: 101, Title: "b", Content: "x", AuthorID: bob.ID, DatePosted: day.Add(time.Hour)},
			{ID: 102, Title: "orphan", Content: "x", AuthorID: 999, DatePosted: day},
			{Title: "seeded", Content: "x", AuthorID: alice.ID},
		}
		got, err := s.InsertPosts(ctx, posts)
		if err != nil {
			t.Fatalf("InsertPosts() = %v", err)
		}
		want := []blog.RowResult{{Outcome: blog.RowInserted}, {Outcome: blog.RowInserted}, {Outcome: blog.RowNoAuthor}, {Outcome: blog.RowInserted}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("InsertPosts() results (-want +got):\n%s", diff)
		}
		if posts[3].ID <= 101 || !posts[3].DatePosted.Equal(clock.Now()) {
			t.Errorf("seeded post got id %d, date %v; want an id after 101, dated now", posts[3].ID, posts[3].DatePosted)
		}
		p, err := s.Post(ctx, 100)
		if err != nil {
			t.Fatalf("Post(100) = %v", err)
		}
		if !p.DatePosted.Equal(day.Truncate(time.Microsecond)) || p.AuthorID != alice.ID || p.Title != "a" {
			t.Errorf("Post(100) = %+v, want alice's post a dated %v", p, day)
		}
		checkTotals(t, s, map[int64]int64{0: 3, alice.ID: 2, bob.ID: 1})

		// New posts continue after the imported ids.
		if p := createPost(t, s, bob, "later", time.Time{}); p.ID <= posts[3].ID {
			t.Errorf("a post created after the import got id %d, want more than %d", p.ID, posts[3].ID)
		}

		// Again: the same posts exist (even edited); a different post under
		// a known id is reported.
		p.Title = "edited"
		write(t, s, func(tx *Tx) error { return tx.UpdatePost(ctx, p) })
		again := []blog.Post{
			{ID: 100, Title: "a", Content: "x", AuthorID: alice.ID, DatePosted: day},
			{ID: 101, Title: "b", Content: "x", AuthorID: alice.ID, DatePosted: day.Add(time.Hour)},
			{ID: 102, Title: "orphan", Content: "x", AuthorID: 999, DatePosted: day},
		}
		got, err = s.InsertPosts(ctx, again)
		if err != nil {
			t.Fatalf("InsertPosts(again) = %v", err)
		}
		want = []blog.RowResult{{Outcome: blog.RowExists}, {Outcome: blog.RowIDTaken}, {Outcome: blog.RowNoAuthor}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("InsertPosts(again) results (-want +got):\n%s", diff)
		}
		checkTotals(t, s, map[int64]int64{0: 4, alice.ID: 2, bob.ID: 2})
	})
}

// TestInsertPostsManyAuthors crosses the number of authors checked per
// query.
func TestInsertPostsManyAuthors(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		n := authorBatch + 10
		users := make([]blog.User, n)
		for i := range users {
			users[i] = blog.User{Username: fmt.Sprint("u", i), Email: fmt.Sprint("u", i, "@example.com"), PasswordHash: "h"}
		}
		if _, err := s.InsertUsers(ctx, users, nil); err != nil {
			t.Fatal(err)
		}
		posts := make([]blog.Post, n)
		for i := range posts {
			posts[i] = blog.Post{Title: "t", Content: "c", AuthorID: users[i].ID}
		}
		got, err := s.InsertPosts(ctx, posts)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range got {
			if r.Outcome != blog.RowInserted {
				t.Fatalf("post %d: outcome %d, want RowInserted", i, r.Outcome)
			}
		}
		checkTotals(t, s, map[int64]int64{0: int64(n), users[n-1].ID: 1})
	})
}

// checkTotals compares the post counters with COUNT(*): author id 0 means
// everyone's posts.
func checkTotals(tb testing.TB, s *Store, want map[int64]int64) {
	tb.Helper()
	ctx := context.Background()
	for authorID, n := range want {
		page, err := s.Posts(ctx, authorID, blog.PageRequest{Limit: 1})
		if err != nil {
			tb.Fatalf("Posts(%d) = %v", authorID, err)
		}
		query, args := `SELECT COUNT(*) FROM posts`, []any{}
		if authorID != 0 {
			query, args = query+` WHERE user_id = $1`, []any{authorID}
		}
		var counted int64
		if err := s.read.QueryRowContext(ctx, query, args...).Scan(&counted); err != nil {
			tb.Fatal(err)
		}
		if page.Total != n || counted != n {
			tb.Errorf("author %d: Total = %d, COUNT(*) = %d, want %d", authorID, page.Total, counted, n)
		}
	}
}

// TestInsertPostsChunks crosses the number of posts one statement inserts,
// with the cases that must come out as they would one row at a time: an
// id-less post among them, an id taken before, an id given twice, and a
// missing author.
func TestInsertPostsChunks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		day := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		if _, err := s.InsertPosts(ctx, []blog.Post{{ID: 1150, Title: "old", Content: "x", AuthorID: alice.ID, DatePosted: day}}); err != nil {
			t.Fatal(err)
		}
		n := 2*postChunk + 50
		posts := make([]blog.Post, n)
		want := make([]blog.RowResult, n)
		for i := range posts {
			posts[i] = blog.Post{ID: int64(1000 + i), Title: fmt.Sprint("p", i), Content: "x", AuthorID: alice.ID,
				DatePosted: day.Add(time.Duration(i+1) * time.Minute)}
			want[i] = blog.RowResult{Outcome: blog.RowInserted}
		}
		posts[120].ID = 0           // gets a new id, after those before it
		posts[150].DatePosted = day // 1150 is there already: the same post
		posts[151].ID = 1150        // … and again, not the same
		want[150], want[151] = blog.RowResult{Outcome: blog.RowExists}, blog.RowResult{Outcome: blog.RowIDTaken}
		posts[160].ID = posts[159].ID                        // twice in one statement: the second is not the first
		want[160] = blog.RowResult{Outcome: blog.RowIDTaken} // (its date differs)
		posts[170].AuthorID = 9999                           // no such author
		want[170] = blog.RowResult{Outcome: blog.RowNoAuthor}
		got, err := s.InsertPosts(ctx, posts)
		if err != nil {
			t.Fatalf("InsertPosts() = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("InsertPosts() results (-want +got):\n%s", diff)
		}
		if posts[120].ID <= 1119 {
			t.Errorf("the id-less post got id %d, want one after the ids inserted before it", posts[120].ID)
		}
		for _, i := range []int{0, 99, 100, 119, 120, 121, 159, n - 1} {
			p, err := s.Post(ctx, posts[i].ID)
			if err != nil || p.Title != posts[i].Title || !p.DatePosted.Equal(posts[i].DatePosted) {
				t.Errorf("post %d: Post(%d) = %+v, %v; want %q at %v", i, posts[i].ID, p, err, posts[i].Title, posts[i].DatePosted)
			}
		}
		checkTotals(t, s, map[int64]int64{0: int64(n - 3), alice.ID: int64(n - 3)})
	})
}
