package certs

import (
	"context"
	"testing"
)

func TestHostPolicy(t *testing.T) {
	policy := hostPolicy(map[string]bool{"blog.example.com": true, "www.example.com": true})
	for host, want := range map[string]bool{
		"blog.example.com":        true,
		"BLOG.Example.COM":        true,
		"blog.example.com.":       true,
		"blog.example.com:80":     true,
		"blog.example.com:5002":   true,
		"www.example.com":         true,
		"example.com":             false,
		"evil.blog.example.com":   false,
		"blog.example.com.evil":   false,
		"":                        false,
		"127.0.0.1":               false,
		"[::1]:80":                false,
		"blog.example.com:80:80":  false,
		"blog.example.com\x00":    false,
		"xn--blog-example-com-00": false,
	} {
		if err := policy(context.Background(), host); (err == nil) != want {
			t.Errorf("hostPolicy(%q) = %v, want allowed %v", host, err, want)
		}
	}
}
