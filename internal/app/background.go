package app

import (
	"context"
	"time"
)

// Background work: what the App does between requests. Run drives it.

const (
	// pruneEvery is how often expired sessions, reset tokens, verification
	// links, passkey ceremonies and login challenges are deleted, and the
	// login timing is calibrated again.
	pruneEvery = time.Hour
	// drainWait bounds the work done after Run's context ends: the last
	// writes of session uses, and the mails already queued.
	drainWait = 5 * time.Second
	// loginFailureRetention is how long the login failure count of a name
	// is kept after its last failure: far beyond blog.MaxLoginDelay, so
	// forgetting it only gives a name that has been quiet for a day its
	// free attempts back.
	loginFailureRetention = 24 * time.Hour
)

// Run does the App's background work until ctx ends: it writes the
// recorded session uses every flushEvery (sooner when many pile up),
// sends the mails queued (password reset links, verification links,
// notices), calibrates the timing of failed logins (see
// Calibrate), and deletes what has expired every pruneEvery. When ctx
// ends, it sends the mails already queued and writes the last uses, for
// at most drainWait, then returns.
//
// Call Run once, and end its context only after the HTTP server has
// stopped taking requests, so nothing is recorded or queued after the
// last write.
func (a *App) Run(ctx context.Context) {
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		a.sendMail(ctx)
	}()
	go a.calibrate(ctx)
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainWait)
			a.flushLastUsed(drain)
			cancel()
			<-mailDone
			return
		case <-flush.C:
			a.flushLastUsed(ctx)
		case <-a.lastUsed.full:
			a.flushLastUsed(ctx)
		case <-prune.C:
			a.prune(ctx)
			go a.calibrate(ctx)
		}
	}
}

// prune deletes what has expired. Expired rows are already refused on
// use; this only keeps the tables small.
func (a *App) prune(ctx context.Context) {
	now := a.now()
	if _, err := a.store.DeleteExpiredSessions(ctx, now); err != nil {
		a.logger.Warn("could not delete expired sessions", "err", err)
	}
	if _, err := a.store.DeleteExpiredPasswordResets(ctx, now); err != nil {
		a.logger.Warn("could not delete expired password reset tokens", "err", err)
	}
	if _, err := a.store.DeleteExpiredPasskeyCeremonies(ctx, now); err != nil {
		a.logger.Warn("could not delete expired passkey ceremonies", "err", err)
	}
	if _, err := a.store.DeleteExpiredEmailVerifications(ctx, now); err != nil {
		a.logger.Warn("could not delete expired email verification links", "err", err)
	}
	if _, err := a.store.DeleteExpiredLoginChallenges(ctx, now); err != nil {
		a.logger.Warn("could not delete expired login challenges", "err", err)
	}
	// Every name anyone tries to log in as gets a row, so the counts are
	// forgotten a while after the last failure.
	if _, err := a.store.DeleteStaleLoginFailures(ctx, now.Add(-loginFailureRetention)); err != nil {
		a.logger.Warn("could not delete stale login failure counts", "err", err)
	}
}

// calibrate logs what Calibrate returns.
func (a *App) calibrate(ctx context.Context) {
	if err := a.Calibrate(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("could not time the password hashes in use; failed logins may take less time than the slowest", "err", err)
	}
}

// Calibrate finds the kinds of password hash the accounts have (accounts
// imported from elsewhere keep theirs until they log in) and times each,
// so that a login with a name no account has, or with a wrong password,
// takes as long as one for an account with the slowest kind: the timing
// of a failed login tells nothing about the account. Run calls it at
// start and hourly; call it after an import.
func (a *App) Calibrate(ctx context.Context) error {
	seen := map[string]bool{}
	var profiles []string
	err := a.store.OtherPasswordHashes(ctx, a.hasher.Prefix(), func(hash string) {
		if p, ok := a.hasher.Profile(hash); ok && !seen[p] {
			seen[p] = true
			profiles = append(profiles, p)
		}
	})
	if err != nil {
		return err
	}
	return a.hasher.Calibrate(ctx, profiles)
}
