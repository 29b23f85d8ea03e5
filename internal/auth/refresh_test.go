package auth

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

const testSession = "AAAAAAAAAAAAAAAAAAAAAA" // the shape of quill's session ids

func TestRefreshRoundTrip(t *testing.T) {
	tokens, _ := newTokens(t)
	first, err := tokens.NewRefresh(testSession)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 96 {
		t.Errorf("NewRefresh(%q) has %d characters, want 96", testSession, len(first))
	}
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		t.Fatalf("NewRefresh() = %q, not unpadded base64url: %v", first, err)
	}
	if secret := raw[2+len(testSession) : 2+len(testSession)+32]; bytes.Count(secret, []byte{0}) == 32 {
		t.Errorf("NewRefresh() secret is all zero")
	}
	if sid, ok := tokens.RefreshSession(first); !ok || sid != testSession {
		t.Errorf("RefreshSession(NewRefresh(%q)) = %q, %v, want the session, true", testSession, sid, ok)
	}

	// A chain of rotations: every token is new, names the same session, and
	// its successor is a function of it.
	seen := map[string]bool{first: true}
	tok := first
	for i := range 5 {
		next, err := tokens.NextRefresh(tok)
		if err != nil {
			t.Fatalf("NextRefresh #%d: %v", i, err)
		}
		again, _ := tokens.NextRefresh(tok)
		if again != next {
			t.Errorf("NextRefresh #%d is not deterministic: %q then %q", i, next, again)
		}
		if seen[next] {
			t.Errorf("NextRefresh #%d repeated an earlier token", i)
		}
		seen[next] = true
		if sid, ok := tokens.RefreshSession(next); !ok || sid != testSession {
			t.Errorf("RefreshSession(next #%d) = %q, %v", i, sid, ok)
		}
		tok = next
	}
}

func TestRefreshNewIsRandom(t *testing.T) {
	tokens, _ := newTokens(t)
	a, _ := tokens.NewRefresh(testSession)
	b, _ := tokens.NewRefresh(testSession)
	if a == b {
		t.Errorf("two NewRefresh(%q) are equal: %q", testSession, a)
	}
	short := NewTokens(testKey, time.Minute, nil, bytes.NewReader(make([]byte, 31)))
	if _, err := short.NewRefresh(testSession); err == nil {
		t.Error("NewRefresh with a short random source succeeded")
	}
}

func TestRefreshRejects(t *testing.T) {
	tokens, _ := newTokens(t)
	good, _ := tokens.NewRefresh(testSession)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	other := NewTokens(attackerKey, time.Minute, nil, nil)
	forged, _ := other.NewRefresh(testSession)
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "not a token"},
		{"an opaque token of 32 bytes", b64url(bytes.Repeat([]byte{7}, 32))},
		{"one character short", good[:len(good)-1]},
		{"one character more", good + "A"},
		{"padded", good + "=="},
		{"standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+"},
		{"version flipped", flip(0)},
		{"length flipped", flip(1)},
		{"session id flipped", flip(2)},
		{"secret flipped", flip(2 + len(testSession))},
		{"tag flipped", flip(len(raw) - 1)},
		{"another key's token", forged},
		{"huge", strings.Repeat("A", 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if sid, ok := tokens.RefreshSession(tt.token); ok {
				t.Errorf("RefreshSession(%.40q) = %q, true; want false", tt.token, sid)
			}
			if _, err := tokens.NextRefresh(tt.token); err == nil {
				t.Errorf("NextRefresh(%.40q) succeeded, want an error", tt.token)
			}
		})
	}
	empty := NewTokens(nil, time.Minute, nil, nil)
	if _, err := empty.NewRefresh(testSession); err == nil {
		t.Error("NewRefresh with an empty key succeeded")
	}
	if _, ok := empty.RefreshSession(good); ok {
		t.Error("RefreshSession with an empty key accepted a token")
	}
	for _, sid := range []string{"", strings.Repeat("s", 65)} {
		if _, err := tokens.NewRefresh(sid); err == nil {
			t.Errorf("NewRefresh(%d-byte session id) succeeded", len(sid))
		}
	}
}

func TestIssueAt(t *testing.T) {
	tokens, clk := newTokens(t)
	refresh, _ := tokens.NewRefresh(testSession)
	jti := tokens.AccessID(refresh)
	if jti == tokens.AccessID(refresh+"x") || len(jti) != 22 {
		t.Errorf("AccessID(%q) = %q: want 22 characters, different for another token", refresh, jti)
	}
	at := epoch.Add(1500 * time.Millisecond)
	a, expA, err := tokens.IssueAt(7, testSession, at, jti)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(epoch.Add(9 * time.Second))
	b, expB, err := tokens.IssueAt(7, testSession, at, jti)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || !expA.Equal(expB) {
		t.Errorf("IssueAt twice with the same arguments: %q (%v), %q (%v); want the same", a, expA, b, expB)
	}
	if want := epoch.Add(time.Second + 30*time.Minute); !expA.Equal(want) {
		t.Errorf("IssueAt expiry = %v, want %v", expA, want)
	}
	c, err := tokens.Parse(a)
	if err != nil || c.ID != jti || c.UserID != 7 || c.SessionID != testSession {
		t.Errorf("Parse(IssueAt) = %+v, %v; want user 7, session %q, id %q", c, err, testSession, jti)
	}
	if _, _, err := tokens.IssueAt(7, testSession, at, ""); err == nil {
		t.Error("IssueAt with an empty token id succeeded")
	}
}

func FuzzRefreshSession(f *testing.F) {
	tokens := NewTokens(testKey, time.Minute, nil, nil)
	good, _ := tokens.NewRefresh(testSession)
	f.Add(good)
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, token string) {
		sid, ok := tokens.RefreshSession(token)
		if !ok {
			return
		}
		next, err := tokens.NextRefresh(token)
		if err != nil {
			t.Fatalf("NextRefresh of an accepted token: %v", err)
		}
		if got, ok := tokens.RefreshSession(next); !ok || got != sid {
			t.Fatalf("successor names %q, %v; want %q", got, ok, sid)
		}
	})
}
