package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/auth"
	"github.com/quill-blog/quill/internal/mail"
	"github.com/quill-blog/quill/internal/metrics"
	"github.com/quill-blog/quill/internal/server"
	"github.com/quill-blog/quill/internal/sqlstore"
)

// Server limits. Reads and writes allow a 5 MiB picture over a slow link;
// the header timeout is what stops slow-loris clients.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	hashWait          = 2 * time.Second
	shutdownWait      = 10 * time.Second
)

// serve runs the HTTP server until ctx ends, then drains in-flight
// requests (for at most shutdownWait) and closes the database.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, fs, err := loadConfig("serve", args, getenv, stderr, "")
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Arg(0))}
	}
	logs := newLogBuffer(stderr)
	logsDone := make(chan struct{})
	logCtx, stopLogs := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(logsDone)
		logs.run(logCtx)
	}()
	defer func() {
		stopLogs()
		<-logsDone
	}()
	logger := slog.New(urgentHandler{newLogger(cfg.LogFormat, logs).Handler(), logs})
	startProfiler(getenv, logger)
	tlsFiles, err := readTLSFiles(&cfg, logger)
	if err != nil {
		return err
	}
	backups, scheduled, err := backupSchedule(cfg)
	if err != nil {
		return err
	}

	if cfg.SecretKey == "" {
		if !strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
			return errors.New("SECRET_KEY is not set: with PostgreSQL every instance must share one key; generate one with `quill secret` and set SECRET_KEY")
		}
		if cfg.SecretKey, err = appendSecret(dotenvPath); err != nil {
			return err
		}
		logger.Info("generated a new SECRET_KEY and saved it to .env (mode 0600); keep that file private")
	}

	mailer, err := newMailer(cfg, logger)
	if err != nil {
		return err
	}

	store, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer store.Close()

	front, err := listen(cfg)
	if err != nil {
		return err
	}
	defer front.close()
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("cannot listen on %s: %v; stop whatever uses that address or set METRICS_ADDR (--metrics-addr) to another", cfg.MetricsAddr, unwrapOpError(err))
		}
		defer metricsLn.Close()
	}

	slots := setProcessors()
	tuneCollector(getenv)
	appCfg := appConfig(cfg, store, logger, slots, mailer)
	var meter *metrics.Metrics
	if metricsLn != nil {
		meter = metrics.New(logger)
		appCfg.Hasher.ObserveSlots(meter.HashSlotWait)
		appCfg.Observer = meter
	}
	quill := app.New(appCfg)
	if err := quill.PasskeysOff(); err != nil {
		logger.Warn("passkeys are off: "+err.Error()+"; set PUBLIC_URL to the site's address by name", "public_url", cfg.PublicURL)
	} else {
		id, origins := quill.PasskeyRelyingParty()
		logger.Info("passkeys", "rp_id", id, "origins", origins)
	}
	srvCfg := server.Config{
		App:       quill,
		Logger:    logger,
		CSRF:      auth.NewCSRF([]byte(cfg.SecretKey)),
		PublicURL: cfg.PublicURL,

		TrustedProxies:    cfg.TrustedProxies,
		CORSOrigins:       cfg.CORSOrigins,
		DisableRateLimits: !cfg.RateLimits,
	}
	if meter != nil {
		meter.Watch(metrics.Sources{LiveSessions: quill.LiveSessions, ResetMailQueue: quill.ResetMailQueue, Pools: store.PoolStats})
		srvCfg.ObserveRequest = meter.Request
	}
	handler := server.New(srvCfg)
	// Background work (batched session-use writes, reset mails) stops
	// after the HTTP server: see the end of this function.
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	backgroundDone := make(chan struct{})
	go func() {
		defer close(backgroundDone)
		quill.Run(background)
	}()
	if err := front.setUp(cfg, tlsFiles, store, logger, handler); err != nil {
		return err
	}
	errc := make(chan error, 3)
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsSrv = metricsServer(meter, logger)
		logger.Info("serving metrics", "url", "http://"+metricsLn.Addr().String()+"/metrics")
		go func() { errc <- fmt.Errorf("metrics: %w", metricsSrv.Serve(metricsLn)) }()
	}
	if scheduled {
		// Stopped when ctx ends, and waited for before the store closes.
		defer startBackups(ctx, quill, backups, logger)()
	}
	front.logListening(logger, "public_url", cfg.PublicURL, "database", store.Dialect(), "hash_slots", slots)
	front.start(ctx, errc)
	select {
	case err := <-errc:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := front.shutdown(sctx); err != nil {
		logger.Warn("requests still running at shutdown were cut off", "err", err)
	}
	if metricsSrv != nil {
		metricsSrv.Close() // a scrape cut off is only a gap
	}
	// No request can record anything now: write what is held, send the
	// queued mails (bounded), then the deferred store.Close runs.
	stopBackground()
	<-backgroundDone
	return nil
}

// newHTTPServer returns a server of handler with quill's limits.
func newHTTPServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
}

// setProcessors raises GOMAXPROCS by one and returns how many Argon2
// computations may run at once: as many as there were processors. Argon2 is
// pure CPU, so with a hash slot for every processor a login flood leaves
// every other request only the 10 ms slices Go's scheduler hands out between
// hashes (docs/reliability.md has the figures). With one processor more
// than the slots, other requests always have one, and the kernel shares
// the CPUs between it and the hashing threads; logins still use every CPU
// when nothing else runs. The slots are GOMAXPROCS - 1. Only the first call changes
// anything: tests run serve many times in one process.
var setProcessors = sync.OnceValue(func() (hashSlots int) {
	n := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(n + 1)
	return n
})

// The collector settings serve applies when the operator has not set
// GOGC or GOMEMLIMIT (docs/design.md, "The collector").
const (
	// collectorPercent lets the heap grow to five times what was live at
	// the last collection, so that a heap of a few MiB, as quill's is while
	// it serves reads, is not collected many times a second.
	collectorPercent = 400
	// collectorLimit holds that growth to what Go's default (100) allowed
	// at the largest live heap quill expects: its budgeted memory and
	// 32 MiB for the rest, doubled.
	collectorLimit = 2 * (app.BudgetedMemory + 32<<20)
)

// tuneCollector applies collectorPercent unless the environment sets
// GOGC, and collectorLimit unless it sets GOMEMLIMIT (the runtime has
// applied those). Only the first call changes anything, as with
// setProcessors.
func tuneCollector(getenv func(string) string) {
	collectorTuned.Do(func() {
		if getenv("GOGC") == "" {
			debug.SetGCPercent(collectorPercent)
		}
		if getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(collectorLimit)
		}
	})
}

var collectorTuned sync.Once

// newApp returns the application layer on store, configured by cfg, with
// slots hash computations at once. mailer may be nil where no mail is
// sent (the admin commands).
func newApp(cfg config, store *sqlstore.Store, logger *slog.Logger, slots int, mailer app.Mailer) *app.App {
	return app.New(appConfig(cfg, store, logger, slots, mailer))
}

// appConfig is the configuration newApp gives the application layer.
func appConfig(cfg config, store *sqlstore.Store, logger *slog.Logger, slots int, mailer app.Mailer) app.Config {
	return app.Config{
		Store:          store,
		Hasher:         auth.NewHasher(cfg.Argon2, slots, hashWait, rand.Reader),
		Policy:         auth.NewPolicy(),
		Tokens:         auth.NewTokens([]byte(cfg.SecretKey), cfg.AccessTTL, time.Now, rand.Reader),
		TwoFactor:      auth.NewTwoFactor([]byte(cfg.SecretKey), rand.Reader),
		Logger:         logger,
		SessionTTL:     cfg.RefreshTTL,
		PublicURL:      cfg.PublicURL,
		Mailer:         mailer,
		ThrottleLogins: cfg.RateLimits,
		Passkeys:       passkeyConfig(cfg),

		RequireVerifiedEmail: cfg.RequireVerifiedEmail,
	}
}

// newMailer returns the SMTP sender SMTP_URL names, or, when it is unset,
// the development sender that writes mails to the log.
func newMailer(cfg config, logger *slog.Logger) (app.Mailer, error) {
	if cfg.SMTPURL == "" {
		logger.Warn("SMTP_URL is unset: emails, password reset links included, are written to this log instead of being sent (development only)")
		return mail.NewLog(logger), nil
	}
	host := "localhost"
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	sender, err := mail.NewSMTP(cfg.SMTPURL, mail.Options{From: "quill <noreply@" + host + ">", HelloName: host})
	if err != nil {
		return nil, fmt.Errorf("%v; check SMTP_URL", err)
	}
	return sender, nil
}

// openStore opens the database and applies any pending migrations.
func openStore(ctx context.Context, databaseURL string) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, databaseURL, time.Now)
	if err != nil {
		return nil, fmt.Errorf("cannot open the database: %v; check DATABASE_URL", err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("cannot migrate the database: %v", err)
	}
	return store, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// unwrapOpError drops the "listen tcp …:" prefix net adds, since the
// message names the address already.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// newSecret is 32 random bytes, hex-encoded.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// appendSecret generates a key and appends SECRET_KEY=… to the .env file
// at path, creating it readable by its owner only.
func appendSecret(path string) (string, error) {
	key, err := newSecret()
	if err != nil {
		return "", err
	}
	line := "SECRET_KEY=" + key + "\n"
	if old, err := os.ReadFile(path); err == nil && len(old) > 0 && old[len(old)-1] != '\n' {
		line = "\n" + line
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("cannot save a generated SECRET_KEY to %s: %v; set SECRET_KEY yourself (see `quill secret`)", path, err)
	}
	// An existing .env (the tutorial's is often 0644) keeps its mode on
	// open; a file holding the key must be the owner's alone.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("cannot make %s private (mode 0600): %v", path, err)
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return "", fmt.Errorf("cannot save a generated SECRET_KEY to %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("cannot save a generated SECRET_KEY to %s: %v", path, err)
	}
	return key, nil
}
