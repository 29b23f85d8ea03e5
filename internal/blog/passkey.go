package blog

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Passkey is a WebAuthn credential of an account: a key pair whose private
// half stays in an authenticator (a phone, a password manager, a security
// key), a way to log in without the password.
type Passkey struct {
	ID           int64
	UserID       int64
	Name         string // what its owner calls it
	CredentialID []byte
	PublicKey    []byte // COSE_Key
	// AAGUID is the authenticator's model (16 bytes, zeros when it does not
	// say).
	AAGUID []byte
	// SignCount is the signature counter the authenticator last reported;
	// synced passkeys keep none and always report 0.
	SignCount uint32
	// Flags are the authenticator data flags of its last use (WebAuthn
	// §6.1): backup eligibility and state, user verification.
	Flags             uint8
	Transports        []string
	AttestationFormat string
	CreatedAt         time.Time
	LastUsedAt        time.Time // zero: never used to log in
}

// Synced reports whether the passkey is backed up, as passkeys kept by a
// password manager or a platform account are: its flags' BS bit.
func (p *Passkey) Synced() bool { return p.Flags&0x10 != 0 }

// PasskeyCeremony is a passkey ceremony between its two steps: the
// state its second step checks the browser's answer against.
type PasskeyCeremony struct {
	ID      string
	Purpose string // PurposeRegister or PurposeLogin
	// UserID is the account: the one adding a passkey, or the one named at
	// login; 0 for a discoverable login.
	UserID int64
	// SessionID is the session that began a registration.
	SessionID string
	Data      []byte
	ExpiresAt time.Time
}

// Purposes of a PasskeyCeremony.
const (
	PurposeRegister = "register"
	PurposeLogin    = "login"
)

// Limits of passkeys.
const (
	// MaxPasskeyName is the longest name of a passkey, in characters.
	MaxPasskeyName = 64
	// MaxPasskeys is the most passkeys an account may have.
	MaxPasskeys = 20
)

// Errors of passkeys.
var (
	ErrPasskeyNotFound = &Error{Kind: NotFound, Code: "passkey_not_found", Message: "Passkey not found"}
	// ErrPasskeyCeremony: the ceremony id is unknown, used, expired, or
	// was begun by another session or for another purpose.
	ErrPasskeyCeremony = &Error{Kind: Invalid, Code: "passkey_ceremony_invalid",
		Message: "This passkey request has expired or was already used; start again"}
	// ErrPasskeyInvalid: the browser's answer to a registration does not
	// verify.
	ErrPasskeyInvalid = &Error{Kind: Invalid, Code: "passkey_invalid", Message: "The passkey could not be verified"}
	// ErrPasskeyTaken: the passkey is registered already.
	ErrPasskeyTaken = &Error{Kind: Invalid, Code: "passkey_taken", Message: "This passkey is registered already"}
	// ErrTooManyPasskeys: the account has MaxPasskeys.
	ErrTooManyPasskeys = &Error{Kind: Invalid, Code: "too_many_passkeys",
		Message: "An account may have at most 20 passkeys; remove one first"}
	// ErrPasskeyRefused: the answer to a login does not verify, or names a
	// passkey quill does not know. Who owns what is never said.
	ErrPasskeyRefused = &Error{Kind: Unauthenticated, Code: "passkey_refused", Message: "The passkey was not accepted"}
	// ErrPasskeysOff: the site's address is one browsers allow no passkey
	// on (an IP address).
	ErrPasskeysOff = &Error{Kind: Invalid, Code: "passkeys_unavailable",
		Message: "Passkeys are not available on this server: it is not reached by a domain name"}
)

// PasskeyName checks the name of a passkey and returns it in NFC, with
// surrounding space trimmed.
func (v *Validator) PasskeyName(field, s string) string {
	if !v.text(s, field) {
		return s
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	if !v.length(s, field, 1, MaxPasskeyName) {
		return s
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		v.Add("string_pattern_mismatch", "Name may not contain control characters", "body", field)
	}
	return s
}
