package certs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/crypto/acme/autocert"

	"github.com/quill-blog/quill/internal/certs/certstest"
	"github.com/quill-blog/quill/internal/quilltest"
	"github.com/quill-blog/quill/internal/sqlstore"
)

const testSecret = "3f1c9a7e5b2d4068a1f3c5e7092b4d6f8a0c2e4f6a8b0d2e4f6a8c0e2a4c6e8f"

// openStore opens the migrated database at url, closed when tb ends.
func openStore(tb testing.TB, url string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func newCache(tb testing.TB, store *sqlstore.Store, secret string, logs *quilltest.Logs) *Cache {
	tb.Helper()
	c, err := NewCache(store, []byte(secret), slog.New(slog.NewTextHandler(logs, nil)), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// The cache is autocert's.
var _ autocert.Cache = (*Cache)(nil)

func TestCache(t *testing.T) {
	for _, db := range quilltest.DBs() {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			url := db.URL(t)
			store := openStore(t, url)
			logs := &quilltest.Logs{}
			c := newCache(t, store, testSecret, logs)

			if _, err := c.Get(ctx, "blog.example.com"); err != autocert.ErrCacheMiss {
				t.Errorf("Get(missing) = %v, want autocert.ErrCacheMiss (compared with ==, as autocert does)", err)
			}
			entry := []byte("-----BEGIN EC PRIVATE KEY-----\nsecret key material\n-----END EC PRIVATE KEY-----\n")
			if err := c.Put(ctx, "blog.example.com", entry); err != nil {
				t.Fatalf("Put() = %v", err)
			}
			if got, err := c.Get(ctx, "blog.example.com"); err != nil || !bytes.Equal(got, entry) {
				t.Errorf("Get() = %q, %v, want %q", got, err, entry)
			}

			// At rest it is sealed: neither the key nor its PEM header shows.
			raw, ok, err := store.ACMEEntry(ctx, "blog.example.com")
			if err != nil || !ok {
				t.Fatalf("ACMEEntry() = %v, %v", ok, err)
			}
			if bytes.Contains(raw, []byte("PRIVATE KEY")) || bytes.Contains(raw, []byte("secret key material")) {
				t.Errorf("the stored entry holds the plain text: %q", raw)
			}
			// Sealing twice gives two different texts (a fresh nonce).
			if err := c.Put(ctx, "blog.example.com", entry); err != nil {
				t.Fatal(err)
			}
			if raw2, _, _ := store.ACMEEntry(ctx, "blog.example.com"); bytes.Equal(raw, raw2) {
				t.Errorf("two seals of the same entry are identical")
			}

			// A second instance on the database with the same SECRET_KEY
			// reads what the first wrote.
			other := newCache(t, openStore(t, url), testSecret, logs)
			if got, err := other.Get(ctx, "blog.example.com"); err != nil || !bytes.Equal(got, entry) {
				t.Errorf("Get() on another instance = %q, %v, want %q", got, err, entry)
			}

			// An entry copied under another name does not open.
			if err := store.PutACMEEntry(ctx, "evil.example.com", raw); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Get(ctx, "evil.example.com"); err != autocert.ErrCacheMiss {
				t.Errorf("Get(entry under another name) = %q, %v, want autocert.ErrCacheMiss", got, err)
			}
			// Nor does one changed by a bit.
			tampered := bytes.Clone(raw)
			tampered[len(tampered)-1] ^= 1
			if err := store.PutACMEEntry(ctx, "tampered", tampered); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Get(ctx, "tampered"); err != autocert.ErrCacheMiss {
				t.Errorf("Get(tampered) = %q, %v, want autocert.ErrCacheMiss", got, err)
			}

			// Another SECRET_KEY opens nothing: a miss, logged, and what it
			// puts replaces the old entry for everyone with its key.
			rotatedLogs := &quilltest.Logs{}
			rotated := newCache(t, store, strings.Repeat("0123456789abcdef", 4), rotatedLogs)
			if got, err := rotated.Get(ctx, "blog.example.com"); err != autocert.ErrCacheMiss {
				t.Errorf("Get() with another SECRET_KEY = %q, %v, want autocert.ErrCacheMiss", got, err)
			}
			if !strings.Contains(rotatedLogs.String(), "does not open with this SECRET_KEY") {
				t.Errorf("a sealed entry that does not open was not logged:\n%s", rotatedLogs)
			}
			if err := rotated.Put(ctx, "blog.example.com", []byte("new")); err != nil {
				t.Fatal(err)
			}
			if got, err := rotated.Get(ctx, "blog.example.com"); err != nil || string(got) != "new" {
				t.Errorf("Get() after the new key's Put = %q, %v, want new", got, err)
			}

			if err := c.Delete(ctx, "blog.example.com"); err != nil {
				t.Fatalf("Delete() = %v", err)
			}
			if _, err := rotated.Get(ctx, "blog.example.com"); err != autocert.ErrCacheMiss {
				t.Errorf("Get() after Delete = %v, want autocert.ErrCacheMiss", err)
			}
			if err := c.Delete(ctx, "blog.example.com"); err != nil {
				t.Errorf("Delete(missing) = %v, want nil", err)
			}
		})
	}
}

// TestCacheUnavailable checks that a database that fails is an error, not
// a miss (a miss would make autocert order a new certificate), and that
// the error says nothing of the database: autocert shows it to whoever
// asked for an HTTP-01 challenge.
func TestCacheUnavailable(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, quilltest.SQLite.URL(t))
	logs := &quilltest.Logs{}
	c := newCache(t, store, testSecret, logs)
	store.Close()
	for name, err := range map[string]error{
		"Get":    func() error { _, err := c.Get(ctx, "blog.example.com"); return err }(),
		"Put":    c.Put(ctx, "blog.example.com", []byte("x")),
		"Delete": c.Delete(ctx, "blog.example.com"),
	} {
		if err == nil || errors.Is(err, autocert.ErrCacheMiss) {
			t.Errorf("%s on a closed database = %v, want an error other than a miss", name, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "sql") || strings.Contains(msg, "database") {
			t.Errorf("%s on a closed database = %q, which tells the client about the database", name, msg)
		}
	}
	if !strings.Contains(logs.String(), "cannot read the certificate cache") {
		t.Errorf("the failure was not logged:\n%s", logs)
	}
}

func TestNewCacheNeedsSecret(t *testing.T) {
	if _, err := NewCache(nil, nil, slog.Default(), nil); err == nil {
		t.Error("NewCache(no secret) = nil error")
	}
}

// FuzzCacheOpen checks that open takes any stored bytes under any name
// without panicking, and opens only what seal made under that name.
func FuzzCacheOpen(f *testing.F) {
	c, err := NewCache(nil, []byte(testSecret), slog.Default(), nil)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := c.seal("blog.example.com", []byte("entry"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, "blog.example.com", []byte("entry"))
	f.Add([]byte{sealVersion}, "", []byte{})
	f.Add([]byte{}, "acme_account+key", []byte("x"))
	f.Fuzz(func(t *testing.T, stored []byte, key string, data []byte) {
		if got, err := c.open(key, stored); err == nil {
			// Only a seal of this cache opens; check it round-trips.
			again, err := c.seal(key, got)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := c.open(key, again); err != nil || !bytes.Equal(back, got) {
				t.Fatalf("open(seal(%q)) = %q, %v", got, back, err)
			}
		}
		s, err := c.seal(key, data)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.open(key, s); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("open(seal(%q)) = %q, %v", data, got, err)
		}
		if _, err := c.open(key+"x", s); err == nil {
			t.Fatalf("a seal under %q opened under %q", key, key+"x")
		}
	})
}

// TestCacheLogsCertificates checks that storing a domain's certificate,
// the first or a renewal, is logged, and nothing else is.
func TestCacheLogsCertificates(t *testing.T) {
	ctx := context.Background()
	logs := &quilltest.Logs{}
	c := newCache(t, openStore(t, quilltest.SQLite.URL(t)), testSecret, logs)
	ca := certstest.NewCA(t)
	pair := ca.Issue(t, "blog.example.com")
	entry := append(bytes.Clone(pair.Key), pair.Cert...) // autocert's layout: key, then chain
	for key, logged := range map[string]bool{
		"blog.example.com":       true,
		"blog.example.com+rsa":   true,
		"blog.example.com+token": false,
		"tok+http-01":            false,
		"acme_account+key":       false,
	} {
		before := strings.Count(logs.String(), "stored a new certificate")
		if err := c.Put(ctx, key, entry); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(logs.String(), "stored a new certificate") - before; got != map[bool]int{true: 1}[logged] {
			t.Errorf("Put(%q) logged %d lines, want logged %v", key, got, logged)
		}
	}
	if !strings.Contains(logs.String(), "domain=blog.example.com not_after=") {
		t.Errorf("the log does not name the domain and expiry:\n%s", logs)
	}
}
