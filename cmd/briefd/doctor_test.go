package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"briefd/internal/mailtest"
)

// doctorConfig writes a config for the given servers and returns its path.
func doctorConfig(t *testing.T, imapAddr, imapSec, smtpAddr, extra string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`office: {name: 职教科, address: xzszjk@example.cn}
imap: {server: "%s", security: %s, username: office%s}
smtp: {server: "%s", security: plain, username: relay}
store: {path: "%s/db", archive: "%s/archive"}
units: [{id: a, name: 甲单位, emails: [a@example.cn]}]
`, imapAddr, imapSec, extra, smtpAddr, dir, dir)
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runDoctor(t *testing.T, cfg, imapPass, smtpPass string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	vars := map[string]string{"BRIEFD_IMAP_PASSWORD": imapPass, "BRIEFD_SMTP_PASSWORD": smtpPass}
	code := runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }},
		[]string{"doctor", "-config", cfg})
	return code, out.String() + errb.String()
}

func TestDoctor(t *testing.T) {
	srv := mailtest.NewIMAP(t, mailtest.IMAPOptions{User: "office", Pass: "imap-secret"})
	fake := mailtest.NewUnsafeLogin(t, srv.Addr) // behaves like 163: SELECT needs ID first
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{Username: "relay", Password: "smtp-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	t.Run("all good, like 163", func(t *testing.T) {
		code, out := runDoctor(t, doctorConfig(t, fake.Addr, "plain", sink.Addr(), ""), "imap-secret", "smtp-secret")
		if code != 0 || !strings.Contains(out, "全部正常") || !strings.Contains(out, "ID 命令：已发送") {
			t.Errorf("exit %d\n%s", code, out)
		}
		if len(sink.Messages()) != 0 {
			t.Errorf("doctor sent mail")
		}
	})
	t.Run("wrong 授权码", func(t *testing.T) {
		code, out := runDoctor(t, doctorConfig(t, srv.Addr, "plain", sink.Addr(), ""), "wrong", "smtp-secret")
		if code != 1 || !strings.Contains(out, "授权码不对") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("wrong SMTP password", func(t *testing.T) {
		code, out := runDoctor(t, doctorConfig(t, srv.Addr, "plain", sink.Addr(), ""), "imap-secret", "wrong")
		if code != 1 || !strings.Contains(out, "发信登录失败") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		code, out := runDoctor(t, doctorConfig(t, "127.0.0.1:1", "plain", "127.0.0.1:1", ""), "x", "y")
		if code != 1 || !strings.Contains(out, "检查端口号") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("self-signed certificate", func(t *testing.T) {
		tlsConf, _, err := mailtest.NewLoopbackCert()
		if err != nil {
			t.Fatal(err)
		}
		tsrv := mailtest.NewIMAP(t, mailtest.IMAPOptions{User: "office", Pass: "imap-secret", TLS: tlsConf, ImplicitTLS: true})
		code, out := runDoctor(t, doctorConfig(t, tsrv.Addr, "tls", sink.Addr(), ""), "imap-secret", "smtp-secret")
		if code != 1 || !strings.Contains(out, "127.0.0.1 的证书不是受信任的机构签发的") {
			t.Errorf("untrusted: exit %d\n%s", code, out)
		}
		ca := filepath.Join(t.TempDir(), "ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsConf.Certificates[0].Leaf.Raw})
		if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out = runDoctor(t, doctorConfig(t, tsrv.Addr, "tls", sink.Addr(), `, ca_file: "`+ca+`"`), "imap-secret", "smtp-secret")
		if code != 0 {
			t.Errorf("with ca_file: exit %d\n%s", code, out)
		}
	})
	if strings.Contains(strings.Join(fake.Commands(), "\n"), "imap-secret") {
		t.Errorf("the proxy log shows the password")
	}
}
