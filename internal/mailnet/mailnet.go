// Package mailnet is how briefd talks to mail servers: the TLS settings it checks a server with, the
// loopback rule for connections without encryption, the backoff between attempts, and what a failed
// connection or handshake means, in words the office's IT person can act on (for `briefd doctor`).
// The IMAP watcher (intake), the SMTP sender (outbox) and the dashboard (web) share these, so that
// each rule is written once.
package mailnet

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
)

// TLSConfig is how briefd checks a mail server: its certificate must be valid for host and signed by
// one of roots (nil: the system's roots), and the connection TLS 1.2 or later.
func TLSConfig(host string, roots *x509.CertPool) *tls.Config {
	return &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12}
}

// IsLoopback reports whether host names this machine only: "localhost" (in any case) or a loopback
// address (127.0.0.0/8, ::1, with or without brackets). A connection without encryption, and a
// dashboard without a password, are allowed only to such a host: nothing else can listen in.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Roots are the certificates a server's may be signed by: the system's, and those of the PEM file at
// caFile (a self-signed server, `ca_file` in the config). "" gives nil: the system's alone.
func Roots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	return pool, nil
}
