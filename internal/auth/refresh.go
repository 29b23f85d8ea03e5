package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Refresh tokens are opaque to clients. Inside, a token is
//
//	version (1 byte) | len(session id) (1) | session id | secret (32) | tag (16)
//
// in unpadded base64url: 96 characters for quill's 22-character session ids. The database keeps only its
// SHA-256 (HashOpaque), never the token.
//
//   - The secret of a session's first token is 32 random bytes. Each later
//     one is HMAC(key, previous token): the successor of a token is a pure
//     function of it, so a client that retries a refresh within the grace
//     window can be given the very token the first attempt produced,
//     although the server stored only its hash.
//   - The tag is HMAC(key, everything before it). It proves the server minted
//     the token for that session, so an older token of a session (used and
//     rotated away long ago) can be recognised as reuse without storing
//     every hash, and a forged or damaged token is refused before any
//     database lookup. Nobody can end someone else's session by making up a
//     token that names it.
//
// The keys are derived from the signing key with a label per purpose, so
// access and refresh tokens never share a MAC key.

const (
	refreshVersion   = 1
	refreshSecretLen = 32
	refreshTagLen    = 16
	maxSessionIDLen  = 64
	// maxRefreshLen bounds the work done on untrusted input.
	maxRefreshLen = 2 * (2 + maxSessionIDLen + refreshSecretLen + refreshTagLen)
)

// refreshKeys are the keys refresh tokens use, one per purpose.
type refreshKeys struct {
	tag, next, accessID []byte
}

func deriveRefreshKeys(key []byte) refreshKeys {
	if len(key) == 0 {
		return refreshKeys{}
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("quill refresh token: " + label))
		return m.Sum(nil)
	}
	return refreshKeys{tag: derive("tag"), next: derive("next"), accessID: derive("access token id")}
}

func mac(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// NewRefresh returns the first refresh token of a session, with a secret
// of 32 random bytes.
func (t *Tokens) NewRefresh(sessionID string) (string, error) {
	secret := make([]byte, refreshSecretLen)
	if _, err := io.ReadFull(t.random, secret); err != nil {
		return "", fmt.Errorf("new refresh token: %w", err)
	}
	return t.refreshToken(sessionID, secret)
}

func (t *Tokens) refreshToken(sessionID string, secret []byte) (string, error) {
	switch {
	case len(t.key) == 0:
		return "", errors.New("refresh token: empty signing key")
	case sessionID == "" || len(sessionID) > maxSessionIDLen:
		return "", fmt.Errorf("refresh token: session id of %d bytes, want 1 to %d", len(sessionID), maxSessionIDLen)
	}
	raw := make([]byte, 0, 2+len(sessionID)+refreshSecretLen+refreshTagLen)
	raw = append(raw, refreshVersion, byte(len(sessionID)))
	raw = append(raw, sessionID...)
	raw = append(raw, secret...)
	raw = append(raw, mac(t.refresh.tag, raw)[:refreshTagLen]...)
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// RefreshSession checks that token is a refresh token this server minted
// and returns the session it belongs to. ok is false for anything else:
// garbage, a token of another length, a damaged or forged one. It does not
// know whether the token is still current; the store decides that.
func (t *Tokens) RefreshSession(token string) (sessionID string, ok bool) {
	_, sessionID, ok = t.parseRefresh(token)
	return sessionID, ok
}

func (t *Tokens) parseRefresh(token string) (raw []byte, sessionID string, ok bool) {
	if len(t.key) == 0 || len(token) > maxRefreshLen {
		return nil, "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 2 || raw[0] != refreshVersion {
		return nil, "", false
	}
	n := int(raw[1])
	if n == 0 || n > maxSessionIDLen || len(raw) != 2+n+refreshSecretLen+refreshTagLen {
		return nil, "", false
	}
	body, tag := raw[:len(raw)-refreshTagLen], raw[len(raw)-refreshTagLen:]
	if !hmac.Equal(tag, mac(t.refresh.tag, body)[:refreshTagLen]) {
		return nil, "", false
	}
	return raw, string(raw[2 : 2+n]), true
}

// NextRefresh returns the token that replaces token when it is used: the
// same session, and a secret derived from token with the server's key.
// Asked twice, it answers the same. token must be one RefreshSession
// accepts.
func (t *Tokens) NextRefresh(token string) (string, error) {
	raw, sessionID, ok := t.parseRefresh(token)
	if !ok {
		return "", errors.New("next refresh token: not a refresh token of ours")
	}
	return t.refreshToken(sessionID, mac(t.refresh.next, raw))
}

// AccessID is the token id (jti) of the access token issued together with
// the refresh token: with IssueAt it makes that access token reproducible.
func (t *Tokens) AccessID(refresh string) string {
	return base64.RawURLEncoding.EncodeToString(mac(t.refresh.accessID, []byte(refresh))[:16])
}
