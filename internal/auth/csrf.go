package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// Token returns the token for forms bound to binding.
func (c *CSRF) Token(binding string) string {
	return base64.RawURLEncoding.EncodeToString(c.mac(binding))
}

// Valid reports, in constant time, whether token is Token(binding). An
// empty binding or token is never valid.
func (c *CSRF) Valid(binding, token string) bool {
	if len(c.key) == 0 || binding == "" || token == "" {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	return hmac.Equal(got, c.mac(binding))
}

func (c *CSRF) mac(binding string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(binding))
	return m.Sum(nil)
}
