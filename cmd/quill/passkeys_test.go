package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quill-blog/quill/internal/passkey"
)

// TestPasskeyConfig checks the relying party the settings make: PUBLIC_URL
// names it, and each of TLS_DOMAINS may use its passkeys over HTTPS.
func TestPasskeyConfig(t *testing.T) {
	values := func(extra map[string]string) map[string]string {
		v := map[string]string{}
		for _, s := range settings {
			v[s.env] = s.def
		}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	tests := []struct {
		name   string
		values map[string]string
		want   passkey.Config
	}{
		{"the default address", values(nil),
			passkey.Config{ID: "localhost", Origins: []string{"http://localhost:8000", "http://127.0.0.1:8000"}}},
		{"PUBLIC_URL", values(map[string]string{"PUBLIC_URL": "https://blog.example.com"}),
			passkey.Config{ID: "blog.example.com", Origins: []string{"https://blog.example.com"}}},
		{"TLS_DOMAINS", values(map[string]string{"TLS_DOMAINS": "blog.example.com,www.blog.example.com,blog.example.org"}),
			passkey.Config{ID: "blog.example.com", Origins: []string{"https://blog.example.com", "https://www.blog.example.com", "https://blog.example.org"}}},
		{"TLS_DOMAINS on another port", values(map[string]string{"TLS_DOMAINS": "blog.example.com,www.blog.example.com", "HTTPS_ADDR": ":8443", "ADDR": ":8080"}),
			passkey.Config{ID: "blog.example.com", Origins: []string{"https://blog.example.com:8443", "https://www.blog.example.com:8443"}}},
		{"TLS_DOMAINS and PUBLIC_URL", values(map[string]string{"TLS_DOMAINS": "example.com,www.example.com", "PUBLIC_URL": "https://www.example.com"}),
			passkey.Config{ID: "www.example.com", Origins: []string{"https://www.example.com", "https://example.com"}}},
		{"an IP address: off", values(map[string]string{"ADDR": "192.0.2.7:8000"}), passkey.Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.values)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, passkeyConfig(cfg)); diff != "" {
				t.Errorf("passkeyConfig() (-want +got):\n%s", diff)
			}
		})
	}
}
