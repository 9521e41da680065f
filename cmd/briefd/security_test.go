package main

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
	"briefd/mailmsg"
	"briefd/store"
)

// The security review's tests. Each point of the review has one:
//   - secrets never in logs or printed output (TestSecuritySecretsAndSpoofing)
//   - database and archive files 0600 / folders 0700 (TestSecuritySecretsAndSpoofing)
//   - a spoofed From is shown as such, not trusted (TestSecuritySecretsAndSpoofing)
//   - TLS certificates verified by default, ca_file pins one (TestSecurityTLSVerified, TestSecurityNoInsecureSkip)
//   - dashboard auth and CSRF: web/web_test.go TestAuth, TestCSRF
//   - export formula injection: report/report_test.go TestSafe, TestExportCSV, TestExportXLSX
//   - reply header injection: notify/compose_test.go TestBadInput, TestReplyGolden

// Distinctive secrets: none of them may appear anywhere briefd writes.
const (
	secretIMAP = "imapPW-7Hq2-Zx9q-briefdtest"
	secretSMTP = "smtpPW-4Kq7-Wv1m-briefdtest"
	secretWeb  = "webPW-9Mm3-Vb6t-briefdtest"
	secretBad  = "wrongPW-2Rr8-Yy5u-briefdtest"
)

// spoofedMail claims a registered unit's address; the receiving server (mx.office.example.cn, whose
// authserv-id the config trusts) says it failed DMARC; the sender added a forged "pass" of its own, as
// if from that server, below it, and one from its own server on top.
func spoofedMail(now time.Time) []byte {
	return []byte(strings.ReplaceAll("Authentication-Results: mx.attacker.example; dkim=pass; spf=pass; dmarc=pass\n"+
		"Authentication-Results: mx.office.example.cn; dkim=none; spf=fail smtp.mailfrom=xinfu-jky@example.cn; dmarc=fail header.from=example.cn\n"+
		"Authentication-Results: mx.office.example.cn; dkim=pass; spf=pass; dmarc=pass\n"+
		"From: =?UTF-8?B?5b+75bqc5Yy65pWZ6IKy56eR5oqA5bGA?= <xinfu-jky@example.cn>\nTo: "+mailtest.SampleOffice+
		"\nSubject: =?UTF-8?B?5b+75bqc5Yy6566A5oql?=\nDate: "+now.Format(time.RFC1123Z)+
		"\nMessage-ID: <spoof-1@attacker.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\nhi\n", "\n", "\r\n"))
}

// A full run (daemon with debug logging, replies with SMTP AUTH, the dashboard with a password, every
// read-only command, a failed login) with distinctive passwords; then every byte logged, printed, stored
// or archived is searched for them. The same run checks file modes and the spoofed sender.
func TestSecuritySecretsAndSpoofing(t *testing.T) {
	now := time.Now()
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{User: "office", Pass: secretIMAP})
	sink := mailtest.NewSink(t, mailtest.SinkOptions{Username: "office", Password: secretSMTP})
	samples, err := mailtest.Samples(now)
	if err != nil {
		t.Fatal(err)
	}
	samples = append(samples, mailtest.Sample{Name: "spoofed", Raw: spoofedMail(now), Date: now, Reply: true})
	if _, err := mailtest.AppendAll(srv.Addr, srv.User, srv.Pass, "INBOX", samples); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rc := &relConfig{IMAP: srv.Addr, SMTP: sink.Addr(), User: "office", Pass: secretIMAP, SMTPUser: "office",
		SMTPPass: secretSMTP, WebPass: secretWeb, LogLevel: "debug", AuthServID: "office.example.cn"}
	cfg := writeRelConfig(t, dir, rc)
	d := newDaemon(t, "", cfg, dir)
	d.start()
	rs, err := d.waitReceipts(time.Minute, settled(len(samples)))
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(d.log(), 3000))
	}
	var printed bytes.Buffer
	run := func(args ...string) string {
		cmd := d.command(args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run()
		printed.Write(out.Bytes())
		return out.String()
	}
	// Commands forwarded to the running daemon, and the dashboard: a wrong and a right password.
	table := run("receipts", "-config", cfg)
	run("receipts", "-json", "-config", cfg)
	run("status", "-config", cfg)
	run("config", "check", "-config", cfg)
	web := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, pw := range []string{secretBad, secretWeb} {
		if resp, err := web.PostForm("http://"+rc.WebListen+"/login", url.Values{"password": {pw}}); err == nil {
			resp.Body.Close()
		}
	}
	if err := d.stop(30 * time.Second); err != nil {
		t.Error(err)
	}
	// With the daemon stopped: commands on the database itself, doctor, and a login that fails.
	run("receipts", "-config", cfg)
	run("config", "check", "-config", cfg)
	run("doctor", "-config", cfg)
	badDir := t.TempDir()
	badCfg := writeRelConfig(t, badDir, &relConfig{IMAP: srv.Addr, SMTP: sink.Addr(), User: "office", Pass: secretBad,
		SMTPUser: "office", SMTPPass: secretBad, WebPass: secretBad, LogLevel: "debug"})
	if out := run("poll", "-config", badCfg); !strings.Contains(strings.ToLower(out), "login") && !strings.Contains(out, "AUTHENTICATIONFAILED") {
		t.Logf("poll with a wrong password said: %s", out)
	}
	run("doctor", "-config", badCfg)

	// 1. Secrets: in the logs, the output, the database, the archive.
	haystacks := map[string][]byte{"daemon log": []byte(d.log()), "command output": printed.Bytes()}
	for _, root := range []string{filepath.Join(dir, "data"), filepath.Join(badDir, "data")} {
		filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				haystacks[p] = b
			}
			return nil
		})
	}
	searched, leaks := 0, 0
	for where, b := range haystacks {
		searched += len(b)
		for _, s := range []string{secretIMAP, secretSMTP, secretWeb, secretBad} {
			for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte("\x00office\x00" + s)),
				base64.StdEncoding.EncodeToString([]byte(s))} {
				if bytes.Contains(b, []byte(form)) {
					t.Errorf("secret %s (as %q) found in %s", s, form, where)
					leaks++
				}
			}
		}
	}

	// 2. File modes: the database, its lock, the archive and the spool are the service's alone.
	checked := 0
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil
		}
		want := fs.FileMode(0o600)
		if e.IsDir() {
			want = 0o700
		}
		if perm := info.Mode().Perm(); perm != want {
			t.Errorf("%s: mode %o, want %o", p, perm, want)
		}
		checked++
		return nil
	})

	// 3. The spoofed sender: recorded with auth=fail (the receiving server's result, not the forged one),
	// the reply says 发件人未通过验证, and `briefd receipts` shows it.
	var spoof *store.Receipt
	for _, r := range rs {
		if r.MessageID == "<spoof-1@attacker.example>" {
			spoof = r
		}
	}
	if spoof == nil {
		t.Fatal("no receipt for the spoofed mail")
	}
	if spoof.Auth != "fail" {
		t.Errorf("spoofed mail recorded with auth %q, want fail", spoof.Auth)
	}
	// No reply: it would go to the unit whose address the mail claims (backscatter).
	for _, m := range sink.Messages() {
		if bytes.Contains(m.Data, []byte("<spoof-1@attacker.example>")) {
			t.Errorf("the spoofed mail got a reply:\n%s", mailmsg.Readable(m.Data))
		}
	}
	if spoof.Reply != store.ReplySuppressed {
		t.Errorf("spoofed mail: reply %q (%s), want suppressed", spoof.Reply, spoof.ReplyNote)
	}
	line := ""
	for _, l := range strings.Split(table, "\n") {
		if strings.Contains(l, spoof.Number) {
			line = l
		}
	}
	if !strings.Contains(line, "发件人未通过验证") {
		t.Errorf("briefd receipts does not flag the spoofed sender: %q", line)
	}
	fig := fmt.Sprintf("SECURITY secrets: %d KiB of logs, output, database and archive searched for 4 passwords in 3 forms: %d found; "+
		"%d files and folders checked for 0600/0700; spoofed From: auth=%s, not answered, flagged in the table",
		searched>>10, leaks, checked, spoof.Auth)
	t.Log(fig)
	fmt.Println(fig)
}

// TLS is verified by default: a server with a certificate the system does not trust is refused, for IMAP
// and SMTP; ca_file pins that certificate and then it works. There is no switch that turns checking off.
func TestSecurityTLSVerified(t *testing.T) {
	serverTLS, _, err := mailtest.NewLoopbackCert()
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{TLS: serverTLS, ImplicitTLS: true})
	sink := mailtest.NewSink(t, mailtest.SinkOptions{TLS: serverTLS, ImplicitTLS: true})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverTLS.Certificates[0].Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	poll := func(ca string) (int, string) {
		dir := t.TempDir()
		cfg := writeRelConfig(t, dir, &relConfig{IMAP: srv.Addr, SMTP: sink.Addr(), User: srv.User, Pass: srv.Pass,
			IMAPSecurity: "tls", SMTPSecurity: "tls", IMAPCAFile: ca, SMTPCAFile: ca})
		cmd := newDaemon(t, "", cfg, dir).command("doctor", "-config", cfg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run()
		return cmd.ProcessState.ExitCode(), out.String()
	}
	code, out := poll("")
	if code == 0 || !strings.Contains(out, "certificate") {
		t.Errorf("doctor against an untrusted certificate: exit %d, want a failure naming the certificate:\n%s", code, out)
	}
	code, out = poll(caFile)
	if code != 0 {
		t.Errorf("doctor with ca_file pinning the certificate: exit %d:\n%s", code, out)
	}
}

// No code turns certificate checking off: not in briefd, not in its tests or tools.
func TestSecurityNoInsecureSkip(t *testing.T) {
	needle := "Insecure" + "SkipVerify"
	root := filepath.Join("..", "..")
	n := 0
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		n++
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("%s turns certificate checking off (%s)", p, needle)
		}
		return nil
	})
	if n < 50 {
		t.Errorf("only %d Go files searched from %s", n, root)
	}
}
