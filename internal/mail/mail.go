// Package mail sends quill's emails: through an SMTP server (SMTP), or, in
// development, to the log (Log). Both have the same Send method; the server
// declares the interface it needs.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
)

// Message is one plain-text email to one recipient.
type Message struct {
	To      string // an address, such as "alice@example.com"
	Subject string
	Text    string // the body, plain text
}

// recipient checks what would break the message's headers (an address
// that does not parse, a line break: header injection) and returns the
// bare recipient address.
func (m *Message) recipient() (*netmail.Address, error) {
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("mail: line break in a header")
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, errors.New("mail: recipient is not an email address")
	}
	return to, nil
}

// format renders m as an RFC 5322 message (UTF-8 text, quoted-printable,
// so any line length and any character survive any relay) and returns it
// with the recipient's bare address, for RCPT TO.
func (m *Message) format(from string, date time.Time, host string) (msg []byte, rcpt string, err error) {
	to, err := m.recipient()
	if err != nil {
		return nil, "", err
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+rand.Text()+"@"+host+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, "", fmt.Errorf("mail: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, "", fmt.Errorf("mail: %w", err)
	}
	return b.Bytes(), to.Address, nil
}

// Log "sends" mail by writing all of it, links included, to a logger: for
// development, when no SMTP server is configured. Never use it in
// production: the log then holds every reset link.
type Log struct {
	logger *slog.Logger
}

// NewLog returns a Log that writes to logger.
func NewLog(logger *slog.Logger) *Log {
	return &Log{logger: logger}
}

// Send logs the whole message at level Info.
func (l *Log) Send(ctx context.Context, m Message) error {
	if _, err := m.recipient(); err != nil {
		return err
	}
	l.logger.InfoContext(ctx, "development mail (no SMTP server configured; nothing was sent)",
		"to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
