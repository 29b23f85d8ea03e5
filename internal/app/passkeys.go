package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Passkeys: adding, listing, renaming and removing an account's passkeys,
// and logging in with one. Each ceremony has two steps: Begin returns the
// options for the browser and a ceremony id; Finish takes the id and the
// browser's answer. Between the two, the ceremony's state (its challenge
// above all) waits in the database for at most ceremonyTTL, so the Finish
// may reach any instance; Finish takes it away before checking anything,
// so each ceremony is tried once.

// ceremonyTTL is how long a ceremony may wait for its second step: the
// browser's own timeout and a minute to spare.
const ceremonyTTL = passkey.Timeout + time.Minute

// relyingParty returns the relying party cfg describes (derived from
// publicURL when cfg is zero), or nil and why passkeys are off.
func relyingParty(cfg passkey.Config, publicURL string) (*passkey.RelyingParty, error) {
	if cfg.ID == "" {
		var err error
		if cfg, err = passkey.ConfigFor(publicURL); err != nil {
			return nil, err
		}
	}
	return passkey.New(cfg)
}

// PasskeysOff is nil when passkeys can be used, or says why they cannot
// (the site's address is an IP address, which browsers allow no passkey
// on).
func (a *App) PasskeysOff() error { return a.passkeysOff }

// PasskeyRelyingParty is the relying party ID and the origins allowed to
// run ceremonies; "" and nil when passkeys are off.
func (a *App) PasskeyRelyingParty() (id string, origins []string) {
	if a.passkeys == nil {
		return "", nil
	}
	return a.passkeys.ID(), a.passkeys.Origins()
}

// PasskeyRelatedOrigins is the document for /.well-known/webauthn, or nil
// when no origin needs it (passkey.RelyingParty.RelatedOrigins).
func (a *App) PasskeyRelatedOrigins() []byte {
	if a.passkeys == nil {
		return nil
	}
	return a.passkeys.RelatedOrigins()
}

// PasskeyOptions is the first step of a ceremony, for the client: what to
// pass to navigator.credentials, and the id to send back with the answer.
type PasskeyOptions struct {
	CeremonyID string
	// Options are PublicKeyCredentialCreationOptionsJSON (registration)
	// or PublicKeyCredentialRequestOptionsJSON (login), as WebAuthn
	// defines them: what PublicKeyCredential.parseCreationOptionsFromJSON
	// and parseRequestOptionsFromJSON read.
	Options   json.RawMessage
	ExpiresAt time.Time
}

// PasskeyStart begins adding a passkey: the account's current password,
// which proves that whoever holds the session is its owner.
type PasskeyStart struct {
	CurrentPassword string
	Problems        []blog.Problem
}

// BeginPasskeyRegistration begins adding a passkey to the caller's
// account. It needs the current password (a wrong one is
// blog.ErrWrongPassword and counts as a failed login, as for a password
// change); the ceremony it begins can be finished only by the same
// session, within ceremonyTTL. An account with blog.MaxPasskeys has
// blog.ErrTooManyPasskeys.
func (a *App) BeginPasskeyRegistration(ctx context.Context, c *Caller, in PasskeyStart) (*PasskeyOptions, error) {
	if a.passkeys == nil {
		return nil, blog.ErrPasskeysOff
	}
	v := blog.Validator{Problems: in.Problems}
	v.Check(v.Reported("current_password") || in.CurrentPassword != "", "missing", "Field required", "body", "current_password")
	if err := v.Err("current_password"); err != nil {
		return nil, err
	}
	if err := a.checkPassword(ctx, c.User, in.CurrentPassword); err != nil {
		return nil, err
	}
	keys, err := a.store.Passkeys(ctx, c.User.ID)
	if err != nil {
		return nil, err
	}
	if len(keys) >= blog.MaxPasskeys {
		return nil, blog.ErrTooManyPasskeys
	}
	newHandle, err := a.randomBytes(32)
	if err != nil {
		return nil, err
	}
	var out *PasskeyOptions
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		handle, err := tx.PasskeyHandle(ctx, c.User.ID, newHandle)
		if err != nil {
			return err
		}
		options, state, err := a.passkeys.BeginRegistration(*account(c.User, handle, keys))
		if err != nil {
			return err
		}
		out, err = a.storeCeremony(ctx, tx, blog.PurposeRegister, c.User.ID, c.Session.ID, options, state)
		return err
	})
	if errors.Is(err, blog.ErrUserNotFound) {
		return nil, blog.ErrInvalidToken // the account was deleted meanwhile
	}
	return out, err
}

// storeCeremony keeps a ceremony's state in tx and returns what the
// client needs of it.
func (a *App) storeCeremony(ctx context.Context, tx *sqlstore.Tx, purpose string, userID int64, sessionID string, options, state []byte) (*PasskeyOptions, error) {
	c := &blog.PasskeyCeremony{
		ID:        a.sessionID(),
		Purpose:   purpose,
		UserID:    userID,
		SessionID: sessionID,
		Data:      state,
		ExpiresAt: a.now().Add(ceremonyTTL).UTC().Truncate(time.Microsecond),
	}
	if err := tx.CreatePasskeyCeremony(ctx, c); err != nil {
		return nil, err
	}
	return &PasskeyOptions{CeremonyID: c.ID, Options: options, ExpiresAt: c.ExpiresAt}, nil
}

// NewPasskey finishes adding a passkey: the ceremony's id, the browser's
// answer (RegistrationResponseJSON, as PublicKeyCredential.toJSON gives
// it), and a name, nil or blank for one chosen by quill. Problems are
// those an adapter found reading the request.
type NewPasskey struct {
	CeremonyID string
	Credential json.RawMessage
	Name       *string
	Problems   []blog.Problem
}

// FinishPasskeyRegistration checks the browser's answer to the options
// BeginPasskeyRegistration gave this session and adds the passkey, named
// in.Name or, when that is blank, after its provider if known ("Google
// Password Manager"), else "Passkey N". The account's address is told.
// A ceremony that is unknown, used, expired or another session's is
// blog.ErrPasskeyCeremony; an answer that does not verify is
// blog.ErrPasskeyInvalid. Either way the ceremony is used up.
func (a *App) FinishPasskeyRegistration(ctx context.Context, c *Caller, in NewPasskey) (*blog.Passkey, error) {
	if a.passkeys == nil {
		return nil, blog.ErrPasskeysOff
	}
	v := blog.Validator{Problems: in.Problems}
	var name string
	if in.Name != nil && strings.TrimSpace(*in.Name) != "" && !v.Reported("name") {
		name = v.PasskeyName("name", *in.Name)
	}
	if err := v.Err("ceremony_id", "credential", "name"); err != nil {
		return nil, err
	}
	cer, err := a.takeCeremony(ctx, in.CeremonyID, blog.PurposeRegister)
	if err != nil {
		return nil, err
	}
	if cer.UserID != c.User.ID || cer.SessionID != c.Session.ID {
		return nil, blog.ErrPasskeyCeremony
	}
	handle, err := a.store.StoredPasskeyHandle(ctx, c.User.ID)
	if err != nil {
		return nil, err
	}
	keys, err := a.store.Passkeys(ctx, c.User.ID)
	if err != nil {
		return nil, err
	}
	cred, err := a.passkeys.FinishRegistration(*account(c.User, handle, keys), cer.Data, in.Credential)
	if errors.Is(err, passkey.ErrRefused) {
		a.log(ctx).Info("passkey not added: the browser's answer does not verify", "user_id", c.User.ID,
			"credential_id", credentialIDOf(in.Credential), "reason", err)
		return nil, blog.ErrPasskeyInvalid
	}
	if err != nil {
		return nil, err
	}
	p := &blog.Passkey{
		UserID:            c.User.ID,
		CredentialID:      cred.ID,
		PublicKey:         cred.PublicKey,
		AAGUID:            cred.AAGUID,
		SignCount:         cred.SignCount,
		Flags:             cred.Flags,
		Transports:        cred.Transports,
		AttestationFormat: cred.AttestationFormat,
	}
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		keys, err := tx.Passkeys(ctx, c.User.ID)
		if err != nil {
			return err
		}
		if len(keys) >= blog.MaxPasskeys {
			return blog.ErrTooManyPasskeys
		}
		p.Name = name
		if p.Name == "" {
			p.Name = defaultPasskeyName(cred.AAGUID, keys)
		}
		return tx.CreatePasskey(ctx, p)
	})
	if errors.Is(err, blog.ErrUserNotFound) {
		return nil, blog.ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	a.log(ctx).Info("passkey added", "user_id", c.User.ID, "passkey_id", p.ID, "credential_id", encodeID(p.CredentialID))
	a.notifyPasskey(ctx, c, noticePasskeyAdded, p)
	return p, nil
}

// defaultPasskeyName names a new passkey from its provider (its AAGUID),
// or "Passkey N", with a number after it if the account has a passkey of
// that name.
func defaultPasskeyName(aaguid []byte, keys []blog.Passkey) string {
	taken := func(name string) bool {
		return slices.ContainsFunc(keys, func(p blog.Passkey) bool { return p.Name == name })
	}
	base := passkey.ProviderName(aaguid)
	if base == "" {
		for n := len(keys) + 1; ; n++ {
			if name := fmt.Sprintf("Passkey %d", n); !taken(name) {
				return name
			}
		}
	}
	name := base
	for n := 2; taken(name); n++ {
		name = fmt.Sprintf("%s %d", base, n)
	}
	return name
}

// Passkeys lists the caller's passkeys, oldest first.
func (a *App) Passkeys(ctx context.Context, c *Caller) ([]blog.Passkey, error) {
	return a.store.Passkeys(ctx, c.User.ID)
}

// PasskeyRename is a passkey's new name.
type PasskeyRename struct {
	Name     string
	Problems []blog.Problem
}

// RenamePasskey renames one of the caller's passkeys. Someone else's
// passkey is blog.ErrPasskeyNotFound, as is a missing one.
func (a *App) RenamePasskey(ctx context.Context, c *Caller, id int64, in PasskeyRename) (*blog.Passkey, error) {
	v := blog.Validator{Problems: in.Problems}
	var name string
	if !v.Reported("name") {
		name = v.PasskeyName("name", in.Name)
	}
	if err := v.Err("name"); err != nil {
		return nil, err
	}
	var p *blog.Passkey
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.RenamePasskey(ctx, c.User.ID, id, name)
		return err
	})
	return p, err
}

// RemovePasskey removes one of the caller's passkeys: it can no longer log
// in, and the account's address is told. Removing the last one is
// allowed: the account has its password. Someone else's passkey is
// blog.ErrPasskeyNotFound, as is a missing one.
func (a *App) RemovePasskey(ctx context.Context, c *Caller, id int64) error {
	var p *blog.Passkey
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		var err error
		p, err = tx.DeletePasskey(ctx, c.User.ID, id)
		return err
	})
	if err != nil {
		return err
	}
	a.log(ctx).Info("passkey removed", "user_id", c.User.ID, "passkey_id", p.ID, "credential_id", encodeID(p.CredentialID))
	a.notifyPasskey(ctx, c, noticePasskeyRemoved, p)
	return nil
}

// PasskeyLoginStart begins a login with a passkey: Username (or email),
// if the user typed one, limits the browser to that account's passkeys;
// empty, the browser offers every passkey it has for the site.
type PasskeyLoginStart struct {
	Username string
	Problems []blog.Problem
}

// BeginPasskeyLogin begins a login with a passkey. A name no account has,
// or an account without passkeys, gets options of the same shape, listing
// one made-up passkey id derived from the name (so asking twice gives the
// same one), which no passkey answers to.
func (a *App) BeginPasskeyLogin(ctx context.Context, in PasskeyLoginStart) (*PasskeyOptions, error) {
	if a.passkeys == nil {
		return nil, blog.ErrPasskeysOff
	}
	v := blog.Validator{Problems: in.Problems}
	if err := v.Err("username"); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Username)
	if name == "" {
		return a.beginLogin(ctx, nil, 0)
	}
	key := blog.LoginKey(name)
	decoy := a.tokens.Derive("passkey decoy", []byte(key))
	u, err := a.store.UserByLogin(ctx, key)
	if errors.Is(err, blog.ErrUserNotFound) {
		return a.beginLogin(ctx, nil, 0, decoy)
	}
	if err != nil {
		return nil, err
	}
	keys, err := a.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	handle, err := a.store.StoredPasskeyHandle(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || handle == nil {
		return a.beginLogin(ctx, nil, 0, decoy)
	}
	out, err := a.beginLogin(ctx, account(u, handle, keys), u.ID)
	if errors.Is(err, blog.ErrInvalidToken) {
		// The account was deleted meanwhile: answer as for no account.
		return a.beginLogin(ctx, nil, 0, decoy)
	}
	return out, err
}

// beginLogin begins a login ceremony for acct (nil: discoverable, or for
// decoys) and stores it. A userID deleted meanwhile is
// blog.ErrInvalidToken.
func (a *App) beginLogin(ctx context.Context, acct *passkey.Account, userID int64, decoys ...[]byte) (*PasskeyOptions, error) {
	var out *PasskeyOptions
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		options, state, err := a.passkeys.BeginLogin(acct, decoys...)
		if err != nil {
			return err
		}
		out, err = a.storeCeremony(ctx, tx, blog.PurposeLogin, userID, "", options, state)
		return err
	})
	return out, err
}

// PasskeyAssertion finishes a login with a passkey: the ceremony's id and
// the browser's answer (AuthenticationResponseJSON). Problems are those
// an adapter found reading the request.
type PasskeyAssertion struct {
	CeremonyID string
	Credential json.RawMessage
	Problems   []blog.Problem
}

// FinishPasskeyLogin checks the browser's answer to BeginPasskeyLogin's
// options and starts a session, as LogIn does: in the same transaction it
// records the passkey's use and clears the account's login failure
// counts. A ceremony that is unknown, used or expired is
// blog.ErrPasskeyCeremony; every other failure is blog.ErrPasskeyRefused,
// logged with its reason and the credential id: an answer that does not
// verify, a passkey quill does not know (or that was removed), one of
// another account than the one named, and a signature counter that went
// back (a sign the key was copied; synced passkeys, which always report
// 0, never trip it).
//
// The per-account throttle of password logins (blog.LoginDelay) does not
// apply: a passkey cannot be guessed, and its owner may log in with it
// while someone is guessing the password.
func (a *App) FinishPasskeyLogin(ctx context.Context, in PasskeyAssertion, start SessionStart) (*Login, error) {
	if a.passkeys == nil {
		return nil, blog.ErrPasskeysOff
	}
	v := blog.Validator{Problems: in.Problems}
	if err := v.Err("ceremony_id", "credential"); err != nil {
		return nil, err
	}
	cer, err := a.takeCeremony(ctx, in.CeremonyID, blog.PurposeLogin)
	if err != nil {
		return nil, err
	}
	credID := credentialIDOf(in.Credential)
	var (
		user *blog.User
		keys []blog.Passkey
	)
	assertion, err := a.passkeys.FinishLogin(cer.Data, in.Credential, func(handle, _ []byte) (*passkey.Account, error) {
		u, ks, err := a.store.UserByPasskeyHandle(ctx, handle)
		if err != nil {
			return nil, err
		}
		if cer.UserID != 0 && u.ID != cer.UserID {
			return nil, errors.New("the passkey is not one of the account named")
		}
		user, keys = u, ks
		return account(u, handle, ks), nil
	})
	if errors.Is(err, passkey.ErrRefused) {
		a.log(ctx).Info("passkey login refused", "reason", err, "credential_id", credID, "user_id", idOf(user))
		return nil, blog.ErrPasskeyRefused
	}
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(p blog.Passkey) bool { return string(p.CredentialID) == string(assertion.Credential.ID) })
	if i < 0 {
		return nil, fmt.Errorf("passkey %s verified but not among user %d's", credID, user.ID)
	}
	stored := keys[i]
	if assertion.Regressed {
		a.log(ctx).Warn("passkey login refused: its signature counter went back, so the key may have been copied",
			"credential_id", credID, "user_id", user.ID, "passkey_id", stored.ID,
			"stored_count", stored.SignCount, "presented_count", assertion.SignCount)
		return nil, blog.ErrPasskeyRefused
	}
	var login *Login
	err = a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.UsePasskey(ctx, stored.ID, stored.SignCount, assertion.Credential.SignCount, assertion.Credential.Flags, a.now()); err != nil {
			return err
		}
		if a.throttle {
			if err := tx.ClearLoginFailures(ctx, loginKeys(user)...); err != nil {
				return err
			}
		}
		var err error
		login, err = a.startSession(ctx, tx, user, start)
		return err
	})
	if errors.Is(err, blog.ErrPasskeyRefused) || errors.Is(err, blog.ErrUserNotFound) {
		// Removed, used by another login with the same count, or the
		// account deleted, since it was read.
		a.log(ctx).Info("passkey login refused: the passkey or its account changed meanwhile", "credential_id", credID, "user_id", user.ID)
		return nil, blog.ErrPasskeyRefused
	}
	if err != nil {
		return nil, err
	}
	a.log(ctx).Info("passkey login", "user_id", user.ID, "passkey_id", stored.ID)
	return login, nil
}

// takeCeremony takes the ceremony id for purpose out of the database, in a
// transaction of its own: once taken it cannot be tried again, whatever
// comes of this attempt.
func (a *App) takeCeremony(ctx context.Context, id, purpose string) (*blog.PasskeyCeremony, error) {
	if !isCeremonyID(id) {
		return nil, blog.ErrPasskeyCeremony
	}
	var c *blog.PasskeyCeremony
	err := a.store.Write(ctx, func(tx *sqlstore.Tx) error {
		var err error
		c, err = tx.TakePasskeyCeremony(ctx, id, purpose, a.now())
		return err
	})
	return c, err
}

// isCeremonyID reports whether s has the form of the ids storeCeremony
// makes: 16 bytes in unpadded base64url. Anything else costs no lookup.
func isCeremonyID(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(16) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// account is u with its passkeys as a ceremony sees them.
func account(u *blog.User, handle []byte, keys []blog.Passkey) *passkey.Account {
	acct := &passkey.Account{Handle: handle, Name: u.Username, Credentials: make([]passkey.Credential, len(keys))}
	for i, p := range keys {
		acct.Credentials[i] = passkey.Credential{
			ID:                p.CredentialID,
			PublicKey:         p.PublicKey,
			SignCount:         p.SignCount,
			Flags:             p.Flags,
			AAGUID:            p.AAGUID,
			Transports:        p.Transports,
			AttestationFormat: p.AttestationFormat,
		}
	}
	return acct
}

// credentialIDOf is the id a browser's answer claims, for the logs: as
// sent, cut short, or "" if there is none.
func credentialIDOf(response json.RawMessage) string {
	var r struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(response, &r) != nil {
		return ""
	}
	return clip(r.ID, 100)
}

// encodeID is a credential id as browsers and logs show it: base64url.
func encodeID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// idOf is u's id, or 0 for nil.
func idOf(u *blog.User) int64 {
	if u == nil {
		return 0
	}
	return u.ID
}

// randomBytes returns n random bytes.
func (a *App) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(a.random, b); err != nil {
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}
