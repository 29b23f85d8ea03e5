package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// postColumns are the columns scanPost reads, from posts p joined to their
// author u. The author's hash and email are not among them.
const postColumns = `p.id, p.title, p.content, p.user_id, p.date_posted, p.updated_at, u.username, u.image_file`

// scanPost reads postColumns, then extra if given.
func scanPost(row interface{ Scan(...any) error }, p *blog.Post, extra ...any) error {
	var (
		posted  int64
		updated sql.Null[int64]
		image   sql.Null[string]
	)
	dest := []any{&p.ID, &p.Title, &p.Content, &p.AuthorID, &posted, &updated, &p.Author.Username, &image}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return err
	}
	p.DatePosted, p.UpdatedAt = fromMicros(posted), fromMicros(posted)
	if updated.Valid {
		p.UpdatedAt = fromMicros(updated.V)
	}
	p.Author.ID, p.Author.ImageFile = p.AuthorID, image.V
	return nil
}

// CreatePost adds p by p.AuthorID and sets its ID and Author. A zero
// DatePosted becomes now; any DatePosted is kept as stored, in UTC to the
// microsecond. A missing author is blog.ErrUserNotFound.
func (tx *Tx) CreatePost(ctx context.Context, p *blog.Post) error {
	posted := p.DatePosted.UTC().Truncate(time.Microsecond)
	if p.DatePosted.IsZero() {
		posted = tx.store.timestamp()
	}
	var (
		author blog.User
		image  sql.Null[string]
	)
	err := tx.tx.QueryRowContext(ctx, `SELECT id, username, image_file FROM users WHERE id = $1`, p.AuthorID).
		Scan(&author.ID, &author.Username, &image)
	if errors.Is(err, sql.ErrNoRows) {
		return blog.ErrUserNotFound
	}
	if err != nil {
		return fmt.Errorf("select author %d: %w", p.AuthorID, err)
	}
	author.ImageFile = image.V
	err = tx.tx.QueryRowContext(ctx, `
		INSERT INTO posts (user_id, title, content, date_posted)
		VALUES ($1, $2, $3, $4)
		RETURNING id`,
		p.AuthorID, p.Title, p.Content, micros(posted),
	).Scan(&p.ID)
	if tx.store.dialect.foreignKeyViolation(err) {
		return blog.ErrUserNotFound // deleted since the select above
	}
	if err != nil {
		return fmt.Errorf("insert post: %w", err)
	}
	p.DatePosted, p.UpdatedAt, p.Author = posted, posted, author
	return nil
}

const postByIDQuery = `
	SELECT ` + postColumns + `
	FROM posts p JOIN users u ON u.id = p.user_id
	WHERE p.id = $1`

// Post returns the post with the given id and its author, or
// blog.ErrPostNotFound.
func (s *Store) Post(ctx context.Context, id int64) (*blog.Post, error) {
	return postByID(s.queryRow(ctx, s.read, postByIDQuery, id), id)
}

// Post returns the post with the given id and its author as this
// transaction sees them, or blog.ErrPostNotFound.
func (tx *Tx) Post(ctx context.Context, id int64) (*blog.Post, error) {
	return postByID(tx.tx.QueryRowContext(ctx, postByIDQuery, id), id)
}

func postByID(row *sql.Row, id int64) (*blog.Post, error) {
	var p blog.Post
	err := scanPost(row, &p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, blog.ErrPostNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select post %d: %w", id, err)
	}
	return &p, nil
}

// UpdatePost stores p's title and content; nothing else of a post changes
// but UpdatedAt, which becomes now if either differs from what was stored,
// and is set on p. A missing post is blog.ErrPostNotFound.
func (tx *Tx) UpdatePost(ctx context.Context, p *blog.Post) error {
	// SET reads the row as it was: the CASE compares the old values.
	var posted int64
	var updated sql.Null[int64]
	err := tx.tx.QueryRowContext(ctx, `
		UPDATE posts SET
			updated_at = CASE WHEN title = $1 AND content = $2 THEN updated_at ELSE $3 END,
			title = $1, content = $2
		WHERE id = $4
		RETURNING date_posted, updated_at`,
		p.Title, p.Content, micros(tx.store.timestamp()), p.ID).Scan(&posted, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return blog.ErrPostNotFound
	case err != nil:
		return fmt.Errorf("update post %d: %w", p.ID, err)
	}
	p.UpdatedAt = fromMicros(posted)
	if updated.Valid {
		p.UpdatedAt = fromMicros(updated.V)
	}
	return nil
}

// DeletePost deletes the post, or returns blog.ErrPostNotFound.
func (tx *Tx) DeletePost(ctx context.Context, id int64) error {
	ok, err := changed(tx.tx.ExecContext(ctx, `DELETE FROM posts WHERE id = $1`, id))
	switch {
	case err != nil:
		return fmt.Errorf("delete post %d: %w", id, err)
	case !ok:
		return blog.ErrPostNotFound
	}
	return nil
}

// Posts returns a page of posts, newest first (by DatePosted, then ID, both
// descending): everyone's when authorID is 0, otherwise that user's (a
// missing user is blog.ErrUserNotFound).
//
// With req.Cursor set the page holds the posts strictly after the cursor in
// that order and req.Skip is ignored; with req.Before set, the req.Limit
// posts just newer than it (HasNewer says whether there are newer still),
// req.Skip and req.Cursor ignored; otherwise the first req.Skip posts are
// skipped. A limit outside 1…blog.MaxLimit becomes blog.DefaultLimit or
// blog.MaxLimit; the page reports the one used. NextCursor is set whenever
// HasMore is, so a client may switch from offsets to cursors. Total is
// read from counters kept by triggers, never counted.
//
// A page with posts is one statement, so its Total comes from the same
// snapshot as its posts; an empty page reads Total (and whether the author
// exists) with a second one.
func (s *Store) Posts(ctx context.Context, authorID int64, req blog.PageRequest) (*blog.PostPage, error) {
	page := &blog.PostPage{Skip: max(req.Skip, 0), Limit: req.Limit}
	switch {
	case page.Limit < 1:
		page.Limit = blog.DefaultLimit
	case page.Limit > blog.MaxLimit:
		page.Limit = blog.MaxLimit
	}

	if req.Cursor != nil || req.Before != nil {
		page.Skip = 0
	}
	key := pageKey{author: authorID, skip: page.Skip, limit: page.Limit}
	switch {
	case req.Before != nil:
		key.cursor, key.before = *req.Before, true
	case req.Cursor != nil:
		key.cursor, key.after = *req.Cursor, true
	}
	v, cacheable := s.cache.version()
	if cacheable {
		if cached, ok := s.cache.page(v, key); ok {
			return cached, nil
		}
	}
	page, err := s.posts(ctx, authorID, req, page)
	if err == nil && cacheable {
		s.cache.storePage(v, key, page)
	}
	return page, err
}

// posts reads the page Posts describes for req: page has its Skip and
// Limit set.
func (s *Store) posts(ctx context.Context, authorID int64, req blog.PageRequest, page *blog.PostPage) (*blog.PostPage, error) {
	// One more row than the page says whether there is another page.
	query, args := postsQuery(authorID, req.Cursor, page.Skip, page.Limit+1)
	var older bool // for Before: whether posts older than the page exist
	extra := []any{&page.Total}
	if req.Before != nil {
		query, args = newerPostsQuery(authorID, *req.Before, page.Limit+1)
		extra = append(extra, &older)
	}
	list, err := s.prepared(ctx, s.read, query)
	if err != nil {
		return nil, fmt.Errorf("select posts: %w", err)
	}
	rows, err := list.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("select posts: %w", err)
	}
	defer rows.Close()
	page.Posts = make([]blog.Post, 0, page.Limit+1)
	for rows.Next() {
		var p blog.Post
		if err := scanPost(rows, &p, extra...); err != nil {
			return nil, fmt.Errorf("select posts: %w", err)
		}
		page.Posts = append(page.Posts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select posts: %w", err)
	}
	if req.Before != nil {
		// Oldest first, one more than the page if there are newer ones.
		if len(page.Posts) > page.Limit {
			page.Posts = page.Posts[:page.Limit]
			page.HasNewer = true
		}
		slices.Reverse(page.Posts)
		if older && len(page.Posts) > 0 {
			page.HasMore = true
			last := page.Posts[len(page.Posts)-1]
			page.NextCursor = &blog.Cursor{DatePosted: last.DatePosted, ID: last.ID}
		}
	}
	if len(page.Posts) == 0 {
		countQuery, countArgs := `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM post_total`, []any(nil)
		if authorID != 0 {
			countQuery, countArgs = `SELECT post_count FROM users WHERE id = $1`, []any{authorID}
		}
		err := s.queryRow(ctx, s.read, countQuery, countArgs...).Scan(&page.Total)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, blog.ErrUserNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("count posts: %w", err)
		}
	}
	if req.Before == nil && len(page.Posts) > page.Limit {
		page.Posts = page.Posts[:page.Limit]
		page.HasMore = true
		last := page.Posts[len(page.Posts)-1]
		page.NextCursor = &blog.Cursor{DatePosted: last.DatePosted, ID: last.ID}
	}
	return page, nil
}

// newerPostsQuery returns the query for the limit posts just newer than
// before, by authorID (0: everyone), oldest first, each row with the total
// number of such posts and whether posts at or older than before exist
// (those older than the page) as its last two columns. It is one range
// scan forwards of the index the other pages scan backwards.
func newerPostsQuery(authorID int64, before blog.Cursor, limit int) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	total, byAuthor := `(SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM post_total)`, ""
	if authorID != 0 {
		author := arg(authorID)
		total = `(SELECT post_count FROM users WHERE id = ` + author + `)`
		byAuthor = "user_id = " + author + " AND "
	}
	at := "(" + arg(micros(before.DatePosted)) + ", " + arg(before.ID) + ")"
	where := func(table, op string) string {
		cond := "(" + table + ".date_posted, " + table + ".id) " + op + " " + at
		if byAuthor != "" {
			cond = table + "." + byAuthor + cond
		}
		return cond
	}
	older := `EXISTS (SELECT 1 FROM posts q WHERE ` + where("q", "<=") + `)`
	query := `SELECT ` + postColumns + `, ` + total + `, ` + older + `
		FROM posts p JOIN users u ON u.id = p.user_id
		WHERE ` + where("p", ">") + `
		ORDER BY p.date_posted ASC, p.id ASC LIMIT ` + arg(limit)
	return query, args
}

// postsQuery returns the query for limit posts, newest first, by authorID
// (0: everyone), after cursor (nil: from the start) and skip, each row with
// the total number of such posts as its last column (a scalar subquery,
// run once per statement). Each case is one range scan of an index on
// (date_posted, id), backwards.
func postsQuery(authorID int64, cursor *blog.Cursor, skip int64, limit int) (string, []any) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// post_total has one row on SQLite and several on PostgreSQL, where
	// one would make concurrent posts queue (see its migration).
	total := `(SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM post_total)`
	if authorID != 0 {
		author := arg(authorID)
		where = append(where, "p.user_id = "+author)
		total = `(SELECT post_count FROM users WHERE id = ` + author + `)`
	}
	if cursor != nil {
		where = append(where, "(p.date_posted, p.id) < ("+arg(micros(cursor.DatePosted))+", "+arg(cursor.ID)+")")
	}
	const order = ` ORDER BY p.date_posted DESC, p.id DESC`
	if skip > 0 {
		// Skipping reads every skipped post: let that be index entries
		// only (the indexes above cover id), and join the rows of just
		// the page. Sorting those few again is cheap.
		query := `SELECT id FROM posts p`
		if len(where) > 0 {
			query += ` WHERE ` + strings.Join(where, " AND ")
		}
		query += order + ` LIMIT ` + arg(limit) + ` OFFSET ` + arg(skip)
		return `SELECT ` + postColumns + `, ` + total + ` FROM (` + query + `) page
			JOIN posts p ON p.id = page.id JOIN users u ON u.id = p.user_id` + order, args
	}
	query := `SELECT ` + postColumns + `, ` + total + ` FROM posts p JOIN users u ON u.id = p.user_id`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += order + ` LIMIT ` + arg(limit)
	return query, args
}
