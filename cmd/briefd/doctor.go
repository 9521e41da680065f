package main

import (
	"context"
	"fmt"
	"io"

	"briefd/config"
	"briefd/intake"
	"briefd/internal/mailnet"
	"briefd/outbox"
	"briefd/robot"
)

// cmdDoctor implements `briefd doctor`: it tries the configured IMAP and SMTP servers and the group
// robots' hosts without sending or changing anything, and says what works and what to fix.
func cmdDoctor(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "doctor", "doctor [-config PATH]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(config.Path(*cfgFlag, e.getenv), e.getenv, true)
	if err != nil {
		return err
	}
	imapCAs, err := mailnet.Roots(cfg.IMAP.CAFile)
	if err != nil {
		return err
	}
	smtpCAs, err := mailnet.Roots(cfg.SMTP.CAFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "检查收件服务器 %s（%s）…\n", cfg.IMAP.Server, cfg.IMAP.Security)
	checks := intake.Diagnose(ctx, intake.IMAPOptions{Server: cfg.IMAP.Server, Security: cfg.IMAP.Security,
		Username: cfg.IMAP.Username, Password: cfg.IMAP.Value(), Mailbox: cfg.IMAP.Mailbox, After: cfg.IMAP.After, RootCAs: imapCAs})
	failed := printChecks(e.stdout, checks)
	fmt.Fprintf(e.stdout, "\n检查发信服务器 %s（%s）…\n", cfg.SMTP.Server, cfg.SMTP.Security)
	failed += printChecks(e.stdout, outbox.CheckSMTP(ctx, outbox.SMTPOptions{Server: cfg.SMTP.Server, Security: cfg.SMTP.Security,
		Username: cfg.SMTP.Username, Password: cfg.SMTP.Value(), RootCAs: smtpCAs}))
	if len(cfg.Robots) > 0 {
		fmt.Fprintf(e.stdout, "\n检查群机器人…\n")
		failed += printChecks(e.stdout, robot.Diagnose(ctx, cfg.ResolvedRobots()))
		fmt.Fprintln(e.stdout, "  最近的发送结果：briefd robot list")
	}
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
