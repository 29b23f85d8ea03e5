// Package certs provides the certificates quill serves over HTTPS: from an
// ACME CA (Let's Encrypt unless ACME_CA says otherwise), kept in quill's
// database so that every instance on it serves and renews the same ones,
// or from a pair of files the operator renews, reloaded when they change.
package certs

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/quill-blog/quill/internal/sqlstore"
)

// Cache is an autocert.Cache in quill's database (the acme_cache table),
// shared by every instance on it.
//
// Entries hold private keys (the ACME account's and the certificates'),
// so each is sealed with AES-256-GCM under a key derived from SECRET_KEY
// and bound to its name: a copy of the database, a backup say, holds no
// usable key without SECRET_KEY, and an entry copied under another name
// does not open. An entry that does not open (SECRET_KEY has changed) is
// a miss: the ACME client then makes a new account key and gets new
// certificates, which replace it.
type Cache struct {
	store  *sqlstore.Store
	aead   cipher.AEAD
	logger *slog.Logger
	random io.Reader
}

// sealVersion is the first byte of a sealed entry: the format below.
const sealVersion = 1

// cacheKeyInfo is the HKDF info that makes the cache's key from SECRET_KEY,
// so it is not the key that signs tokens.
const cacheKeyInfo = "quill acme_cache AES-256-GCM v1"

// errUnavailable is what the ACME client sees when the database fails:
// autocert shows a Get error to whoever asked for an HTTP-01 challenge,
// so it says nothing of the database. The log has the cause.
var errUnavailable = errors.New("certificate cache unavailable")

// NewCache returns the cache in store, sealed with a key derived from
// secret (SECRET_KEY). random is nil for crypto/rand.
func NewCache(store *sqlstore.Store, secret []byte, logger *slog.Logger, random io.Reader) (*Cache, error) {
	if len(secret) == 0 {
		return nil, errors.New("certificate cache: no secret to seal entries with")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, cacheKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("certificate cache key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("certificate cache key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("certificate cache key: %w", err)
	}
	if random == nil {
		random = rand.Reader
	}
	return &Cache{store: store, aead: aead, logger: logger, random: random}, nil
}

// Get returns the entry named key, or autocert.ErrCacheMiss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	sealed, ok, err := c.store.ACMEEntry(ctx, key)
	if err != nil {
		c.logger.Error("cannot read the certificate cache", "key", key, "err", err)
		return nil, errUnavailable
	}
	if !ok {
		return nil, autocert.ErrCacheMiss
	}
	data, err := c.open(key, sealed)
	if err != nil {
		c.logger.Warn("an entry of the certificate cache does not open with this SECRET_KEY (was it changed, or do instances have different ones?); it is replaced when a new one is made",
			"key", key, "err", err)
		return nil, autocert.ErrCacheMiss
	}
	return data, nil
}

// Put stores data under key, replacing what was there.
func (c *Cache) Put(ctx context.Context, key string, data []byte) error {
	sealed, err := c.seal(key, data)
	if err != nil {
		return err
	}
	if err := c.store.PutACMEEntry(ctx, key, sealed); err != nil {
		c.logger.Error("cannot write to the certificate cache", "key", key, "err", err)
		return errUnavailable
	}
	if leaf := certificateIn(key, data); leaf != nil {
		c.logger.Info("stored a new certificate", "domain", strings.TrimSuffix(key, "+rsa"),
			"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// certificateIn returns the certificate of a cache entry that holds one
// for a domain (autocert names them DOMAIN, or DOMAIN+rsa), not for a
// challenge or the account; else nil.
func certificateIn(key string, data []byte) *x509.Certificate {
	if strings.HasPrefix(key, "acme_account") || strings.HasSuffix(key, "+token") || strings.HasSuffix(key, "+http-01") {
		return nil
	}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil
		}
		if b.Type == "CERTIFICATE" {
			leaf, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil
			}
			return leaf
		}
	}
}

// Delete removes the entry named key, if any.
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := c.store.DeleteACMEEntry(ctx, key); err != nil {
		c.logger.Error("cannot delete from the certificate cache", "key", key, "err", err)
		return errUnavailable
	}
	return nil
}

// seal returns data sealed under key's name: the version byte, a random
// nonce, then the AES-GCM ciphertext with the name as additional data.
func (c *Cache) seal(key string, data []byte) ([]byte, error) {
	out := make([]byte, 1+c.aead.NonceSize(), 1+c.aead.NonceSize()+len(data)+c.aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(c.random, out[1:]); err != nil {
		return nil, fmt.Errorf("seal certificate cache entry: %w", err)
	}
	return c.aead.Seal(out, out[1:], data, additionalData(key)), nil
}

// open reverses seal. It fails on anything seal did not make with this
// key under this name.
func (c *Cache) open(key string, sealed []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < 1+n+c.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("not a sealed entry")
	}
	data, err := c.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additionalData(key))
	if err != nil {
		return nil, errors.New("sealed with another key or under another name")
	}
	return data, nil
}

func additionalData(key string) []byte {
	return []byte("quill acme_cache entry\x00" + key)
}
