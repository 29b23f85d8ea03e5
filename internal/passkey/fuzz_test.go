package passkey_test

import (
	"errors"
	"testing"

	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/passkey/passkeytest"
)

// The Finish steps parse what a client sends: JSON holding base64url,
// holding CBOR and signatures. Whatever arrives, they answer ErrRefused
// or succeed; they never panic.

func FuzzFinishRegistration(f *testing.F) {
	rp := newRP(f, site)
	acct := passkey.Account{Handle: []byte("handle-of-alice-0123456789"), Name: "alice"}
	options, state, err := rp.BeginRegistration(acct)
	if err != nil {
		f.Fatal(err)
	}
	good, err := passkeytest.New(site).Create(options)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, response []byte) {
		if _, err := rp.FinishRegistration(acct, state, response); err != nil && !errors.Is(err, passkey.ErrRefused) {
			t.Errorf("FinishRegistration(%q) = %v, want ErrRefused or success", response, err)
		}
	})
}

func FuzzFinishLogin(f *testing.F) {
	rp := newRP(f, site)
	auth := passkeytest.New(site)
	acct := passkey.Account{Handle: []byte("handle-of-alice-0123456789"), Name: "alice"}
	acct.Credentials = []passkey.Credential{register(f, rp, auth, acct)}
	lookup := func(handle, _ []byte) (*passkey.Account, error) {
		if string(handle) != string(acct.Handle) {
			return nil, errors.New("no such account")
		}
		a := acct // each run starts from the stored passkey
		return &a, nil
	}
	// One discoverable login and one for alice by name, each with its
	// state (from quill's database: not the client's to change).
	states := map[bool][]byte{}
	for _, named := range []bool{false, true} {
		var options []byte
		var err error
		if named {
			options, states[named], err = rp.BeginLogin(&acct)
		} else {
			options, states[named], err = rp.BeginLogin(nil)
		}
		if err != nil {
			f.Fatal(err)
		}
		good, err := auth.Get(options)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(named, good)
	}
	f.Add(false, []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`))
	f.Fuzz(func(t *testing.T, named bool, response []byte) {
		if _, err := rp.FinishLogin(states[named], response, lookup); err != nil && !errors.Is(err, passkey.ErrRefused) {
			t.Errorf("FinishLogin(%q) = %v, want ErrRefused or success", response, err)
		}
	})
}
