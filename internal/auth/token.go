package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/quill-blog/quill/internal/blog"
)

const (
	issuer = "quill"

	// leeway is the clock skew tolerated between quill instances.
	leeway = 60 * time.Second

	// maxTokenLen bounds the work done on an untrusted token before parsing;
	// ours are about 250 bytes.
	maxTokenLen = 4096
)

// Tokens issues and checks access tokens: HS256 JWTs carrying a user id and
// a session id (SPEC §4). It is safe for concurrent use.
type Tokens struct {
	key    []byte
	ttl    time.Duration
	now    func() time.Time
	random io.Reader
	parser *jwt.Parser

	refresh refreshKeys // derived from key; see refresh.go
}

// NewTokens returns Tokens that sign with key, issue tokens valid for ttl,
// read the time from now (time.Now when nil) and token ids from random
// (crypto/rand when nil).
// An empty key signs nothing and accepts nothing, since anyone could forge
// a token with it.
func NewTokens(key []byte, ttl time.Duration, now func() time.Time, random io.Reader) *Tokens {
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Reader
	}
	return &Tokens{
		key:     append([]byte(nil), key...), // the caller may reuse its slice
		ttl:     ttl,
		now:     now,
		random:  random,
		refresh: deriveRefreshKeys(key),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuer(issuer),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
			jwt.WithStrictDecoding(),
		),
	}
}

// Claims are what an access token says once Parse has checked it.
type Claims struct {
	UserID    int64
	SessionID string
	ExpiresAt time.Time
	ID        string // jti
}

// claims is the token's JSON payload.
type claims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid,omitempty"`
}

// Issue returns a signed access token for the user's session and when it
// expires (whole seconds, as in the token).
func (t *Tokens) Issue(userID int64, sessionID string) (token string, expires time.Time, err error) {
	jti, err := t.newJTI()
	if err != nil {
		return "", time.Time{}, err
	}
	return t.issue(userID, sessionID, t.now(), t.ttl, jti)
}

// IssueAt returns the access token Issue would have made at issuedAt with
// the token id jti: the same bytes every time it is called with the same
// arguments. A refresh retried within the grace window gets the very pair
// the first attempt returned (see Tokens.AccessID).
func (t *Tokens) IssueAt(userID int64, sessionID string, issuedAt time.Time, jti string) (token string, expires time.Time, err error) {
	if jti == "" {
		return "", time.Time{}, errors.New("issue token: empty token id")
	}
	return t.issue(userID, sessionID, issuedAt, t.ttl, jti)
}

// IssueUntil is Issue for a token that expires at until instead of after
// the configured lifetime. Pages keep their token in a cookie for as long as
// the session lasts; it is checked against the session on every request,
// so logging out still ends it at once.
func (t *Tokens) IssueUntil(userID int64, sessionID string, until time.Time) (token string, expires time.Time, err error) {
	now := t.now()
	ttl := until.Sub(now.Truncate(time.Second)).Truncate(time.Second)
	if ttl <= 0 {
		return "", time.Time{}, fmt.Errorf("issue token: expiry %v is not in the future", until)
	}
	jti, err := t.newJTI()
	if err != nil {
		return "", time.Time{}, err
	}
	return t.issue(userID, sessionID, now, ttl, jti)
}

// newJTI is a new random token id.
func (t *Tokens) newJTI() (string, error) {
	jti := make([]byte, 16)
	if _, err := io.ReadFull(t.random, jti); err != nil {
		return "", fmt.Errorf("issue token: read token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(jti), nil
}

// issue signs a token issued at issuedAt and valid for ttl.
func (t *Tokens) issue(userID int64, sessionID string, issuedAt time.Time, ttl time.Duration, jti string) (token string, expires time.Time, err error) {
	switch {
	case len(t.key) == 0:
		return "", time.Time{}, errors.New("issue token: empty signing key")
	case userID <= 0:
		return "", time.Time{}, fmt.Errorf("issue token: user id %d is not positive", userID)
	case sessionID == "":
		return "", time.Time{}, errors.New("issue token: empty session id")
	}
	// JWT times are whole seconds; truncate first so the returned expiry is
	// exactly what the token says.
	now := issuedAt.Truncate(time.Second)
	expires = now.Add(ttl)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatInt(userID, 10),
			ExpiresAt: jwt.NewNumericDate(expires),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		SessionID: sessionID,
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	return token, expires, nil
}

// Parse checks token's signature (HS256 with our key only, whatever the
// header says), issuer, expiry, not-before and issued-at times (with 60 s
// leeway), and that it names a user and a session. Every failure is
// blog.ErrInvalidToken: the client learns nothing about which check failed.
// Parse does not know whether the session still exists; the caller checks.
func (t *Tokens) Parse(token string) (Claims, error) {
	// A token is untrusted input; refuse huge ones before splitting them.
	if len(t.key) == 0 || len(token) > maxTokenLen {
		return Claims{}, blog.ErrInvalidToken
	}
	var c claims
	if _, err := t.parser.ParseWithClaims(token, &c, t.keyFor); err != nil {
		return Claims{}, blog.ErrInvalidToken
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	// The round trip rejects "+7" and "007": one user, one spelling.
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != c.Subject || c.SessionID == "" {
		return Claims{}, blog.ErrInvalidToken
	}
	return Claims{UserID: id, SessionID: c.SessionID, ExpiresAt: c.ExpiresAt.Time, ID: c.ID}, nil
}

// keyFor always returns our key: header fields such as jwk, jku, kid and
// x5u are attacker-controlled and never choose the key. The method check
// repeats WithValidMethods so that a change to the parser options cannot
// silently accept another algorithm.
func (t *Tokens) keyFor(tok *jwt.Token) (any, error) {
	if tok.Method != jwt.SigningMethodHS256 {
		return nil, errors.New("unexpected signing method")
	}
	return t.key, nil
}

// NewOpaqueToken returns a new refresh or password-reset secret: 32 bytes
// from random (crypto/rand when nil) in unpadded base64url, and the hash to
// store in its place (see HashOpaque).
func NewOpaqueToken(random io.Reader) (token string, hash []byte, err error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", nil, fmt.Errorf("new opaque token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashOpaque(token), nil
}

// HashOpaque is the SHA-256 of an opaque token's text, the form stored in
// the database so a leaked table holds no usable secret. A plain hash is
// enough: the token has 256 random bits, so there is nothing to brute-force.
func HashOpaque(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
