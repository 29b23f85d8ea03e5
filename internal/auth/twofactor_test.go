package auth_test

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/quill-blog/quill/internal/auth"
)

func newTwoFactor(tb testing.TB, secret string) *auth.TwoFactor {
	tb.Helper()
	return auth.NewTwoFactor([]byte(secret), nil)
}

const serverSecret = "test-key-0123456789-abcdefghijklmnopq"

func TestSealTOTP(t *testing.T) {
	tf := newTwoFactor(t, serverSecret)
	secret, err := tf.NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 20 {
		t.Fatalf("NewTOTPSecret() has %d bytes, want 20", len(secret))
	}
	sealed, err := tf.SealTOTP(7, secret)
	if err != nil {
		t.Fatalf("SealTOTP() = %v", err)
	}
	if bytes.Contains(sealed, secret) || strings.Contains(string(sealed), auth.TOTPSecretText(secret)) {
		t.Errorf("the sealed secret holds the secret in the clear")
	}
	again, err := tf.SealTOTP(7, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sealed, again) {
		t.Errorf("two seals of one secret are identical: the nonce is not fresh")
	}
	got, err := tf.OpenTOTP(7, sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("OpenTOTP(SealTOTP(s)) = %x, %v, want %x", got, err, secret)
	}

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	other := newTwoFactor(t, serverSecret+"-other")
	for _, tc := range []struct {
		name   string
		tf     *auth.TwoFactor
		userID int64
		sealed []byte
	}{
		{"another user", tf, 8, sealed},
		{"another server secret", other, 7, sealed},
		{"tampered", tf, 7, tampered},
		{"truncated", tf, 7, sealed[:20]},
		{"empty", tf, 7, nil},
		{"another version", tf, 7, append([]byte{2}, sealed[1:]...)},
		{"no server secret", newTwoFactor(t, ""), 7, sealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := tc.tf.OpenTOTP(tc.userID, tc.sealed); err == nil {
				t.Errorf("OpenTOTP() = %x, nil, want an error", got)
			}
		})
	}
	if _, err := newTwoFactor(t, "").SealTOTP(7, secret); err == nil {
		t.Errorf("SealTOTP() without a server secret = nil error, want one")
	}
}

// RFC 6238 appendix B's SHA-1 vectors, cut to six digits (the last six
// of the eight the RFC lists).
func TestMatchTOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		code string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		now := time.Unix(tc.unix, 0)
		step, ok := auth.MatchTOTP(secret, tc.code, now, 0)
		if !ok || step != tc.unix/30 {
			t.Errorf("MatchTOTP(%q at %d) = %d, %v, want %d, true", tc.code, tc.unix, step, ok, tc.unix/30)
		}
	}
}

func TestMatchTOTP(t *testing.T) {
	secret := []byte("quill-test-totp-seed") // fixed: no two of its codes below coincide
	text := auth.TOTPSecretText(secret)
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	current := auth.TOTPStep(now)
	codeAt := func(offset int) string {
		code, err := totp.GenerateCode(text, now.Add(time.Duration(offset)*auth.TOTPPeriod))
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	seen := map[string]bool{}
	for offset := -2; offset <= 2; offset++ {
		if seen[codeAt(offset)] {
			t.Fatalf("two of the codes around now coincide: choose another secret")
		}
		seen[codeAt(offset)] = true
	}
	for _, tc := range []struct {
		name   string
		code   string
		after  int64
		want   int64
		wantOK bool
	}{
		{"now", codeAt(0), 0, current, true},
		{"one step early", codeAt(-1), 0, current - 1, true},
		{"one step late", codeAt(1), 0, current + 1, true},
		{"two steps early", codeAt(-2), 0, 0, false},
		{"two steps late", codeAt(2), 0, 0, false},
		{"now, already used", codeAt(0), current, 0, false},
		{"earlier than the last used", codeAt(-1), current, 0, false},
		{"later than the last used", codeAt(1), current, current + 1, true},
		{"five digits", codeAt(0)[:5], 0, 0, false},
		{"seven digits", codeAt(0) + "0", 0, 0, false},
		{"empty", "", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := auth.MatchTOTP(secret, tc.code, now, tc.after)
			if ok != tc.wantOK || step != tc.want {
				t.Errorf("MatchTOTP(%q) = %d, %v, want %d, %v", tc.code, step, ok, tc.want, tc.wantOK)
			}
		})
	}
	wrong := []byte(strings.Repeat("x", 20))
	if _, ok := auth.MatchTOTP(wrong, codeAt(0), now, 0); ok {
		t.Errorf("MatchTOTP(another secret's code) = ok")
	}
}

func TestTOTPURI(t *testing.T) {
	secret := []byte("12345678901234567890")
	uri, err := auth.TOTPURI("blog.example.com", "alice", secret)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/blog.example.com:alice" {
		t.Errorf("TOTPURI() = %s, want otpauth://totp/blog.example.com:alice?…", uri)
	}
	for k, want := range map[string]string{
		"secret": auth.TOTPSecretText(secret), "issuer": "blog.example.com",
		"algorithm": "SHA1", "digits": "6", "period": "30",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("TOTPURI() %s = %q, want %q", k, got, want)
		}
	}
}

func TestParseOTP(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   auth.OTP
		wantOK bool
	}{
		{"", auth.OTP{Kind: auth.OTPNone}, true},
		{"  ", auth.OTP{Kind: auth.OTPNone}, true},
		{"123456", auth.OTP{Kind: auth.OTPTOTP, Code: "123456"}, true},
		{" 123 456 ", auth.OTP{Kind: auth.OTPTOTP, Code: "123456"}, true},
		{"123-456", auth.OTP{Kind: auth.OTPTOTP, Code: "123456"}, true},
		{"abcd-efgh-ijkl-mnop-qrst-uvwx", auth.OTP{Kind: auth.OTPRecovery, Code: "abcdefghijklmnopqrstuvwx"}, true},
		{"ABCD EFGH IJKL MNOP QRST 2345", auth.OTP{Kind: auth.OTPRecovery, Code: "abcdefghijklmnopqrst2345"}, true},
		{"abcdefghijklmnopqrstuvwx", auth.OTP{Kind: auth.OTPRecovery, Code: "abcdefghijklmnopqrstuvwx"}, true},
		{"12345", auth.OTP{}, false},
		{"1234567", auth.OTP{}, false},
		{"12345a", auth.OTP{}, false},
		{"１２３４５６", auth.OTP{}, false}, // fullwidth digits
		{"abcd-efgh-ijkl-mnop-qrst-uvw0", auth.OTP{}, false},
		{"abcd-efgh-ijkl-mnop-qrst-uvwxy", auth.OTP{}, false},
		{"abcd-efgh-ijkl-mnop-qrst-uvw", auth.OTP{}, false},
		{"123456\x00", auth.OTP{}, false},
		{strings.Repeat(" ", 49) + "123456", auth.OTP{}, false},
		{"' OR 1=1 --", auth.OTP{}, false},
	} {
		got, ok := auth.ParseOTP(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ParseOTP(%q) = %+v, %v, want %+v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func FuzzParseOTP(f *testing.F) {
	for _, s := range []string{"", "123456", "123 456", "abcd-efgh-ijkl-mnop-qrst-uvwx", "ABCDEFGHIJKLMNOPQRSTUVWX", "12345", "\xff", "-- -"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := auth.ParseOTP(s)
		if !ok {
			if got != (auth.OTP{}) {
				t.Fatalf("ParseOTP(%q) = %+v, false: a refused code carries a value", s, got)
			}
			return
		}
		switch got.Kind {
		case auth.OTPNone:
			if got.Code != "" || strings.Trim(s, " -\t") != "" {
				t.Fatalf("ParseOTP(%q) = %+v: none, from a non-blank input", s, got)
			}
		case auth.OTPTOTP:
			if len(got.Code) != auth.TOTPDigits || strings.Trim(got.Code, "0123456789") != "" {
				t.Fatalf("ParseOTP(%q) = %+v: not %d digits", s, got, auth.TOTPDigits)
			}
		case auth.OTPRecovery:
			if len(got.Code) != auth.RecoveryCodeLen || strings.Trim(got.Code, "abcdefghijklmnopqrstuvwxyz234567") != "" {
				t.Fatalf("ParseOTP(%q) = %+v: not a recovery code", s, got)
			}
		default:
			t.Fatalf("ParseOTP(%q) = %+v: unknown kind", s, got)
		}
		// The one spelling reads as itself.
		if again, ok := auth.ParseOTP(got.Code); !ok || again != got {
			t.Fatalf("ParseOTP(%q) = %+v, %v, want %+v, true", got.Code, again, ok, got)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	tf := newTwoFactor(t, serverSecret)
	seen := map[string]bool{}
	for range 50 {
		code, err := tf.NewRecoveryCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 29 || strings.Count(code, "-") != 5 {
			t.Fatalf("NewRecoveryCode() = %q, want six groups of four", code)
		}
		if seen[code] {
			t.Fatalf("NewRecoveryCode() = %q twice", code)
		}
		seen[code] = true
		otp, ok := auth.ParseOTP(code)
		if !ok || otp.Kind != auth.OTPRecovery {
			t.Fatalf("ParseOTP(NewRecoveryCode() = %q) = %+v, %v, want a recovery code", code, otp, ok)
		}
		upper, _ := auth.ParseOTP(strings.ToUpper(strings.ReplaceAll(code, "-", " ")))
		if !bytes.Equal(auth.HashRecoveryCode(otp.Code), auth.HashRecoveryCode(upper.Code)) {
			t.Fatalf("a recovery code typed in upper case with spaces hashes differently")
		}
	}
	a, b := auth.HashRecoveryCode("abcdefghijklmnopqrstuvwx"), auth.HashRecoveryCode("abcdefghijklmnopqrstuvwy")
	if bytes.Equal(a, b) || len(a) != 32 {
		t.Errorf("HashRecoveryCode: two codes hash alike, or not to 32 bytes")
	}
}

func TestChallenge(t *testing.T) {
	tf := newTwoFactor(t, serverSecret)
	expires := time.Unix(2_000_000_000, 0)
	token, err := tf.NewChallenge(42, "$argon2id$hash-one", expires)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := tf.ParseChallenge(token)
	if !ok || c.UserID != 42 || !c.Expires.Equal(expires) || len(c.ID) != 16 {
		t.Fatalf("ParseChallenge(NewChallenge(42, …)) = %+v, %v", c, ok)
	}
	if !tf.MatchesPassword(c, "$argon2id$hash-one") {
		t.Errorf("MatchesPassword(the hash it was issued under) = false")
	}
	if tf.MatchesPassword(c, "$argon2id$hash-two") {
		t.Errorf("MatchesPassword(another hash) = true")
	}
	again, err := tf.NewChallenge(42, "$argon2id$hash-one", expires)
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := tf.ParseChallenge(again); bytes.Equal(c2.ID, c.ID) {
		t.Errorf("two challenges have one id")
	}

	raw, _ := base64.RawURLEncoding.DecodeString(token)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"garbage", strings.Repeat("A", len(token))},
		{"another user", flip(1 + 16 + 7)},
		{"a later expiry", flip(1 + 16 + 8 + 7)},
		{"another fingerprint", flip(1 + 16 + 16)},
		{"another tag", flip(len(raw) - 1)},
		{"another version", flip(0)},
		{"truncated", token[:len(token)-1]},
		{"padded", token + "="},
		{"another server secret", func() string {
			s, _ := newTwoFactor(t, serverSecret+"-other").NewChallenge(42, "$argon2id$hash-one", expires)
			return s
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, ok := tf.ParseChallenge(tc.token); ok {
				t.Errorf("ParseChallenge(%s) = %+v, true, want false", tc.name, c)
			}
		})
	}
	if _, err := newTwoFactor(t, "").NewChallenge(42, "h", expires); err == nil {
		t.Errorf("NewChallenge() without a server secret = nil error")
	}
	if _, ok := newTwoFactor(t, "").ParseChallenge(token); ok {
		t.Errorf("ParseChallenge() without a server secret = ok")
	}
}

// FuzzParseChallenge checks that no token but the one signed here parses.
// The fuzzing engine runs this in several processes and hands each the
// others' inputs, so the one signed token must be the same in all of them:
// its random id comes from a fixed stream.
func FuzzParseChallenge(f *testing.F) {
	tf := auth.NewTwoFactor([]byte(serverSecret), bytes.NewReader(bytes.Repeat([]byte{7}, 1024)))
	good, err := tf.NewChallenge(1, "h", time.Unix(2_000_000_000, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add(good[:len(good)-2] + "==")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := tf.ParseChallenge(s)
		if ok && (s != good || c.UserID != 1) {
			t.Fatalf("ParseChallenge(%q) = %+v, true: accepted a token it did not sign", s, c)
		}
	})
}
