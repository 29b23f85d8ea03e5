package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/quill-blog/quill/internal/blog"
)

// MaxIDs returns the highest post id and the highest user id in use (0
// when there are none): the range a sitemap covers.
func (s *Store) MaxIDs(ctx context.Context) (posts, users int64, err error) {
	err = s.queryRow(ctx, s.read, `SELECT COALESCE((SELECT MAX(id) FROM posts), 0), COALESCE((SELECT MAX(id) FROM users), 0)`).
		Scan(&posts, &users)
	if err != nil {
		return 0, 0, fmt.Errorf("select max ids: %w", err)
	}
	return posts, users, nil
}

// PostStamps returns up to limit posts with ids in (after, upTo], in id
// order, each with when its title or content last changed. It walks the
// primary key, so any range costs what the first does.
func (s *Store) PostStamps(ctx context.Context, after, upTo int64, limit int) ([]blog.Stamp, error) {
	return s.stamps(ctx, `
		SELECT id, COALESCE(updated_at, date_posted) FROM posts
		WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, after, upTo, limit)
}

// AuthorStamps returns up to limit users who have posts, with ids in
// (after, upTo], in id order, each with the date of their newest post.
func (s *Store) AuthorStamps(ctx context.Context, after, upTo int64, limit int) ([]blog.Stamp, error) {
	// The newest post of each is the last entry of the (user_id,
	// date_posted, id) index.
	return s.stamps(ctx, `
		SELECT u.id, (SELECT MAX(p.date_posted) FROM posts p WHERE p.user_id = u.id) FROM users u
		WHERE u.id > $1 AND u.id <= $2 AND u.post_count > 0 ORDER BY u.id LIMIT $3`, after, upTo, limit)
}

func (s *Store) stamps(ctx context.Context, query string, args ...any) ([]blog.Stamp, error) {
	st, err := s.prepared(ctx, s.read, query)
	if err != nil {
		return nil, fmt.Errorf("select sitemap entries: %w", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("select sitemap entries: %w", err)
	}
	defer rows.Close()
	var out []blog.Stamp
	for rows.Next() {
		var (
			e  blog.Stamp
			at sql.Null[int64] // NULL: a user whose posts went since post_count was read
		)
		if err := rows.Scan(&e.ID, &at); err != nil {
			return nil, fmt.Errorf("select sitemap entries: %w", err)
		}
		if !at.Valid {
			continue
		}
		e.Modified = fromMicros(at.V)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select sitemap entries: %w", err)
	}
	return out, nil
}
