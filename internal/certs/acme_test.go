package certs

import (
	"context"
	"crypto/x509"
	"testing"
	"time"
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

func TestOverdue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		lifetime time.Duration
		left     time.Duration
		want     bool
	}{
		{"90 days, 31 left", 90 * day, 31 * day, false},
		{"90 days, 16 left", 90 * day, 16 * day, false},
		{"90 days, 14 left", 90 * day, 14 * day, true},
		{"90 days, expired", 90 * day, -day, true},
		{"6 days, 2 left", 6 * day, 2 * day, false},
		{"6 days, 0.9 left", 6 * day, 22 * time.Hour, true},
		{"a year, 16 left", 365 * day, 16 * day, false},
		{"a year, 14 left", 365 * day, 14 * day, true},
	}
	for _, tt := range tests {
		leaf := &x509.Certificate{NotBefore: start, NotAfter: start.Add(tt.lifetime)}
		if got := Overdue(leaf, leaf.NotAfter.Add(-tt.left)); got != tt.want {
			t.Errorf("%s: Overdue() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
