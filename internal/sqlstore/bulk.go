package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// maxRenames bounds how many names InsertUsers tries for one user.
const maxRenames = 100

// InsertUsers adds many users in one transaction, for imports and seeding,
// and reports per user what it did; a row that cannot go in is reported,
// not an error, and does not stop the others. The error is for a failing
// database: then nothing was inserted.
//
// A user with ID 0 gets a new id (ID is set); any other ID is kept, and later ids
// continue after it. A zero CreatedAt becomes now. Emails are stored
// lower-cased. Password hashes are stored as they are.
//
// A user whose ID is taken counts as blog.RowExists when the user there has the
// same username (under blog.UsernameKey) or the same email, so importing
// the same data twice changes nothing even if a user has since changed one
// of them; otherwise it is blog.RowIDTaken. When the username is taken by another
// user and rename is not nil, the names rename(username, n) for n = 2, 3, …
// are tried in turn, and the user is inserted under the first free one
// (Username is updated); an email cannot be renamed.
func (s *Store) InsertUsers(ctx context.Context, users []blog.User, rename func(username string, n int) string) ([]blog.RowResult, error) {
	results := make([]blog.RowResult, len(users))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		floor := &idFloor{table: "users"}
		withID, err := tx.PrepareContext(ctx, `
			INSERT INTO users (id, username, username_key, username_skeleton, email, password_hash, image_file, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT DO NOTHING
			RETURNING id`)
		if err != nil {
			return fmt.Errorf("prepare insert user: %w", err)
		}
		defer withID.Close()
		newID, err := tx.PrepareContext(ctx, `
			INSERT INTO users (username, username_key, username_skeleton, email, password_hash, image_file, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT DO NOTHING
			RETURNING id`)
		if err != nil {
			return fmt.Errorf("prepare insert user: %w", err)
		}
		defer newID.Close()

		now := s.timestamp()
		for i := range users {
			u := &users[i]
			if u.CreatedAt.IsZero() {
				u.CreatedAt = now
			}
			u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)
			original, n := u.Username, 1
			for {
				insert := withID
				if u.ID == 0 {
					insert = newID
					if err := s.advancePast(ctx, tx, floor); err != nil {
						return err
					}
				} else {
					floor.try(u.ID)
				}
				r, err := s.insertUser(ctx, tx, insert, u)
				if err != nil {
					return err
				}
				results[i] = r
				if r.Outcome != blog.RowUsernameTaken || rename == nil {
					break
				}
				if u.Username, n = nextName(rename, original, n); u.Username == "" {
					break
				}
			}
			if results[i].Outcome != blog.RowInserted {
				u.Username = original
			}
		}
		return s.advancePast(ctx, tx, floor)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// insertUser inserts u with insert, the statement for a user with or
// without an id, unless its id, username or email is taken, and says which.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, insert *sql.Stmt, u *blog.User) (blog.RowResult, error) {
	k, err := keys(u)
	if err != nil {
		return blog.RowResult{}, err
	}
	args := []any{u.Username, k.username, k.skeleton, k.email, u.PasswordHash, nullString(u.ImageFile), micros(u.CreatedAt)}
	if u.ID != 0 {
		args = append([]any{u.ID}, args...)
	}
	rows, err := insert.QueryContext(ctx, args...)
	if err != nil {
		return blog.RowResult{}, fmt.Errorf("insert user %d: %w", u.ID, err)
	}
	id, inserted, err := returnedID(rows)
	if err != nil {
		return blog.RowResult{}, fmt.Errorf("insert user %d: %w", u.ID, err)
	}
	if inserted {
		u.ID, u.Email = id, k.email
		return blog.RowResult{Outcome: blog.RowInserted}, nil
	}
	return s.userConflict(ctx, tx, u.ID, k)
}

// nextName returns the first name rename offers after its n-th that can be
// compared (see blog.UsernameKey), and its number; or "" once maxRenames
// are used up.
func nextName(rename func(string, int) string, original string, n int) (string, int) {
	for n++; n <= maxRenames; n++ {
		name := rename(original, n)
		if _, err := blog.UsernameKey(name); err == nil {
			return name, n
		}
	}
	return "", n
}

// returnedID reads the id an INSERT … RETURNING id gave back, if it
// inserted a row.
func returnedID(rows *sql.Rows) (id int64, ok bool, err error) {
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return 0, false, err
		}
		ok = true
	}
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	return id, ok, rows.Close()
}

// userConflict says why a user with this id and keys could not be
// inserted.
func (s *Store) userConflict(ctx context.Context, tx *sql.Tx, id int64, k userKeys) (blog.RowResult, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT id, username_key, COALESCE(username_skeleton, ''), email FROM users
		WHERE id = $1 OR username_key = $2 OR username_skeleton = $3 OR email = $4`,
		id, k.username, k.skeleton, k.email)
	if err != nil {
		return blog.RowResult{}, fmt.Errorf("find conflict of user %d: %w", id, err)
	}
	defer rows.Close()
	var byKey, byEmail int64
	for rows.Next() {
		var (
			otherID                      int64
			otherKey, otherSkel, otherEm string
		)
		if err := rows.Scan(&otherID, &otherKey, &otherSkel, &otherEm); err != nil {
			return blog.RowResult{}, fmt.Errorf("find conflict of user %d: %w", id, err)
		}
		switch {
		case otherID == id && (otherKey == k.username || otherEm == k.email):
			return blog.RowResult{Outcome: blog.RowExists, Holder: otherID}, nil
		case otherID == id:
			return blog.RowResult{Outcome: blog.RowIDTaken, Holder: otherID}, nil
		case otherKey == k.username || otherSkel == k.skeleton:
			byKey = otherID
		default:
			byEmail = otherID
		}
	}
	if err := rows.Err(); err != nil {
		return blog.RowResult{}, fmt.Errorf("find conflict of user %d: %w", id, err)
	}
	switch {
	case byKey != 0:
		return blog.RowResult{Outcome: blog.RowUsernameTaken, Holder: byKey}, nil
	case byEmail != 0:
		return blog.RowResult{Outcome: blog.RowEmailTaken, Holder: byEmail}, nil
	}
	// ON CONFLICT skipped the row, yet nothing conflicts: only a bug in the
	// schema or the queries above could do this.
	return blog.RowResult{}, fmt.Errorf("insert user %d: skipped without a conflict", id)
}

// authorBatch is how many author ids InsertPosts checks per query, well
// within every database's limit on parameters.
const authorBatch = 500

// InsertPosts adds many posts in one transaction, for imports and seeding,
// and reports per post what it did; a post that cannot go in is reported,
// not an error, and does not stop the others. The error is for a failing
// database: then nothing was inserted. The author counts and the total
// stay right (the triggers see every row).
//
// A post with ID 0 gets a new id (ID is set); any other ID is kept, and
// later ids continue after it. A zero DatePosted becomes now; any other is
// stored in UTC to the microsecond. Author is not filled in.
//
// A post whose ID is taken counts as blog.RowExists when the post there has the same
// author and date (quill never changes either, so it is the same post,
// perhaps edited since); otherwise it is blog.RowIDTaken. A post whose author does
// not exist is blog.RowNoAuthor.
func (s *Store) InsertPosts(ctx context.Context, posts []blog.Post) ([]blog.RowResult, error) {
	results := make([]blog.RowResult, len(posts))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		authors, err := existingUsers(ctx, tx, posts)
		if err != nil {
			return err
		}
		newID, err := tx.PrepareContext(ctx, `
			INSERT INTO posts (user_id, title, content, date_posted)
			VALUES ($1, $2, $3, $4)
			RETURNING id`)
		if err != nil {
			return fmt.Errorf("prepare insert post: %w", err)
		}
		defer newID.Close()

		now := s.timestamp()
		floor := &idFloor{table: "posts"}
		// Posts with ids go in multi-row statements of up to postChunk
		// rows (see insertPostsQuery); pending holds their indexes.
		var (
			pending    []int
			pendingIDs = make(map[int64]bool)
			chunkStmts = make(map[int]*sql.Stmt) // by row count; closed with tx
		)
		flush := func() error {
			if len(pending) == 0 {
				return nil
			}
			st, ok := chunkStmts[len(pending)]
			if !ok {
				if st, err = tx.PrepareContext(ctx, insertPostsQuery(len(pending))); err != nil {
					return fmt.Errorf("prepare insert posts: %w", err)
				}
				chunkStmts[len(pending)] = st
			}
			args := make([]any, 0, 5*len(pending))
			for _, i := range pending {
				p := &posts[i]
				args = append(args, p.ID, p.AuthorID, p.Title, p.Content, micros(p.DatePosted))
				floor.try(p.ID)
			}
			inserted, err := returnedIDs(ctx, st, args)
			if err != nil {
				return fmt.Errorf("insert posts %d to %d: %w", posts[pending[0]].ID, posts[pending[len(pending)-1]].ID, err)
			}
			for _, i := range pending {
				if inserted[posts[i].ID] {
					results[i] = blog.RowResult{Outcome: blog.RowInserted}
				} else if results[i], err = postConflict(ctx, tx, &posts[i]); err != nil {
					return err
				}
			}
			pending = pending[:0]
			clear(pendingIDs)
			return nil
		}

		for i := range posts {
			p := &posts[i]
			if !authors[p.AuthorID] {
				results[i] = blog.RowResult{Outcome: blog.RowNoAuthor}
				continue
			}
			if p.DatePosted.IsZero() {
				p.DatePosted = now
			}
			p.DatePosted = p.DatePosted.UTC().Truncate(time.Microsecond)
			if p.ID == 0 {
				// In order: the id it gets follows those inserted before.
				if err := flush(); err != nil {
					return err
				}
				if err := s.advancePast(ctx, tx, floor); err != nil {
					return err
				}
				err := newID.QueryRowContext(ctx, p.AuthorID, p.Title, p.Content, micros(p.DatePosted)).Scan(&p.ID)
				if err != nil {
					return fmt.Errorf("insert post: %w", err)
				}
				results[i] = blog.RowResult{Outcome: blog.RowInserted}
				continue
			}
			if pendingIDs[p.ID] {
				// The same id twice: the second must meet the first as a
				// conflict, as it would one row at a time.
				if err := flush(); err != nil {
					return err
				}
			}
			pending, pendingIDs[p.ID] = append(pending, i), true
			if len(pending) == postChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		return s.advancePast(ctx, tx, floor)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// postChunk is how many posts with ids one INSERT of InsertPosts adds:
// a statement per post cost more in statement overhead than in inserting
// (seeding a million posts took 81 s on a loaded 2-core machine, 27 s in
// chunks). Five values each stay far below every database's limit on
// parameters.
const postChunk = 100

// insertPostsQuery inserts n posts with their ids, skipping those whose id
// is taken, and returns the ids it inserted.
func insertPostsQuery(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO posts (id, user_id, title, content, date_posted) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		k := 5 * i
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5)
	}
	b.WriteString(` ON CONFLICT (id) DO NOTHING RETURNING id`)
	return b.String()
}

// returnedIDs runs st and collects the ids it returns. RETURNING does not
// promise an order, so it is a set.
func returnedIDs(ctx context.Context, st *sql.Stmt, args []any) (map[int64]bool, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make(map[int64]bool, len(args)/5)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// existingUsers returns which of the posts' authors exist.
func existingUsers(ctx context.Context, tx *sql.Tx, posts []blog.Post) (map[int64]bool, error) {
	exists := make(map[int64]bool)
	var ids []any
	for _, p := range posts {
		if _, seen := exists[p.AuthorID]; !seen {
			exists[p.AuthorID] = false
			ids = append(ids, p.AuthorID)
		}
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), authorBatch)]
		ids = ids[len(chunk):]
		marks := make([]string, len(chunk))
		for i := range chunk {
			marks[i] = "$" + strconv.Itoa(i+1)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE id IN (`+strings.Join(marks, ", ")+`)`, chunk...)
		if err != nil {
			return nil, fmt.Errorf("select authors: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("select authors: %w", err)
			}
			exists[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("select authors: %w", err)
		}
	}
	return exists, nil
}

// postConflict says whether the post holding p's id is p (same author and
// date) or another.
func postConflict(ctx context.Context, tx *sql.Tx, p *blog.Post) (blog.RowResult, error) {
	var (
		author int64
		posted int64
	)
	err := tx.QueryRowContext(ctx, `SELECT user_id, date_posted FROM posts WHERE id = $1`, p.ID).Scan(&author, &posted)
	if errors.Is(err, sql.ErrNoRows) {
		return blog.RowResult{}, fmt.Errorf("insert post %d: skipped without a conflict", p.ID)
	}
	if err != nil {
		return blog.RowResult{}, fmt.Errorf("find conflict of post %d: %w", p.ID, err)
	}
	if author == p.AuthorID && posted == micros(p.DatePosted) {
		return blog.RowResult{Outcome: blog.RowExists}, nil
	}
	return blog.RowResult{Outcome: blog.RowIDTaken}, nil
}

// idFloor is the largest explicit id a bulk insert has tried in a table.
// Generated ids must continue after it, as SQLite's AUTOINCREMENT does by
// itself: it moves past any explicit id, even one whose row then was not
// inserted.
type idFloor struct {
	table    string
	tried    int64 // the largest explicit id tried
	advanced int64 // the ids generated are past this one
}

// try notes an explicit id.
func (f *idFloor) try(id int64) { f.tried = max(f.tried, id) }

// advancePast makes the ids generated for f's table continue after every
// id f has seen tried, before a row gets a generated id and at the end.
func (s *Store) advancePast(ctx context.Context, tx *sql.Tx, f *idFloor) error {
	if f.tried <= f.advanced {
		return nil
	}
	if err := s.advanceIDs(ctx, tx, f.table, f.tried); err != nil {
		return err
	}
	f.advanced = f.tried
	return nil
}

// advanceIDs makes the ids the database generates for table continue after
// the largest one in it and after atLeast.
func (s *Store) advanceIDs(ctx context.Context, tx *sql.Tx, table string, atLeast int64) error {
	if s.dialect.advanceIDs == nil {
		return nil
	}
	if err := s.dialect.advanceIDs(ctx, tx, table, atLeast); err != nil {
		return fmt.Errorf("advance %s ids: %w", table, err)
	}
	return nil
}
