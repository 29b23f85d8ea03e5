package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Second factors: time-based one-time passwords (RFC 6238) from an
// authenticator app, the recovery codes that stand in for the app, and
// the signed challenge that carries a login from its password step to its
// code step.
//
// TOTP codes are what every authenticator app makes by default: 6 digits,
// a new one every 30 seconds, HMAC-SHA-1. A code is good for its own time
// step and one step either side (clocks drift), and only for a step later
// than the last one accepted, so no code works twice.

const (
	// TOTPPeriod is how long one TOTP code lasts.
	TOTPPeriod = 30 * time.Second
	// TOTPDigits is how many digits a TOTP code has.
	TOTPDigits = 6
	// TOTPSkew is how many steps either side of the current one a code
	// may be for.
	TOTPSkew = 1
	// totpSecretLen is the secret's length: 160 bits, as RFC 4226 advises
	// for HMAC-SHA-1.
	totpSecretLen = 20

	// RecoveryCodeLen is how many characters a recovery code has, not
	// counting the hyphens between groups: 24 base32 characters, 120
	// random bits, enough that a plain hash keeps it (nothing to guess).
	RecoveryCodeLen = 24
	recoveryGroup   = 4

	// maxOTPInput bounds the work done on a typed code: the longest
	// recovery code with a separator between every two characters.
	maxOTPInput = 2 * RecoveryCodeLen
)

// totpOpts are the parameters of every code.
var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// base32 without padding, as authenticator apps read secrets.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// recoveryAlphabet is RFC 4648's base32 alphabet in lower case: no 0, 1,
// 8 or 9 to mistake for o, l, b or g.
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// TwoFactor holds the keys second factors use, each derived from the
// server secret with HKDF-SHA256 and a label of its own: one seals TOTP
// secrets at rest, one signs login challenges. It is safe for concurrent
// use. A TwoFactor made from an empty secret seals nothing and accepts
// no challenge.
type TwoFactor struct {
	aead      cipher.AEAD // nil without a secret
	challenge []byte      // HMAC-SHA256 key of challenges
	random    io.Reader
}

// HKDF labels: a key per purpose, so no two uses share one.
const (
	totpSealInfo  = "quill totp secret AES-256-GCM v1"
	challengeInfo = "quill login challenge HMAC-SHA256 v1"
)

// NewTwoFactor derives the keys of second factors from the server secret.
// random is where secrets, recovery codes and nonces come from
// (crypto/rand when nil).
func NewTwoFactor(secret []byte, random io.Reader) *TwoFactor {
	if random == nil {
		random = rand.Reader
	}
	t := &TwoFactor{random: random}
	if len(secret) == 0 {
		return t
	}
	// HKDF fails only for outputs over 255 hashes long, and AES-256-GCM
	// only for keys not 32 bytes long: neither can happen here.
	sealKey, err := hkdf.Key(sha256.New, secret, nil, totpSealInfo, 32)
	if err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		panic(err)
	}
	if t.aead, err = cipher.NewGCM(block); err != nil {
		panic(err)
	}
	if t.challenge, err = hkdf.Key(sha256.New, secret, nil, challengeInfo, 32); err != nil {
		panic(err)
	}
	return t
}

// errNoSecret is what a TwoFactor without a server secret answers.
var errNoSecret = errors.New("second factors need a server secret")

// NewTOTPSecret returns a new random TOTP secret.
func (t *TwoFactor) NewTOTPSecret() ([]byte, error) {
	s := make([]byte, totpSecretLen)
	if _, err := io.ReadFull(t.random, s); err != nil {
		return nil, fmt.Errorf("new TOTP secret: %w", err)
	}
	return s, nil
}

// sealVersion is the first byte of a sealed TOTP secret: the layout
// version | nonce (12) | AES-256-GCM ciphertext and tag.
const sealVersion = 1

// SealTOTP encrypts a TOTP secret for storage with AES-256-GCM. The
// user's id is the additional data, so the sealed secret opens for that
// user only: a row copied to another account is refused.
func (t *TwoFactor) SealTOTP(userID int64, secret []byte) ([]byte, error) {
	if t.aead == nil {
		return nil, errNoSecret
	}
	ns := t.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(secret)+t.aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(t.random, out[1:]); err != nil {
		return nil, fmt.Errorf("seal TOTP secret: %w", err)
	}
	return t.aead.Seal(out, out[1:], secret, sealedFor(userID)), nil
}

// OpenTOTP reverses SealTOTP. It fails on anything SealTOTP did not make
// for this user with this server secret.
func (t *TwoFactor) OpenTOTP(userID int64, sealed []byte) ([]byte, error) {
	if t.aead == nil {
		return nil, errNoSecret
	}
	ns := t.aead.NonceSize()
	if len(sealed) < 1+ns+t.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("open TOTP secret: not a sealed secret")
	}
	secret, err := t.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealedFor(userID))
	if err != nil {
		return nil, errors.New("open TOTP secret: sealed for another user or with another server secret")
	}
	return secret, nil
}

// sealedFor is the additional data of a secret sealed for userID.
func sealedFor(userID int64) []byte {
	return binary.BigEndian.AppendUint64([]byte("quill totp user "), uint64(userID))
}

// TOTPSecretText is a secret as people type it into an authenticator app:
// base32, upper case, without padding.
func TOTPSecretText(secret []byte) string { return b32.EncodeToString(secret) }

// TOTPURI is the otpauth:// URI authenticator apps read from a QR code:
// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&period=30&algorithm=SHA1&digits=6.
func TOTPURI(issuer, account string, secret []byte) (string, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(TOTPPeriod / time.Second),
		Secret:      secret,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("otpauth URI: %w", err)
	}
	return key.URL(), nil
}

// TOTPStep is the time step t falls in.
func TOTPStep(t time.Time) int64 {
	return t.Unix() / int64(TOTPPeriod/time.Second)
}

// MatchTOTP checks code, TOTPDigits digits, against secret for the time
// steps from TOTPSkew before now's to TOTPSkew after, leaving out those
// at or before after (the last step accepted: its code and every earlier
// one are spent). It returns the step the code is for. Every candidate is
// computed and compared in constant time, whichever matches.
func MatchTOTP(secret []byte, code string, now time.Time, after int64) (step int64, ok bool) {
	if len(code) != TOTPDigits || len(secret) == 0 {
		return 0, false
	}
	text := b32.EncodeToString(secret)
	current := TOTPStep(now)
	for s := current - TOTPSkew; s <= current+TOTPSkew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(text, uint64(s), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > after && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// OTPKind is what a typed code is.
type OTPKind uint8

// Kinds of code.
const (
	OTPNone     OTPKind = iota // nothing was typed
	OTPTOTP                    // TOTPDigits digits from an authenticator app
	OTPRecovery                // a recovery code
)

// OTP is a code as typed at login, read by ParseOTP.
type OTP struct {
	Kind OTPKind
	// Code is the code in its one spelling: the digits of a TOTP code,
	// or the RecoveryCodeLen lower-case characters of a recovery code
	// without separators.
	Code string
}

// ParseOTP reads a typed code: a TOTP code ("123456", "123 456") or a
// recovery code in any case, with or without its hyphens or spaces. Empty
// (or only separators) is OTPNone. ok is false for anything else.
func ParseOTP(s string) (code OTP, ok bool) {
	if len(s) > maxOTPInput {
		return OTP{}, false
	}
	var b strings.Builder
	digits := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z':
		default:
			return OTP{}, false
		}
		if c < '0' || c > '9' {
			digits = false
		}
		b.WriteByte(c)
	}
	norm := b.String()
	switch {
	case norm == "":
		return OTP{Kind: OTPNone}, true
	case digits && len(norm) == TOTPDigits:
		return OTP{Kind: OTPTOTP, Code: norm}, true
	case len(norm) == RecoveryCodeLen && strings.Trim(norm, recoveryAlphabet) == "":
		return OTP{Kind: OTPRecovery, Code: norm}, true
	}
	return OTP{}, false
}

// NewRecoveryCode returns a new recovery code as people are shown it:
// RecoveryCodeLen random base32 characters in groups of four, joined by
// hyphens ("abcd-efgh-…").
func (t *TwoFactor) NewRecoveryCode() (string, error) {
	var raw [RecoveryCodeLen]byte
	if _, err := io.ReadFull(t.random, raw[:]); err != nil {
		return "", fmt.Errorf("new recovery code: %w", err)
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%recoveryGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[r%32]) // 256 is a multiple of 32: no bias
	}
	return b.String(), nil
}

// HashRecoveryCode is the form a recovery code is stored in: the SHA-256
// of its one spelling (OTP.Code of what ParseOTP read). A plain hash is
// enough for 120 random bits; it needs no key, so recovery codes keep
// working when the server secret changes and sealed TOTP secrets no
// longer open.
func HashRecoveryCode(code string) []byte {
	sum := sha256.Sum256([]byte("quill recovery code " + code))
	return sum[:]
}

// Challenge layout: version | id | user id | expiry (unix seconds) |
// password fingerprint | tag, all fixed sizes, in unpadded base64url.
const (
	challengeVersion = 1
	challengeIDLen   = 16
	fingerprintLen   = 16
	challengeTagLen  = 32
	challengeLen     = 1 + challengeIDLen + 8 + 8 + fingerprintLen + challengeTagLen
)

// Challenge is what a login challenge says once ParseChallenge has
// checked its signature.
type Challenge struct {
	// ID is random: recording it when the login completes makes the
	// challenge single use.
	ID      []byte
	UserID  int64
	Expires time.Time
	// fingerprint binds the challenge to the password hash it was issued
	// under (see MatchesPassword).
	fingerprint []byte
}

// NewChallenge signs a challenge for the user whose password was just
// checked, valid until expires. It is bound to passwordHash, the stored
// hash: a new password voids it.
func (t *TwoFactor) NewChallenge(userID int64, passwordHash string, expires time.Time) (string, error) {
	if t.challenge == nil {
		return "", errNoSecret
	}
	raw := make([]byte, 0, challengeLen)
	raw = append(raw, challengeVersion)
	id := make([]byte, challengeIDLen)
	if _, err := io.ReadFull(t.random, id); err != nil {
		return "", fmt.Errorf("new login challenge: %w", err)
	}
	raw = append(raw, id...)
	raw = binary.BigEndian.AppendUint64(raw, uint64(userID))
	raw = binary.BigEndian.AppendUint64(raw, uint64(expires.Unix()))
	raw = append(raw, t.fingerprint(passwordHash)...)
	raw = append(raw, t.tag(raw)...)
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// ParseChallenge checks a challenge's signature and returns what it
// says; ok is false for anything NewChallenge did not make with this
// server secret. It does not check the expiry, nor whether the
// challenge was used: the caller does, with its clock and its records.
func (t *TwoFactor) ParseChallenge(token string) (c Challenge, ok bool) {
	if t.challenge == nil || len(token) != base64.RawURLEncoding.EncodedLen(challengeLen) {
		return Challenge{}, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != challengeLen || raw[0] != challengeVersion {
		return Challenge{}, false
	}
	body, tag := raw[:challengeLen-challengeTagLen], raw[challengeLen-challengeTagLen:]
	if !hmac.Equal(tag, t.tag(body)) {
		return Challenge{}, false
	}
	rest := body[1:]
	c.ID, rest = rest[:challengeIDLen], rest[challengeIDLen:]
	c.UserID = int64(binary.BigEndian.Uint64(rest))
	c.Expires = time.Unix(int64(binary.BigEndian.Uint64(rest[8:])), 0)
	c.fingerprint = rest[16:]
	return c, c.UserID > 0
}

// MatchesPassword reports, in constant time, whether c was issued under
// passwordHash, the one stored now.
func (t *TwoFactor) MatchesPassword(c Challenge, passwordHash string) bool {
	return t.challenge != nil && hmac.Equal(c.fingerprint, t.fingerprint(passwordHash))
}

func (t *TwoFactor) tag(body []byte) []byte {
	m := hmac.New(sha256.New, t.challenge)
	m.Write([]byte("tag"))
	m.Write(body)
	return m.Sum(nil)
}

func (t *TwoFactor) fingerprint(passwordHash string) []byte {
	m := hmac.New(sha256.New, t.challenge)
	m.Write([]byte("password "))
	m.Write([]byte(passwordHash))
	return m.Sum(nil)[:fingerprintLen]
}
