package config

import "testing"

func TestProviderDomain(t *testing.T) {
	for host, want := range map[string]string{
		"imap.163.com": "163.com", "imap.qiye.163.com": "163.com", "imap.qq.com": "qq.com", "imap.exmail.qq.com": "qq.com",
		"mail.example.com.cn": "example.com.cn", "mail.jyj.xinzhou.gov.cn": "xinzhou.gov.cn", "127.0.0.1": "", "::1": "",
		"localhost": "", "IMAP.163.COM.": "163.com",
	} {
		if got := providerDomain(host); got != want {
			t.Errorf("providerDomain(%q) = %q, want %q", host, got, want)
		}
	}
}
