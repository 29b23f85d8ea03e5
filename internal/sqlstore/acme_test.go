package sqlstore

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestACMECache(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, clock := newTestStore(t, db)

		entry := func(key string) ([]byte, bool) {
			t.Helper()
			data, ok, err := s.ACMEEntry(ctx, key)
			if err != nil {
				t.Fatalf("ACMEEntry(%q) = %v", key, err)
			}
			return data, ok
		}
		updatedAt := func(key string) time.Time {
			t.Helper()
			var at int64
			if err := s.read.QueryRowContext(ctx, `SELECT updated_at FROM acme_cache WHERE key = $1`, key).Scan(&at); err != nil {
				t.Fatalf("updated_at of %q: %v", key, err)
			}
			return fromMicros(at)
		}

		if data, ok := entry("blog.example.com"); ok || data != nil {
			t.Errorf("ACMEEntry(missing) = %q, %v, want nil, false", data, ok)
		}

		// Every byte value survives: the data is sealed, so binary.
		binary := make([]byte, 256)
		for i := range binary {
			binary[i] = byte(i)
		}
		if err := s.PutACMEEntry(ctx, "blog.example.com", binary); err != nil {
			t.Fatalf("PutACMEEntry() = %v", err)
		}
		if data, ok := entry("blog.example.com"); !ok || !bytes.Equal(data, binary) {
			t.Errorf("ACMEEntry() = %x, %v, want %x, true", data, ok, binary)
		}
		if got := updatedAt("blog.example.com"); !got.Equal(clock.Now()) {
			t.Errorf("updated_at = %v, want %v", got, clock.Now())
		}

		// A second put replaces the data and the time.
		clock.Advance(time.Hour)
		if err := s.PutACMEEntry(ctx, "blog.example.com", []byte("renewed")); err != nil {
			t.Fatalf("PutACMEEntry(again) = %v", err)
		}
		if data, ok := entry("blog.example.com"); !ok || string(data) != "renewed" {
			t.Errorf("ACMEEntry() after a second put = %q, %v, want renewed", data, ok)
		}
		if got := updatedAt("blog.example.com"); !got.Equal(clock.Now()) {
			t.Errorf("updated_at after a second put = %v, want %v", got, clock.Now())
		}

		// Empty data is data.
		if err := s.PutACMEEntry(ctx, "acme_account+key", nil); err != nil {
			t.Fatalf("PutACMEEntry(nil) = %v", err)
		}
		if data, ok := entry("acme_account+key"); !ok || len(data) != 0 {
			t.Errorf("ACMEEntry(empty) = %q, %v, want empty, true", data, ok)
		}

		// Keys are exact: no case folding, no prefix match.
		for _, k := range []string{"BLOG.example.com", "blog.example.co", "blog.example.com+rsa"} {
			if _, ok := entry(k); ok {
				t.Errorf("ACMEEntry(%q) found an entry", k)
			}
		}

		if err := s.DeleteACMEEntry(ctx, "blog.example.com"); err != nil {
			t.Fatalf("DeleteACMEEntry() = %v", err)
		}
		if _, ok := entry("blog.example.com"); ok {
			t.Errorf("ACMEEntry() after delete found the entry")
		}
		if err := s.DeleteACMEEntry(ctx, "blog.example.com"); err != nil {
			t.Errorf("DeleteACMEEntry(missing) = %v, want nil", err)
		}
		if _, ok := entry("acme_account+key"); !ok {
			t.Errorf("DeleteACMEEntry removed another entry")
		}
	})
}

// TestACMECacheKeys checks names no entry can have, such as the ones a
// request for an HTTP-01 challenge may carry: reading or deleting them
// finds nothing and fails on neither database; storing under them is an
// error.
func TestACMECacheKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s, _ := newTestStore(t, db)
		for name, key := range map[string]string{
			"empty":     "",
			"too long":  strings.Repeat("a", maxACMEKey+1) + "+http-01",
			"not UTF-8": "\xff\xfe+http-01",
			"NUL":       "a\x00b+http-01",
		} {
			t.Run(name, func(t *testing.T) {
				if data, ok, err := s.ACMEEntry(ctx, key); err != nil || ok || data != nil {
					t.Errorf("ACMEEntry() = %q, %v, %v, want nil, false, nil", data, ok, err)
				}
				if err := s.DeleteACMEEntry(ctx, key); err != nil {
					t.Errorf("DeleteACMEEntry() = %v, want nil", err)
				}
				if err := s.PutACMEEntry(ctx, key, []byte("x")); err == nil {
					t.Errorf("PutACMEEntry() = nil, want an error")
				}
			})
		}
		longest := strings.Repeat("k", maxACMEKey)
		if err := s.PutACMEEntry(ctx, longest, []byte("x")); err != nil {
			t.Fatalf("PutACMEEntry(%d bytes) = %v", maxACMEKey, err)
		}
		if _, ok, err := s.ACMEEntry(ctx, longest); err != nil || !ok {
			t.Errorf("ACMEEntry(%d bytes) = %v, %v, want found", maxACMEKey, ok, err)
		}
	})
}
