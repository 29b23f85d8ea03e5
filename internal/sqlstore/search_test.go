package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/testclock"
)

// mustQuery parses a query the test knows to be good.
func mustQuery(tb testing.TB, s string) blog.Query {
	tb.Helper()
	q, err := blog.ParseQuery(s)
	if err != nil {
		tb.Fatalf("ParseQuery(%q) = %v", s, err)
	}
	return q
}

// searchIDs runs a search and returns the ids it found, in order.
func searchIDs(tb testing.TB, s *Store, authorID int64, query string) []int64 {
	tb.Helper()
	page, err := s.SearchPosts(context.Background(), authorID, mustQuery(tb, query), 0, blog.MaxLimit)
	if err != nil {
		tb.Fatalf("SearchPosts(%d, %q) = %v", authorID, query, err)
	}
	ids := []int64{}
	for _, p := range page.Posts {
		ids = append(ids, p.ID)
	}
	if page.Total != int64(len(ids)) || page.HasMore || page.TotalCapped {
		tb.Errorf("SearchPosts(%d, %q) = total %d, has_more %t, capped %t for %d posts", authorID, query,
			page.Total, page.HasMore, page.TotalCapped, len(ids))
	}
	return ids
}

// addPost writes a post by author with the clock a minute on, so later
// posts have larger ids and dates.
func addPost(tb testing.TB, s *Store, clock *testclock.Clock, author *blog.User, title, content string) *blog.Post {
	tb.Helper()
	clock.Advance(time.Minute)
	p := &blog.Post{Title: title, Content: content, AuthorID: author.ID}
	write(tb, s, func(tx *Tx) error { return tx.CreatePost(context.Background(), p) })
	return p
}

func TestSearchPosts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		cafe := addPost(t, s, clock, alice, "Café culture", "Where to drink coffee in Paris.")
		tea := addPost(t, s, clock, bob, "Tea party", "The Mad Hatter's tea party. Why is a raven like a writing-desk?")
		hats := addPost(t, s, clock, alice, "Hats", "A hatter makes hats; the mad hatter made tea.")
		auth := addPost(t, s, clock, bob, "Authentication notes", "Sessions live on the server, and an author may log out everywhere.")
		art := addPost(t, s, clock, alice, "The state of the art", "Notes on CAFÉ au lait, and the art of the state.")
		mail := addPost(t, s, clock, bob, "E-mail", "Send e-mail with node.js")
		accents := addPost(t, s, clock, alice, "Ångström units", "naïve résumé façade")

		tests := []struct {
			query  string
			author *blog.User
			want   []*blog.Post
		}{
			{"cafe", nil, []*blog.Post{cafe, art}}, // the title's match first
			{"CAFÉ", nil, []*blog.Post{cafe, art}},
			{"tea", nil, []*blog.Post{tea, hats}},
			{"TEA PARTY", nil, []*blog.Post{tea}},
			{"tea -party", nil, []*blog.Post{hats}},
			{`tea -"tea party"`, nil, []*blog.Post{hats}},
			{`"tea party" -raven`, nil, nil},
			{`"mad hatter"`, nil, nil}, // below, as a set
			{`"hatter mad"`, nil, nil},
			{`"hats a hatter"`, nil, nil}, // no phrase runs from the title into the content
			{`"a hatter makes"`, nil, []*blog.Post{hats}},
			{"auth*", nil, []*blog.Post{auth}},
			{"aut*", nil, []*blog.Post{auth}},
			{"au*", nil, []*blog.Post{art}}, // too short for a prefix: the word "au"
			{"notes", nil, []*blog.Post{auth, art}},
			{"e-mail", nil, []*blog.Post{mail}},
			{"node.js", nil, []*blog.Post{mail}},
			{"angstrom", nil, []*blog.Post{accents}},
			{"naive resume FACADE", nil, []*blog.Post{accents}},
			{"NAÏVE", nil, []*blog.Post{accents}},
			{"tea", alice, []*blog.Post{hats}},
			{"tea", bob, []*blog.Post{tea}},
			{"cafe", bob, nil},
			{"zebra", nil, nil},
			{`NEAR( OR "AND`, nil, nil},
			{`title:tea`, nil, nil},
		}
		for _, tt := range tests {
			var authorID int64
			if tt.author != nil {
				authorID = tt.author.ID
			}
			want := []int64{}
			for _, p := range tt.want {
				want = append(want, p.ID)
			}
			if tt.query == `"mad hatter"` {
				got := searchIDs(t, s, 0, tt.query)
				slices.Sort(got)
				if want := []int64{tea.ID, hats.ID}; !slices.Equal(got, want) {
					t.Errorf("SearchPosts(%q) = %v, want %v in some order", tt.query, got, want)
				}
				continue
			}
			if got := searchIDs(t, s, authorID, tt.query); !slices.Equal(got, want) {
				t.Errorf("SearchPosts(author %d, %q) = %v, want %v", authorID, tt.query, got, want)
			}
		}

		// A page carries the posts and their authors, as a list does.
		page, err := s.SearchPosts(ctx, 0, mustQuery(t, "angstrom"), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := *accents
		want.Author = publicAuthor(alice)
		if diff := cmp.Diff([]blog.Post{want}, page.Posts); diff != "" {
			t.Errorf("SearchPosts(angstrom) posts mismatch (-want +got):\n%s", diff)
		}

		// A missing author is an error even when nothing would match.
		if _, err := s.SearchPosts(ctx, 999, mustQuery(t, "tea"), 0, 10); !errors.Is(err, blog.ErrUserNotFound) {
			t.Errorf("SearchPosts(missing author) = %v, want ErrUserNotFound", err)
		}

		// The index follows every write, in the writing transaction.
		write(t, s, func(tx *Tx) error {
			cafe.Title, cafe.Content = "Tea time", "Earl Grey, no coffee."
			return tx.UpdatePost(ctx, cafe)
		})
		if got, want := searchIDs(t, s, 0, "tea"), []int64{cafe.ID, tea.ID, hats.ID}; !slices.Equal(got[:1], want[:1]) || len(got) != 3 {
			t.Errorf("SearchPosts(tea) after an edit = %v, want %v (the edited post in the title tier)", got, want)
		}
		if got := searchIDs(t, s, 0, "coffee"); !slices.Equal(got, []int64{cafe.ID}) {
			t.Errorf("SearchPosts(coffee) after an edit = %v, want [%d]", got, cafe.ID)
		}
		if got := searchIDs(t, s, 0, "paris"); len(got) != 0 {
			t.Errorf("SearchPosts(paris) after the word was edited out = %v, want none", got)
		}
		write(t, s, func(tx *Tx) error { return tx.DeletePost(ctx, tea.ID) })
		if got := searchIDs(t, s, 0, "raven"); len(got) != 0 {
			t.Errorf("SearchPosts(raven) after deleting its post = %v, want none", got)
		}
		write(t, s, func(tx *Tx) error { _, err := tx.DeleteUser(ctx, bob.ID); return err })
		if got := searchIDs(t, s, 0, "e-mail"); len(got) != 0 {
			t.Errorf("SearchPosts(e-mail) after deleting its author = %v, want none", got)
		}
		// A write that fails changes the index no more than the posts.
		boom := errors.New("boom")
		err = s.Write(ctx, func(tx *Tx) error {
			if err := tx.CreatePost(ctx, &blog.Post{Title: "Unicorns", Content: "x", AuthorID: alice.ID}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write() = %v, want boom", err)
		}
		if got := searchIDs(t, s, 0, "unicorns"); len(got) != 0 {
			t.Errorf("SearchPosts(unicorns) after a rolled back insert = %v, want none", got)
		}
	})
}

// TestSearchRanking checks the order of results: a query word in the
// title first, however often the content repeats it; then by relevance;
// then the newest first.
func TestSearchRanking(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		long := "gardening " + strings.Repeat("and other things to do on a sunny day ", 10)
		once := addPost(t, s, clock, alice, "Notes", long)
		often := addPost(t, s, clock, alice, "Notes", "gardening gardening gardening gardening tips")
		titled := addPost(t, s, clock, alice, "Gardening", "unrelated words about the weather and a long walk in the hills")
		both := addPost(t, s, clock, alice, "Gardening", "gardening, gardening")
		titledLong := addPost(t, s, clock, alice, "Gardening and "+strings.Repeat("more ", 10), long+long)
		older := addPost(t, s, clock, alice, "Weeds", "weeding the beds")
		newer := addPost(t, s, clock, alice, "Weeds", "weeding the beds")

		got := searchIDs(t, s, 0, "gardening")
		if len(got) != 5 {
			t.Fatalf("SearchPosts(gardening) = %v, want 5 posts", got)
		}
		titleTier, contentTier := slices.Clone(got[:3]), got[3:]
		slices.Sort(titleTier)
		if want := []int64{titled.ID, both.ID, titledLong.ID}; !slices.Equal(titleTier, want) {
			t.Errorf("SearchPosts(gardening) = %v: want the posts titled so (%v) first", got, want)
		}
		if got[0] != both.ID {
			t.Errorf("SearchPosts(gardening) = %v: want %d, in title and content, first", got, both.ID)
		}
		if want := []int64{often.ID, once.ID}; !slices.Equal(contentTier, want) {
			t.Errorf("SearchPosts(gardening) = %v: want the content matches %v last, the one that says it most first", got, want)
		}
		if got, want := searchIDs(t, s, 0, "weeding"), []int64{newer.ID, older.ID}; !slices.Equal(got, want) {
			t.Errorf("SearchPosts(weeding) = %v, want %v: the newest first among equals", got, want)
		}
	})
}

func TestSearchPaging(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		var all []int64
		for i := range 25 {
			author := alice
			if i%5 == 0 {
				author = bob
			}
			all = append(all, addPost(t, s, clock, author, fmt.Sprintf("Post %d", i), "all about paging").ID)
		}
		addPost(t, s, clock, alice, "Other", "nothing to see")
		q := mustQuery(t, "paging")

		var seen []int64
		page, err := s.SearchPosts(ctx, 0, q, 0, 10)
		for i := 0; ; i++ {
			if err != nil {
				t.Fatalf("page %d: %v", i, err)
			}
			if page.Total != 25 || page.TotalCapped || page.Limit != 10 {
				t.Errorf("page %d: total %d, capped %t, limit %d; want 25, false, 10", i, page.Total, page.TotalCapped, page.Limit)
			}
			for _, p := range page.Posts {
				seen = append(seen, p.ID)
			}
			if !page.HasMore {
				if page.NextCursor != nil {
					t.Errorf("page %d: the last, but has a next cursor", i)
				}
				break
			}
			if page.NextCursor == nil || !page.NextCursor.For(q) || page.NextCursor.Offset != int64(len(seen)) {
				t.Fatalf("page %d: next cursor %+v, want one for the query at %d", i, page.NextCursor, len(seen))
			}
			page, err = s.SearchPosts(ctx, 0, q, page.NextCursor.Offset, 10)
		}
		// The same posts as all pages at once, in the same order.
		whole := searchIDs(t, s, 0, "paging")
		if !slices.Equal(seen, whole) {
			t.Errorf("pages = %v, want %v as one page has them", seen, whole)
		}
		slices.Sort(seen)
		if !slices.Equal(seen, all) {
			t.Errorf("pages hold %v, want %v", seen, all)
		}

		for _, tt := range []struct {
			authorID   int64
			skip       int64
			limit      int
			wantPosts  int
			wantTotal  int64
			wantLimit  int
			wantHasMor bool
		}{
			{0, 20, 10, 5, 25, 10, false},
			{0, 25, 10, 0, 25, 10, false},
			{0, 1 << 62, 10, 0, 25, 10, false},
			{0, blog.MaxSearchResults, 10, 0, 25, 10, false},
			{0, -5, 10, 10, 25, 10, true},
			{0, 0, 0, 10, 25, blog.DefaultLimit, true},
			{0, 0, 1000, 25, 25, blog.MaxLimit, false},
			{alice.ID, 0, 100, 20, 20, 100, false},
			{bob.ID, 3, 100, 2, 5, 100, false},
			{bob.ID, 5, 100, 0, 5, 100, false},
		} {
			page, err := s.SearchPosts(ctx, tt.authorID, q, tt.skip, tt.limit)
			if err != nil {
				t.Fatalf("SearchPosts(author %d, skip %d, limit %d) = %v", tt.authorID, tt.skip, tt.limit, err)
			}
			if len(page.Posts) != tt.wantPosts || page.Total != tt.wantTotal || page.Limit != tt.wantLimit ||
				page.HasMore != tt.wantHasMor || page.Skip != max(tt.skip, 0) {
				t.Errorf("SearchPosts(author %d, skip %d, limit %d) = %d posts, total %d, limit %d, has_more %t, skip %d; want %d, %d, %d, %t",
					tt.authorID, tt.skip, tt.limit, len(page.Posts), page.Total, page.Limit, page.HasMore, page.Skip,
					tt.wantPosts, tt.wantTotal, tt.wantLimit, tt.wantHasMor)
			}
		}
	})
}

// TestSearchCap checks that a search ranks only the blog.MaxSearchResults
// most recent matches, and says when there were more.
func TestSearchCap(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		// The oldest match would rank first, its title matching: it is one
		// too many, so it is not a candidate at all.
		posts := []blog.Post{{ID: 1, Title: "Common knowledge", Content: "the oldest", AuthorID: alice.ID}}
		for i := range blog.MaxSearchResults {
			posts = append(posts, blog.Post{ID: int64(i + 2), Title: "Post", Content: "common words", AuthorID: alice.ID})
		}
		if _, err := s.InsertPosts(ctx, posts); err != nil {
			t.Fatal(err)
		}
		page, err := s.SearchPosts(ctx, 0, mustQuery(t, "common"), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != blog.MaxSearchResults || !page.TotalCapped || !page.HasMore || len(page.Posts) != 10 {
			t.Errorf("SearchPosts(common) = total %d, capped %t, has_more %t, %d posts; want %d, capped, more, 10",
				page.Total, page.TotalCapped, page.HasMore, len(page.Posts), blog.MaxSearchResults)
		}
		if page.Posts[0].ID == 1 {
			t.Errorf("SearchPosts(common) ranked the oldest match, one past the cap")
		}
		last, err := s.SearchPosts(ctx, alice.ID, mustQuery(t, "common"), blog.MaxSearchResults-5, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(last.Posts) != 5 || last.HasMore || last.NextCursor != nil || !last.TotalCapped {
			t.Errorf("SearchPosts(common, by alice, at the cap) = %d posts, has_more %t, capped %t; want 5, no more, capped",
				len(last.Posts), last.HasMore, last.TotalCapped)
		}
		for _, p := range last.Posts {
			if p.ID == 1 {
				t.Errorf("SearchPosts(common, at the cap) has the oldest match, one past the cap")
			}
		}
		if got := searchIDs(t, s, 0, "common oldest"); !slices.Equal(got, []int64{1}) {
			t.Errorf("SearchPosts(common oldest) = %v, want [1]: a narrower search finds it", got)
		}
	})
}

// TestSearchMigration checks that migration 0005 indexes the posts a
// database has already, and that its index then follows writes.
func TestSearchMigration(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		old := addPost(t, s, clock, alice, "Written before search", "an older post about teapots")
		// Back to a database as migration 4 left it, but for the post.
		undo := map[string][]string{
			"sqlite": {
				`DROP TRIGGER posts_fts_insert`, `DROP TRIGGER posts_fts_delete`, `DROP TRIGGER posts_fts_update`,
				`DROP TABLE posts_fts`,
			},
			"postgres": {
				`DROP TRIGGER posts_search ON posts`, `DROP FUNCTION posts_search_update()`,
				`ALTER TABLE posts DROP COLUMN search`, `DROP FUNCTION posts_search_vector(text, text)`,
				`DROP FUNCTION search_query(text[], boolean[], boolean[], boolean)`, `DROP FUNCTION search_fold(text)`,
			},
		}[s.Dialect()]
		for _, q := range append(undo, `DELETE FROM schema_migrations WHERE version = 5`) {
			if _, err := s.write.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate() = %v", err)
		}
		s.stmts.close() // statements prepared on the old tables
		if got := searchIDs(t, s, 0, "teapots"); !slices.Equal(got, []int64{old.ID}) {
			t.Errorf("SearchPosts(teapots) after migrating = %v, want the older post %d", got, old.ID)
		}
		p := addPost(t, s, clock, alice, "Written after", "a newer post about teapots")
		if got := searchIDs(t, s, 0, "teapots"); len(got) != 2 || !slices.Contains(got, p.ID) {
			t.Errorf("SearchPosts(teapots) after a new post = %v, want both", got)
		}
	})
}

// TestSearchMatchesReference holds both databases to a plain Go reading
// of the query on random posts and queries: the same posts match (case
// and accents ignored, phrases in one field, prefixes, exclusions), and
// those with a query word in the title come first.
func TestSearchMatchesReference(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		s, clock := newTestStore(t, db)
		alice := createUser(t, s, "alice")
		rng := rand.New(rand.NewPCG(1, 2))
		vocab := []string{"tea", "Tea", "TEA", "party", "hatter", "mad", "café", "Cafe", "CAFÉ", "résumé", "resume",
			"garden", "gardening", "gardener", "art", "state", "of", "the", "raven", "desk", "writing"}
		words := func(min, max int) string {
			n := min + rng.IntN(max-min+1)
			ws := make([]string, n)
			for i := range ws {
				ws[i] = vocab[rng.IntN(len(vocab))]
			}
			return strings.Join(ws, " ")
		}
		var posts []*blog.Post
		for range 120 {
			posts = append(posts, addPost(t, s, clock, alice, words(1, 4), words(2, 12)))
		}
		term := func() string {
			w := vocab[rng.IntN(len(vocab))]
			switch rng.IntN(4) {
			case 0:
				return `"` + w + " " + vocab[rng.IntN(len(vocab))] + `"`
			case 1:
				if r := []rune(w); len(r) > 3 {
					return string(r[:3+rng.IntN(len(r)-3)]) + "*"
				}
			}
			return w
		}
		for range 150 {
			var parts []string
			for range 1 + rng.IntN(3) {
				parts = append(parts, term())
			}
			if rng.IntN(3) == 0 {
				parts = append(parts, "-"+term())
			}
			query := strings.Join(parts, " ")
			q := mustQuery(t, query)
			var want []int64
			inTitle := map[int64]bool{}
			for _, p := range posts {
				if refMatch(q, p) {
					want = append(want, p.ID)
				}
				for _, term := range q.Positive() {
					inTitle[p.ID] = inTitle[p.ID] || refContains(p.Title, term)
				}
			}
			page, err := s.SearchPosts(context.Background(), 0, q, 0, blog.MaxLimit)
			if err != nil {
				t.Fatalf("SearchPosts(%q) = %v", query, err)
			}
			var got []int64
			for i, p := range page.Posts {
				got = append(got, p.ID)
				if i > 0 && inTitle[p.ID] && !inTitle[page.Posts[i-1].ID] {
					t.Errorf("SearchPosts(%q): post %d, with a query word in its title, after %d, without", query, p.ID, page.Posts[i-1].ID)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) || page.Total != int64(len(want)) {
				t.Errorf("SearchPosts(%q) = %v (total %d), want %v", query, got, page.Total, want)
			}
		}
	})
}

// refMatch is the reference reading of q: p contains every positive
// term, in its title or its content, and no excluded one.
func refMatch(q blog.Query, p *blog.Post) bool {
	for _, t := range q.Terms {
		if (refContains(p.Title, t) || refContains(p.Content, t)) == t.Exclude {
			return false
		}
	}
	return true
}

// refContains reports whether text has t's words one after the other,
// ignoring case and accents, the last a prefix if t is one.
func refContains(text string, t blog.Term) bool {
	have, want := refFold(blog.Words(text)), refFold(t.Words)
	for i := 0; i+len(want) <= len(have); i++ {
		ok := true
		for j, w := range want {
			if have[i+j] != w && !(t.Prefix && j == len(want)-1 && strings.HasPrefix(have[i+j], w)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func refFold(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		var b strings.Builder
		for _, r := range norm.NFD.String(w) {
			if !unicode.Is(unicode.Mn, r) {
				b.WriteRune(unicode.ToLower(r))
			}
		}
		out[i] = b.String()
	}
	return out
}
