package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"testing/iotest"
	"time"
)

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func TestCSRF(t *testing.T) {
	c := NewCSRF(testKey)
	token := c.Token("session:abc")
	masked, err := c.MaskedToken("session:abc", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	zeroPad, err := c.MaskedToken("session:abc", bytes.NewReader(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(masked)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name           string
		csrf           *CSRF
		binding, token string
		want           bool
	}{
		{"its own binding", c, "session:abc", token, true},
		{"another binding", c, "session:abd", token, false},
		{"another key", NewCSRF(attackerKey), "session:abc", token, false},
		{"empty secret", NewCSRF(nil), "session:abc", NewCSRF(nil).Token("session:abc"), false},
		{"empty binding", c, "", c.Token(""), false},
		{"empty token", c, "session:abc", "", false},
		{"not base64", c, "session:abc", token + "!", false},
		{"truncated", c, "session:abc", token[:len(token)-2], false},
		{"the access-token key's MAC", c, "session:abc", b64url(hmacSHA256(testKey, "session:abc")), false},
		{"masked", c, "session:abc", masked, true},
		{"masked, another binding", c, "session:abd", masked, false},
		{"masked, another key", NewCSRF(attackerKey), "session:abc", masked, false},
		{"masked, a bit flipped", c, "session:abc", string(flipped), false},
		{"masked, truncated", c, "session:abc", masked[:len(masked)-2], false},
		{"masked with a zero pad is the MAC after zeros", c, "session:abc", zeroPad, true},
		{"the MAC twice", c, "session:abc", b64url(append(c.mac("session:abc"), c.mac("session:abc")...)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.csrf.Valid(tt.binding, tt.token); got != tt.want {
				t.Errorf("Valid(%q, %q) = %v, want %v", tt.binding, tt.token, got, tt.want)
			}
		})
	}
}

// TestMaskedTokenDiffers checks that no two pages carry the same bytes
// for one binding's token, and that a failing random source is an error.
func TestMaskedTokenDiffers(t *testing.T) {
	c := NewCSRF(testKey)
	seen := map[string]bool{}
	for range 100 {
		tok, err := c.MaskedToken("session:abc", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] {
			t.Fatalf("MaskedToken repeated %q", tok)
		}
		seen[tok] = true
	}
	if _, err := c.MaskedToken("session:abc", iotest.ErrReader(iotest.ErrTimeout)); err == nil {
		t.Errorf("MaskedToken with a failing random source succeeded")
	}
}

func TestIssueUntil(t *testing.T) {
	tk, c := newTokens(t)
	c.Set(epoch.Add(300 * time.Millisecond))
	until := epoch.Add(30 * 24 * time.Hour)
	token, expires, err := tk.IssueUntil(42, "session-1", until)
	if err != nil {
		t.Fatal(err)
	}
	if !expires.Equal(until) {
		t.Errorf("IssueUntil() expires = %v, want %v", expires, until)
	}
	got, err := tk.Parse(token)
	if err != nil {
		t.Fatalf("Parse(IssueUntil()) error: %v", err)
	}
	if got.UserID != 42 || got.SessionID != "session-1" || !got.ExpiresAt.Equal(until) {
		t.Errorf("Parse(IssueUntil()) = %+v, want user 42, session-1, expiring %v", got, until)
	}
	c.Set(until.Add(leeway + time.Second))
	if _, err := tk.Parse(token); err == nil {
		t.Errorf("Parse() after the expiry succeeded")
	}
	if _, _, err := tk.IssueUntil(42, "session-1", until.Add(-time.Hour)); err == nil {
		t.Errorf("IssueUntil(a past time) succeeded")
	}
}

// FuzzCSRFValid checks that no token a client makes up is valid, however
// it is spelled, and that every masked token made for a binding is.
func FuzzCSRFValid(f *testing.F) {
	c := NewCSRF(testKey)
	f.Add("session:abc", c.Token("session:abc"), []byte{})
	f.Add("session:abc", "AAAA", make([]byte, 32))
	f.Add("anon:x", "", []byte("0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, binding, token string, pad []byte) {
		want := binding != "" && c.unmasked(token) == c.Token(binding)
		if got := c.Valid(binding, token); got != want {
			t.Fatalf("Valid(%q, %q) = %v, want %v", binding, token, got, want)
		}
		if len(pad) >= 32 && binding != "" {
			masked, err := c.MaskedToken(binding, bytes.NewReader(pad))
			if err != nil || !c.Valid(binding, masked) {
				t.Fatalf("MaskedToken(%q) = %q, %v: not valid", binding, masked, err)
			}
		}
	})
}

// unmasked is the MAC a token carries, unmasked if it is masked, in
// Token's spelling; "" for what is no token.
func (c *CSRF) unmasked(token string) string {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	switch {
	case err != nil:
		return ""
	case len(b) == sha256.Size:
		return b64url(b)
	case len(b) == 2*sha256.Size:
		for i := range sha256.Size {
			b[sha256.Size+i] ^= b[i]
		}
		return b64url(b[sha256.Size:])
	}
	return ""
}
