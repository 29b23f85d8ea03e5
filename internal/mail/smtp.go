package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/url"
	"time"
)

// Security is how an SMTP connection is protected.
type Security int

// Connection security, chosen by the URL (see NewSMTP).
const (
	StartTLSAuto     Security = iota // smtp://: STARTTLS when the server offers it
	StartTLSRequired                 // smtp://…?starttls=required: STARTTLS or no mail
	StartTLSNever                    // smtp://…?starttls=never: plain text, for a relay on this machine
	ImplicitTLS                      // smtps://: TLS from the first byte
)

// Options tune an SMTP sender. The zero value is usable.
type Options struct {
	// From is the sender, such as "quill <noreply@blog.example.com>", unless
	// the URL has a from parameter. Default "noreply@localhost".
	From string
	// HelloName is the name quill gives itself in EHLO. Default "localhost".
	HelloName string
	// TLS is the base TLS configuration (for tests: RootCAs with a
	// self-signed certificate). ServerName is always the URL's host.
	TLS *tls.Config
	// Timeout bounds one whole delivery: connecting, TLS, every command.
	// Default 30 s.
	Timeout time.Duration
	// Now is the clock for the Date header; default time.Now.
	Now func() time.Time
}

// SMTP sends mail through one SMTP server. It is safe for concurrent use:
// every Send opens its own connection.
type SMTP struct {
	addr, host string
	security   Security
	auth       smtp.Auth // nil: no AUTH
	from       string    // the From header
	envelope   string    // the bare address, for MAIL FROM
	helo       string
	tls        *tls.Config
	timeout    time.Duration
	now        func() time.Time
}

// NewSMTP returns a sender for the server at rawURL:
//
//	smtp://[user:password@]host[:port][?starttls=auto|required|never][&from=address]
//	smtps://[user:password@]host[:port][?from=address]
//
// smtp:// connects in plain text and upgrades with STARTTLS when the server
// offers it (auto, the default), insists on it (required), or never tries
// (never). smtps:// is TLS from the start (RFC 8314). The default ports are
// 587 and 465. With a user, quill authenticates with AUTH PLAIN, and only
// over TLS or to a server on localhost: a password never crosses the
// network in clear. Certificates are verified against the host name.
//
// Errors never repeat the URL: it may hold a password.
func NewSMTP(rawURL string, opts Options) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("SMTP URL does not parse; use smtp://user:password@host:port")
	}
	s := &SMTP{helo: opts.HelloName, timeout: opts.Timeout, now: opts.Now}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.security, port = ImplicitTLS, "465"
	default:
		return nil, errors.New("SMTP URL must start with smtp:// or smtps://")
	}
	s.host = u.Hostname()
	if s.host == "" || (u.Path != "" && u.Path != "/") {
		return nil, errors.New("SMTP URL must look like smtp://user:password@host:port")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	s.addr = net.JoinHostPort(s.host, port)

	q := u.Query()
	for k := range q {
		if k != "starttls" && k != "from" {
			return nil, fmt.Errorf("SMTP URL: unknown parameter %q; known are starttls and from", k)
		}
	}
	switch v := q.Get("starttls"); {
	case v == "" || v == "auto":
	case s.security == ImplicitTLS:
		return nil, errors.New("SMTP URL: starttls does not apply to smtps://, which is TLS from the start")
	case v == "required":
		s.security = StartTLSRequired
	case v == "never":
		s.security = StartTLSNever
	default:
		return nil, errors.New("SMTP URL: starttls must be auto, required or never")
	}

	from := opts.From
	if f := q.Get("from"); f != "" {
		from = f
	}
	if from == "" {
		from = "noreply@localhost"
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, errors.New("SMTP URL: from is not an email address")
	}
	s.from, s.envelope = addr.String(), addr.Address

	if u.User != nil {
		password, _ := u.User.Password()
		// PlainAuth itself refuses to send the password unless the
		// connection is TLS or the host is localhost.
		s.auth = smtp.PlainAuth("", u.User.Username(), password, s.host)
	}
	if s.helo == "" {
		s.helo = "localhost"
	}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.TLS != nil {
		s.tls = opts.TLS.Clone()
	} else {
		s.tls = &tls.Config{}
	}
	s.tls.ServerName = s.host
	if s.tls.MinVersion == 0 {
		s.tls.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// Security reports how connections are protected.
func (s *SMTP) Security() Security { return s.security }

// Send delivers m: one connection, one message. It gives up after the
// sender's timeout or when ctx ends. Errors say what failed (connecting,
// TLS, authentication, a refused recipient) and never include the
// message.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if s.envelope == "" {
		return errors.New("mail: SMTP sender not made by NewSMTP")
	}
	msg, rcpt, err := m.format(s.from, s.now(), s.helo)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	dialer := &net.Dialer{}
	var conn net.Conn
	if s.security == ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("connect to SMTP server %s: %w", s.addr, err)
	}
	// One deadline for the whole conversation, pulled in if ctx ends first.
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP server %s: greeting: %w", s.addr, err)
	}
	defer c.Close()
	if err := s.deliver(c, rcpt, msg); err != nil {
		return fmt.Errorf("SMTP server %s: %w", s.addr, err)
	}
	return nil
}

func (s *SMTP) deliver(c *smtp.Client, to string, msg []byte) error {
	if err := c.Hello(s.helo); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if s.security == StartTLSAuto || s.security == StartTLSRequired {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if s.security == StartTLSRequired {
			return errors.New("the server does not offer STARTTLS, which the URL requires (starttls=required)")
		}
	}
	if s.auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the URL has a user, but the server does not offer AUTH")
		}
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(s.envelope); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}
