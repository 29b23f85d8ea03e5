// Package app holds quill's use cases: registering, logging in, changing a
// password, writing a post, and every other thing a user or an
// administrator can do, each a method of App taking a context and plain
// inputs. The HTTP API, the pages and the command line are adapters over
// it: they read a request, call one method, and render what it returns.
//
// App owns the rules and the transactions. A use case that changes
// something does so in one transaction with everything the change implies
// (a new password ends the other sessions, voids reset links and clears
// the login throttle; a new email voids reset links), so no adapter can
// forget a consequence or leave half a change behind. Errors a client may
// see are the blog package's.
package app

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"time"

	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/markdown"
	"github.com/quill-blog/quill/internal/passkey"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Config holds what an App needs. Every field is required unless its
// comment says otherwise.
type Config struct {
	Store  *sqlstore.Store
	Hasher *auth.Hasher
	Policy *auth.Policy
	Tokens *auth.Tokens
	// TwoFactor seals TOTP secrets and signs login challenges; derive it
	// from the same secret as Tokens (auth.NewTwoFactor).
	TwoFactor *auth.TwoFactor
	Logger    *slog.Logger

	// SessionTTL is how long a login lasts (the refresh token's life).
	SessionTTL time.Duration
	// PublicURL is the site's address as users reach it, without a
	// trailing slash: the base of links in mails.
	PublicURL string
	// Mailer sends mail; optional: nil writes every mail, links included,
	// to Logger (development only).
	Mailer Mailer
	// ThrottleLogins counts failed password checks per account and makes
	// the next attempt wait (blog.LoginDelay). Off only for benchmarks and
	// tests.
	ThrottleLogins bool
	// Observer is told of logins and reset mails, for metrics; optional.
	Observer Observer
	// SearchTimeout is how long a search may run before it is answered
	// with ErrSearchTooSlow; optional: 5 s.
	SearchTimeout time.Duration
	// Passkeys says who the WebAuthn relying party is
	// (passkey.ConfigFor); optional: the zero value derives it from
	// PublicURL. Passkeys are off when that is an address browsers allow
	// no passkey on (see PasskeysOff).
	Passkeys passkey.Config
	// RequireVerifiedEmail: a new address takes effect only once
	// confirmed, and accounts whose address is not verified cannot write
	// posts (verify.go). Off: a new address takes effect at once,
	// unverified.
	RequireVerifiedEmail bool

	Now    func() time.Time // optional; time.Now
	Random io.Reader        // optional; crypto/rand.Reader
}

// Mailer sends one mail. mail.SMTP and mail.Log are the two kinds.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// App is quill's application layer. Create it with New, and run its
// background work with Run. It is safe for concurrent use.
type App struct {
	store      *sqlstore.Store
	hasher     *auth.Hasher
	policy     *auth.Policy
	tokens     *auth.Tokens
	twoFactor  *auth.TwoFactor
	logger     *slog.Logger
	sessionTTL time.Duration
	publicURL  string
	mailer     Mailer
	throttle   bool
	observer   Observer
	now        func() time.Time
	random     io.Reader

	lastUsed *lastUsed     // session uses not yet written
	resets   *resetQueue   // password reset mails not yet sent
	pictures *memoryBudget // shared by the pictures being decoded

	rendered      *markdown.Cache // posts' HTML and excerpts, by post id
	searches      *searchSlots
	searchTimeout time.Duration

	passkeys    *passkey.RelyingParty // nil when passkeys are off
	passkeysOff error                 // why they are off

	outbox          chan outMail // mails other than reset mails, not yet sent (mail.go)
	requireVerified bool         // Config.RequireVerifiedEmail
}

// New returns an App.
func New(cfg Config) *App {
	a := &App{
		store:         cfg.Store,
		hasher:        cfg.Hasher,
		policy:        cfg.Policy,
		tokens:        cfg.Tokens,
		twoFactor:     cfg.TwoFactor,
		logger:        cfg.Logger,
		sessionTTL:    cfg.SessionTTL,
		publicURL:     trimSlash(cfg.PublicURL),
		mailer:        cfg.Mailer,
		throttle:      cfg.ThrottleLogins,
		observer:      cfg.Observer,
		now:           cfg.Now,
		random:        cfg.Random,
		lastUsed:      newLastUsed(),
		resets:        newResetQueue(),
		pictures:      newMemoryBudget(pictureBudget, pictureWait),
		rendered:      markdown.NewCache(renderCacheBudget),
		searches:      newSearchSlots(defaultSearchSlots(), searchWait),
		searchTimeout: cfg.SearchTimeout,

		outbox:          make(chan outMail, outboxSize),
		requireVerified: cfg.RequireVerifiedEmail,
	}
	if a.searchTimeout <= 0 {
		a.searchTimeout = defaultSearchTimeout
	}
	a.passkeys, a.passkeysOff = relyingParty(cfg.Passkeys, a.publicURL)
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.mailer == nil {
		a.mailer = mail.NewLog(a.logger)
	}
	if a.observer == nil {
		a.observer = nopObserver{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.random == nil {
		a.random = rand.Reader
	}
	return a
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// Caller is who made an authenticated request, and through which session.
type Caller struct {
	User    *blog.User
	Session *blog.Session
}

// Client is where a request came from, as the sessions list shows it.
type Client struct {
	UserAgent string
	IP        string
}

// Ping checks that the database answers.
func (a *App) Ping(ctx context.Context) error { return a.store.Ping(ctx) }

// Dialect names the database: "sqlite" or "postgres".
func (a *App) Dialect() string { return a.store.Dialect() }

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves: the
// App's log lines about that request name it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// log is the App's logger with ctx's request id, if it has one.
func (a *App) log(ctx context.Context) *slog.Logger {
	if id := RequestID(ctx); id != "" {
		return a.logger.With("request_id", id)
	}
	return a.logger
}
