package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/mail/mailpittest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testMessage has a long line with a link, non-ASCII text and an encoded
// subject: what a reset mail has.
var testMessage = mail.Message{
	To:      "Alice@Example.com",
	Subject: "Réinitialiser — reset",
	Text: "Hello Zoë,\n\nopen http://quill.test/reset-password?token=" + strings.Repeat("aB3-_", 9) + " within 60 minutes.\n" +
		strings.Repeat("a long line ", 20) + "\n",
}

func TestNewSMTP(t *testing.T) {
	tests := []struct {
		name, url    string
		wantSecurity mail.Security
	}{
		{"smtp", "smtp://mail.example.com", mail.StartTLSAuto},
		{"smtp with a port and credentials", "smtp://u:p%40ss@mail.example.com:2525", mail.StartTLSAuto},
		{"starttls=auto", "smtp://mail.example.com?starttls=auto", mail.StartTLSAuto},
		{"starttls=required", "smtp://mail.example.com?starttls=required", mail.StartTLSRequired},
		{"starttls=never", "smtp://localhost:1025?starttls=never", mail.StartTLSNever},
		{"smtps", "smtps://u:p@mail.example.com", mail.ImplicitTLS},
		{"from", "smtp://mail.example.com?from=Quill%20%3Cblog@example.com%3E", mail.StartTLSAuto},
		{"a trailing slash", "smtp://mail.example.com/", mail.StartTLSAuto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mail.NewSMTP(tt.url, mail.Options{})
			if err != nil {
				t.Fatalf("NewSMTP(%q) = %v", tt.url, err)
			}
			if got := s.Security(); got != tt.wantSecurity {
				t.Errorf("NewSMTP(%q).Security() = %v, want %v", tt.url, got, tt.wantSecurity)
			}
		})
	}
}

func TestNewSMTPErrors(t *testing.T) {
	const secret = "hunter2-sekrit"
	for _, url := range []string{
		"",
		"http://u:" + secret + "@mail.example.com",
		"smtp://u:" + secret + "@",
		"smtp://u:" + secret + "@mail.example.com/path",
		"smtp://u:" + secret + "@mail.example.com?starttls=maybe",
		"smtps://u:" + secret + "@mail.example.com?starttls=required",
		"smtp://u:" + secret + "@mail.example.com?tls=on",
		"smtp://u:" + secret + "@mail.example.com?from=not-an-address",
		"smtp://u:" + secret + "@mail example.com",
		"smtp://u:" + secret + "@[::1",
	} {
		_, err := mail.NewSMTP(url, mail.Options{})
		if err == nil {
			t.Errorf("NewSMTP(%q) succeeded, want an error", url)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("NewSMTP(%q) error %q repeats the password", url, err)
		}
	}
}

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	l := mail.NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := l.Send(context.Background(), testMessage); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	for _, want := range []string{"to=Alice@Example.com", "reset-password?token=" + strings.Repeat("aB3-_", 9), "nothing was sent"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
	for _, m := range []mail.Message{
		{To: "not an address", Subject: "s", Text: "t"},
		{To: "a@example.com\r\nBcc: b@example.com", Subject: "s", Text: "t"},
		{To: "a@example.com", Subject: "s\nBcc: b@example.com", Text: "t"},
	} {
		if err := l.Send(context.Background(), m); err == nil {
			t.Errorf("Send(%+q) succeeded, want an error", m)
		}
	}
}

// sender makes an SMTP sender for url that trusts roots.
func sender(t *testing.T, url string, roots *x509.CertPool) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(url, mail.Options{
		From: "quill <noreply@quill.test>", HelloName: "quill.test", Now: func() time.Time { return epoch },
		TLS: &tls.Config{RootCAs: roots}, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("NewSMTP(%q) = %v", url, err)
	}
	return s
}

// checkDelivered checks that mailpit got testMessage, and only it.
func checkDelivered(t *testing.T, mp *mailpittest.Server, wantUser string) {
	t.Helper()
	msgs := mp.WaitMessages(t, 1)
	if len(msgs) != 1 {
		t.Fatalf("mailpit got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Subject != testMessage.Subject {
		t.Errorf("Subject = %q, want %q", m.Subject, testMessage.Subject)
	}
	if len(m.To) != 1 || m.To[0].Address != "Alice@Example.com" {
		t.Errorf("To = %+v, want Alice@Example.com", m.To)
	}
	if m.From.Address != "noreply@quill.test" || m.From.Name != "quill" || m.ReturnPath != "noreply@quill.test" {
		t.Errorf("From = %+v, Return-Path %q; want quill <noreply@quill.test>", m.From, m.ReturnPath)
	}
	if got, want := strings.ReplaceAll(m.Text, "\r\n", "\n"), testMessage.Text; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if m.Username != wantUser {
		t.Errorf("authenticated as %q, want %q", m.Username, wantUser)
	}
}

func TestSMTPPlain(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{})
	if err := sender(t, "smtp://"+mp.SMTPAddr+"?starttls=never", nil).Send(context.Background(), testMessage); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	checkDelivered(t, mp, "")
}

func TestSMTPStartTLSAutoWithoutTLS(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{})
	// The server offers no STARTTLS: auto sends in plain text.
	if err := sender(t, "smtp://"+mp.SMTPAddr, nil).Send(context.Background(), testMessage); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	checkDelivered(t, mp, "")
}

func TestSMTPStartTLSRequiredWithoutTLS(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{})
	err := sender(t, "smtp://"+mp.SMTPAddr+"?starttls=required", nil).Send(context.Background(), testMessage)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send() to a server without STARTTLS = %v, want an error about STARTTLS", err)
	}
	if msgs := mp.Messages(t); len(msgs) != 0 {
		t.Errorf("mailpit got %d messages, want none", len(msgs))
	}
}

func TestSMTPStartTLS(t *testing.T) {
	t.Parallel()
	cert, key, roots := mailpittest.NewCert(t)
	mp := mailpittest.Start(t, mailpittest.Options{Cert: cert, Key: key, RequireSTARTTLS: true, Users: map[string]string{"quill": "s3cret-pass"}})
	for _, mode := range []string{"auto", "required"} {
		err := sender(t, "smtp://quill:s3cret-pass@"+mp.SMTPAddr+"?starttls="+mode, roots).Send(context.Background(), testMessage)
		if err != nil {
			t.Fatalf("Send(starttls=%s) = %v", mode, err)
		}
	}
	msgs := mp.WaitMessages(t, 2)
	for _, m := range msgs {
		if m.Username != "quill" {
			t.Errorf("message authenticated as %q, want quill", m.Username)
		}
	}
}

func TestSMTPStartTLSUntrustedCertificate(t *testing.T) {
	t.Parallel()
	cert, key, _ := mailpittest.NewCert(t)
	mp := mailpittest.Start(t, mailpittest.Options{Cert: cert, Key: key})
	// The system roots do not know the test's certificate: no fallback to
	// plain text.
	err := sender(t, "smtp://"+mp.SMTPAddr, nil).Send(context.Background(), testMessage)
	if err == nil {
		t.Fatal("Send() with an untrusted certificate succeeded")
	}
	if msgs := mp.Messages(t); len(msgs) != 0 {
		t.Errorf("mailpit got %d messages, want none", len(msgs))
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	cert, key, roots := mailpittest.NewCert(t)
	mp := mailpittest.Start(t, mailpittest.Options{Cert: cert, Key: key, ImplicitTLS: true, AcceptAnyAuth: true})
	if err := sender(t, "smtps://quill:pw@"+mp.SMTPAddr, roots).Send(context.Background(), testMessage); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	checkDelivered(t, mp, "quill")
}

func TestSMTPWrongPassword(t *testing.T) {
	t.Parallel()
	cert, key, roots := mailpittest.NewCert(t)
	mp := mailpittest.Start(t, mailpittest.Options{Cert: cert, Key: key, Users: map[string]string{"quill": "s3cret-pass"}})
	err := sender(t, "smtp://quill:wrong-pass@"+mp.SMTPAddr, roots).Send(context.Background(), testMessage)
	if err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("Send() with a wrong password = %v, want an AUTH error", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-pass") {
		t.Errorf("error %q repeats the password", err)
	}
}

func TestSMTPNoAuthOffered(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Start(t, mailpittest.Options{})
	err := sender(t, "smtp://quill:pw@"+mp.SMTPAddr, nil).Send(context.Background(), testMessage)
	if err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("Send() with a user to a server without AUTH = %v, want an error", err)
	}
}

// TestSMTPNoPasswordInClear checks that a password is never sent without
// TLS to a host that is not localhost.
func TestSMTPNoPasswordInClear(t *testing.T) {
	t.Parallel()
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
		t.Skipf("cannot listen on 127.0.0.2 (%v): it stands for a remote host here", err)
	} else {
		ln.Close()
	}
	mp := mailpittest.Start(t, mailpittest.Options{Host: "127.0.0.2", AcceptAnyAuth: true, AllowPlainAuth: true})
	err := sender(t, "smtp://quill:pw@"+mp.SMTPAddr, nil).Send(context.Background(), testMessage)
	if err == nil || !strings.Contains(err.Error(), "unencrypted") {
		t.Errorf("Send() with a password over plain text to a remote host = %v, want a refusal", err)
	}
	if msgs := mp.Messages(t); len(msgs) != 0 {
		t.Errorf("mailpit got %d messages, want none", len(msgs))
	}
}

func TestSMTPServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	err = sender(t, "smtp://"+addr, nil).Send(context.Background(), testMessage)
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("Send() to a closed port = %v, want a connection error", err)
	}
}

// TestSMTPSilentServer checks that a server that accepts and then says
// nothing cannot hold a Send beyond its context.
func TestSMTPSilentServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sender(t, "smtp://"+ln.Addr().String(), nil).Send(ctx, testMessage) }()
	cancel()
	if err := <-done; err == nil {
		t.Error("Send() to a silent server returned nil after its context ended")
	}
}
