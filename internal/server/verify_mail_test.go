package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/mail/mailpittest"
	"github.com/quill-blog/quill/internal/quilltest"
)

// Verification links and notices read from a real SMTP server (mailpit),
// as their recipients would read them.

var mailedVerifyLink = regexp.MustCompile(regexp.QuoteMeta(testPublicURL) + `/verify-email\?token=([A-Za-z0-9_-]{43})\b`)

// mailsTo returns the messages to the address with the subject that
// mailpit holds, oldest first.
func mailsTo(tb testing.TB, mp *mailpittest.Server, to, subject string) []mailpittest.Message {
	tb.Helper()
	var out []mailpittest.Message
	for _, m := range mp.Messages(tb) {
		if len(m.To) == 1 && m.To[0].Address == to && m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

// mailedVerifyToken waits (for at most 10 s) for a verification mail to
// the address and returns the token of the newest one's link.
func mailedVerifyToken(tb testing.TB, mp *mailpittest.Server, to string) string {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ms := mailsTo(tb, mp, to, "Confirm your email address"); len(ms) > 0 {
			link := mailedVerifyLink.FindStringSubmatch(ms[len(ms)-1].Text)
			if link == nil {
				tb.Fatalf("no verification link in the mail:\n%s", ms[len(ms)-1].Text)
			}
			return link[1]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no verification mail to %s in mailpit after 10 s", to)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mailServer starts mailpit and a server that mails through it, on the
// first database, with opts.
func mailServer(t *testing.T, opts ...quilltest.Options) (*fixture, *mailpittest.Server) {
	t.Helper()
	mp := mailpittest.Start(t, mailpittest.Options{})
	ts := newTestServerWith(t, testDBs()[0], append([]quilltest.Options{withSMTP(t, "smtp://"+mp.SMTPAddr+"?starttls=never", nil)}, opts...)...)
	return &fixture{testServer: ts, users: map[string]*testUser{}, vars: map[string]string{}}, mp
}

// TestVerificationByMail: register, read the mail, open its link,
// verified.
func TestVerificationByMail(t *testing.T) {
	t.Parallel()
	f, mp := mailServer(t)
	f.addUser(t, "carol", &testUser{Username: "Carol", Email: "Carol@Example.com", Password: "a-long-passphrase-4"})
	m, _ := waitMail(t, mp, "Confirm your email address")
	if len(m.To) != 1 || m.To[0].Address != "carol@example.com" {
		t.Errorf("verification mail to %+v, want carol@example.com", m.To)
	}
	for _, want := range []string{"Hello Carol,", "carol@example.com", "within 24 hours", "works once"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("verification mail lacks %q:\n%s", want, m.Text)
		}
	}
	token := mailedVerifyToken(t, mp, "carol@example.com")
	if logs := f.waitLog(t, "verification mail sent"); strings.Contains(logs, token) {
		t.Errorf("the log holds the verification token:\n%s", logs)
	}
	f.wantMe(t, "carol", privateJSON(f.users["carol"].ID, "Carol", "carol@example.com", false, ""))
	res, body := f.do(t, "POST", "/api/users/verify-email", verifyBody(token), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("verify = %d %s", res.StatusCode, body)
	}
	f.wantMe(t, "carol", privateJSON(f.users["carol"].ID, "Carol", "carol@example.com", true, ""))
}

// TestEmailChangeByMail changes the address with REQUIRE_VERIFIED_EMAIL
// off: the new address is the account's at once, and mailed its link;
// the old one is told.
func TestEmailChangeByMail(t *testing.T) {
	t.Parallel()
	f, mp := mailServer(t)
	f.addUser(t, "carol", &testUser{Username: "Carol", Email: "carol@example.com", Password: "a-long-passphrase-4"})
	mailedVerifyToken(t, mp, "carol@example.com")
	res, body := f.do(t, "PATCH", f.expand("/api/users/{carol}"), `{"email":"carol@new.example","current_password":"a-long-passphrase-4"}`, f.as("carol"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PATCH email = %d %s", res.StatusCode, body)
	}
	f.wantMe(t, "carol", privateJSON(f.users["carol"].ID, "Carol", "carol@new.example", false, ""))

	notice, _ := waitMail(t, mp, "Your email address was changed")
	if notice.To[0].Address != "carol@example.com" || !strings.Contains(notice.Text, "c***@new.example") || strings.Contains(notice.Text, "carol@new.example") {
		t.Errorf("change notice to %v:\n%s\nwant it to the old address, the new one masked", notice.To, notice.Text)
	}
	token := mailedVerifyToken(t, mp, "carol@new.example")
	if res, body := f.do(t, "POST", "/api/users/verify-email", verifyBody(token), nil); res.StatusCode != http.StatusOK {
		t.Fatalf("verify the new address = %d %s", res.StatusCode, body)
	}
	f.wantMe(t, "carol", privateJSON(f.users["carol"].ID, "Carol", "carol@new.example", true, ""))
}

// TestEmailChangeByMailRequired changes the address with
// REQUIRE_VERIFIED_EMAIL on: nothing changes until the new address's link
// is confirmed; then the old address is told.
func TestEmailChangeByMailRequired(t *testing.T) {
	t.Parallel()
	f, mp := mailServer(t, requireVerified)
	f.addUser(t, "carol", &testUser{Username: "Carol", Email: "carol@example.com", Password: "a-long-passphrase-4"})
	first := mailedVerifyToken(t, mp, "carol@example.com")
	if res, body := f.do(t, "POST", "/api/posts", `{"title":"t","content":"c"}`, f.as("carol")); res.StatusCode != http.StatusForbidden {
		t.Errorf("a post before verifying = %d %s, want 403", res.StatusCode, body)
	}
	if res, body := f.do(t, "POST", "/api/users/verify-email", verifyBody(first), nil); res.StatusCode != http.StatusOK {
		t.Fatalf("verify = %d %s", res.StatusCode, body)
	}
	res, body := f.do(t, "PATCH", f.expand("/api/users/{carol}"), `{"email":"carol@new.example","current_password":"a-long-passphrase-4"}`, f.as("carol"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PATCH email = %d %s", res.StatusCode, body)
	}
	f.wantMe(t, "carol", privateJSON(f.users["carol"].ID, "Carol", "carol@example.com", true, "carol@new.example"))
	token := mailedVerifyToken(t, mp, "carol@new.example")
	if n := len(mailsTo(t, mp, "carol@example.com", "Your email address was changed")); n != 0 {
		t.Errorf("%d change notices before the change took effect, want 0", n)
	}
	if res, body := f.do(t, "POST", "/api/users/verify-email", verifyBody(token), nil); res.StatusCode != http.StatusOK {
		t.Fatalf("confirm the new address = %d %s", res.StatusCode, body)
	}
	f.wantMe(t, "carol", privateJSON(f.users["carol"].ID, "Carol", "carol@new.example", true, ""))
	notice, _ := waitMail(t, mp, "Your email address was changed")
	if notice.To[0].Address != "carol@example.com" || !strings.Contains(notice.Text, "c***@new.example") {
		t.Errorf("change notice to %v:\n%s\nwant it to the old address", notice.To, notice.Text)
	}
}

// TestPasswordNoticeByMail: a password change tells the account's
// address, with no secret in the mail.
func TestPasswordNoticeByMail(t *testing.T) {
	t.Parallel()
	f, mp := mailServer(t)
	f.addUser(t, "carol", &testUser{Username: "Carol", Email: "carol@example.com", Password: "a-long-passphrase-4"})
	res, body := f.do(t, "PATCH", "/api/users/me/password", `{"current_password":"a-long-passphrase-4","new_password":"`+newPassword+`"}`, f.as("carol"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("change password = %d %s", res.StatusCode, body)
	}
	m, _ := waitMail(t, mp, "Your password was changed")
	if m.To[0].Address != "carol@example.com" {
		t.Errorf("notice to %v, want carol@example.com", m.To)
	}
	for _, want := range []string{"Hello Carol,", testPublicURL + "/forgot-password", "logged out"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("notice lacks %q:\n%s", want, m.Text)
		}
	}
	for _, secret := range []string{"a-long-passphrase-4", newPassword, "token"} {
		if strings.Contains(m.Text, secret) {
			t.Errorf("notice holds %q:\n%s", secret, m.Text)
		}
	}
}
