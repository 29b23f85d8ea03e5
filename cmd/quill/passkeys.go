package main

import (
	"github.com/quill-blog/quill/internal/passkey"
)

// passkeyConfig is the WebAuthn relying party cfg describes: PUBLIC_URL's
// host is its ID, and PUBLIC_URL's origin and the https origin of each of
// TLS_DOMAINS (with HTTPS_ADDR's port, as PUBLIC_URL's default has it)
// may use passkeys. It is the zero Config, which leaves the application
// layer to find PUBLIC_URL unfit and turn passkeys off, when PUBLIC_URL
// is an address browsers allow no passkey on.
func passkeyConfig(cfg config) passkey.Config {
	var more []string
	for _, d := range cfg.TLSDomains {
		more = append(more, "https://"+withPort(d, cfg.HTTPSAddr))
	}
	pk, err := passkey.ConfigFor(cfg.PublicURL, more...)
	if err != nil {
		return passkey.Config{}
	}
	return pk
}
