package auth

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Derive is 32 bytes that look random to anyone without the key, and are
// the same for the same purpose and data on every instance sharing the
// key: for answers that must not tell whether something exists, such as
// the made-up passkey ids of an account that has none. An empty key
// derives from nothing secret.
func (t *Tokens) Derive(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("quill derived: " + purpose + "\x00"))
	m.Write(data)
	return m.Sum(nil)
}
