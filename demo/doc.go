// Package demo is what `briefd demo` runs on, and what the tests and the benchmark build their mail from:
// go-imap's in-memory IMAP server on a loopback port, an SMTP sink that keeps what it receives, mail
// written the way Foxmail, QQ, 163, Outlook and Apple Mail write it (Samples, Backlog), the PDFs and
// Word files in it, and the demo's config. Test-only helpers (Dovecot, proxies, TLS certificates,
// full disks) are in internal/mailtest, which the briefd binary does not link.
package demo
