package passkey_test

import (
	"testing"

	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/passkey/passkeytest"
)

// What checking a browser's answer costs the server: docs/benchmarks.md
// records the figures.

func BenchmarkFinishRegistration(b *testing.B) {
	rp := newRP(b, site)
	acct := passkey.Account{Handle: []byte("handle-of-alice-0123456789"), Name: "alice"}
	options, state, err := rp.BeginRegistration(acct)
	if err != nil {
		b.Fatal(err)
	}
	answer, err := passkeytest.New(site).Create(options)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := rp.FinishRegistration(acct, state, answer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFinishLogin(b *testing.B) {
	rp := newRP(b, site)
	auth := passkeytest.New(site)
	auth.Synced = true // the same answer verifies every time
	acct := passkey.Account{Handle: []byte("handle-of-alice-0123456789"), Name: "alice"}
	acct.Credentials = []passkey.Credential{register(b, rp, auth, acct)}
	options, state, err := rp.BeginLogin(nil)
	if err != nil {
		b.Fatal(err)
	}
	answer, err := auth.Get(options)
	if err != nil {
		b.Fatal(err)
	}
	lookup := func([]byte, []byte) (*passkey.Account, error) { return &acct, nil }
	for b.Loop() {
		if _, err := rp.FinishLogin(state, answer, lookup); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBeginLogin(b *testing.B) {
	rp := newRP(b, site)
	for b.Loop() {
		if _, _, err := rp.BeginLogin(nil); err != nil {
			b.Fatal(err)
		}
	}
}
