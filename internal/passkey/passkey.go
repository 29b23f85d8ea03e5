// Package passkey is quill's WebAuthn relying party: the two steps of each
// ceremony (registering a passkey, logging in with one) over
// github.com/go-webauthn/webauthn, with quill's choices made once here.
// Passkeys are discoverable credentials (residentKey required) with user
// verification required, so a passkey alone is a login of two factors: the
// device, and the PIN or biometric that unlocks it. Attestation is not
// asked for ("none"): quill trusts any authenticator the user chooses.
//
// The package keeps no state. Each Begin returns the options for the
// browser and the state of the ceremony, which the caller stores (quill
// stores it in the database, so the Finish may reach any instance) and
// hands back, once, to the matching Finish. Rules that need the database
// (which user, which stored passkey, what a sign count regression means)
// belong to the application layer.
package passkey

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Timeout is how long the browser gives the user to answer its prompt.
// A ceremony's state must be kept a little longer than this.
const Timeout = 4 * time.Minute

// Config says who the relying party is.
type Config struct {
	// ID is the relying party ID: the domain name passkeys are bound to.
	ID string
	// Origins are the origins ("https://blog.example.com") whose pages may
	// run ceremonies. Each must be the ID or a subdomain of it, or be
	// listed in the document RelatedOrigins returns.
	Origins []string
}

// ConfigFor is the relying party of a site whose address is publicURL
// (PUBLIC_URL) and that is also reached at the origins in more (those of
// TLS_DOMAINS). The ID is publicURL's host. Browsers allow no passkey on an
// IP address: a loopback address (127.0.0.1, ::1), or one that stands for
// every address of the machine (0.0.0.0, ::, none), becomes "localhost",
// with the same scheme and port allowed at localhost, so a server on the
// default address works at http://localhost:8000; any other address is an
// error.
func ConfigFor(publicURL string, more ...string) (Config, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || (u.Hostname() == "" && u.Port() == "") {
		return Config{}, fmt.Errorf("%q is not an http(s) URL", publicURL)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" { // every address of the machine (ADDR=:8000): localhost is one
		host = "0.0.0.0"
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.IsLoopback() && !ip.IsUnspecified() {
			return Config{}, fmt.Errorf("the site's address %s is an IP address, and browsers allow passkeys only on a domain name", host)
		}
		return ConfigFor(originOf(u.Scheme, "localhost", u.Port()), append([]string{originOf(u.Scheme, host, u.Port())}, more...)...)
	}
	if host, err = idna.Lookup.ToASCII(host); err != nil {
		return Config{}, fmt.Errorf("%q is not a host name: %v", u.Hostname(), err)
	}
	cfg := Config{ID: host, Origins: []string{originOf(u.Scheme, host, u.Port())}}
	for _, o := range more {
		ou, err := url.Parse(o)
		if err != nil || (ou.Scheme != "http" && ou.Scheme != "https") || ou.Hostname() == "" {
			return Config{}, fmt.Errorf("%q is not an origin", o)
		}
		h := strings.ToLower(ou.Hostname())
		if _, err := netip.ParseAddr(h); err != nil {
			if h, err = idna.Lookup.ToASCII(h); err != nil {
				return Config{}, fmt.Errorf("%q is not a host name: %v", ou.Hostname(), err)
			}
		}
		if o := originOf(ou.Scheme, h, ou.Port()); !slices.Contains(cfg.Origins, o) {
			cfg.Origins = append(cfg.Origins, o)
		}
	}
	if err := protocol.ValidateRPID(cfg.ID); err != nil {
		return Config{}, fmt.Errorf("%q cannot be a relying party ID: %v", cfg.ID, err)
	}
	return cfg, nil
}

// originOf is the serialised origin of scheme://host:port, without a
// port that is the scheme's default.
func originOf(scheme, host, port string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// RelyingParty runs the ceremonies. It is safe for concurrent use.
type RelyingParty struct {
	w       *webauthn.WebAuthn
	cfg     Config
	related []byte // the /.well-known/webauthn document, or nil
}

// New returns the relying party cfg describes.
func New(cfg Config) (*RelyingParty, error) {
	if err := protocol.ValidateRPID(cfg.ID); err != nil {
		return nil, fmt.Errorf("relying party ID %q: %v", cfg.ID, err)
	}
	if len(cfg.Origins) == 0 {
		return nil, errors.New("no origin may run ceremonies")
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.ID,
		RPDisplayName: "quill",
		RPOrigins:     cfg.Origins,
		// The zero values are the strict choices: no cross-origin iframes,
		// a top origin must be listed, unrequested extension outputs fail.
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: Timeout, TimeoutUVD: Timeout},
			Registration: webauthn.TimeoutConfig{Timeout: Timeout, TimeoutUVD: Timeout},
		},
	})
	if err != nil {
		return nil, err
	}
	rp := &RelyingParty{w: w, cfg: cfg}
	if rp.needsRelatedOrigins() {
		doc, err := protocol.NewRelatedOriginsWithLabeler(registrableLabel, cfg.Origins...)
		if err != nil {
			return nil, err
		}
		if rp.related, err = doc.Bytes(); err != nil {
			return nil, err
		}
	}
	return rp, nil
}

// ID is the relying party ID.
func (rp *RelyingParty) ID() string { return rp.cfg.ID }

// Origins are the origins that may run ceremonies.
func (rp *RelyingParty) Origins() []string { return slices.Clone(rp.cfg.Origins) }

// RelatedOrigins is the document to serve at /.well-known/webauthn on the
// relying party ID's host, listing every origin, when one of them is not
// the ID or under it (browsers ask for it then, WebAuthn's Related Origin
// Requests); nil when none needs it.
func (rp *RelyingParty) RelatedOrigins() []byte { return rp.related }

// needsRelatedOrigins reports whether an origin's host is neither the ID
// nor a subdomain of it.
func (rp *RelyingParty) needsRelatedOrigins() bool {
	for _, o := range rp.cfg.Origins {
		u, err := url.Parse(o)
		if err != nil {
			return true
		}
		if h := u.Hostname(); h != rp.cfg.ID && !strings.HasSuffix(h, "."+rp.cfg.ID) {
			return true
		}
	}
	return false
}

// registrableLabel is the first label of an origin's registrable domain
// (blog.example.co.uk: "example"), which is what browsers count in a
// related origins document.
func registrableLabel(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", err
	}
	domain, err := publicsuffix.EffectiveTLDPlusOne(u.Hostname())
	if err != nil {
		return u.Hostname(), nil // localhost, a single label: its own
	}
	label, _, _ := strings.Cut(domain, ".")
	return label, nil
}

// Account is a user as a ceremony sees them.
type Account struct {
	// Handle is the user handle authenticators keep with the passkey: random
	// bytes, the same for all of the account's passkeys, never its id or name.
	Handle []byte
	// Name is shown by the browser when it offers the account's passkeys.
	Name string
	// Credentials are the account's passkeys.
	Credentials []Credential
}

// Credential is a stored passkey, as the ceremonies need it.
type Credential struct {
	ID         []byte
	PublicKey  []byte // COSE_Key
	SignCount  uint32
	Flags      uint8 // the authenticator data flags last seen
	AAGUID     []byte
	Transports []string
	// AttestationFormat is what registration got: "none" mostly.
	AttestationFormat string
}

// ErrRefused wraps every reason a response does not complete a ceremony:
// it is malformed, answers another challenge or origin, is signed by an
// unknown key or not signed right, lacks user verification, and so on.
// The wrapped text is for logs, never for clients.
var ErrRefused = errors.New("the passkey response was refused")

// refused wraps err, with go-webauthn's details when it has them.
func refused(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		msg := pe.Details
		if pe.DevInfo != "" {
			msg += ": " + pe.DevInfo
		}
		return fmt.Errorf("%w: %s", ErrRefused, msg)
	}
	return fmt.Errorf("%w: %v", ErrRefused, err)
}

// maxResponse bounds the response a Finish parses. Browsers send a few
// kilobytes at most.
const maxResponse = 64 << 10

// BeginRegistration starts registering a new passkey for acct. It returns
// the options for navigator.credentials.create (the
// PublicKeyCredentialCreationOptionsJSON of WebAuthn, as JSON) and the
// ceremony's state. The account's passkeys are excluded, so the browser
// does not register one authenticator twice.
func (rp *RelyingParty) BeginRegistration(acct Account) (options, state []byte, err error) {
	exclude := make([]protocol.CredentialDescriptor, len(acct.Credentials))
	for i, c := range acct.Credentials {
		exclude[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: c.ID, Transport: transports(c.Transports)}
	}
	creation, session, err := rp.w.BeginRegistration(user{acct},
		webauthn.WithCredentialParameters(webauthn.CredentialParametersRecommendedL3()),
		webauthn.WithExclusions(exclude),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	return encode(creation.Response, session)
}

// FinishRegistration checks the browser's answer to BeginRegistration's
// options (the RegistrationResponseJSON of WebAuthn) against the state it
// returned, for the same acct, and returns the new passkey. Any fault in
// the answer is ErrRefused.
func (rp *RelyingParty) FinishRegistration(acct Account, state, response []byte) (*Credential, error) {
	session, err := decodeState(state)
	if err != nil {
		return nil, err
	}
	if len(response) > maxResponse {
		return nil, fmt.Errorf("%w: the response is %d bytes", ErrRefused, len(response))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, refused(err)
	}
	cred, err := rp.w.CreateCredential(user{acct}, *session, parsed)
	if err != nil {
		return nil, refused(err)
	}
	c := &Credential{
		ID:                cred.ID,
		PublicKey:         cred.PublicKey,
		SignCount:         cred.Authenticator.SignCount,
		Flags:             uint8(cred.Flags.ProtocolValue()),
		AAGUID:            cred.Authenticator.AAGUID,
		AttestationFormat: cred.AttestationFormat,
	}
	for _, t := range cred.Transport {
		c.Transports = append(c.Transports, string(t))
	}
	return c, nil
}

// BeginLogin starts a login. With acct nil the browser offers whichever
// of its passkeys for this site the user picks (a discoverable login);
// otherwise only acct's, listed in allowCredentials. decoys, used only
// with acct nil, are credential ids to list as if they were an account's,
// so that naming an account with no passkey gets an answer of the same
// shape; no passkey can answer for them. It returns the options for
// navigator.credentials.get (PublicKeyCredentialRequestOptionsJSON) and
// the ceremony's state.
func (rp *RelyingParty) BeginLogin(acct *Account, decoys ...[]byte) (options, state []byte, err error) {
	var (
		assertion *protocol.CredentialAssertion
		session   *webauthn.SessionData
	)
	// Transports are left out, so an account's list looks like the decoys'.
	if acct != nil {
		allow := make([]protocol.CredentialDescriptor, len(acct.Credentials))
		for i, c := range acct.Credentials {
			allow[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: c.ID}
		}
		assertion, session, err = rp.w.BeginLogin(user{*acct}, webauthn.WithAllowedCredentials(allow))
	} else {
		var opts []webauthn.LoginOption
		if len(decoys) > 0 {
			allow := make([]protocol.CredentialDescriptor, len(decoys))
			for i, id := range decoys {
				allow[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: id}
			}
			opts = append(opts, webauthn.WithAllowedCredentials(allow))
		}
		assertion, session, err = rp.w.BeginDiscoverableLogin(opts...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("begin passkey login: %w", err)
	}
	return encode(assertion.Response, session)
}

// Lookup finds the account a login's passkey belongs to, by the user
// handle the authenticator returned (or, for a login begun with an
// account, that account's). The credential id is the passkey's. A
// handle no account has is an error, which fails the login.
type Lookup func(handle, credentialID []byte) (*Account, error)

// Assertion is a login's passkey, checked.
type Assertion struct {
	// Account is the one lookup returned.
	Account *Account
	// Credential is the passkey as it is to be stored now: its sign count
	// and flags updated (unless Regressed).
	Credential Credential
	// SignCount is the count the authenticator reported this time.
	SignCount uint32
	// Regressed: the authenticator reported a sign count that is not
	// above the stored one (and they are not both zero, which is how
	// synced passkeys, which keep no count, answer). The key may have
	// been copied; the caller should refuse the login.
	Regressed bool
}

// FinishLogin checks the browser's answer to BeginLogin's options (the
// AuthenticationResponseJSON of WebAuthn) against the state it returned:
// the challenge, origin, relying party, user presence and verification,
// and the signature by the stored key of the passkey lookup finds. Any
// fault in the answer, and an error of lookup, is ErrRefused.
func (rp *RelyingParty) FinishLogin(state, response []byte, lookup Lookup) (*Assertion, error) {
	session, err := decodeState(state)
	if err != nil {
		return nil, err
	}
	if len(response) > maxResponse {
		return nil, fmt.Errorf("%w: the response is %d bytes", ErrRefused, len(response))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, refused(err)
	}
	var (
		acct *Account
		cred *webauthn.Credential
	)
	if len(session.UserID) > 0 {
		if acct, err = lookup(session.UserID, parsed.RawID); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		cred, err = rp.w.ValidateLogin(user{*acct}, *session, parsed)
	} else {
		_, cred, err = rp.w.ValidatePasskeyLogin(func(rawID, handle []byte) (webauthn.User, error) {
			a, err := lookup(handle, rawID)
			if err != nil {
				return nil, err
			}
			acct = a
			return user{*a}, nil
		}, *session, parsed)
	}
	if err != nil {
		return nil, refused(err)
	}
	a := &Assertion{
		Account:   acct,
		SignCount: parsed.Response.AuthenticatorData.Counter,
		Regressed: cred.Authenticator.CloneWarning,
	}
	for _, c := range acct.Credentials {
		if string(c.ID) == string(cred.ID) {
			a.Credential = c
		}
	}
	a.Credential.SignCount = cred.Authenticator.SignCount
	a.Credential.Flags = uint8(cred.Flags.ProtocolValue())
	return a, nil
}

// encode returns options and the state as JSON.
func encode(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("encode passkey options: %w", err)
	}
	s, err := json.Marshal(session)
	if err != nil {
		return nil, nil, fmt.Errorf("encode passkey ceremony: %w", err)
	}
	return o, s, nil
}

// decodeState reads what encode wrote. The state comes from quill's own
// database, so a fault is quill's, not the client's.
func decodeState(state []byte) (*webauthn.SessionData, error) {
	var s webauthn.SessionData
	if err := json.Unmarshal(state, &s); err != nil || s.Challenge == "" {
		return nil, fmt.Errorf("passkey ceremony state is damaged: %v", err)
	}
	return &s, nil
}

func transports(ts []string) []protocol.AuthenticatorTransport {
	out := make([]protocol.AuthenticatorTransport, len(ts))
	for i, t := range ts {
		out[i] = protocol.AuthenticatorTransport(t)
	}
	return out
}

// user is an Account as go-webauthn takes it.
type user struct{ acct Account }

func (u user) WebAuthnID() []byte          { return u.acct.Handle }
func (u user) WebAuthnName() string        { return u.acct.Name }
func (u user) WebAuthnDisplayName() string { return u.acct.Name }

func (u user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.acct.Credentials))
	for i, c := range u.acct.Credentials {
		out[i] = webauthn.Credential{
			ID:                c.ID,
			PublicKey:         c.PublicKey,
			AttestationFormat: c.AttestationFormat,
			Transport:         transports(c.Transports),
			Flags:             webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(c.Flags)),
			Authenticator:     webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
		}
	}
	return out
}
