package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/testclock"
)

var (
	testKey     = []byte("0123456789abcdef0123456789abcdef")
	attackerKey = []byte("attacker-chosen-key-attacker-key")
	epoch       = testclock.Epoch
)

func newTokens(tb testing.TB) (*Tokens, *testclock.Clock) {
	tb.Helper()
	c := testclock.New()
	return NewTokens(testKey, 30*time.Minute, c.Now, nil), c
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jsonSegment(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b64url(b)
}

// forge builds a token by hand, so tests can write headers and claims the
// jwt package would refuse to produce. A nil hash leaves the signature empty.
func forge(tb testing.TB, header, claims map[string]any, h func() hash.Hash, key []byte) string {
	tb.Helper()
	signing := jsonSegment(tb, header) + "." + jsonSegment(tb, claims)
	if h == nil {
		return signing + "."
	}
	mac := hmac.New(h, key)
	mac.Write([]byte(signing))
	return signing + "." + b64url(mac.Sum(nil))
}

// goodClaims are valid claims at epoch; tests change one thing each.
func goodClaims(changes map[string]any) map[string]any {
	c := map[string]any{
		"sub": "42",
		"sid": "session-1",
		"iss": "quill",
		"iat": epoch.Unix(),
		"exp": epoch.Add(30 * time.Minute).Unix(),
		"jti": "token-id",
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func hs256Header(extra map[string]any) map[string]any {
	h := map[string]any{"alg": "HS256", "typ": "JWT"}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func TestIssueParse(t *testing.T) {
	tk, _ := newTokens(t)
	token, expires, err := tk.Issue(42, "session-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := epoch.Add(30 * time.Minute); !expires.Equal(want) {
		t.Errorf("Issue() expires = %v, want %v", expires, want)
	}
	got, err := tk.Parse(token)
	if err != nil {
		t.Fatalf("Parse(Issue()) error: %v", err)
	}
	want := Claims{UserID: 42, SessionID: "session-1", ExpiresAt: expires, ID: got.ID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(Issue()) mismatch (-want +got):\n%s", diff)
	}
	if n := len(got.ID); n != 22 { // 16 bytes in unpadded base64url
		t.Errorf("Parse(Issue()).ID = %q (%d characters), want 22", got.ID, n)
	}
}

func TestIssueFormat(t *testing.T) {
	c := testclock.New()
	c.Set(epoch.Add(500 * time.Millisecond))
	random := bytes.NewReader(bytes.Repeat([]byte{0xAB}, 16))
	tk := NewTokens(testKey, time.Hour, c.Now, random)
	token, expires, err := tk.Issue(7, "sess")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("Issue() = %q, want three segments", token)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if got, want := string(header), `{"alg":"HS256","typ":"JWT"}`; got != want {
		t.Errorf("header = %s, want %s", got, want)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"iss": "quill",
		"sub": "7",
		"sid": "sess",
		"iat": float64(epoch.Unix()),
		"exp": float64(epoch.Add(time.Hour).Unix()),
		"jti": b64url(bytes.Repeat([]byte{0xAB}, 16)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims mismatch (-want +got):\n%s", diff)
	}
	// The returned expiry is the one in the token, whole seconds.
	if !expires.Equal(epoch.Add(time.Hour)) {
		t.Errorf("Issue() expires = %v, want %v", expires, epoch.Add(time.Hour))
	}
}

func TestIssueUnique(t *testing.T) {
	tk, _ := newTokens(t)
	a, _, err := tk.Issue(1, "s")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := tk.Issue(1, "s")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two tokens issued in the same second are equal; jti must differ")
	}
}

func TestIssueErrors(t *testing.T) {
	c := testclock.New()
	tests := []struct {
		name      string
		tk        *Tokens
		userID    int64
		sessionID string
	}{
		{"empty key", NewTokens(nil, time.Hour, c.Now, nil), 1, "s"},
		{"zero user", NewTokens(testKey, time.Hour, c.Now, nil), 0, "s"},
		{"negative user", NewTokens(testKey, time.Hour, c.Now, nil), -1, "s"},
		{"no session", NewTokens(testKey, time.Hour, c.Now, nil), 1, ""},
		{"random fails", NewTokens(testKey, time.Hour, c.Now, iotest.ErrReader(errors.New("no entropy"))), 1, "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if token, _, err := tt.tk.Issue(tt.userID, tt.sessionID); err == nil {
				t.Errorf("Issue(%d, %q) = %q, nil, want an error", tt.userID, tt.sessionID, token)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tk, _ := newTokens(t)
	tests := []struct {
		name  string
		token string
	}{
		{"hand-made", forge(t, hs256Header(nil), goodClaims(nil), sha256.New, testKey)},
		{"no typ", forge(t, map[string]any{"alg": "HS256"}, goodClaims(nil), sha256.New, testKey)},
		{"expired within leeway", forge(t, hs256Header(nil), goodClaims(map[string]any{"exp": epoch.Add(-59 * time.Second).Unix()}), sha256.New, testKey)},
		{"iat within leeway", forge(t, hs256Header(nil), goodClaims(map[string]any{"iat": epoch.Add(59 * time.Second).Unix()}), sha256.New, testKey)},
		{"nbf within leeway", forge(t, hs256Header(nil), goodClaims(map[string]any{"nbf": epoch.Add(59 * time.Second).Unix()}), sha256.New, testKey)},
		{"nbf past", forge(t, hs256Header(nil), goodClaims(map[string]any{"nbf": epoch.Add(-time.Hour).Unix()}), sha256.New, testKey)},
		{"no iat", forge(t, hs256Header(nil), goodClaims(map[string]any{"iat": nil}), sha256.New, testKey)},
		{"no jti", forge(t, hs256Header(nil), goodClaims(map[string]any{"jti": nil}), sha256.New, testKey)},
		// Header key material is ignored, not obeyed: signed with our key, these pass.
		{"kid, jku, x5u, jwk ignored", forge(t, hs256Header(map[string]any{
			"kid": "../../../dev/null", "jku": "https://evil.example/jwks.json", "x5u": "https://evil.example/cert.pem",
			"jwk": map[string]any{"kty": "oct", "k": b64url(attackerKey)},
		}), goodClaims(nil), sha256.New, testKey)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tk.Parse(tt.token)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.token, err)
			}
			if got.UserID != 42 || got.SessionID != "session-1" {
				t.Errorf("Parse(%q) = %+v, want user 42, session session-1", tt.token, got)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tk, _ := newTokens(t)
	good, _, err := tk.Issue(42, "session-1")
	if err != nil {
		t.Fatal(err)
	}
	goodParts := strings.Split(good, ".")
	hs := func(changes map[string]any) string {
		return forge(t, hs256Header(nil), goodClaims(changes), sha256.New, testKey)
	}
	withAlg := func(alg string, h func() hash.Hash, key []byte) string {
		return forge(t, map[string]any{"alg": alg, "typ": "JWT"}, goodClaims(nil), h, key)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(goodClaims(nil))).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not.a.token"},
		{"alg none", withAlg("none", nil, nil)},
		{"alg None", withAlg("None", nil, nil)},
		{"alg NONE", withAlg("NONE", nil, nil)},
		{"alg nOnE", withAlg("nOnE", nil, nil)},
		{"alg none with our signature", withAlg("none", sha256.New, testKey)},
		{"alg hs256 lower case", withAlg("hs256", sha256.New, testKey)},
		{"alg missing", forge(t, map[string]any{"typ": "JWT"}, goodClaims(nil), sha256.New, testKey)},
		{"HS384 same key", withAlg("HS384", sha512.New384, testKey)},
		{"HS512 same key", withAlg("HS512", sha512.New, testKey)},
		{"RS256 signed with RSA", rs256},
		{"RS256 header, HMAC with our key", withAlg("RS256", sha256.New, testKey)},
		{"ES256 header", withAlg("ES256", sha256.New, testKey)},
		{"wrong key", forge(t, hs256Header(nil), goodClaims(nil), sha256.New, attackerKey)},
		{"empty key", forge(t, hs256Header(nil), goodClaims(nil), sha256.New, nil)},
		{"empty signature", goodParts[0] + "." + goodParts[1] + "."},
		{"no signature segment", goodParts[0] + "." + goodParts[1]},
		{"truncated signature", good[:len(good)-4]},
		{"signature not base64url", goodParts[0] + "." + goodParts[1] + "." + strings.Repeat("+", 43)},
		{"padded signature", good + "="},
		{"tampered claims", goodParts[0] + "." + jsonSegment(t, goodClaims(map[string]any{"sub": "1"})) + "." + goodParts[2]},
		{"tampered header", b64url([]byte(`{"alg":"HS256","typ":"JWT","x":1}`)) + "." + goodParts[1] + "." + goodParts[2]},
		{"jwk with attacker key", forge(t, hs256Header(map[string]any{
			"jwk": map[string]any{"kty": "oct", "k": b64url(attackerKey)},
		}), goodClaims(nil), sha256.New, attackerKey)},
		{"kid with attacker key", forge(t, hs256Header(map[string]any{"kid": "attacker"}), goodClaims(nil), sha256.New, attackerKey)},
		{"jku with attacker key", forge(t, hs256Header(map[string]any{"jku": "https://evil.example/jwks.json"}), goodClaims(nil), sha256.New, attackerKey)},
		{"x5u with attacker key", forge(t, hs256Header(map[string]any{"x5u": "https://evil.example/cert.pem"}), goodClaims(nil), sha256.New, attackerKey)},
		{"missing exp", hs(map[string]any{"exp": nil})},
		{"expired beyond leeway", hs(map[string]any{"exp": epoch.Add(-61 * time.Second).Unix()})},
		{"future nbf", hs(map[string]any{"nbf": epoch.Add(61 * time.Second).Unix()})},
		{"future iat", hs(map[string]any{"iat": epoch.Add(61 * time.Second).Unix()})},
		{"wrong iss", hs(map[string]any{"iss": "quill2"})},
		{"iss upper case", hs(map[string]any{"iss": "QUILL"})},
		{"missing iss", hs(map[string]any{"iss": nil})},
		{"missing sid", hs(map[string]any{"sid": nil})},
		{"empty sid", hs(map[string]any{"sid": ""})},
		{"sid not a string", hs(map[string]any{"sid": 5})},
		{"missing sub", hs(map[string]any{"sub": nil})},
		{"non-numeric sub", hs(map[string]any{"sub": "alice"})},
		{"negative sub", hs(map[string]any{"sub": "-1"})},
		{"zero sub", hs(map[string]any{"sub": "0"})},
		{"sub with plus", hs(map[string]any{"sub": "+42"})},
		{"sub with leading zero", hs(map[string]any{"sub": "042"})},
		{"sub overflows int64", hs(map[string]any{"sub": "9223372036854775808"})},
		{"sub as number", hs(map[string]any{"sub": 42})},
		{"sub with space", hs(map[string]any{"sub": " 42"})},
		{"claims not an object", forge(t, hs256Header(nil), nil, sha256.New, testKey)},
		{"megabyte of dots", strings.Repeat(".", 1<<20)},
		{"just over 4 KiB", hs(map[string]any{"pad": strings.Repeat("x", 4096)})},
		{"extra segment", good + ".x"},
		{"extra empty segment", good + "."},
		{"two tokens", good + "." + good},
		{"bearer prefix", "Bearer " + good},
		{"trailing space", good + " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tk.Parse(tt.token)
			if err != blog.ErrInvalidToken {
				t.Errorf("Parse(%.60q) = %+v, %v, want blog.ErrInvalidToken", tt.token, got, err)
			}
			if diff := cmp.Diff(Claims{}, got); diff != "" {
				t.Errorf("Parse(%.60q) returned claims with an error (-want +got):\n%s", tt.token, diff)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	tk, c := newTokens(t)
	token, expires, err := tk.Issue(42, "session-1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		now   time.Time
		valid bool
	}{
		{"at issue", epoch, true},
		{"just before expiry", expires.Add(-time.Second), true},
		{"at expiry, within leeway", expires, true},
		{"59 s late", expires.Add(59 * time.Second), true},
		{"61 s late", expires.Add(61 * time.Second), false},
		{"a day late", expires.Add(24 * time.Hour), false},
		{"issued 59 s in the future", epoch.Add(-59 * time.Second), true},
		{"issued 61 s in the future", epoch.Add(-61 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Set(tt.now)
			_, err := tk.Parse(token)
			if (err == nil) != tt.valid {
				t.Errorf("at %v: Parse(token expiring %v) = %v, want valid %t", tt.now, expires, err, tt.valid)
			}
		})
	}
}

func TestParseEmptyKey(t *testing.T) {
	c := testclock.New()
	tk := NewTokens(nil, time.Hour, c.Now, nil)
	token := forge(t, hs256Header(nil), goodClaims(nil), sha256.New, nil)
	if _, err := tk.Parse(token); err != blog.ErrInvalidToken {
		t.Errorf("Parse(token signed with the empty key) with an empty key = %v, want blog.ErrInvalidToken", err)
	}
}

func TestNewTokensCopiesKey(t *testing.T) {
	key := append([]byte(nil), testKey...)
	c := testclock.New()
	tk := NewTokens(key, time.Hour, c.Now, nil)
	token, _, err := tk.Issue(1, "s")
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	if _, err := tk.Parse(token); err != nil {
		t.Errorf("Parse after the caller cleared its key slice = %v, want nil", err)
	}
}

func TestParseConcurrent(t *testing.T) {
	tk, _ := newTokens(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			token, _, err := tk.Issue(int64(i+1), "s")
			if err != nil {
				t.Error(err)
				return
			}
			if c, err := tk.Parse(token); err != nil || c.UserID != int64(i+1) {
				t.Errorf("Parse = %+v, %v, want user %d", c, err, i+1)
			}
		})
	}
	wg.Wait()
}

func TestOpaqueToken(t *testing.T) {
	random := bytes.NewReader(bytes.Repeat([]byte{1}, 32))
	token, hash, err := NewOpaqueToken(random)
	if err != nil {
		t.Fatal(err)
	}
	if want := b64url(bytes.Repeat([]byte{1}, 32)); token != want {
		t.Errorf("NewOpaqueToken() token = %q, want %q", token, want)
	}
	sum := sha256.Sum256([]byte(token))
	if !bytes.Equal(hash, sum[:]) {
		t.Errorf("NewOpaqueToken() hash = %x, want SHA-256 of the token %x", hash, sum)
	}
	if got := HashOpaque(token); !bytes.Equal(got, hash) {
		t.Errorf("HashOpaque(token) = %x, want %x", got, hash)
	}
	if got := HashOpaque(token + "x"); bytes.Equal(got, hash) {
		t.Error("HashOpaque of a different token gave the same hash")
	}

	a, _, err := NewOpaqueToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := NewOpaqueToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || len(a) != 43 {
		t.Errorf("NewOpaqueToken(nil) = %q, %q: want two different 43-character tokens", a, b)
	}

	if _, _, err := NewOpaqueToken(bytes.NewReader(make([]byte, 31))); err == nil {
		t.Error("NewOpaqueToken(short random) succeeded, want an error")
	}
}

func BenchmarkParse(b *testing.B) {
	c := testclock.New()
	tk := NewTokens(testKey, time.Hour, c.Now, nil)
	token, _, err := tk.Issue(42, "session-1")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tk.Parse(token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDots(b *testing.B) {
	c := testclock.New()
	tk := NewTokens(testKey, time.Hour, c.Now, nil)
	dots := strings.Repeat(".", 1<<20)
	for b.Loop() {
		tk.Parse(dots)
	}
}

func FuzzParseToken(f *testing.F) {
	c := testclock.New()
	tk := NewTokens(testKey, time.Hour, c.Now, nil)
	good, _, err := tk.Issue(42, "session-1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(forge(f, map[string]any{"alg": "none"}, goodClaims(nil), nil, nil))
	f.Add(forge(f, hs256Header(map[string]any{"jwk": map[string]any{"kty": "oct", "k": "AA"}}), goodClaims(nil), sha256.New, attackerKey))
	f.Add(forge(f, hs256Header(nil), goodClaims(map[string]any{"sub": "-1"}), sha256.New, testKey))
	f.Add(forge(f, hs256Header(nil), goodClaims(map[string]any{"exp": 1e300}), sha256.New, testKey))
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		got, err := tk.Parse(token)
		switch {
		case err == nil && (got.UserID <= 0 || got.SessionID == ""):
			t.Errorf("Parse(%q) = %+v, nil: accepted without a user or session", token, got)
		case err != nil && err != blog.ErrInvalidToken:
			t.Errorf("Parse(%q) error = %v, want blog.ErrInvalidToken", token, err)
		}
	})
}

// signRaw signs raw claims JSON under the header Issue writes, so tests
// reach parseIssued with any payload, well-formed or not.
func signRaw(claimsJSON string, key []byte) string {
	signing := issuedHeader + "." + b64url([]byte(claimsJSON))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + b64url(mac.Sum(nil))
}

// libraryParse is what Parse did before parseIssued: the general jwt
// parser alone.
func libraryParse(tk *Tokens, token string) (claims, error) {
	var c claims
	_, err := tk.parser.ParseWithClaims(token, &c, tk.keyFor)
	return c, err
}

// checkAgrees fails t unless parseIssued and the general parser decide
// token alike, with the same claims when they accept it.
func checkAgrees(t *testing.T, tk *Tokens, token string) {
	t.Helper()
	fast, handled, fastErr := tk.parseIssued(token)
	if !handled {
		if strings.HasPrefix(token, issuedHeader+".") {
			t.Errorf("parseIssued(%.80q) did not handle a token with the issued header", token)
		}
		return
	}
	slow, slowErr := libraryParse(tk, token)
	if (fastErr == nil) != (slowErr == nil) {
		t.Fatalf("parseIssued(%.80q) error = %v, the jwt parser's = %v", token, fastErr, slowErr)
	}
	if fastErr == nil {
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Errorf("parseIssued(%.80q) claims differ from the jwt parser's (-jwt +parseIssued):\n%s", token, diff)
		}
	}
}

func TestIssuedHeader(t *testing.T) {
	if got := b64url([]byte(`{"alg":"HS256","typ":"JWT"}`)); got != issuedHeader {
		t.Errorf("issuedHeader = %q, want %q", issuedHeader, got)
	}
	tk, _ := newTokens(t)
	token, _, err := tk.Issue(1, "s")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, issuedHeader+".") {
		t.Errorf("Issue() = %q, want it to start with issuedHeader", token)
	}
}

func TestParseIssuedAgrees(t *testing.T) {
	tk, c := newTokens(t)
	good, _, err := tk.Issue(42, "session-1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	exp, iat := epoch.Add(30*time.Minute).Unix(), epoch.Unix()
	claimsJSON := func(extra string) string {
		return fmt.Sprintf(`{"iss":"quill","sub":"42","sid":"s","iat":%d,"exp":%d%s}`, iat, exp, extra)
	}
	tokens := map[string]string{
		"issued":                 good,
		"good raw":               signRaw(claimsJSON(""), testKey),
		"fractional exp":         signRaw(fmt.Sprintf(`{"iss":"quill","sub":"42","sid":"s","exp":%d.75}`, exp), testKey),
		"exp as string":          signRaw(fmt.Sprintf(`{"iss":"quill","sub":"42","sid":"s","exp":"%d"}`, exp), testKey),
		"exp null":               signRaw(`{"iss":"quill","sub":"42","sid":"s","exp":null}`, testKey),
		"exp huge":               signRaw(`{"iss":"quill","sub":"42","sid":"s","exp":1e300}`, testKey),
		"exp negative":           signRaw(`{"iss":"quill","sub":"42","sid":"s","exp":-1}`, testKey),
		"iat in the future":      signRaw(fmt.Sprintf(`{"iss":"quill","sub":"42","sid":"s","exp":%d,"iat":%d}`, exp, iat+3600), testKey),
		"nbf in the future":      signRaw(claimsJSON(fmt.Sprintf(`,"nbf":%d`, iat+3600)), testKey),
		"aud ignored":            signRaw(claimsJSON(`,"aud":["x","y"]`), testKey),
		"aud wrong type":         signRaw(claimsJSON(`,"aud":5`), testKey),
		"unknown claim":          signRaw(claimsJSON(`,"admin":true`), testKey),
		"duplicate iss":          signRaw(claimsJSON(`,"iss":"other"`), testKey),
		"sid not a string":       signRaw(claimsJSON(`,"sid":5`), testKey),
		"trailing data":          signRaw(claimsJSON("")+" {}", testKey),
		"trailing space":         signRaw(claimsJSON("")+" ", testKey),
		"array":                  signRaw(`[]`, testKey),
		"null":                   signRaw(`null`, testKey),
		"not JSON":               signRaw(`{`, testKey),
		"invalid UTF-8":          signRaw("{\"iss\":\"quill\xff\"}", testKey),
		"wrong key":              signRaw(claimsJSON(""), attackerKey),
		"padded signature":       good + "=",
		"short signature":        good[:len(good)-1],
		"signature bad base64":   parts[0] + "." + parts[1] + "." + strings.Repeat("*", 43),
		"signature stray bits":   parts[0] + "." + parts[1] + "." + parts[2][:42] + "B",
		"payload padded":         parts[0] + "." + parts[1] + "=." + parts[2],
		"payload not base64":     parts[0] + ".!!!." + parts[2],
		"four segments":          good + ".x",
		"no signature":           parts[0] + "." + parts[1],
		"empty signature":        parts[0] + "." + parts[1] + ".",
		"layout, exp 0":          signRaw(`{"iss":"quill","sub":"42","exp":0,"iat":0,"jti":"j","sid":"s"}`, testKey),
		"layout, exp leading 0":  signRaw(fmt.Sprintf(`{"iss":"quill","sub":"42","exp":0%d,"iat":%d,"jti":"j","sid":"s"}`, exp, iat), testKey),
		"layout, empty jti":      signRaw(fmt.Sprintf(`{"iss":"quill","sub":"42","exp":%d,"iat":%d,"jti":"","sid":"s"}`, exp, iat), testKey),
		"layout, sub 007":        signRaw(fmt.Sprintf(`{"iss":"quill","sub":"007","exp":%d,"iat":%d,"jti":"j","sid":"s"}`, exp, iat), testKey),
		"layout, escaped sid":    signRaw(fmt.Sprintf(`{"iss":"quill","sub":"42","exp":%d,"iat":%d,"jti":"j","sid":"\u0073"}`, exp, iat), testKey),
		"layout, 13-digit exp":   signRaw(`{"iss":"quill","sub":"42","exp":1234567890123,"iat":0,"jti":"j","sid":"s"}`, testKey),
		"layout, trailing space": signRaw(fmt.Sprintf(`{"iss":"quill","sub":"42","exp":%d,"iat":%d,"jti":"j","sid":"s"} `, exp, iat), testKey),
		"other header, our key":  forge(t, hs256Header(map[string]any{"kid": "x"}), goodClaims(nil), sha256.New, testKey),
		"alg none, issued shape": issuedHeader + "." + parts[1] + ".",
	}
	for _, now := range []time.Time{epoch, epoch.Add(time.Hour), epoch.Add(-time.Hour)} {
		c.Set(now)
		for name, token := range tokens {
			t.Run(name, func(t *testing.T) { checkAgrees(t, tk, token) })
		}
	}
}

// TestIssuedClaimsLayout checks that tokens Issue writes take the
// laid-out path of parseIssued, so a change in how the jwt package
// marshals claims cannot quietly make every request slower.
func TestIssuedClaimsLayout(t *testing.T) {
	tk, _ := newTokens(t)
	token, _, err := tk.Issue(42, "Zm9v-_bar")
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	got, ok := issuedClaims(payload)
	if !ok {
		t.Fatalf("issuedClaims(%s) did not match the layout Issue writes", payload)
	}
	var want claims
	if err := json.Unmarshal(payload, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issuedClaims(%s) differs from json.Unmarshal (-want +got):\n%s", payload, diff)
	}
}

func FuzzParseIssuedAgrees(f *testing.F) {
	c := testclock.New()
	tk := NewTokens(testKey, time.Hour, c.Now, nil)
	f.Add(fmt.Sprintf(`{"iss":"quill","sub":"42","sid":"s","iat":%d,"exp":%d}`, epoch.Unix(), epoch.Add(time.Hour).Unix()), int64(0))
	f.Add(`{"iss":"quill","sub":"42","sid":"s","exp":1e300,"nbf":-1e300}`, int64(0))
	f.Add(`{"exp":"1","aud":[1]}`, int64(-61))
	f.Add(fmt.Sprintf(`{"iss":"quill","sub":"42","exp":%d,"iat":%d,"jti":"abc","sid":"s-1"}`, epoch.Add(time.Hour).Unix(), epoch.Unix()), int64(0))
	f.Fuzz(func(t *testing.T, claimsJSON string, skew int64) {
		c.Set(epoch.Add(time.Duration(skew) * time.Second))
		checkAgrees(t, tk, signRaw(claimsJSON, testKey))
	})
}

func TestDerive(t *testing.T) {
	a := NewTokens([]byte("a key of thirty-two bytes or more!"), time.Minute, nil, nil)
	b := NewTokens([]byte("another key of thirty-two bytes!!"), time.Minute, nil, nil)
	x := a.Derive("decoy", []byte("alice"))
	if len(x) != 32 || !bytes.Equal(x, a.Derive("decoy", []byte("alice"))) {
		t.Errorf("Derive() = %x, want 32 bytes, the same each time", x)
	}
	for name, other := range map[string][]byte{
		"other data":    a.Derive("decoy", []byte("bob")),
		"other purpose": a.Derive("other", []byte("alice")),
		"other key":     b.Derive("decoy", []byte("alice")),
		"shifted":       a.Derive("decoya", []byte("lice")),
	} {
		if bytes.Equal(x, other) {
			t.Errorf("Derive() with %s is the same", name)
		}
	}
}
