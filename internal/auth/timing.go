package auth

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// A login must not tell, by how long its answer takes, whether the account
// exists or what kind of hash it has. Accounts imported from elsewhere
// keep their old hashes until their first login, and an old hash may take
// several times longer to verify than quill's own (pwdlib's default, 64 MiB
// and 3 passes, about five times). So a login attempt for a name no account
// has verifies against a dummy hash of the costliest profile the database
// holds, and every failed attempt returns no sooner than that profile
// takes to verify.

// loginTiming is what VerifyLogin needs to make failures look alike.
type loginTiming struct {
	mu sync.Mutex
	// dummy is a hash of the costliest profile known, with a zero salt
	// and tag: it never matches.
	dummy, dummyProfile string
	// floor is how long verifying the costliest profile takes now: a
	// moving average of every such verification.
	floor time.Duration
}

// floorWeight is the weight of each new verification in the floor's
// moving average: recent enough to follow the machine's load.
const floorWeight = 0.2

// Profile returns the cost profile of a stored hash: the part of it that
// says how it is computed, without salt or tag ("$argon2id$v=19$m=65536,t=3,p=4",
// "$2b$12"). Hashes of one profile take the same time to verify. ok is
// false for a hash Verify would not compute.
func (h *Hasher) Profile(encoded string) (profile string, ok bool) {
	if strings.HasPrefix(encoded, "$argon2") {
		p, ok := parsePHC(encoded, h.limits)
		if !ok {
			return "", false
		}
		return phcProfile(p.variant, p.params), true
	}
	if isBcrypt(encoded, h.limits) {
		return "$2b$" + encoded[4:6], true // $2a$, $2b$ and $2y$ cost alike
	}
	return "", false
}

func phcProfile(variant string, p Params) string {
	return fmt.Sprintf("$%s$v=19$m=%d,t=%d,p=%d", variant, p.Memory, p.Iterations, p.Parallelism)
}

// Prefix is how every hash that Hash makes begins: a stored hash without
// it is of another profile.
func (h *Hasher) Prefix() string { return phcProfile("argon2id", h.params) + "$" }

// Calibrate times one verification of each of profiles (from Profile) and
// of the current parameters, and makes the slowest the one VerifyLogin
// checks a name without an account against. Call it when the hashes
// stored may have changed: at start-up, after an import, now and then.
// Its only error is ErrBusy.
func (h *Hasher) Calibrate(ctx context.Context, profiles []string) error {
	current := phcProfile("argon2id", h.params)
	profiles = slices.DeleteFunc(slices.Clone(profiles), func(p string) bool { return p == current })
	if len(profiles) == 0 {
		// Every hash is of the current parameters: their dummy is the
		// costliest, and logins themselves time it.
		h.timing.mu.Lock()
		defer h.timing.mu.Unlock()
		if h.timing.dummyProfile != current {
			h.timing.dummy, h.timing.dummyProfile, h.timing.floor = "", "", 0
		}
		return nil
	}
	slowest, slowestDummy, slowestTime := "", "", time.Duration(-1)
	for _, profile := range append([]string{current}, profiles...) {
		dummy, err := h.dummyHash(profile)
		if err != nil {
			continue // not a profile Profile returns
		}
		start := time.Now()
		if _, _, err := h.Verify(ctx, "", dummy); err != nil {
			return err
		}
		if took := time.Since(start); took > slowestTime {
			slowest, _ = h.Profile(dummy)
			slowestDummy, slowestTime = dummy, took
		}
	}
	h.timing.mu.Lock()
	defer h.timing.mu.Unlock()
	if slowest != h.timing.dummyProfile {
		h.timing.dummy, h.timing.dummyProfile, h.timing.floor = slowestDummy, slowest, slowestTime
	}
	return nil
}

// dummyHash returns a hash of profile that no password matches.
func (h *Hasher) dummyHash(profile string) (string, error) {
	if strings.HasPrefix(profile, "$2") && len(profile) == 6 {
		cost := int(profile[4]-'0')*10 + int(profile[5]-'0')
		// A real hash, so that bcrypt computes it whole, of a random
		// password.
		pw := make([]byte, 32)
		if _, err := io.ReadFull(h.random, pw); err != nil {
			return "", err
		}
		hash, err := bcrypt.GenerateFromPassword(pw, cost)
		return string(hash), err
	}
	// A PHC string with a zero salt and tag has the profile's cost.
	p, ok := parsePHC(profile+"$"+b64.EncodeToString(make([]byte, saltLen))+"$"+b64.EncodeToString(make([]byte, tagLen)), h.limits)
	if !ok {
		return "", fmt.Errorf("not a hash profile: %q", profile)
	}
	return encodePHC(p.variant, p.params, p.salt, p.tag), nil
}

// VerifyLogin is Verify for a login attempt: encoded is the stored hash of
// the account the attempt names, or "" when no account has that name. A
// name without an account is checked against a hash of the costliest
// profile Calibrate found, and every failure returns no sooner than that
// profile takes to verify, so an unknown name, a wrong password and an
// old, slow hash all take alike. Its only error is ErrBusy.
func (h *Hasher) VerifyLogin(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	start := time.Now()
	h.timing.mu.Lock()
	dummy, dummyProfile := h.timing.dummy, h.timing.dummyProfile
	h.timing.mu.Unlock()
	if dummy == "" {
		dummy, dummyProfile = h.dummy, phcProfile("argon2id", h.params)
	}
	checked := encoded
	if encoded == "" {
		checked = dummy
	}
	ok, needsRehash, err = h.Verify(ctx, password, checked)
	if err != nil {
		return false, false, err
	}
	took := time.Since(start)
	if profile, _ := h.Profile(checked); profile == dummyProfile {
		h.observe(dummyProfile, took)
	}
	if encoded == "" {
		ok, needsRehash = false, false
	}
	if !ok {
		h.pad(ctx, start)
	}
	return ok, needsRehash, nil
}

// observe folds the time a verification of the costliest profile took
// into the floor.
func (h *Hasher) observe(profile string, took time.Duration) {
	h.timing.mu.Lock()
	defer h.timing.mu.Unlock()
	if profile != h.timing.dummyProfile && h.timing.dummyProfile != "" {
		return
	}
	if h.timing.floor == 0 {
		h.timing.floor = took
		return
	}
	h.timing.floor = time.Duration(float64(h.timing.floor)*(1-floorWeight) + float64(took)*floorWeight)
}

// pad waits until the floor has passed since start, or ctx ends.
func (h *Hasher) pad(ctx context.Context, start time.Time) {
	h.timing.mu.Lock()
	floor := h.timing.floor
	h.timing.mu.Unlock()
	wait := floor - time.Since(start)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
