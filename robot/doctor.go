package robot

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	"briefd/internal/mailnet"
)

// Diagnose is doctor's check of the group robots: the network path to each service (a TCP connection
// and, for https, a TLS handshake with its host). Nothing is posted: `briefd robot test` does that.
func Diagnose(ctx context.Context, robots []*Robot) []mailnet.Check {
	var cs []mailnet.Check
	for _, r := range robots {
		step := "群机器人 " + r.Name()
		u, err := url.Parse(r.MaskedURL())
		if err != nil {
			cs = append(cs, mailnet.Check{Step: step, Detail: err.Error()})
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		d := net.Dialer{Timeout: 10 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
		if err != nil {
			c := mailnet.ExplainConnect(step+" 连接", u.Hostname(), port, err)
			c.Fix = fmt.Sprintf("本机连不上 %s：政务网或单位防火墙常常不放行外网地址，请让网络管理员放行 %s 的 %s 端口", u.Hostname(), u.Hostname(), port)
			cs = append(cs, c)
			continue
		}
		if u.Scheme == "https" {
			tc := tls.Client(conn, mailnet.TLSConfig(u.Hostname(), nil))
			tc.SetDeadline(time.Now().Add(10 * time.Second))
			err = tc.HandshakeContext(ctx)
			conn = tc
			if err != nil {
				cs = append(cs, mailnet.ExplainTLS(step+" 加密连接", u.Hostname(), err))
				conn.Close()
				continue
			}
		}
		conn.Close()
		cs = append(cs, mailnet.Check{Step: step, OK: true,
			Detail: fmt.Sprintf("%s 可以连通（未发送消息；briefd robot test 会发送一条测试消息）", r.MaskedURL())})
	}
	return cs
}
