package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/quill-blog/quill/internal/mail/mailpittest"
	"github.com/quill-blog/quill/internal/quillproc"
)

// waitMail polls the sink (for at most 30 s) until a mail to the address
// with the subject has arrived, and returns the newest such.
func waitMail(t *testing.T, sink *mailpittest.Server, to, subject string) mailpittest.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var found []mailpittest.Message
		for _, m := range sink.Messages(t) {
			if len(m.To) == 1 && m.To[0].Address == to && m.Subject == subject {
				found = append(found, m)
			}
		}
		if len(found) > 0 {
			return found[len(found)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail %q to %s after 30 s", subject, to)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var verifyLinkRE = regexp.MustCompile(`http://[^\s]+/verify-email\?token=[A-Za-z0-9_-]+`)

// browserVerifyEmail is flow 8, on a server that requires verified
// addresses: register, find that writing waits for the address, read the
// mail, open its link, confirm; the account page shows the address
// verified, and writing is open.
func browserVerifyEmail(t *testing.T) {
	sink := mailpittest.Start(t, mailpittest.Options{})
	addr, err := quillproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	base := startBinary(t, "ADDR="+addr, "SMTP_URL=smtp://"+sink.SMTPAddr+"?starttls=never", "REQUIRE_VERIFIED_EMAIL=on")

	b := newBrowser(t, base)
	b.open("/register")
	b.do("register", append(fill("#username", "henry", "#email", "Henry@Example.com", "#password", "a long passphrase 49"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)
	b.do("try to write", chromedp.Click(chromedp.CSS(`header a[href="/posts/new"]`)), chromedp.WaitVisible(chromedp.CSS("#verify-resend")))
	b.wantText("main h1", "Confirm your email address first")
	b.do("see the account page", chromedp.Click(chromedp.CSS(`a[href="/account#profile"]`)), chromedp.WaitVisible(chromedp.CSS("#email-unverified")))
	b.wantText("#email-unverified", "Not verified")

	m := waitMail(t, sink, "henry@example.com", "Confirm your email address")
	link := verifyLinkRE.FindString(m.Text)
	if !strings.HasPrefix(link, base+"/verify-email?token=") {
		t.Fatalf("the mail has no verification link to %s:\n%s", base, m.Text)
	}
	b.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#verify-confirm")))
	if got := b.text("#verify-what"); !strings.Contains(got, "henry@example.com") {
		t.Errorf("the page of the link says %q, want the address", got)
	}
	b.screenshot("verify-link")
	b.do("confirm", chromedp.Click(chromedp.CSS("#verify-confirm")), chromedp.WaitVisible(chromedp.CSS("#email-verified")))
	if got := b.location(); got != "/account#profile" {
		t.Errorf("after confirming the browser is at %s, want the account page", got)
	}
	b.wantText("#email-verified", "Verified")
	b.screenshot("verified-account")
	b.do("write", chromedp.Click(chromedp.CSS(`header a[href="/posts/new"]`)), chromedp.WaitVisible(chromedp.CSS("#content")))
}
