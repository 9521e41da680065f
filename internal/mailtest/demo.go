// Package mailtest is what tests need besides the demo's servers and mail (package demo, also reachable
// here under the names the tests use): a real Dovecot started with a throwaway configuration, proxies
// that imitate NetEase's "Unsafe Login", go silent or slow, a server that never announces new mail,
// throwaway TLS certificates and small disks that fill up. Only tests import it.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"

	"briefd/demo"
)

// The demo's servers and sample mail (package demo) under the names the tests know, and their test
// helpers. Only tests import this package; the briefd binary links demo alone.

type (
	IMAPServer  = demo.IMAPServer
	IMAPOptions = demo.IMAPOptions
	Message     = demo.Message
	SMTPSink    = demo.SMTPSink
	SinkOptions = demo.SinkOptions
	SinkMessage = demo.SinkMessage
	Sample      = demo.Sample
	File        = demo.File
)

// SampleOffice is the office address the sample mail is sent to.
const SampleOffice = demo.SampleOffice

var (
	StartIMAP           = demo.StartIMAP
	NewSMTPSink         = demo.NewSMTPSink
	Samples             = demo.Samples
	Backlog             = demo.Backlog
	BacklogMessageID    = demo.BacklogMessageID
	PDF                 = demo.PDF
	EncryptedPDF        = demo.EncryptedPDF
	WordDoc             = demo.WordDoc
	MailWithPDF         = demo.MailWithPDF
	MailWithAttachments = demo.MailWithAttachments
	Append              = demo.Append
	Messages            = demo.Messages
	UIDValidity         = demo.UIDValidity
	CreateMailbox       = demo.CreateMailbox
	AppendAll           = demo.AppendAll
)

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
}

// NewIMAP starts an in-memory IMAP server for a test and stops it when the test ends.
func NewIMAP(t TB, o IMAPOptions) *IMAPServer {
	t.Helper()
	s, err := StartIMAP(o)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// NewSink starts a sink for a test and closes it when the test ends.
func NewSink(t TB, opts SinkOptions) *SMTPSink {
	t.Helper()
	s, err := NewSMTPSink(opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// returns a server configuration using it and a pool that trusts it, for clients' RootCAs.
func NewLoopbackCert() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mailtest: generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "briefd test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("mailtest: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("mailtest: parse certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pool, nil
}
