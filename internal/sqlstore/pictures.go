package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quill-blog/quill/internal/blog"
)

// SavePicture stores data as the user's profile picture under name (random,
// chosen by the caller) and points users.image_file at it, replacing and
// deleting the previous picture in the same transaction. It returns the
// previous image file name ("" if none). A missing user is
// blog.ErrUserNotFound.
func (tx *Tx) SavePicture(ctx context.Context, userID int64, name string, data []byte) (oldName string, err error) {
	old, err := imageFile(ctx, tx.tx, userID)
	if err != nil {
		return "", err
	}
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM pictures WHERE user_id = $1`, userID); err != nil {
		return "", fmt.Errorf("delete old picture of user %d: %w", userID, err)
	}
	_, err = tx.tx.ExecContext(ctx, `INSERT INTO pictures (name, user_id, data, created_at) VALUES ($1, $2, $3, $4)`,
		name, userID, data, micros(tx.store.timestamp()))
	if err != nil {
		return "", fmt.Errorf("insert picture of user %d: %w", userID, err)
	}
	if _, err := tx.tx.ExecContext(ctx, `UPDATE users SET image_file = $1 WHERE id = $2`, name, userID); err != nil {
		return "", fmt.Errorf("set picture of user %d: %w", userID, err)
	}
	return old.V, nil
}

// imageFile reads users.image_file, or returns blog.ErrUserNotFound.
func imageFile(ctx context.Context, tx *sql.Tx, userID int64) (sql.Null[string], error) {
	var name sql.Null[string]
	err := tx.QueryRowContext(ctx, `SELECT image_file FROM users WHERE id = $1`, userID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return name, blog.ErrUserNotFound
	}
	if err != nil {
		return name, fmt.Errorf("select picture name of user %d: %w", userID, err)
	}
	return name, nil
}

// Picture returns the picture stored under name and when it was stored, or
// blog.ErrPictureNotFound.
func (s *Store) Picture(ctx context.Context, name string) ([]byte, time.Time, error) {
	var (
		data    []byte
		created int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT data, created_at FROM pictures WHERE name = $1`, name).Scan(&data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, blog.ErrPictureNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("select picture: %w", err)
	}
	return data, fromMicros(created), nil
}

// DeletePicture removes the user's profile picture, back to the default
// avatar. A user without one is blog.ErrNoPicture; a missing user,
// blog.ErrUserNotFound.
func (tx *Tx) DeletePicture(ctx context.Context, userID int64) error {
	old, err := imageFile(ctx, tx.tx, userID)
	if err != nil {
		return err
	}
	if !old.Valid {
		return blog.ErrNoPicture
	}
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM pictures WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete picture of user %d: %w", userID, err)
	}
	if _, err := tx.tx.ExecContext(ctx, `UPDATE users SET image_file = NULL WHERE id = $1`, userID); err != nil {
		return fmt.Errorf("clear picture of user %d: %w", userID, err)
	}
	return nil
}
