package intake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"briefd/internal/mailnet"
)

// Diagnose tries the configured IMAP server step by step (connect, TLS, login, ID, SELECT, capabilities)
// without changing anything in the mailbox, and stops at the first step that fails.
func Diagnose(ctx context.Context, o IMAPOptions) []mailnet.Check {
	var out []mailnet.Check
	add := func(c mailnet.Check) bool { out = append(out, c); return c.OK }
	if err := CheckIMAPOptions(o); err != nil {
		add(mailnet.Check{Step: "IMAP 配置", Detail: err.Error(), Fix: "修改 config.yaml 的 imap 部分"})
		return out
	}
	timeout := 20 * time.Second
	host, port, _ := net.SplitHostPort(o.Server)
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", o.Server)
	if !add(mailnet.ExplainConnect("IMAP 连接 "+o.Server, host, port, err)) {
		return out
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * timeout))
	copts := &imapclient.Options{TLSConfig: mailnet.TLSConfig(host, o.RootCAs)}
	var c *imapclient.Client
	switch o.Security {
	case SecurityTLS:
		tc := tls.Client(conn, copts.TLSConfig)
		err := tc.HandshakeContext(ctx)
		if !add(mailnet.ExplainTLS("IMAP 加密连接 (TLS)", host, err)) {
			return out
		}
		c = imapclient.New(tc, copts)
	case SecurityStartTLS:
		c, err = imapclient.NewStartTLS(conn, copts)
		if !add(mailnet.ExplainTLS("IMAP 加密连接 (STARTTLS)", host, err)) {
			return out
		}
	default:
		c = imapclient.New(conn, copts)
		add(mailnet.Check{Step: "IMAP 连接方式", OK: true, Warn: true, Detail: "plain：不加密（只允许本机服务器）"})
	}
	defer c.Close()
	if err := c.WaitGreeting(); err != nil {
		add(mailnet.Check{Step: "IMAP 问候", Detail: err.Error(), Fix: "服务器没有按 IMAP 协议应答：检查端口是不是 IMAP 端口（TLS 为 993）"})
		return out
	}
	if err := c.Login(o.Username, o.Password).Wait(); err != nil {
		add(loginCheck("IMAP 登录 "+o.Username, err))
		return out
	}
	add(mailnet.Check{Step: "IMAP 登录 " + o.Username, OK: true, Detail: "用户名和授权码正确"})
	caps := c.Caps()
	if caps.Has(imap.CapID) {
		if _, err := c.ID(clientID()).Wait(); err != nil {
			add(mailnet.Check{Step: "IMAP ID 命令", OK: true, Warn: true, Detail: "服务器拒绝了 ID：" + err.Error(),
				Fix: "网易邮箱需要 ID 才允许打开收件箱；如果下一步出现 Unsafe Login，请联系邮箱服务商"})
		} else {
			add(mailnet.Check{Step: "IMAP ID 命令", OK: true, Detail: "已发送（网易 163/126 需要它，否则会报 Unsafe Login）"})
		}
	} else {
		add(mailnet.Check{Step: "IMAP ID 命令", OK: true, Detail: "服务器不支持 ID，不需要发送"})
	}
	sel, err := c.Select(o.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		add(selectCheck(o.Mailbox, err))
		return out
	}
	add(mailnet.Check{Step: "打开邮箱文件夹 " + o.Mailbox, OK: true,
		Detail: fmt.Sprintf("%d 封邮件，UIDVALIDITY %d（只读打开，没有改动任何邮件）", sel.NumMessages, sel.UIDValidity)})
	caps = c.Caps()
	idle := mailnet.Check{Step: "IDLE（新邮件即时通知）", OK: true, Detail: "支持：新邮件几秒内就会处理"}
	if !caps.Has(imap.CapIdle) && !caps.Has(imap.CapIMAP4rev2) {
		idle = mailnet.Check{Step: "IDLE（新邮件即时通知）", OK: true, Warn: true, Detail: "不支持：改为每隔 poll_interval 检查一次"}
	}
	add(idle)
	move := caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2)
	uidplus := caps.Has(imap.CapUIDPlus) || caps.Has(imap.CapIMAP4rev2)
	mc := mailnet.Check{Step: "MOVE / UIDPLUS", OK: true, Detail: fmt.Sprintf("MOVE %s，UIDPLUS %s", yesNo(move), yesNo(uidplus))}
	if o.After == AfterMove && !move && !uidplus {
		mc.Warn, mc.Fix = true, "服务器既不支持 MOVE 也不支持 UIDPLUS：after: move 不会移动邮件（为免误删其他邮件），请改用 after: seen 或 flag"
	}
	add(mc)
	c.Logout().Wait()
	return out
}

func yesNo(b bool) string {
	if b {
		return "支持"
	}
	return "不支持"
}

// loginCheck explains a refused LOGIN, in the words 163 and QQ users need.
func loginCheck(step string, err error) mailnet.Check {
	c := mailnet.Check{Step: step, Detail: err.Error()}
	var ie *imap.Error
	if errors.As(err, &ie) && (ie.Code == imap.ResponseCodeAuthenticationFailed || ie.Type == imap.StatusResponseTypeNo) ||
		strings.Contains(strings.ToLower(err.Error()), "authenticat") {
		c.Fix = "登录被拒绝：授权码不对或已失效，或网页邮箱里没有开启 IMAP/SMTP 服务。" +
			"请登录网页邮箱 → 设置 → POP3/SMTP/IMAP，开启 IMAP 服务并重新生成授权码，填入 password_env 或 password_file 指向的位置（不是网页登录密码）"
	} else {
		c.Fix = "登录失败：检查用户名（通常是完整邮箱地址）和授权码"
	}
	return c
}

// selectCheck explains a refused SELECT: "Unsafe Login" is NetEase refusing a client that did not say
// who it is.
func selectCheck(mailbox string, err error) mailnet.Check {
	c := mailnet.Check{Step: "打开邮箱文件夹 " + mailbox, Detail: err.Error()}
	var ie *imap.Error
	switch {
	case strings.Contains(err.Error(), "Unsafe Login"):
		c.Fix = "网易拒绝了登录（Unsafe Login）：它要求客户端先发送 ID 命令，briefd 已发送。请登录网页邮箱确认 IMAP 已开启、" +
			"没有安全提醒需要确认；仍不行请联系网易客服（kefu@188.com）"
	case errors.As(err, &ie) && ie.Code == imap.ResponseCodeNonExistent, strings.Contains(strings.ToLower(err.Error()), "exist"):
		c.Fix = fmt.Sprintf("没有名为 %s 的文件夹：检查 imap.mailbox（收件箱是 INBOX）", mailbox)
	default:
		c.Fix = "服务器拒绝打开该文件夹：检查 imap.mailbox 与账号权限"
	}
	return c
}
