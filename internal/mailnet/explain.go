package mailnet

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Check is one step of a diagnosis: what was tried, whether it worked, and in plain Chinese words what
// the office's IT person should do when it did not.
type Check struct {
	Step   string // e.g. "IMAP 登录"
	OK     bool
	Warn   bool   // worked, but something should be looked at
	Detail string // what happened, with the server's own words
	Fix    string // what to do; "" when nothing
}

// ExplainConnect explains a failed TCP connection to a mail server (IMAP or SMTP).
func ExplainConnect(step, host, port string, err error) Check {
	if err == nil {
		return Check{Step: step, OK: true, Detail: "网络连通"}
	}
	c := Check{Step: step, Detail: err.Error()}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		c.Fix = fmt.Sprintf("找不到服务器 %s：检查服务器名称的拼写，以及本机能否解析域名（DNS）", host)
	case strings.Contains(err.Error(), "refused"):
		c.Fix = fmt.Sprintf("服务器拒绝连接端口 %s：检查端口号（IMAP 用 993，SMTP 用 465 或 587）", port)
	default:
		c.Fix = "连接超时或被阻断：检查本机能否上网，以及防火墙是否放行该端口"
	}
	return c
}

// ExplainTLS explains a failed TLS handshake with a mail server; a certificate error names the host it
// was for.
func ExplainTLS(step, host string, err error) Check {
	if err == nil {
		return Check{Step: step, OK: true, Detail: "证书有效，连接已加密"}
	}
	c := Check{Step: step, Detail: err.Error()}
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostErr):
		names := strings.Join(hostErr.Certificate.DNSNames, ", ")
		c.Fix = fmt.Sprintf("服务器证书是给 %s 的，不是 %s：检查服务器名称是否写错", names, host)
	case errors.As(err, &authErr):
		c.Fix = fmt.Sprintf("%s 的证书不是受信任的机构签发的：如果这是单位自建的服务器，用 ca_file 指定它的 CA 证书", host)
	case errors.As(err, &invalid):
		c.Fix = fmt.Sprintf("%s 的证书无效（过期或用途不对）：检查本机时间是否正确，或联系服务器管理员", host)
	case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		c.Fix = "这个端口不是 TLS 端口：security: tls 应配 993（IMAP）或 465（SMTP）端口；或把 security 改成 starttls"
	default:
		c.Fix = "加密连接失败：检查 security 设置（tls 或 starttls）与端口是否匹配"
	}
	return c
}
