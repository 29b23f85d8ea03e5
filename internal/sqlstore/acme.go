package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxACMEKey bounds the names of ACME cache entries. The longest an ACME
// client writes is a domain name (at most 253 bytes) with a suffix, or a
// challenge token; a longer name, which a request for an HTTP-01
// challenge can ask for, names no entry.
const maxACMEKey = 512

// validACMEKey reports whether key can name an entry: short, UTF-8,
// without NUL, as a text column on every dialect takes it.
func validACMEKey(key string) bool {
	return key != "" && len(key) <= maxACMEKey && utf8.ValidString(key) && !strings.ContainsRune(key, 0)
}

// ACMEEntry returns the data stored under key in the ACME cache, and
// whether there is any. A key no entry can have is simply not there.
func (s *Store) ACMEEntry(ctx context.Context, key string) ([]byte, bool, error) {
	if !validACMEKey(key) {
		return nil, false, nil
	}
	var data []byte
	err := s.read.QueryRowContext(ctx, `SELECT data FROM acme_cache WHERE key = $1`, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("select ACME cache entry %q: %w", key, err)
	}
	return data, true, nil
}

// PutACMEEntry stores data under key in the ACME cache, replacing what
// was there.
func (s *Store) PutACMEEntry(ctx context.Context, key string, data []byte) error {
	if !validACMEKey(key) {
		return fmt.Errorf("ACME cache entry name %q: empty, too long or not text", key)
	}
	if data == nil {
		data = []byte{} // NOT NULL
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO acme_cache (key, data, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			key, data, micros(s.timestamp()))
		if err != nil {
			return fmt.Errorf("store ACME cache entry %q: %w", key, err)
		}
		return nil
	})
}

// DeleteACMEEntry removes key's entry from the ACME cache; there being
// none is no error.
func (s *Store) DeleteACMEEntry(ctx context.Context, key string) error {
	if !validACMEKey(key) {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM acme_cache WHERE key = $1`, key); err != nil {
			return fmt.Errorf("delete ACME cache entry %q: %w", key, err)
		}
		return nil
	})
}
