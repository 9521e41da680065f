package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"briefd/intake"
	"briefd/internal/mailnet"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// cmdDoctor implements `briefd doctor`: it tries the configured IMAP and SMTP servers without sending or
// changing anything, and says what works and what to fix.
func cmdDoctor(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "doctor", "doctor [-config PATH]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(configPath(*cfgFlag, e.getenv), e.getenv, true)
	if err != nil {
		return err
	}
	imapCAs, err := loadCAs(cfg.IMAP.CAFile)
	if err != nil {
		return err
	}
	smtpCAs, err := loadCAs(cfg.SMTP.CAFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "检查收件服务器 %s（%s）…\n", cfg.IMAP.Server, cfg.IMAP.Security)
	checks := intake.Diagnose(ctx, intake.IMAPOptions{Server: cfg.IMAP.Server, Security: cfg.IMAP.Security,
		Username: cfg.IMAP.Username, Password: cfg.IMAP.value, Mailbox: cfg.IMAP.Mailbox, After: cfg.IMAP.After, RootCAs: imapCAs})
	failed := printChecks(e.stdout, checks)
	fmt.Fprintf(e.stdout, "\n检查发信服务器 %s（%s）…\n", cfg.SMTP.Server, cfg.SMTP.Security)
	failed += printChecks(e.stdout, diagnoseSMTP(ctx, cfg, smtpCAs))
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed; see the advice above", failed)
	}
	fmt.Fprintln(e.stdout, "\n全部正常：可以运行 briefd run。")
	return nil
}

func printChecks(w io.Writer, cs []mailnet.Check) (failed int) {
	for _, c := range cs {
		mark := "✓"
		switch {
		case !c.OK:
			mark = "✗"
			failed++
		case c.Warn:
			mark = "!"
		}
		fmt.Fprintf(w, "  %s %s：%s\n", mark, c.Step, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(w, "      → %s\n", c.Fix)
		}
	}
	return failed
}

// diagnoseSMTP connects, says EHLO and authenticates, then quits: no mail is sent.
func diagnoseSMTP(ctx context.Context, cfg *Config, cas *x509.CertPool) []mailnet.Check {
	var out []mailnet.Check
	add := func(c mailnet.Check) bool { out = append(out, c); return c.OK }
	host, port, _ := net.SplitHostPort(cfg.SMTP.Server)
	conn, err := (&net.Dialer{Timeout: 20 * time.Second}).DialContext(ctx, "tcp", cfg.SMTP.Server)
	if !add(mailnet.ExplainConnect("SMTP 连接 "+cfg.SMTP.Server, host, port, err)) {
		return out
	}
	conn.SetDeadline(time.Now().Add(40 * time.Second))
	tlsConf := mailnet.TLSConfig(host, cas)
	var c *smtp.Client
	switch cfg.SMTP.Security {
	case "tls":
		tc := tls.Client(conn, tlsConf)
		err := tc.HandshakeContext(ctx)
		if !add(mailnet.ExplainTLS("SMTP 加密连接 (TLS)", host, err)) {
			conn.Close()
			return out
		}
		c = smtp.NewClient(tc)
	case "starttls":
		c, err = smtp.NewClientStartTLS(conn, tlsConf)
		if !add(mailnet.ExplainTLS("SMTP 加密连接 (STARTTLS)", host, err)) {
			conn.Close()
			return out
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		add(mailnet.Check{Step: "SMTP 问候", Detail: err.Error(), Fix: "服务器没有按 SMTP 协议应答：检查端口（TLS 用 465，STARTTLS 用 587）"})
		return out
	}
	if cfg.SMTP.Username == "" {
		add(mailnet.Check{Step: "SMTP 登录", OK: true, Warn: true, Detail: "没有配置用户名：不登录（只适合本机或内网中继）"})
	} else if err := c.Auth(sasl.NewPlainClient("", cfg.SMTP.Username, cfg.SMTP.value)); err != nil {
		ck := mailnet.Check{Step: "SMTP 登录 " + cfg.SMTP.Username, Detail: err.Error(),
			Fix: "发信登录失败：授权码不对或网页邮箱没有开启 SMTP 服务（163/QQ 用同一个授权码）"}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 535 {
			ck.Detail = fmt.Sprintf("服务器答复 535（认证失败）：%s", se.Message)
		}
		add(ck)
		return out
	} else {
		add(mailnet.Check{Step: "SMTP 登录 " + cfg.SMTP.Username, OK: true, Detail: "用户名和授权码正确"})
	}
	if err := c.Quit(); err != nil && !strings.Contains(err.Error(), "closed") {
		add(mailnet.Check{Step: "SMTP 退出", OK: true, Warn: true, Detail: err.Error()})
	}
	add(mailnet.Check{Step: "SMTP", OK: true, Detail: "可以发信（没有发送任何邮件）"})
	return out
}
