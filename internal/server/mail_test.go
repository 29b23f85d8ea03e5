package server_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/mail/mailpittest"
	"github.com/quill-blog/quill/internal/quilltest"
)

// withSMTP configures a test server to send mail through an SMTP server.
func withSMTP(tb testing.TB, url string, tlsConfig *tls.Config) quilltest.Options {
	tb.Helper()
	sender, err := mail.NewSMTP(url, mail.Options{From: "quill <noreply@quill.test>", TLS: tlsConfig, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return quilltest.Options{App: func(cfg *app.Config) { cfg.Mailer = sender }}
}

// waitMail polls mailpit until a message with the subject has arrived
// (for at most 10 s) and returns the first such, and how many have.
func waitMail(tb testing.TB, mp *mailpittest.Server, subject string) (mailpittest.Message, int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var found []mailpittest.Message
		for _, m := range mp.Messages(tb) {
			if m.Subject == subject {
				found = append(found, m)
			}
		}
		if len(found) > 0 {
			return found[0], len(found)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no mail %q in mailpit after 10 s", subject)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var mailedLink = regexp.MustCompile(regexp.QuoteMeta(testPublicURL) + `/reset-password\?token=([A-Za-z0-9_-]{43})\b`)

// TestPasswordResetByMail walks the whole flow against a real SMTP server,
// over STARTTLS with a password: forgot → the mail → the link's token →
// reset → log in with the new password, and the old sessions are dead.
func TestPasswordResetByMail(t *testing.T) {
	t.Parallel()
	cert, key, roots := mailpittest.NewCert(t)
	mp := mailpittest.Start(t, mailpittest.Options{Cert: cert, Key: key, RequireSTARTTLS: true, Users: map[string]string{"quill": "smtp-pass-1"}})
	ts := newTestServerWith(t, testDBs()[0], withSMTP(t, "smtp://quill:smtp-pass-1@"+mp.SMTPAddr+"?starttls=required", &tls.Config{RootCAs: roots}))
	f := &fixture{testServer: ts, users: map[string]*testUser{}, vars: map[string]string{}}
	f.addUser(t, "alice", &testUser{Username: "Alice", Email: "alice@example.com", Password: alicePassword})
	other := f.loginPair(t, "alice@example.com", alicePassword)

	res, body := f.do(t, "POST", "/api/users/forgot-password", `{"email":"ALICE@example.com"}`, nil)
	if res.StatusCode != http.StatusAccepted || string(body) != forgotAccepted+"\n" {
		t.Fatalf("forgot-password = %d %s, want 202 %s", res.StatusCode, body, forgotAccepted)
	}
	m, _ := waitMail(t, mp, "Reset your password")
	if len(m.To) != 1 || m.To[0].Address != "alice@example.com" || m.Subject != "Reset your password" {
		t.Errorf("mail to %+v, subject %q; want alice@example.com, Reset your password", m.To, m.Subject)
	}
	if !strings.Contains(m.Text, "Hello Alice,") || !strings.Contains(m.Text, "60 minutes") {
		t.Errorf("mail text lacks the greeting or the link's lifetime:\n%s", m.Text)
	}
	link := mailedLink.FindStringSubmatch(m.Text)
	if link == nil {
		t.Fatalf("no reset link in the mail:\n%s", m.Text)
	}
	token := link[1]
	// With SMTP configured, the log says a mail was sent, never the token.
	logs := f.waitLog(t, "password reset mail sent")
	if strings.Contains(logs, token) {
		t.Errorf("the log holds the reset token:\n%s", logs)
	}

	res, body = f.do(t, "POST", "/api/users/reset-password", mustJSON(t, map[string]string{"token": token, "new_password": newPassword}), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("reset-password = %d %s, want 200", res.StatusCode, body)
	}
	if !f.passwordWorks(t, "alice", newPassword) {
		t.Error("login with the new password failed")
	}
	if f.passwordWorks(t, "alice", alicePassword) {
		t.Error("login with the old password still works")
	}
	for _, tok := range []string{f.users["alice"].Token, other.AccessToken} {
		f.wantStatus(t, "GET", "/api/users/me", bearer(tok), http.StatusUnauthorized)
	}
	for _, tok := range []string{f.users["alice"].Refresh, other.RefreshToken} {
		if status, _ := f.refresh(t, tok); status != http.StatusUnauthorized {
			t.Errorf("refresh of a session from before the reset = %d, want 401", status)
		}
	}
	// The link worked once.
	res, _ = f.do(t, "POST", "/api/users/reset-password", mustJSON(t, map[string]string{"token": token, "new_password": "yet-another-passphrase-7"}), nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("second use of the link = %d, want 400", res.StatusCode)
	}

	// An address without an account gets the same answer, and no mail.
	res, body2 := f.do(t, "POST", "/api/users/forgot-password", `{"email":"nobody@example.com"}`, nil)
	if res.StatusCode != http.StatusAccepted || string(body2) != forgotAccepted+"\n" {
		t.Errorf("forgot-password for an unknown address = %d %s, want the same 202", res.StatusCode, body2)
	}
	f.waitLog(t, "no mail sent")
	if _, got := waitMail(t, mp, "Reset your password"); got != 1 {
		t.Errorf("mailpit has %d reset mails, want still 1", got)
	}
	// The account's address was told of the reset.
	if notice, _ := waitMail(t, mp, "Your password was reset"); notice.To[0].Address != "alice@example.com" || strings.Contains(notice.Text, token) {
		t.Errorf("reset notice to %v, or holding the token:\n%s", notice.To, notice.Text)
	}
}

// TestPasswordResetImplicitTLS sends the reset mail over smtps://.
func TestPasswordResetImplicitTLS(t *testing.T) {
	t.Parallel()
	cert, key, roots := mailpittest.NewCert(t)
	mp := mailpittest.Start(t, mailpittest.Options{Cert: cert, Key: key, ImplicitTLS: true})
	ts := newTestServerWith(t, testDBs()[0], withSMTP(t, "smtps://"+mp.SMTPAddr, &tls.Config{RootCAs: roots}))
	ts.register(t, "Alice", "alice@example.com", alicePassword)
	ts.do(t, "POST", "/api/users/forgot-password", `{"email":"alice@example.com"}`, nil)
	if m, _ := waitMail(t, mp, "Reset your password"); !mailedLink.MatchString(m.Text) {
		t.Errorf("no reset link in the mail:\n%s", m.Text)
	}
}

// TestPasswordResetMailServerDown checks that a mail that cannot be sent
// is not lost silently: the answer is the usual 202, and the log says what
// failed, with the request id.
func TestPasswordResetMailServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ts := newTestServerWith(t, testDBs()[0], withSMTP(t, "smtp://"+addr, nil))
	ts.register(t, "Alice", "alice@example.com", alicePassword)
	res, body := ts.do(t, "POST", "/api/users/forgot-password", `{"email":"alice@example.com"}`, nil)
	if res.StatusCode != http.StatusAccepted || string(body) != forgotAccepted+"\n" {
		t.Fatalf("forgot-password with the mail server down = %d %s, want 202", res.StatusCode, body)
	}
	var line string
	for _, l := range strings.Split(ts.waitLog(t, "password reset mail failed"), "\n") {
		if strings.Contains(l, "password reset mail failed") {
			line = l
		}
	}
	if id := res.Header.Get("X-Request-Id"); !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "request_id="+id) {
		t.Errorf("failure log line %q: want level ERROR and request_id=%s", line, id)
	}
}

// TestForgotPasswordAnswersFirst checks that the answer does not wait for
// the mail: with a mail server that accepts connections and never
// answers, forgot-password still answers at once, every time.
func TestForgotPasswordAnswersFirst(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	ts := newTestServerWith(t, testDBs()[0], withSMTP(t, "smtp://"+ln.Addr().String(), nil))
	ts.register(t, "Alice", "alice@example.com", alicePassword)
	for i, email := range []string{"alice@example.com", "nobody@example.com", "bob@example.com"} {
		res, body := ts.do(t, "POST", "/api/users/forgot-password", `{"email":"`+email+`"}`, nil)
		if res.StatusCode != http.StatusAccepted || string(body) != forgotAccepted+"\n" {
			t.Errorf("forgot-password #%d = %d %s, want 202", i, res.StatusCode, body)
		}
	}
	// The stuck mail is given up at shutdown, and said so.
	ts.stop()
	if logs := ts.logs.String(); !strings.Contains(logs, "password reset mail failed") && !strings.Contains(logs, "shutting down") {
		t.Errorf("after shutdown, the log does not say the mail was not sent:\n%s", logs)
	}
}

// TestResetLinkNotLogged checks that following a reset link leaves the
// token out of the access log, whatever the page answers.
func TestResetLinkNotLogged(t *testing.T) {
	ts := newTestServer(t)
	ts.do(t, "GET", "/reset-password?token="+leakCanary, "", nil)
	ts.do(t, "GET", "/api/users/me?token="+leakCanary, "", nil)
	if logs := ts.logs.String(); strings.Contains(logs, leakCanary) || !strings.Contains(logs, "path=/reset-password ") {
		t.Errorf("access log: want path=/reset-password without the query:\n%s", logs)
	}
}

// TestLastUsedBatched checks that authenticated requests record their
// session's use in memory and that Run writes it in a batch: the listing
// shows it at once, the database only after a flush (here at shutdown).
func TestLastUsedBatched(t *testing.T) {
	ts := newTestServer(t)
	ts.register(t, "Alice", "alice@example.com", alicePassword)
	login := ts.clock.Now()
	token := ts.login(t, "Alice", alicePassword)
	stored := func() time.Time {
		t.Helper()
		sessions := ts.StoredSessions(t, 1)
		if len(sessions) != 1 {
			t.Fatalf("StoredSessions() = %v, want one", sessions)
		}
		return sessions[0].LastUsedAt
	}
	listed := func() string {
		t.Helper()
		res, body := ts.do(t, "GET", "/api/users/me/sessions", "", bearer(token))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("sessions = %d %s", res.StatusCode, body)
		}
		return regexp.MustCompile(`"last_used_at":"([^"]+)"`).FindStringSubmatch(string(body))[1]
	}

	// Within a minute of the stored time, nothing is recorded.
	ts.clock.Advance(30 * time.Second)
	if got, want := listed(), timestampOf(login); got != want {
		t.Errorf("last_used_at 30 s after login = %s, want %s", got, want)
	}
	// Later, many requests: the listing sees the newest, the database
	// nothing yet.
	for range 20 {
		ts.clock.Advance(5 * time.Second)
		ts.do(t, "GET", "/api/users/me", "", bearer(token))
	}
	used := ts.clock.Now()
	if got, want := listed(), timestampOf(used); got != want {
		t.Errorf("listed last_used_at = %s, want %s", got, want)
	}
	if got := stored(); !got.Equal(login) {
		t.Errorf("stored last_used_at = %v before any flush, want the login time %v: no write per request", got, login)
	}
	ts.stop()
	if got := stored(); !got.Equal(used) {
		t.Errorf("stored last_used_at after shutdown = %v, want %v", got, used)
	}
}

func timestampOf(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
