// Package auth hashes and verifies passwords (Argon2id, plus the formats the
// Python tutorial stack left behind), judges password strength, and issues
// and checks access tokens (HS256 JWTs) and opaque refresh and reset secrets.
//
// Time and randomness are passed in, so expiry and hashing are testable
// without sleeps or fixed seeds.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/quill-blog/quill/internal/argon2"
	"github.com/quill-blog/quill/internal/blog"
)

// Params are the Argon2id costs of new hashes.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams are OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane)
// and the floor Validate enforces. Params is a value type, so callers get a
// copy; nothing in quill assigns to this variable.
var DefaultParams = Params{Memory: 19456, Iterations: 2, Parallelism: 1}

// Caps on parameters read from stored hashes. A hash with larger costs
// would let whoever wrote it (a bad migration, an attacker with database
// write access) make every login burn seconds of CPU or gigabytes of memory,
// so such a hash fails like a wrong password instead.
const (
	maxMemory      = 256 * 1024 // KiB
	maxIterations  = 10
	maxParallelism = 16
	maxBcryptCost  = 13

	minSaltLen = 8  // the Argon2 RFC's minimum
	maxSaltLen = 64 // far beyond any library's default of 16
	minTagLen  = 16 // passlib and older argon2-cffi emit 16; shorter is too weak to trust
	maxTagLen  = 64

	// maxEncodedLen bounds the work done on a stored string before any
	// parsing: a PHC string at the caps above is about 210 bytes.
	maxEncodedLen = 256

	saltLen = 16 // for new hashes
	tagLen  = 32
)

// Validate reports whether p is at least the OWASP floor (DefaultParams) in
// every field, and within the caps Verify applies to stored hashes, so a
// hash quill makes is one it will later accept.
func (p Params) Validate() error {
	switch {
	case p.Memory < DefaultParams.Memory:
		return fmt.Errorf("argon2 memory %d KiB is below the minimum of %d KiB", p.Memory, DefaultParams.Memory)
	case p.Iterations < DefaultParams.Iterations:
		return fmt.Errorf("argon2 iterations %d is below the minimum of %d", p.Iterations, DefaultParams.Iterations)
	case p.Parallelism < DefaultParams.Parallelism:
		return fmt.Errorf("argon2 parallelism %d is below the minimum of %d", p.Parallelism, DefaultParams.Parallelism)
	case p.Memory > maxMemory:
		return fmt.Errorf("argon2 memory %d KiB is above the maximum of %d KiB", p.Memory, maxMemory)
	case p.Iterations > maxIterations:
		return fmt.Errorf("argon2 iterations %d is above the maximum of %d", p.Iterations, maxIterations)
	case p.Parallelism > maxParallelism:
		return fmt.Errorf("argon2 parallelism %d is above the maximum of %d", p.Parallelism, maxParallelism)
	}
	return nil
}

// computable reports whether Argon2 can run with p at all; the argon2
// package panics on zero iterations or lanes.
func (p Params) computable() bool {
	return p.Iterations >= 1 && p.Parallelism >= 1 && p.Memory >= 8*uint32(p.Parallelism)
}

// ErrBusy is returned when no hashing slot frees up in time: Argon2 is
// memory-hard, so the number running at once is bounded and the rest are
// turned away rather than queued without limit.
var ErrBusy = &blog.Error{
	Kind:       blog.Unavailable,
	Code:       "busy",
	Message:    "Server is busy, try again shortly",
	RetryAfter: 2 * time.Second,
}

// limits are the caps applied to a stored hash before any work is done. They
// are a field of Hasher, not constants, so fuzz tests can shrink them.
type limits struct {
	memory      uint32
	iterations  uint32
	parallelism uint32
	bcryptCost  int
}

// Hasher hashes and verifies passwords, running at most a fixed number of
// hash computations at once. It is safe for concurrent use.
type Hasher struct {
	params Params
	slots  chan struct{} // a send takes a slot, a receive frees it
	memory memoryPool    // the slots' working memory
	wait   time.Duration
	random io.Reader
	limits limits
	dummy  string // of the current parameters
	timing loginTiming
	// observe, if not nil, is told how each wait for a slot went (see
	// ObserveSlots).
	slotObserver func(waited time.Duration, busy bool)
}

// NewHasher returns a Hasher that makes hashes with p, runs at most slots
// hash computations at once (normally GOMAXPROCS; fewer than 1 means 1), and
// lets a caller wait up to wait for a slot before failing with ErrBusy.
// Salts are read from random (crypto/rand when nil).
//
// NewHasher does not call p.Validate: tests use tiny parameters to stay
// fast, and configuration is where the floor is enforced.
func NewHasher(p Params, slots int, wait time.Duration, random io.Reader) *Hasher {
	if slots < 1 {
		slots = 1
	}
	if random == nil {
		random = rand.Reader
	}
	lim := limits{memory: maxMemory, iterations: maxIterations, parallelism: maxParallelism, bcryptCost: maxBcryptCost}
	// Never refuse our own hashes, even when configured beyond the caps.
	lim.memory = max(lim.memory, p.Memory)
	lim.iterations = max(lim.iterations, p.Iterations)
	lim.parallelism = max(lim.parallelism, uint32(p.Parallelism))
	return &Hasher{
		params: p,
		slots:  make(chan struct{}, slots),
		memory: memoryPool{kib: p.Memory, idle: memoryIdle},
		wait:   wait,
		random: random,
		limits: lim,
		// Only the dummy's cost matters: VerifyLogin never reports a match,
		// so its salt and tag can be zero.
		dummy: encodePHC("argon2id", p, make([]byte, saltLen), make([]byte, tagLen)),
	}
}

// Hash returns the Argon2id PHC string of the NFC form of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if !h.params.computable() {
		return "", fmt.Errorf("hash password: argon2 parameters %+v are unusable", h.params)
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(h.random, salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	mem, err := h.acquireMemory(ctx)
	if err != nil {
		return "", err
	}
	defer h.releaseMemory(mem)
	p := h.params
	tag := mem.IDKey([]byte(norm.NFC.String(password)), salt, p.Iterations, p.Memory, p.Parallelism, tagLen)
	return encodePHC("argon2id", p, salt, tag), nil
}

// Verify reports whether password matches encoded, and whether encoded
// should be replaced by a fresh Hash (it matched but is not Argon2id with
// the current parameters, salt and tag lengths).
//
// encoded may be an Argon2id or Argon2i PHC string (quill, argon2-cffi,
// pwdlib, passlib) or a bcrypt hash ($2a$, $2b$, $2y$). A stored hash that
// is malformed, of an unknown format or beyond the cost caps is reported as
// a mismatch with a nil error: to the user it must look like a wrong
// password, never a server error. The only errors are ErrBusy (possibly
// wrapping the context's error).
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	password = norm.NFC.String(password)
	switch {
	case strings.HasPrefix(encoded, "$argon2"):
		p, parsed := parsePHC(encoded, h.limits)
		if !parsed {
			return false, false, nil
		}
		mem, err := h.acquireMemory(ctx)
		if err != nil {
			return false, false, err
		}
		defer h.releaseMemory(mem)
		if subtle.ConstantTimeCompare(p.key(mem, []byte(password)), p.tag) != 1 {
			return false, false, nil
		}
		current := p.variant == "argon2id" && p.params == h.params && len(p.salt) == saltLen && len(p.tag) == tagLen
		return true, !current, nil

	case isBcrypt(encoded, h.limits):
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		defer h.release()
		// bcrypt only ever used the first 72 bytes, so the Python libraries
		// that made these hashes dropped the rest (or refused it); verify
		// what they hashed. The rehash that follows lifts the limit.
		pw := []byte(password)
		if len(pw) > 72 {
			pw = pw[:72]
		}
		// x/crypto/bcrypt compares in constant time.
		if bcrypt.CompareHashAndPassword([]byte(encoded), pw) != nil {
			return false, false, nil
		}
		return true, true, nil
	}
	return false, false, nil
}

// Recognizes reports whether encoded is a hash Verify can check: a
// well-formed Argon2 or bcrypt string within the cost caps. It computes
// nothing, so an import can tell cheaply which users will be able to log in.
func (h *Hasher) Recognizes(encoded string) bool {
	if strings.HasPrefix(encoded, "$argon2") {
		_, ok := parsePHC(encoded, h.limits)
		return ok
	}
	return isBcrypt(encoded, h.limits)
}

// acquire takes a hashing slot, waiting at most h.wait. The wait uses the
// real clock: it bounds how long a request is held, which is not part of
// any behaviour tests assert on.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	select {
	case h.slots <- struct{}{}:
		h.observed(0, false)
		return nil
	default:
	}
	if h.wait <= 0 {
		h.observed(0, true)
		return ErrBusy
	}
	start := time.Now()
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		h.observed(time.Since(start), false)
		return nil
	case <-timer.C:
		h.observed(time.Since(start), true)
		return ErrBusy
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// phc is a parsed Argon2 PHC string.
type phc struct {
	variant   string // "argon2id" or "argon2i"
	params    Params
	salt, tag []byte
}

// key computes the tag of password with p's variant, parameters and salt,
// in mem if it is large enough.
func (p phc) key(mem *argon2.Memory, password []byte) []byte {
	n := uint32(len(p.tag))
	if p.variant == "argon2i" {
		return mem.Key(password, p.salt, p.params.Iterations, p.params.Memory, p.params.Parallelism, n)
	}
	return mem.IDKey(password, p.salt, p.params.Iterations, p.params.Memory, p.params.Parallelism, n)
}

// b64 is the PHC format's base64: standard alphabet, no padding. Strict
// rejects non-zero trailing bits, so each hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

func encodePHC(variant string, p Params, salt, tag []byte) string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", variant, argon2.Version,
		p.Memory, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(tag))
}

// parsePHC parses $argon2id$ and $argon2i$ strings of version 19 with
// parameters m, t and p in that order, which is what argon2-cffi, pwdlib
// and passlib write. It reports false for anything else, including costs
// beyond lim, before doing any expensive work.
//
// passlib omits "v=" only for Argon2 version 1.0 (0x10) hashes, which
// x/crypto/argon2 cannot compute, so those are rejected here too, as are
// argon2d, passlib's keyid= and data= (secret and associated data).
func parsePHC(s string, lim limits) (phc, bool) {
	if len(s) > maxEncodedLen {
		return phc{}, false
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[2] != "v=19" {
		return phc{}, false
	}
	var p phc
	switch parts[1] {
	case "argon2id", "argon2i":
		p.variant = parts[1]
	default:
		return phc{}, false
	}

	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return phc{}, false
	}
	m, ok1 := phcUint(kv[0], "m=")
	t, ok2 := phcUint(kv[1], "t=")
	par, ok3 := phcUint(kv[2], "p=")
	if !ok1 || !ok2 || !ok3 ||
		m > lim.memory || t < 1 || t > lim.iterations || par < 1 || par > lim.parallelism ||
		m < 8*par { // Argon2's own minimum; no library writes less
		return phc{}, false
	}
	p.params = Params{Memory: m, Iterations: t, Parallelism: uint8(par)}

	var ok bool
	if p.salt, ok = phcBytes(parts[4], minSaltLen, maxSaltLen); !ok {
		return phc{}, false
	}
	if p.tag, ok = phcBytes(parts[5], minTagLen, maxTagLen); !ok {
		return phc{}, false
	}
	return p, true
}

// phcUint parses "m=19456": a decimal without sign or leading zeros that
// fits in 32 bits.
func phcUint(s, prefix string) (uint32, bool) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || len(digits) > 10 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	return uint32(n), err == nil
}

// phcBytes decodes a salt or tag whose length must lie in [min, max] bytes,
// checking the encoded length first so oversized input costs nothing.
func phcBytes(s string, min, max int) ([]byte, bool) {
	if len(s) < b64.EncodedLen(min) || len(s) > b64.EncodedLen(max) {
		return nil, false
	}
	// encoding/base64 skips '\r' and '\n'; a PHC field has one spelling.
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := b64.DecodeString(s)
	if err != nil || len(b) < min || len(b) > max {
		return nil, false
	}
	return b, true
}

// isBcrypt reports whether s looks like a modular-crypt bcrypt hash
// ($2a$, $2b$ or $2y$, two-digit cost, 53 characters of salt and hash) with
// a cost within lim. The variants differ only in bugs of old C
// implementations, not in what a correct implementation computes.
func isBcrypt(s string, lim limits) bool {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return false
	}
	switch s[2] {
	case 'a', 'b', 'y':
	default:
		return false
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return false
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < bcrypt.MinCost || cost > lim.bcryptCost {
		return false
	}
	for i := 7; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

// Policy judges whether a password is strong enough to accept at
// registration, password change and reset. Build one with
// NewPolicy; it is safe for concurrent use.
type Policy struct {
	common func() map[string]struct{}
}

// commonRank is how many of the most common passwords are refused.
const commonRank = 10_000

// minPersonalLen is the shortest username or email local part that counts:
// a shorter one ("a@x.io") would forbid nearly every password.
const minPersonalLen = 3

// NewPolicy builds a Policy. It indexes the 10,000 most common passwords
// of zxcvbn's list (see commonPasswords) when it first checks a password,
// so that a server never asked to holds no memory for them; build it once
// and share it.
func NewPolicy() *Policy {
	return &Policy{common: sync.OnceValue(func() map[string]struct{} {
		list := commonPasswords()
		list = list[:min(len(list), commonRank)]
		common := make(map[string]struct{}, len(list))
		fold := cases.Fold()
		for _, w := range list {
			common[fold.String(w)] = struct{}{}
		}
		return common
	})}
}

// Check returns "" when password is acceptable, or a message for the user
// saying why not: it is one of the 10,000 most common passwords, or it
// contains the username or the email's local part (all compared ignoring
// case). Length is checked by blog.Validator.Password.
func (p *Policy) Check(password, username, email string) string {
	// A Caser keeps state, so each call gets its own.
	fold := func(s string) string { return cases.Fold().String(norm.NFC.String(s)) }
	pw := fold(password)
	if _, ok := p.common()[pw]; ok {
		return "This password is too common; choose one that is harder to guess"
	}
	if name := fold(username); utf8.RuneCountInString(name) >= minPersonalLen && strings.Contains(pw, name) {
		return "Password must not contain your username"
	}
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		if local := fold(email[:at]); utf8.RuneCountInString(local) >= minPersonalLen && strings.Contains(pw, local) {
			return "Password must not contain your email address"
		}
	}
	return ""
}
