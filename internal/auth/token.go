package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"sync"
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
// a session id. It is safe for concurrent use.
type Tokens struct {
	key       []byte
	ttl       time.Duration
	now       func() time.Time
	random    io.Reader
	parser    *jwt.Parser
	validator *jwt.Validator // the parser's claim checks, for parseIssued
	macs      sync.Pool      // HMAC-SHA256 states keyed with key

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
	checks := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	}
	t := &Tokens{
		key:       append([]byte(nil), key...), // the caller may reuse its slice
		ttl:       ttl,
		now:       now,
		random:    random,
		refresh:   deriveRefreshKeys(key),
		parser:    jwt.NewParser(append(checks, jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}))...),
		validator: jwt.NewValidator(checks...),
	}
	t.macs.New = func() any { return hmac.New(sha256.New, t.key) }
	return t
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
	c, handled, err := t.parseIssued(token)
	if !handled {
		_, err = t.parser.ParseWithClaims(token, &c, t.keyFor)
	}
	if err != nil {
		return Claims{}, blog.ErrInvalidToken
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	// The round trip rejects "+7" and "007": one user, one spelling.
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != c.Subject || c.SessionID == "" {
		return Claims{}, blog.ErrInvalidToken
	}
	return Claims{UserID: id, SessionID: c.SessionID, ExpiresAt: c.ExpiresAt.Time, ID: c.ID}, nil
}

// issuedHeader is the encoded header of every token Issue signs:
// {"alg":"HS256","typ":"JWT"}.
const issuedHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// errInvalid is parseIssued's failure; Parse turns every failure into
// blog.ErrInvalidToken.
var errInvalid = errors.New("invalid token")

// strictB64 is how token segments are decoded, as WithStrictDecoding
// makes the jwt parser do: unpadded base64url, no stray bits.
var strictB64 = base64.RawURLEncoding.Strict()

// parseIssued checks a token that has exactly the header Issue writes,
// and reports handled = false for any other, which goes to the general
// jwt parser. Every authenticated request parses a token, and the
// general parser's decoding of the header into a map and its allocations
// were a seventh of the CPU of GET /api/users/me (quill-bench -profile).
//
// It decides as the jwt parser does: the same strict base64url, the
// signature checked with our key (before the claims are even decoded),
// the claims decoded by json.Unmarshal into the same type and checked by
// the parser's own validator. TestParseIssuedAgrees holds it to that.
func (t *Tokens) parseIssued(token string) (c claims, handled bool, err error) {
	header, rest, _ := strings.Cut(token, ".")
	if header != issuedHeader {
		return claims{}, false, nil
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sig, '.') >= 0 || len(sig) != strictB64.EncodedLen(sha256.Size) {
		return claims{}, true, errInvalid
	}
	var want, got [sha256.Size]byte
	if n, err := strictB64.Decode(want[:], []byte(sig)); err != nil || n != len(want) {
		return claims{}, true, errInvalid
	}
	mac := t.macs.Get().(hash.Hash)
	mac.Reset()
	io.WriteString(mac, token[:len(header)+1+len(payload)])
	mac.Sum(got[:0])
	t.macs.Put(mac)
	if !hmac.Equal(got[:], want[:]) {
		return claims{}, true, errInvalid
	}
	raw, err := strictB64.DecodeString(payload)
	if err != nil {
		return claims{}, true, errInvalid
	}
	var laidOut bool
	if c, laidOut = issuedClaims(raw); !laidOut {
		if err := json.Unmarshal(raw, &c); err != nil {
			return claims{}, true, errInvalid
		}
	}
	if err := t.validator.Validate(&c); err != nil {
		return claims{}, true, errInvalid
	}
	return c, true, nil
}

// issuedClaims decodes claims laid out exactly as Issue writes them,
// {"iss":"quill","sub":"…","exp":…,"iat":…,"jti":"…","sid":"…"} with digits
// and base64url characters only, into what json.Unmarshal would make of
// them; ok is false for any other payload, which json.Unmarshal then
// decodes. The payload's signature has been checked, so it is one Issue
// wrote; this is only about speed: json.Unmarshal was half of parsing a
// token in profiles of GET /api/users/me.
func issuedClaims(p []byte) (c claims, ok bool) {
	rest, ok := bytes.CutPrefix(p, []byte(`{"iss":"quill","sub":"`))
	if !ok {
		return claims{}, false
	}
	var sub, jti, sid []byte
	var exp, iat int64
	if sub, rest, ok = cutField(rest, isDigit, `","exp":`); !ok {
		return claims{}, false
	}
	if exp, rest, ok = cutSeconds(rest, `,"iat":`); !ok {
		return claims{}, false
	}
	if iat, rest, ok = cutSeconds(rest, `,"jti":"`); !ok {
		return claims{}, false
	}
	if jti, rest, ok = cutField(rest, isBase64URL, `","sid":"`); !ok {
		return claims{}, false
	}
	if sid, rest, ok = cutField(rest, isBase64URL, `"}`); !ok || len(rest) != 0 {
		return claims{}, false
	}
	c.Issuer, c.Subject, c.ID, c.SessionID = issuer, string(sub), string(jti), string(sid)
	// As jwt.NumericDate.UnmarshalJSON makes them.
	c.ExpiresAt, c.IssuedAt = jwt.NewNumericDate(time.Unix(exp, 0)), jwt.NewNumericDate(time.Unix(iat, 0))
	return c, true
}

// cutField splits off a non-empty run of bytes for which valid holds, and
// then the literal next.
func cutField(b []byte, valid func(byte) bool, next string) (field, rest []byte, ok bool) {
	i := 0
	for i < len(b) && valid(b[i]) {
		i++
	}
	rest, ok = bytes.CutPrefix(b[i:], []byte(next))
	return b[:i], rest, ok && i > 0
}

// cutSeconds splits off a JSON integer of at most 12 digits (no sign, no
// leading zero), and then the literal next.
func cutSeconds(b []byte, next string) (n int64, rest []byte, ok bool) {
	digits, rest, ok := cutField(b, isDigit, next)
	if !ok || len(digits) > 12 || (digits[0] == '0' && len(digits) > 1) {
		return 0, nil, false
	}
	for _, d := range digits {
		n = n*10 + int64(d-'0')
	}
	return n, rest, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
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
