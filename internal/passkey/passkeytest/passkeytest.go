// Package passkeytest is a software authenticator for tests: it answers
// a relying party's options as a browser with a platform authenticator
// would, with P-256 keys it makes and "none" attestation, so the
// ceremonies can be driven, and broken on purpose, without a browser.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Authenticator flags (WebAuthn's authenticator data).
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagBE = 0x08 // backup eligible
	flagBS = 0x10 // backed up
	flagAT = 0x40 // attested credential data included
)

// Authenticator makes and uses passkeys. Set its fields before use; it is
// safe for concurrent use after.
type Authenticator struct {
	// Origin is the page the browser is on, written into the client data.
	Origin string
	// AAGUID is the authenticator's model, in the authenticator data.
	AAGUID [16]byte
	// Synced makes passkeys as a password manager does: backup eligible
	// and backed up, with no sign count (always 0).
	Synced bool
	// NoUserVerification answers with the user present but not verified,
	// as a security key without a PIN would.
	NoUserVerification bool

	mu   sync.Mutex
	keys []*Key
}

// Key is a passkey the Authenticator holds.
type Key struct {
	ID     []byte
	RPID   string
	Handle []byte // the user handle the relying party gave
	Name   string // the user name it gave

	mu    sync.Mutex
	priv  *ecdsa.PrivateKey
	count uint32
}

// SetCount sets the key's signature counter: its next assertion reports
// n+1 (if the Authenticator is not Synced).
func (k *Key) SetCount(n uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.count = n
}

// New returns an authenticator on a page of origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

// Keys are the passkeys made so far, oldest first.
func (a *Authenticator) Keys() []*Key {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.keys)
}

// creationOptions are the parts of PublicKeyCredentialCreationOptionsJSON
// the authenticator reads.
type creationOptions struct {
	RP struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	Challenge string `json:"challenge"`
	Params    []struct {
		Alg int `json:"alg"`
	} `json:"pubKeyCredParams"`
	Exclude []struct {
		ID string `json:"id"`
	} `json:"excludeCredentials"`
	Extensions map[string]any `json:"extensions"`
}

// Create answers navigator.credentials.create with options: it makes a
// key for the relying party and returns the RegistrationResponseJSON a
// browser would send. As a browser does, it refuses a relying party ID
// the origin is not under, and an options' exclude list naming one of its
// keys.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("creation options: %w", err)
	}
	if err := a.checkRPID(o.RP.ID); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(o.Params, func(p struct {
		Alg int `json:"alg"`
	}) bool {
		return p.Alg == -7
	}) {
		return nil, errors.New("NotSupportedError: ES256 is not among pubKeyCredParams")
	}
	handle, err := b64(o.User.ID)
	if err != nil {
		return nil, fmt.Errorf("user.id: %w", err)
	}
	a.mu.Lock()
	for _, ex := range o.Exclude {
		for _, k := range a.keys {
			if enc(k.ID) == ex.ID {
				a.mu.Unlock()
				return nil, errors.New("InvalidStateError: the authenticator already holds a passkey of the exclude list")
			}
		}
	}
	a.mu.Unlock()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	k := &Key{ID: make([]byte, 32), RPID: o.RP.ID, Handle: handle, Name: o.User.Name, priv: priv}
	if _, err := rand.Read(k.ID); err != nil {
		return nil, err
	}
	clientData := a.clientData("webauthn.create", o.Challenge)
	authData := a.authData(o.RP.ID, flagAT, 0)
	authData = append(authData, a.AAGUID[:]...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(k.ID)))
	authData = append(authData, k.ID...)
	authData = append(authData, coseKey(&priv.PublicKey)...)
	// {"fmt": "none", "attStmt": {}, "authData": authData}
	att := []byte{0xa3}
	att = cborText(att, "fmt")
	att = cborText(att, "none")
	att = cborText(att, "attStmt")
	att = append(att, 0xa0)
	att = cborText(att, "authData")
	att = cborBytes(att, authData)

	ext := map[string]any{}
	if _, ok := o.Extensions["credProps"]; ok {
		ext["credProps"] = map[string]bool{"rk": true}
	}
	res, err := json.Marshal(map[string]any{
		"id":    enc(k.ID),
		"rawId": enc(k.ID),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":    enc(clientData),
			"attestationObject": enc(att),
			"transports":        []string{"internal"},
		},
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  ext,
	})
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.keys = append(a.keys, k)
	a.mu.Unlock()
	return res, nil
}

// requestOptions are the parts of PublicKeyCredentialRequestOptionsJSON
// the authenticator reads.
type requestOptions struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
	Allow     []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
}

// Get answers navigator.credentials.get with options, signing with the
// newest of its keys for the relying party that the options allow, and
// returns the AuthenticationResponseJSON a browser would send.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	a.mu.Lock()
	var key *Key
	for _, k := range slices.Backward(a.keys) {
		if k.RPID != o.RPID {
			continue
		}
		if len(o.Allow) == 0 || slices.ContainsFunc(o.Allow, func(c struct {
			ID string `json:"id"`
		}) bool {
			return c.ID == enc(k.ID)
		}) {
			key = k
			break
		}
	}
	a.mu.Unlock()
	if key == nil {
		return nil, errors.New("NotAllowedError: no passkey for these options")
	}
	return a.Sign(options, key)
}

// Sign answers navigator.credentials.get with options using key, whether
// or not the options allow it.
func (a *Authenticator) Sign(options []byte, key *Key) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	if err := a.checkRPID(o.RPID); err != nil {
		return nil, err
	}
	key.mu.Lock()
	var count uint32
	if !a.Synced {
		key.count++
		count = key.count
	}
	key.mu.Unlock()
	clientData := a.clientData("webauthn.get", o.Challenge)
	authData := a.authData(o.RPID, 0, count)
	clientHash := sha256.Sum256(clientData)
	signed := sha256.Sum256(append(slices.Clone(authData), clientHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key.priv, signed[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id":    enc(key.ID),
		"rawId": enc(key.ID),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":    enc(clientData),
			"authenticatorData": enc(authData),
			"signature":         enc(sig),
			"userHandle":        enc(key.Handle),
		},
		"authenticatorAttachment": "platform",
		"clientExtensionResults":  map[string]any{},
	})
}

// checkRPID refuses a relying party ID the origin's host is not, nor is
// under, as browsers do.
func (a *Authenticator) checkRPID(id string) error {
	u, err := url.Parse(a.Origin)
	if err != nil || id == "" {
		return errors.New("SecurityError: no origin or relying party ID")
	}
	if h := u.Hostname(); h != id && !strings.HasSuffix(h, "."+id) {
		return fmt.Errorf("SecurityError: the relying party ID %q is not the origin's host %q nor under it", id, h)
	}
	return nil
}

// clientData is the CollectedClientData of a ceremony, as JSON.
func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// authData is the authenticator data up to the sign count.
func (a *Authenticator) authData(rpID string, flags byte, count uint32) []byte {
	rpHash := sha256.Sum256([]byte(rpID))
	flags |= flagUP
	if !a.NoUserVerification {
		flags |= flagUV
	}
	if a.Synced {
		flags |= flagBE | flagBS
	}
	b := append(rpHash[:], flags)
	return binary.BigEndian.AppendUint32(b, count)
}

// coseKey is pub as a COSE_Key (RFC 9053): EC2, ES256, P-256.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, _ := pub.ECDH() // a P-256 key is always a valid ECDH key
	point := raw.Bytes() // 0x04 | x | y
	b := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01}
	b = append(b, 0x21)
	b = cborBytes(b, point[1:33])
	b = append(b, 0x22)
	return cborBytes(b, point[33:65])
}

// cborText appends s as a CBOR text string (shorter than 24 bytes).
func cborText(b []byte, s string) []byte {
	return append(append(b, 0x60|byte(len(s))), s...)
}

// cborBytes appends p as a CBOR byte string.
func cborBytes(b, p []byte) []byte {
	switch n := len(p); {
	case n < 24:
		b = append(b, 0x40|byte(n))
	case n < 256:
		b = append(b, 0x58, byte(n))
	default:
		b = binary.BigEndian.AppendUint16(append(b, 0x59), uint16(n))
	}
	return append(b, p...)
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
