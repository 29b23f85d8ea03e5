package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// ReloadEvery is how often, at most, Files looks at its files: on a
// handshake, if this long has passed since it last looked.
const ReloadEvery = 5 * time.Second

// Files serves the certificate chain and key in a pair of PEM files (as
// certbot and most CAs' tools write them) and reloads them when either
// file changes: on a handshake, at most every ReloadEvery, it compares the
// files' modification times and sizes with those of the pair it serves. A
// new pair that does not load (half written, or a key that does not match)
// is logged once and the old one kept; it is tried again when a file
// changes again.
type Files struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	mu       sync.Mutex
	cert     *tls.Certificate
	loaded   stamp     // of the pair cert came from
	failed   stamp     // of the last pair that did not load; logged
	statErr  bool      // the last look could not stat a file; logged
	lastLook time.Time // when the files were last looked at
}

// stamp tells two versions of the pair of files apart.
type stamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// FileError is a pair of files that does not load: Path, the certificate
// file or, if Key, the key file, is unreadable or does not hold what it
// should.
type FileError struct {
	Path string
	Key  bool
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *FileError) Unwrap() error { return e.Err }

// LoadFiles loads the pair of files and returns them, ready to serve. A
// pair that does not load is a *FileError. now is nil for time.Now.
func LoadFiles(certFile, keyFile string, logger *slog.Logger, now func() time.Time) (*Files, error) {
	if now == nil {
		now = time.Now
	}
	f := &Files{certFile: certFile, keyFile: keyFile, logger: logger, now: now}
	st, err := f.stat()
	if err != nil {
		return nil, err
	}
	cert, err := loadPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	f.cert, f.loaded, f.lastLook = cert, st, now()
	f.warnValidity(cert)
	return f, nil
}

// Leaf is the certificate being served.
func (f *Files) Leaf() *x509.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cert.Leaf
}

// TLSConfig returns the configuration of the HTTPS server: the
// certificate, HTTP/2 (which net/http adds), TLS 1.2 at least.
func (f *Files) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: f.GetCertificate, MinVersion: tls.VersionTLS12}
}

// GetCertificate returns the certificate, reloading the files first if
// they have changed and ReloadEvery has passed since the last look. It
// always has one to return.
func (f *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if d := now.Sub(f.lastLook); d >= 0 && d < ReloadEvery {
		return f.cert, nil
	}
	f.lastLook = now
	st, err := f.stat()
	if err != nil {
		if !f.statErr {
			f.logger.Error("cannot look at the certificate files; still serving the certificate loaded before", "err", err)
		}
		f.statErr = true
		return f.cert, nil
	}
	f.statErr = false
	if st == f.loaded || st == f.failed {
		return f.cert, nil
	}
	cert, err := loadPair(f.certFile, f.keyFile)
	if err != nil {
		f.failed = st
		f.logger.Error("cannot load the changed certificate files; still serving the certificate loaded before", "err", err)
		return f.cert, nil
	}
	f.cert, f.loaded, f.failed = cert, st, stamp{}
	f.logger.Info("reloaded the certificate", "file", f.certFile, "subject", cert.Leaf.Subject.String(),
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	f.warnValidity(cert)
	return f.cert, nil
}

// warnValidity logs a certificate that is served outside its validity:
// clients refuse it, but an operator replacing it should not find quill
// down.
func (f *Files) warnValidity(cert *tls.Certificate) {
	now := f.now()
	switch leaf := cert.Leaf; {
	case now.After(leaf.NotAfter):
		f.logger.Warn("the certificate has expired: clients will refuse it", "file", f.certFile,
			"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		f.logger.Warn("the certificate is not valid yet: clients will refuse it", "file", f.certFile,
			"not_before", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
}

// stat returns the stamp of the pair of files.
func (f *Files) stat() (stamp, error) {
	ci, err := os.Stat(f.certFile)
	if err != nil {
		return stamp{}, &FileError{Path: f.certFile, Err: fileErr(err)}
	}
	ki, err := os.Stat(f.keyFile)
	if err != nil {
		return stamp{}, &FileError{Path: f.keyFile, Key: true, Err: fileErr(err)}
	}
	return stamp{certMod: ci.ModTime(), keyMod: ki.ModTime(), certSize: ci.Size(), keySize: ki.Size()}, nil
}

// fileErr drops the path an *os.PathError repeats.
func fileErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadPair reads and checks the pair: a chain of PEM certificates, the
// first the server's, and the PEM private key of that first one.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, &FileError{Path: certFile, Err: fileErr(err)}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, &FileError{Path: keyFile, Key: true, Err: fileErr(err)}
	}
	if err := checkChain(certPEM); err != nil {
		return nil, &FileError{Path: certFile, Err: err}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &FileError{Path: keyFile, Key: true,
			Err: fmt.Errorf("not the private key of the certificate in %s (%v)", certFile, err)}
	}
	return &cert, nil
}

// checkChain reports what is wrong with a certificate file: no PEM
// certificate, or one that does not parse.
func checkChain(data []byte) error {
	n := 0
	for rest := bytes.TrimSpace(data); len(rest) > 0; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			if n == 0 && b.Type != "" && bytes.Contains([]byte(b.Type), []byte("PRIVATE KEY")) {
				return errors.New("holds a private key where the certificate should be: are the two files swapped?")
			}
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d does not parse: %v", n+1, err)
		}
		n++
	}
	if n == 0 {
		return errors.New("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	return nil
}
