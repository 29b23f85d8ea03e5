package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/quill-blog/quill/internal/blog"
)

// Search: each dialect keeps an index of every post's words, kept by
// triggers in the transaction that writes the post (migration 0005):
// posts_fts, an FTS5 table, on SQLite; posts.search, a tsvector under a
// GIN index, on PostgreSQL. A blog.Query is rendered into the database's
// own query syntax here, every term quoted, so nothing a user typed is
// read as that syntax.

// SearchPosts returns a page of the posts that match q, in the order
// blog.SearchPage describes: everyone's when authorID is 0, otherwise
// that user's (a missing user is blog.ErrUserNotFound). The page starts
// after skip results. A limit outside 1…blog.MaxLimit becomes
// blog.DefaultLimit or blog.MaxLimit; the page reports the one used.
//
// Only the blog.MaxSearchResults matches with the largest ids (the most
// recently written) are ranked: ranking reads each candidate's word
// counts and length, so this bounds the cost of a common word. Total
// counts them, and TotalCapped says there were more.
//
// A page with posts is one statement, so its Total comes from the same
// snapshot as its posts; an empty page reads Total (and whether the
// author exists) with another.
func (s *Store) SearchPosts(ctx context.Context, authorID int64, q blog.Query, skip int64, limit int) (*blog.SearchPage, error) {
	if len(q.Positive()) == 0 {
		return nil, errors.New("search posts: the query has no term to match")
	}
	page := &blog.SearchPage{Query: q, Skip: max(skip, 0), Limit: limit}
	switch {
	case page.Limit < 1:
		page.Limit = blog.DefaultLimit
	case page.Limit > blog.MaxLimit:
		page.Limit = blog.MaxLimit
	}
	search := s.searchSQL()
	var total int64
	if page.Skip < blog.MaxSearchResults { // else past every result: count only
		query, args := search.page(q, authorID, page.Skip, page.Limit)
		st, err := s.prepared(ctx, s.read, query)
		if err != nil {
			return nil, fmt.Errorf("search posts: %w", err)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("search posts: %w", err)
		}
		defer rows.Close()
		page.Posts = make([]blog.Post, 0, page.Limit)
		for rows.Next() {
			var p blog.Post
			if err := scanPost(rows, &p, &total); err != nil {
				return nil, fmt.Errorf("search posts: %w", err)
			}
			page.Posts = append(page.Posts, p)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("search posts: %w", err)
		}
	}
	if len(page.Posts) == 0 {
		query, args := search.count(q, authorID)
		var exists bool
		if err := s.queryRow(ctx, s.read, query, args...).Scan(&total, &exists); err != nil {
			return nil, fmt.Errorf("count search results: %w", err)
		}
		if !exists {
			return nil, blog.ErrUserNotFound
		}
	}
	page.Total = min(total, blog.MaxSearchResults)
	page.TotalCapped = total > blog.MaxSearchResults
	if next := page.Skip + int64(len(page.Posts)); next < page.Total {
		page.HasMore = true
		c := q.CursorAt(next)
		page.NextCursor = &c
	}
	return page, nil
}

// searchSQL is a dialect's search statements. Each returns a statement
// whose text depends only on whether an author is given, so it is
// prepared once, and its arguments.
type searchSQL struct {
	// page selects the posts of a page, each row with the number of
	// candidates (at most blog.MaxSearchResults + 1) as its last column.
	page func(q blog.Query, authorID, skip int64, limit int) (string, []any)
	// count selects the number of candidates, as page does, and whether
	// the author exists (true without one).
	count func(q blog.Query, authorID int64) (string, []any)
}

func (s *Store) searchSQL() searchSQL {
	if s.dialect.name == postgresDialect.name {
		return postgresSearch
	}
	return sqliteSearch
}

// The ranking, on both databases: the candidates are the newest
// blog.MaxSearchResults + 1 matches (c: one more than are ranked, to
// know whether there are more), each with whether a query word is in
// its title and its relevance score; of them, all but the oldest when
// there are that many are ranked: posts with a query word in the title
// first, then by a score that weighs a word in the title ten times one
// in the content, then newest first. Only the page's posts are then
// joined to their rows and authors.

// sqliteSearch ranks with FTS5's bm25: with weights 1 and 0 it is below
// zero exactly when a query phrase is in the title; with 10 and 1 it is
// the score (lower is better). Both come from one look at each
// candidate's word positions and size.
var sqliteSearch = searchSQL{
	page: func(q blog.Query, authorID, skip int64, limit int) (string, []any) {
		args := []any{fts5Match(q), blog.MaxSearchResults + 1, blog.MaxSearchResults, limit, skip}
		return `WITH c AS MATERIALIZED (
				SELECT posts_fts.rowid AS id, bm25(posts_fts, 1.0, 0.0) < 0 AS in_title, bm25(posts_fts, 10.0, 1.0) AS score
				FROM ` + sqliteMatches(authorID, &args) + `
				ORDER BY posts_fts.rowid DESC
				LIMIT $2
			),
			n AS MATERIALIZED (SELECT count(*) AS total, min(id) AS oldest FROM c),
			page AS (
				SELECT c.* FROM c CROSS JOIN n WHERE n.total <= $3 OR c.id > n.oldest
				ORDER BY c.in_title DESC, c.score, c.id DESC
				LIMIT $4 OFFSET $5
			)
			SELECT ` + postColumns + `, n.total
			FROM page JOIN posts p ON p.id = page.id JOIN users u ON u.id = p.user_id CROSS JOIN n
			ORDER BY page.in_title DESC, page.score, page.id DESC`, args
	},
	count: func(q blog.Query, authorID int64) (string, []any) {
		args := []any{fts5Match(q), blog.MaxSearchResults + 1}
		return `SELECT
				(SELECT count(*) FROM (SELECT 1 FROM ` + sqliteMatches(authorID, &args) + ` LIMIT $2)),
				` + authorExists(authorID, &args), args
	},
}

// sqliteMatches is the FROM and WHERE of the posts that match $1, by
// authorID if it is not 0.
func sqliteMatches(authorID int64, args *[]any) string {
	if authorID == 0 {
		return `posts_fts WHERE posts_fts MATCH $1`
	}
	*args = append(*args, authorID)
	return fmt.Sprintf(`posts_fts JOIN posts a ON a.id = posts_fts.rowid WHERE posts_fts MATCH $1 AND a.user_id = $%d`, len(*args))
}

// authorExists is a column that is true when the author authorID exists,
// or authorID is 0.
func authorExists(authorID int64, args *[]any) string {
	if authorID == 0 {
		return `TRUE`
	}
	*args = append(*args, authorID)
	return fmt.Sprintf(`EXISTS (SELECT 1 FROM users WHERE id = $%d)`, len(*args))
}

// fts5Match renders q as an FTS5 query. Each term is a string, its text
// in double quotes (doubled inside), which FTS5 splits into words with
// the table's tokenizer and reads as a phrase, never as syntax; * after
// it makes the last word a prefix. The terms to match are joined by AND,
// and each excluded one follows with NOT.
func fts5Match(q blog.Query) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, t := range q.Positive() {
		if i > 0 {
			b.WriteString(" AND ")
		}
		writeFTS5Term(&b, t)
	}
	b.WriteByte(')')
	for _, t := range q.Terms {
		if t.Exclude {
			b.WriteString(" NOT ")
			writeFTS5Term(&b, t)
		}
	}
	return b.String()
}

func writeFTS5Term(b *strings.Builder, t blog.Term) {
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(t.Text, `"`, `""`))
	b.WriteByte('"')
	if t.Prefix {
		b.WriteByte('*')
	}
}

// postgresSearch ranks with ts_rank, weights A (the title) 1.0 and B
// (the content) 0.1, normalised by the log of the post's length; whether
// a query word is in the title is a second tsquery. search_query (see
// migration 0005) builds both from the terms' texts, which it folds and
// quotes itself.
var postgresSearch = searchSQL{
	page: func(q blog.Query, authorID, skip int64, limit int) (string, []any) {
		texts, prefixes, excludes := postgresTerms(q)
		args := []any{texts, prefixes, excludes, blog.MaxSearchResults + 1, blog.MaxSearchResults, limit, skip}
		return `WITH q AS MATERIALIZED (
				SELECT search_query($1, $2, $3, false) AS main, search_query($1, $2, $3, true) AS title
			),
			c AS MATERIALIZED (
				SELECT p.id, p.search @@ q.title AS in_title, ts_rank('{0.1, 0.2, 0.1, 1.0}', p.search, q.main, 1) AS score
				FROM posts p CROSS JOIN q
				WHERE ` + postgresMatches(`(SELECT main FROM q)`, authorID, &args) + `
				ORDER BY p.id DESC
				LIMIT $4
			),
			n AS MATERIALIZED (SELECT count(*) AS total, min(id) AS oldest FROM c),
			page AS (
				SELECT c.* FROM c CROSS JOIN n WHERE n.total <= $5 OR c.id > n.oldest
				ORDER BY c.in_title DESC, c.score DESC, c.id DESC
				LIMIT $6 OFFSET $7
			)
			SELECT ` + postColumns + `, n.total
			FROM page JOIN posts p ON p.id = page.id JOIN users u ON u.id = p.user_id CROSS JOIN n
			ORDER BY page.in_title DESC, page.score DESC, page.id DESC`, args
	},
	count: func(q blog.Query, authorID int64) (string, []any) {
		texts, prefixes, excludes := postgresTerms(q)
		args := []any{texts, prefixes, excludes, blog.MaxSearchResults + 1}
		return `SELECT
				(SELECT count(*) FROM (SELECT 1 FROM posts p
					WHERE ` + postgresMatches(`(SELECT search_query($1, $2, $3, false))`, authorID, &args) + ` LIMIT $4) m),
				` + authorExists(authorID, &args), args
	},
}

// postgresMatches is the condition of the posts p that match tsquery, by
// authorID if it is not 0. The tsquery is a subquery's, run once, so the
// GIN index can look it up.
func postgresMatches(tsquery string, authorID int64, args *[]any) string {
	cond := `p.search @@ ` + tsquery
	if authorID == 0 {
		return cond
	}
	*args = append(*args, authorID)
	return fmt.Sprintf(`%s AND p.user_id = $%d`, cond, len(*args))
}

// postgresTerms are search_query's arguments for q.
func postgresTerms(q blog.Query) (texts []string, prefixes, excludes []bool) {
	for _, t := range q.Terms {
		texts = append(texts, t.Text)
		prefixes = append(prefixes, t.Prefix)
		excludes = append(excludes, t.Exclude)
	}
	return texts, prefixes, excludes
}
