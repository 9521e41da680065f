package mailmsg

import (
	"errors"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
)

// This file finds the cloud-attachment links (QQ/163 超大附件, cloud drives) in text and HTML bodies:
// files sent as a download link rather than attached.

// linkRe finds URLs in text; cloud links are then picked by host and path.
var linkRe = regexp.MustCompile(`(?i)https?://[a-z0-9\-._~:/?#\[\]@!$&*+,;=%]+`)

// scanLinks reads a text body to its end, collecting cloud-attachment links. Memory stays bounded:
// the text is scanned in chunks, carrying an unfinished URL over to the next chunk.
func (p *parser) scanLinks(r io.Reader, isHTML bool, where string) {
	const chunk = 64 << 10
	if p.scanBuf == nil {
		p.scanBuf = make([]byte, 0, chunk+maxLinkLen)
	}
	buf := p.scanBuf[:0]
	for {
		n, err := io.ReadFull(r, buf[len(buf):len(buf)+min(chunk, cap(buf)-len(buf))])
		buf = buf[:len(buf)+n]
		eof := err != nil
		keep := len(buf)
		locs := linkRe.FindAllIndex(buf, -1)
		carried := false
		for _, loc := range locs {
			if loc[1] == len(buf) && !eof {
				keep = loc[0]
				carried = true
				break
			}
			p.addLink(string(buf[loc[0]:loc[1]]), isHTML)
		}
		if !carried {
			keep = max(0, len(buf)-8) // "https://" split across chunks
		}
		if len(buf)-keep > maxLinkLen {
			keep = len(buf)
		}
		if eof {
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				var se *sourceError
				if !errors.As(err, &se) {
					p.problem("%s: reading text: %v", where, err)
				}
			}
			return
		}
		buf = buf[:copy(buf, buf[keep:])]
	}
}

// addLink keeps u when it points at a cloud attachment.
func (p *parser) addLink(u string, isHTML bool) {
	if isHTML {
		u = html.UnescapeString(u)
	}
	u = strings.TrimRight(u, ".,;:!?*&")
	if !isCloudLink(u) || p.links[u] || len(p.msg.Links) >= maxLinks {
		return
	}
	p.links[u] = true
	p.msg.Links = append(p.msg.Links, u)
}

// isCloudLink tells QQ/163 超大附件 and cloud-drive share links from other links.
func isCloudLink(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	path := strings.ToLower(u.Path)
	full := strings.ToLower(u.Path + "?" + u.RawQuery + "#" + u.Fragment)
	under := func(domain string) bool { return host == domain || strings.HasSuffix(host, "."+domain) }
	switch {
	case under("qq.com"):
		// wx.mail.qq.com/ftn/download, mail.qq.com/cgi-bin/ftnExs_download, exmail.qq.com/cgi-bin/ftnExs_download
		return under("mail.qq.com") && strings.Contains(path, "ftn") || under("ftn.qq.com") ||
			host == "share.weiyun.com"
	case under("163.com") || under("126.com") || under("yeah.net") || under("188.com"):
		return strings.Contains(full, "large-attachment") || strings.Contains(full, "cloud-attachment") ||
			strings.HasPrefix(host, "dashi.") || strings.HasPrefix(host, "fs.mail.")
	case under("pan.baidu.com") || under("yun.baidu.com"):
		return path != "" && path != "/"
	case under("aliyundrive.com") || under("alipan.com") || under("pan.quark.cn"):
		return strings.HasPrefix(path, "/s/")
	}
	return false
}
