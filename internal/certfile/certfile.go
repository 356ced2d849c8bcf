// Package certfile serves a TLS certificate read from PEM files, and reads them again on
// request (on SIGHUP, in playkey's wiring) without dropping a connection: handshakes
// after a reload present the new certificate, connections already open keep theirs.
package certfile

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Source is a certificate and its private key, from two PEM files. Its GetCertificate fits
// tls.Config, and is safe to call while Reload runs.
type Source struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// Load reads the certificate chain in certFile and the private key in keyFile. Errors name
// the files, never what they hold.
func Load(certFile, keyFile string) (*Source, error) {
	s := &Source{certFile: certFile, keyFile: keyFile}
	if _, err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the files again and, if they hold a certificate and its matching key, makes
// it the one new handshakes get, and returns its leaf. On error the certificate served so
// far stays.
func (s *Source) Reload() (*x509.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		// LoadX509KeyPair's errors say what is wrong (no PEM data, a key that does not match)
		// or name a file; none quotes the files' contents.
		return nil, fmt.Errorf("certificate %s, key %s: %w", s.certFile, s.keyFile, err)
	}
	if cert.Leaf == nil {
		return nil, errors.New("certificate " + s.certFile + ": no leaf certificate")
	}
	s.cur.Store(&cert)
	return cert.Leaf, nil
}

// GetCertificate returns the certificate loaded last, for tls.Config.GetCertificate.
func (s *Source) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cur.Load(), nil
}

// Leaf returns the leaf of the certificate loaded last.
func (s *Source) Leaf() *x509.Certificate { return s.cur.Load().Leaf }

// Config returns a server tls.Config that serves the certificate loaded last, TLS 1.2 and
// later. Callers may set NextProtos on it.
func (s *Source) Config() *tls.Config {
	return &tls.Config{GetCertificate: s.GetCertificate, MinVersion: tls.VersionTLS12}
}

// Describe says which certificate leaf is, for a log line: its subject, names and expiry,
// nothing secret.
func Describe(leaf *x509.Certificate) []any {
	names := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return []any{"subject", leaf.Subject.String(), "names", names, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339)}
}
