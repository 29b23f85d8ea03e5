package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/quill-blog/quill/internal/auth"
)

// config is quill's configuration after every source has been read and
// checked. It is read only here: from built-in defaults, ./.env, the
// process environment and command-line flags, later sources winning.
type config struct {
	Addr           string
	DatabaseURL    string
	SecretKey      string // "" until serve makes or requires one
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	Argon2         auth.Params
	MediaDir       string
	SMTPURL        string
	PublicURL      string
	TrustedProxies []netip.Prefix
	CORSOrigins    []string
	RateLimits     bool
	LogFormat      string
	MetricsAddr    string // "" when metrics are off

	// HTTPS: on with TLSDomains (certificates by ACME) or TLSCertFile.
	TLSDomains  []string // lower-case ASCII host names
	HTTPSAddr   string
	ACMECA      string // the ACME directory URL
	ACMECARoot  string // a PEM file, or "" for the system's roots
	ACMEEmail   string
	TLSCertFile string
	TLSKeyFile  string

	// Scheduled backups: on with BackupDir.
	BackupDir      string
	BackupInterval time.Duration
	BackupKeep     int
}

// tls reports whether quill serves HTTPS.
func (c config) tls() bool { return len(c.TLSDomains) > 0 || c.TLSCertFile != "" }

// setting is one configuration name: its environment name, flag and
// default. The flag is the environment name in lower case with dashes.
type setting struct {
	env, def, help string
}

func (s setting) flag() string {
	return strings.ReplaceAll(strings.ToLower(s.env), "_", "-")
}

// settings lists every configuration name quill reads.
var settings = []setting{
	{"ADDR", "", "listen address (default 127.0.0.1:8000; with TLS, :80, which redirects to HTTPS and answers ACME's HTTP-01 challenge)"},
	{"DATABASE_URL", "sqlite:///./blog.db", "sqlite:///relative/path, sqlite:////absolute/path or postgres://…"},
	{"SECRET_KEY", "", "HS256 key of at least 32 bytes (generated into ./.env on first run with SQLite)"},
	{"ALGORITHM", "HS256", "JWT algorithm; only HS256 is accepted"},
	{"ACCESS_TOKEN_EXPIRE_MINUTES", "30", "access token lifetime in minutes"},
	{"REFRESH_TOKEN_EXPIRE_DAYS", "30", "session (refresh token) lifetime in days"},
	{"ARGON2_MEMORY_KIB", "19456", "Argon2id memory for new hashes, KiB (at least 19456)"},
	{"ARGON2_ITERATIONS", "2", "Argon2id iterations for new hashes (at least 2)"},
	{"ARGON2_PARALLELISM", "1", "Argon2id parallelism for new hashes (at least 1)"},
	{"MEDIA_DIR", "./media", "unused: pictures are kept in the database"},
	{"SMTP_URL", "", "smtp://user:pass@host:port[?starttls=required], or smtps:// for implicit TLS; unset: emails go to the log"},
	{"PUBLIC_URL", "", "base URL for links in emails, feeds and the sitemap (default http://ADDR)"},
	{"TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For is believed"},
	{"CORS_ORIGINS", "", "comma-separated exact origins allowed to call the API"},
	{"RATE_LIMITS", "on", "on, or off to disable throttling (benchmarks and tests only)"},
	{"LOG_FORMAT", "text", "text or json"},
	{"METRICS_ADDR", "", "listen address of the Prometheus /metrics endpoint, never ADDR's: localhost or a private network (unset: no metrics)"},
	{"TLS_DOMAINS", "", "comma-separated domain names to get certificates for by ACME and serve HTTPS for"},
	{"HTTPS_ADDR", ":443", "HTTPS listen address, with TLS_DOMAINS or TLS_CERT_FILE"},
	{"ACME_CA", letsEncrypt, "ACME directory URL of the CA that issues the certificates"},
	{"ACME_CA_ROOT", "", "PEM file of the roots to trust when talking to ACME_CA (default: the system's)"},
	{"ACME_EMAIL", "", "contact address for the ACME account (optional)"},
	{"TLS_CERT_FILE", "", "PEM certificate chain to serve HTTPS with instead of ACME; reloaded when it changes"},
	{"TLS_KEY_FILE", "", "PEM private key of TLS_CERT_FILE"},
	{"BACKUP_DIR", "", "directory where serve takes scheduled backups of a SQLite database; unset: none"},
	{"BACKUP_INTERVAL", "24h", "time between scheduled backups, such as 24h or 6h30m; the first is one interval after start"},
	{"BACKUP_KEEP", "7", "how many scheduled backups to keep in BACKUP_DIR; older ones are deleted"},
}

// letsEncrypt is Let's Encrypt's production ACME directory.
const letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// placeholderKeys are secrets copied from tutorials and templates; a key
// that is public is no key.
var placeholderKeys = []string{
	"your_super_secret_key_here_generate_a_long_one",
	"your-secret-key", "your_secret_key", "your-secret-key-here", "changethis", "changeme",
	"change_me", "secret", "secretkey", "secret_key", "supersecret", "mysecret",
	"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7", // FastAPI docs' example key
}

// dotenvPath is where configuration is read from and a generated secret is
// written to, relative to the working directory.
const dotenvPath = ".env"

// loadConfig reads every source and checks every value. The returned
// FlagSet has been parsed; its remaining arguments are the command's.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extraUsage string) (config, *flag.FlagSet, error) {
	return loadCommandConfig(command{name: name, args: extraUsage}, args, getenv, stderr)
}

// command describes a subcommand to loadCommandConfig.
type command struct {
	name  string // "user create"
	args  string // what its usage line shows after [flags], such as " PATH"
	about string // optional: what it does, shown by --help
	// flags, if not nil, defines the command's own flags on fs.
	flags func(fs *flag.FlagSet)
}

// loadCommandConfig is loadConfig for a command with flags of its own.
// Flags may come before, between or after the command's arguments.
func loadCommandConfig(cmd command, args []string, getenv func(string) string, stderr io.Writer) (config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("quill "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	flags := make(map[string]*string, len(settings))
	for _, s := range settings {
		help := s.help + " (env " + s.env + ")"
		if s.def != "" {
			help += ", default " + s.def
		}
		flags[s.env] = fs.String(s.flag(), "", help)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: quill %s [flags]%s\n\n", cmd.name, cmd.args)
		if cmd.about != "" {
			fmt.Fprintf(stderr, "%s\n\n", cmd.about)
		}
		fmt.Fprintln(stderr, "Flags (configuration flags are also read from the environment and ./.env):")
		fs.PrintDefaults()
	}
	if err := parseInterleaved(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, nil, errHelp
		}
		return config{}, nil, &usageError{err.Error()}
	}

	values := make(map[string]string, len(settings))
	for _, s := range settings {
		values[s.env] = s.def
	}
	dotenv, err := readDotenv(dotenvPath)
	if err != nil {
		return config{}, nil, err
	}
	for _, s := range settings {
		if v, ok := dotenv[s.env]; ok {
			values[s.env] = v
		}
		if v := getenv(s.env); v != "" {
			values[s.env] = v
		}
	}
	fs.Visit(func(f *flag.Flag) {
		for _, s := range settings {
			if s.flag() == f.Name {
				values[s.env] = *flags[s.env]
			}
		}
	})
	cfg, err := parseConfig(values)
	return cfg, fs, err
}

// parseInterleaved parses fs's flags wherever they are among args, so
// `quill import-fastapi old.db --media DIR` works as well as with the flags
// first; after "--" everything is an argument. fs.Args() then returns the
// arguments in order.
func parseInterleaved(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	// Parsing "--" and the arguments alone leaves the flags as they were
	// set and makes fs.Args() the arguments.
	return fs.Parse(append([]string{"--"}, positional...))
}

// parseConfig checks and converts the merged values. Each error names the
// setting, what is wrong, and how to fix it.
func parseConfig(v map[string]string) (config, error) {
	cfg := config{
		DatabaseURL: v["DATABASE_URL"],
		SecretKey:   v["SECRET_KEY"],
		MediaDir:    v["MEDIA_DIR"],
		SMTPURL:     v["SMTP_URL"],
		PublicURL:   v["PUBLIC_URL"],
		LogFormat:   v["LOG_FORMAT"],
	}
	if v["ALGORITHM"] != "HS256" {
		return cfg, fmt.Errorf("ALGORITHM=%q is not supported: quill signs tokens with HS256 only; remove ALGORITHM or set it to HS256", v["ALGORITHM"])
	}
	if err := parseTLS(v, &cfg); err != nil {
		return cfg, err
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return cfg, fmt.Errorf("ADDR=%q is not a host:port address; set it like 127.0.0.1:8000", cfg.Addr)
	}
	if !strings.HasPrefix(cfg.DatabaseURL, "sqlite://") && !strings.HasPrefix(cfg.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(cfg.DatabaseURL, "postgresql://") {
		return cfg, fmt.Errorf("DATABASE_URL must start with sqlite://, postgres:// or postgresql://; for example sqlite:///./blog.db")
	}
	if cfg.SecretKey != "" {
		if err := checkSecret(cfg.SecretKey); err != nil {
			return cfg, err
		}
	}
	var err error
	if cfg.AccessTTL, err = positiveInt(v, "ACCESS_TOKEN_EXPIRE_MINUTES", time.Minute, 60*24*7); err != nil {
		return cfg, err
	}
	if cfg.RefreshTTL, err = positiveInt(v, "REFRESH_TOKEN_EXPIRE_DAYS", 24*time.Hour, 3650); err != nil {
		return cfg, err
	}
	mem, err := positiveInt(v, "ARGON2_MEMORY_KIB", 1, 4<<20)
	if err != nil {
		return cfg, err
	}
	iter, err := positiveInt(v, "ARGON2_ITERATIONS", 1, 100)
	if err != nil {
		return cfg, err
	}
	par, err := positiveInt(v, "ARGON2_PARALLELISM", 1, 255)
	if err != nil {
		return cfg, err
	}
	cfg.Argon2 = auth.Params{Memory: uint32(mem), Iterations: uint32(iter), Parallelism: uint8(par)}
	if err := cfg.Argon2.Validate(); err != nil {
		return cfg, fmt.Errorf("argon2 parameters: %v; the floor is ARGON2_MEMORY_KIB=19456, ARGON2_ITERATIONS=2, ARGON2_PARALLELISM=1", err)
	}
	if cfg.SMTPURL != "" {
		u, err := url.Parse(cfg.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return cfg, errors.New("SMTP_URL must look like smtp://user:pass@host:port (or smtps:// for implicit TLS)")
		}
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = defaultPublicURL(cfg)
	} else if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("PUBLIC_URL=%q is not an http(s) URL; set it like https://blog.example.com", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	for _, c := range splitList(v["TRUSTED_PROXIES"]) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return cfg, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8", c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
	}
	for _, o := range splitList(v["CORS_ORIGINS"]) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return cfg, fmt.Errorf("CORS_ORIGINS: %q is not an origin such as https://app.example.com", o)
		}
		// Browsers send the origin in lower case (RFC 6454 §6.2).
		cfg.CORSOrigins = append(cfg.CORSOrigins, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	switch v["RATE_LIMITS"] {
	case "on":
		cfg.RateLimits = true
	case "off":
		cfg.RateLimits = false
	default:
		return cfg, fmt.Errorf("RATE_LIMITS=%q: use on or off", v["RATE_LIMITS"])
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, fmt.Errorf("LOG_FORMAT=%q: use text or json", cfg.LogFormat)
	}
	if cfg.MetricsAddr, err = metricsAddr(v["METRICS_ADDR"], cfg); err != nil {
		return cfg, err
	}
	cfg.BackupDir = v["BACKUP_DIR"]
	if cfg.BackupInterval, err = time.ParseDuration(strings.TrimSpace(v["BACKUP_INTERVAL"])); err != nil || cfg.BackupInterval < time.Second {
		return cfg, fmt.Errorf("BACKUP_INTERVAL=%q must be a duration of at least 1s, such as 24h, 6h or 30m", v["BACKUP_INTERVAL"])
	}
	keep, err := strconv.Atoi(strings.TrimSpace(v["BACKUP_KEEP"]))
	if err != nil || keep < 1 || keep > 10000 {
		return cfg, fmt.Errorf("BACKUP_KEEP=%q must be a whole number from 1 to 10000: how many scheduled backups to keep", v["BACKUP_KEEP"])
	}
	cfg.BackupKeep = keep
	return cfg, nil
}

// checkSecret refuses keys that are short or public.
func checkSecret(key string) error {
	for _, p := range placeholderKeys {
		if strings.EqualFold(key, p) {
			return errors.New("SECRET_KEY is a well-known placeholder; generate a real one with `quill secret` and put it in .env")
		}
	}
	if len(key) < 32 {
		return fmt.Errorf("SECRET_KEY is %d bytes, fewer than 32; generate one with `quill secret`", len(key))
	}
	if strings.Count(key, key[:1]) == len(key) {
		return errors.New("SECRET_KEY is one character repeated; generate one with `quill secret`")
	}
	return nil
}

func positiveInt(v map[string]string, name string, unit time.Duration, max int64) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v[name]), 10, 64)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%s=%q must be a whole number from 1 to %d", name, v[name], max)
	}
	return time.Duration(n) * unit, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readDotenv reads KEY=VALUE lines. Blank lines and # comments are
// skipped; "export " prefixes and matching quotes around values are
// allowed, as in the files python-dotenv reads. A missing file is empty.
func readDotenv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	out := make(map[string]string)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("%s line %d is not KEY=VALUE; fix or remove it", path, n)
		}
		val = strings.TrimSpace(val)
		if v, ok := quotedValue(val); ok {
			val = v
		} else if i := strings.Index(val, " #"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		out[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// quotedValue returns what is between the quotes of a .env value that
// starts with one: "v", 'v', or "v" # comment. Without it a comment after
// a quoted key would leave the key with a stray quote, silently.
func quotedValue(val string) (string, bool) {
	if len(val) < 2 || (val[0] != '"' && val[0] != '\'') {
		return "", false
	}
	q := val[0]
	if end := strings.IndexByte(val[1:], q) + 1; end > 0 && strings.HasPrefix(strings.TrimSpace(val[end+1:]), "#") {
		return val[1:end], true
	}
	if val[len(val)-1] == q {
		return val[1 : len(val)-1], true
	}
	return "", false
}

// parseTLS reads the HTTPS settings into cfg, and ADDR, whose default
// depends on them.
func parseTLS(v map[string]string, cfg *config) error {
	cfg.HTTPSAddr = v["HTTPS_ADDR"]
	cfg.ACMECA = v["ACME_CA"]
	cfg.ACMECARoot = v["ACME_CA_ROOT"]
	cfg.ACMEEmail = v["ACME_EMAIL"]
	cfg.TLSCertFile = v["TLS_CERT_FILE"]
	cfg.TLSKeyFile = v["TLS_KEY_FILE"]
	for _, d := range splitList(v["TLS_DOMAINS"]) {
		name, err := domainName(d)
		if err != nil {
			return err
		}
		if !slices.Contains(cfg.TLSDomains, name) {
			cfg.TLSDomains = append(cfg.TLSDomains, name)
		}
	}
	switch {
	case len(cfg.TLSDomains) > 0 && cfg.TLSCertFile != "":
		return errors.New("TLS_DOMAINS and TLS_CERT_FILE are both set: set TLS_DOMAINS to get certificates by ACME, or TLS_CERT_FILE and TLS_KEY_FILE to serve your own, not both")
	case cfg.TLSCertFile != "" && cfg.TLSKeyFile == "":
		return errors.New("TLS_CERT_FILE is set but TLS_KEY_FILE is not: set TLS_KEY_FILE to the file of the certificate's private key")
	case cfg.TLSKeyFile != "" && cfg.TLSCertFile == "":
		return errors.New("TLS_KEY_FILE is set but TLS_CERT_FILE is not: set TLS_CERT_FILE to the file of the certificate chain")
	}
	if _, _, err := net.SplitHostPort(cfg.HTTPSAddr); err != nil {
		return fmt.Errorf("HTTPS_ADDR=%q is not a host:port address; set it like :443", cfg.HTTPSAddr)
	}
	cfg.Addr = v["ADDR"]
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8000"
		if cfg.tls() {
			cfg.Addr = ":80"
		}
	}
	if !cfg.tls() {
		return nil
	}
	if samePort(cfg.Addr, cfg.HTTPSAddr) {
		return fmt.Errorf("HTTPS_ADDR=%q is ADDR's address: plain HTTP (ADDR, by default :80) and HTTPS (HTTPS_ADDR, by default :443) need a port each", cfg.HTTPSAddr)
	}
	if len(cfg.TLSDomains) == 0 {
		return nil
	}
	u, err := url.Parse(cfg.ACMECA)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("ACME_CA=%q is not the https URL of an ACME directory, like %s", cfg.ACMECA, letsEncrypt)
	}
	if cfg.ACMEEmail != "" {
		a, err := mail.ParseAddress(cfg.ACMEEmail)
		if err != nil || a.Name != "" || a.Address != cfg.ACMEEmail {
			return fmt.Errorf("ACME_EMAIL=%q is not an email address like admin@example.com", cfg.ACMEEmail)
		}
	}
	return nil
}

// domainName checks one name of TLS_DOMAINS and returns it in the form
// certificates carry: lower case, internationalised names in Punycode.
func domainName(d string) (string, error) {
	if strings.Contains(d, "/") || strings.Contains(d, ":") {
		return "", fmt.Errorf("TLS_DOMAINS: %q is not a domain name; give the name alone, like blog.example.com, without scheme, port or path", d)
	}
	if strings.HasPrefix(d, "*.") {
		return "", fmt.Errorf("TLS_DOMAINS: %q is a wildcard, which needs the DNS-01 challenge quill does not answer; list each name", d)
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "", fmt.Errorf("TLS_DOMAINS: %q is an IP address; list domain names", d)
	}
	name, err := idna.Lookup.ToASCII(strings.TrimSuffix(d, "."))
	if err != nil || !strings.Contains(name, ".") || len(name) > 253 || !dnsLabels(name) {
		return "", fmt.Errorf("TLS_DOMAINS: %q is not a domain name like blog.example.com", d)
	}
	return name, nil
}

// dnsLabels reports whether every label of name is 1 to 63 letters,
// digits and inner hyphens (RFC 1123).
func dnsLabels(name string) bool {
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// defaultPublicURL is PUBLIC_URL when it is not set: http://ADDR, or with
// TLS_DOMAINS, https:// and the first domain, with HTTPS_ADDR's port
// unless it is 443. With TLS_CERT_FILE it is "": serve takes the name
// from the certificate (publicURLFromCert).
func defaultPublicURL(cfg config) string {
	switch {
	case len(cfg.TLSDomains) > 0:
		return "https://" + withPort(cfg.TLSDomains[0], cfg.HTTPSAddr)
	case cfg.TLSCertFile != "":
		return ""
	}
	return "http://" + cfg.Addr
}

// withPort is host with the port of addr, unless it is 443.
func withPort(host, addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "443" {
		return net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") { // IPv6
		return "[" + host + "]"
	}
	return host
}
