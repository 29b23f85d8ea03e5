package passkey_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/passkey/passkeytest"
)

func TestConfigFor(t *testing.T) {
	tests := []struct {
		name      string
		publicURL string
		more      []string
		want      passkey.Config
		wantErr   bool
	}{
		{"https", "https://blog.example.com", nil,
			passkey.Config{ID: "blog.example.com", Origins: []string{"https://blog.example.com"}}, false},
		{"a port and a path", "https://Blog.Example.com:8443/quill/", nil,
			passkey.Config{ID: "blog.example.com", Origins: []string{"https://blog.example.com:8443"}}, false},
		{"the default port is left out", "https://blog.example.com:443", nil,
			passkey.Config{ID: "blog.example.com", Origins: []string{"https://blog.example.com"}}, false},
		{"localhost", "http://localhost:8000", nil,
			passkey.Config{ID: "localhost", Origins: []string{"http://localhost:8000"}}, false},
		{"127.0.0.1 is localhost", "http://127.0.0.1:8000", nil,
			passkey.Config{ID: "localhost", Origins: []string{"http://localhost:8000", "http://127.0.0.1:8000"}}, false},
		{"::1 is localhost", "http://[::1]:8000", nil,
			passkey.Config{ID: "localhost", Origins: []string{"http://localhost:8000", "http://[::1]:8000"}}, false},
		{"TLS domains", "https://blog.example.com", []string{"https://blog.example.com", "https://www.example.org:8443"},
			passkey.Config{ID: "blog.example.com", Origins: []string{"https://blog.example.com", "https://www.example.org:8443"}}, false},
		{"an international name", "https://bücher.example", nil,
			passkey.Config{ID: "xn--bcher-kva.example", Origins: []string{"https://xn--bcher-kva.example"}}, false},
		{"every address", "http://0.0.0.0:8000", nil,
			passkey.Config{ID: "localhost", Origins: []string{"http://localhost:8000", "http://0.0.0.0:8000"}}, false},
		{"no host", "http://:8000", nil,
			passkey.Config{ID: "localhost", Origins: []string{"http://localhost:8000", "http://0.0.0.0:8000"}}, false},
		{"another IP address", "http://192.0.2.7:8000", nil, passkey.Config{}, true},
		{"not a URL", "blog.example.com", nil, passkey.Config{}, true},
		{"not an origin", "https://blog.example.com", []string{"ftp://x"}, passkey.Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := passkey.ConfigFor(tt.publicURL, tt.more...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ConfigFor(%q, %q) error = %v, want error %v", tt.publicURL, tt.more, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ConfigFor(%q, %q) (-want +got):\n%s", tt.publicURL, tt.more, diff)
			}
		})
	}
}

func TestRelatedOrigins(t *testing.T) {
	rp := newRP(t, "https://blog.example.com", "https://www.blog.example.com")
	if doc := rp.RelatedOrigins(); doc != nil {
		t.Errorf("RelatedOrigins() with every origin under the ID = %s, want none", doc)
	}
	rp = newRP(t, "https://blog.example.com", "https://blog.example.org")
	var doc struct{ Origins []string }
	if err := json.Unmarshal(rp.RelatedOrigins(), &doc); err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://blog.example.com", "https://blog.example.org"}; !cmp.Equal(doc.Origins, want) {
		t.Errorf("RelatedOrigins() lists %q, want %q", doc.Origins, want)
	}
}

func newRP(tb testing.TB, publicURL string, more ...string) *passkey.RelyingParty {
	tb.Helper()
	cfg, err := passkey.ConfigFor(publicURL, more...)
	if err != nil {
		tb.Fatal(err)
	}
	rp, err := passkey.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rp
}

// register runs a registration for acct with auth and returns the new
// passkey.
func register(tb testing.TB, rp *passkey.RelyingParty, auth *passkeytest.Authenticator, acct passkey.Account) passkey.Credential {
	tb.Helper()
	options, state, err := rp.BeginRegistration(acct)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := auth.Create(options)
	if err != nil {
		tb.Fatalf("Create(options) = %v", err)
	}
	cred, err := rp.FinishRegistration(acct, state, res)
	if err != nil {
		tb.Fatalf("FinishRegistration() = %v", err)
	}
	return *cred
}

const site = "https://blog.example.com"

func TestRegisterAndLogIn(t *testing.T) {
	rp := newRP(t, site)
	auth := passkeytest.New(site)
	auth.AAGUID = [16]byte{0xbb, 0xa5}
	acct := passkey.Account{Handle: []byte("handle-of-alice-0123456789"), Name: "alice"}
	cred := register(t, rp, auth, acct)
	if cred.AttestationFormat != "none" || cred.SignCount != 0 || !bytes.Equal(cred.AAGUID, auth.AAGUID[:]) ||
		!bytes.Equal(cred.ID, auth.Keys()[0].ID) || !bytes.Equal(auth.Keys()[0].Handle, acct.Handle) {
		t.Errorf("FinishRegistration() = %+v, want the key the authenticator made", cred)
	}
	acct.Credentials = []passkey.Credential{cred}
	lookup := func(handle, id []byte) (*passkey.Account, error) {
		if !bytes.Equal(handle, acct.Handle) {
			return nil, errors.New("no such account")
		}
		return &acct, nil
	}
	for _, named := range []bool{false, true} {
		var options, state []byte
		var err error
		if named {
			options, state, err = rp.BeginLogin(&acct)
		} else {
			options, state, err = rp.BeginLogin(nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		res, err := auth.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		a, err := rp.FinishLogin(state, res, lookup)
		if err != nil {
			t.Fatalf("FinishLogin(named %t) = %v", named, err)
		}
		if a.Regressed || a.Account != &acct || !bytes.Equal(a.Credential.ID, cred.ID) || a.Credential.SignCount != a.SignCount || a.SignCount == 0 {
			t.Errorf("FinishLogin(named %t) = %+v, want alice's passkey with its count raised", named, a)
		}
		acct.Credentials[0] = a.Credential
	}

	// A count that goes back is reported, not hidden.
	auth.Keys()[0].SetCount(0)
	options, state, _ := rp.BeginLogin(nil)
	res, _ := auth.Get(options)
	a, err := rp.FinishLogin(state, res, lookup)
	if err != nil || !a.Regressed || a.SignCount != 1 || a.Credential.SignCount != 2 {
		t.Errorf("FinishLogin(a count gone back) = %+v, %v, want Regressed with the stored count kept", a, err)
	}
}

func TestSyncedPasskeysCountZero(t *testing.T) {
	rp := newRP(t, site)
	auth := passkeytest.New(site)
	auth.Synced = true
	acct := passkey.Account{Handle: []byte("handle-of-bob-0123456789"), Name: "bob"}
	acct.Credentials = []passkey.Credential{register(t, rp, auth, acct)}
	for range 3 {
		options, state, _ := rp.BeginLogin(nil)
		res, _ := auth.Get(options)
		a, err := rp.FinishLogin(state, res, func([]byte, []byte) (*passkey.Account, error) { return &acct, nil })
		if err != nil || a.Regressed || a.SignCount != 0 {
			t.Fatalf("FinishLogin(synced) = %+v, %v, want no regression at 0", a, err)
		}
	}
}

func TestRefused(t *testing.T) {
	rp := newRP(t, site)
	acct := passkey.Account{Handle: []byte("handle-of-alice-0123456789"), Name: "alice"}
	good := passkeytest.New(site)
	acct.Credentials = []passkey.Credential{register(t, rp, good, acct)}
	lookup := func([]byte, []byte) (*passkey.Account, error) { return &acct, nil }

	login := func(auth *passkeytest.Authenticator) error {
		options, state, err := rp.BeginLogin(nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := auth.Get(options)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rp.FinishLogin(state, res, lookup)
		return err
	}
	// A key nobody registered, answering for alice's handle.
	stranger := passkeytest.New(site)
	_, _ = stranger.Create(mustCreationOptions(t, rp, acct))
	noUV := passkeytest.New(site)
	noUV.NoUserVerification = true

	tests := []struct {
		name string
		err  func() error
	}{
		// A phishing page cannot ask a browser for the passkey (its
		// origin is not under the ID); a response claiming another origin
		// anyway is refused.
		{"another origin", func() error {
			good.Origin = "https://blog.example.com:444"
			defer func() { good.Origin = site }()
			return login(good)
		}},
		{"a key not registered", func() error { return login(stranger) }},
		{"no user verification at login", func() error {
			// alice's key, signing without verifying the user.
			options, state, _ := rp.BeginLogin(nil)
			res, err := noUV.Sign(options, good.Keys()[0])
			if err != nil {
				t.Fatal(err)
			}
			_, err = rp.FinishLogin(state, res, lookup)
			return err
		}},
		{"an answer to another challenge", func() error {
			options, _, _ := rp.BeginLogin(nil)
			_, state, _ := rp.BeginLogin(nil)
			res, _ := good.Get(options)
			_, err := rp.FinishLogin(state, res, lookup)
			return err
		}},
		{"a registration answer to a login", func() error {
			_, state, _ := rp.BeginLogin(nil)
			res, _ := good.Create(mustCreationOptions(t, rp, passkey.Account{Handle: []byte("x"), Name: "x"}))
			_, err := rp.FinishLogin(state, res, lookup)
			return err
		}},
		{"an unknown account", func() error {
			options, state, _ := rp.BeginLogin(nil)
			res, _ := good.Get(options)
			_, err := rp.FinishLogin(state, res, func([]byte, []byte) (*passkey.Account, error) { return nil, errors.New("no such account") })
			return err
		}},
		{"not JSON", func() error {
			_, state, _ := rp.BeginLogin(nil)
			_, err := rp.FinishLogin(state, []byte("{"), lookup)
			return err
		}},
		{"too long", func() error {
			_, state, _ := rp.BeginLogin(nil)
			_, err := rp.FinishLogin(state, []byte(`{"id":"`+strings.Repeat("A", 70000)+`"}`), lookup)
			return err
		}},
		{"a registration without user verification", func() error {
			options, state, _ := rp.BeginRegistration(acct)
			res, err := noUV.Create(options)
			if err != nil {
				t.Fatal(err)
			}
			_, err = rp.FinishRegistration(acct, state, res)
			return err
		}},
		{"a registration for another account's state", func() error {
			options, state, _ := rp.BeginRegistration(passkey.Account{Handle: []byte("handle-of-bob-0123456789"), Name: "bob"})
			res, _ := passkeytest.New(site).Create(options)
			_, err := rp.FinishRegistration(acct, state, res)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); !errors.Is(err, passkey.ErrRefused) {
				t.Errorf("the ceremony ended with %v, want ErrRefused", err)
			}
		})
	}
}

func mustCreationOptions(tb testing.TB, rp *passkey.RelyingParty, acct passkey.Account) []byte {
	tb.Helper()
	options, _, err := rp.BeginRegistration(acct)
	if err != nil {
		tb.Fatal(err)
	}
	return options
}

func TestProviderName(t *testing.T) {
	gpm := []byte{0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4}
	if got := passkey.ProviderName(gpm); got != "Google Password Manager" {
		t.Errorf("ProviderName(GPM's AAGUID) = %q", got)
	}
	for _, aaguid := range [][]byte{nil, make([]byte, 16), {1, 2, 3}} {
		if got := passkey.ProviderName(aaguid); got != "" {
			t.Errorf("ProviderName(%x) = %q, want none", aaguid, got)
		}
	}
}
