package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// CSRF makes and checks the anti-forgery tokens of page forms. A token is
// an HMAC-SHA256 of what the form is bound to (a session id once logged
// in, or a random pre-login cookie) under a key derived from the server
// secret: another site can neither read it nor compute it, and a token
// taken from one session is worthless in another.
type CSRF struct {
	key []byte
}

// NewCSRF derives the CSRF key from the server secret. The derivation
// keeps the key distinct from the one that signs access tokens. An empty
// secret makes a CSRF that accepts nothing.
func NewCSRF(secret []byte) *CSRF {
	if len(secret) == 0 {
		return &CSRF{}
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("quill csrf v1"))
	return &CSRF{key: m.Sum(nil)}
}

// Token returns the plain token for forms bound to binding: the same
// bytes every time. Pages carry MaskedToken instead.
func (c *CSRF) Token(binding string) string {
	return base64.RawURLEncoding.EncodeToString(c.mac(binding))
}

// MaskedToken returns a token for forms bound to binding that differs at
// every call: a random pad read from random, then the MAC XORed with it.
// A compressed page whose size an attacker can watch, while also putting
// text of their own into it, then leaks nothing about the MAC (BREACH),
// since no two pages carry the same bytes for it.
func (c *CSRF) MaskedToken(binding string, random io.Reader) (string, error) {
	mac := c.mac(binding)
	b := make([]byte, 2*len(mac))
	if _, err := io.ReadFull(random, b[:len(mac)]); err != nil {
		return "", fmt.Errorf("csrf token pad: %w", err)
	}
	for i, m := range mac {
		b[len(mac)+i] = b[i] ^ m
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Valid reports, in constant time, whether token is a token for binding,
// plain (Token) or masked (MaskedToken). An empty binding or token is
// never valid.
func (c *CSRF) Valid(binding, token string) bool {
	if len(c.key) == 0 || binding == "" || token == "" {
		return false
	}
	// Strict: one spelling per token, as Token and MaskedToken write it.
	got, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return false
	}
	if len(got) == 2*sha256.Size {
		pad, masked := got[:sha256.Size], got[sha256.Size:]
		for i := range masked {
			masked[i] ^= pad[i]
		}
		got = masked
	}
	return hmac.Equal(got, c.mac(binding))
}

func (c *CSRF) mac(binding string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(binding))
	return m.Sum(nil)
}
