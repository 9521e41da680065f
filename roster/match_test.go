package roster

import "testing"

func TestNormalizeAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Xinfu-JKY@Example.CN", "xinfu-jky@example.cn"},
		{"  xinfu-jky@example.cn\t", "xinfu-jky@example.cn"},
		{"忻府区 <Xinfu-JKY@example.cn>", "xinfu-jky@example.cn"},
		{`"忻府区教育科技局" <xinfu-jky@example.cn>`, "xinfu-jky@example.cn"},
		{"<xinfu-jky@example.cn>", "xinfu-jky@example.cn"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := NormalizeAddress(tc.in); got != tc.want {
				t.Errorf("NormalizeAddress(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	r := testRoster(t)
	tests := []struct {
		name     string
		addr     string
		display  string
		subject  string
		files    []string
		wantUnit string
		wantHow  string
	}{
		{"registered address", "xinfu-jky@example.cn", "", "", nil, "xinfu", MatchAddress},
		{"registered address, other case and spaces", "  XINFU-JKY@EXAMPLE.CN ", "", "", nil, "xinfu", MatchAddress},
		{"registered address in Name <addr> form", "张三 <Xinfu-Jky@Example.cn>", "", "", nil, "xinfu", MatchAddress},
		{"address wins over a name naming another unit", "ypzx@example.cn", "", "忻府区简报", nil, "ypzx", MatchAddress},
		{"full name in the display name", "someone@qq.com", "忻府区教育科技局", "", nil, "xinfu", MatchName},
		{"alias in the subject", "someone@qq.com", "张三", "忻府1月简报", nil, "xinfu", MatchName},
		{"suffix variant 忻府区", "someone@qq.com", "", "忻府区报送材料", nil, "xinfu", MatchName},
		{"suffix variant 忻府区教育局", "someone@qq.com", "", "忻府区教育局关于学习贯彻的简报", nil, "xinfu", MatchName},
		{"suffix variant 定襄县教育局 without an alias for 定襄县", "someone@qq.com", "", "定襄县教育局简报", nil, "dingxiang", MatchName},
		{"county name with the county suffix only", "someone@qq.com", "", "原平市报送", nil, "yuanping", MatchName},
		{"full-width spaces inside the name", "someone@qq.com", "忻府区　教育科技局", "", nil, "xinfu", MatchName},
		{"full-width Latin letters", "someone@qq.com", "", "ＡＢＣ职业学校简报", nil, "abc", MatchName},
		{"half-width lower case of a Latin name", "someone@qq.com", "", "abc职业学校简报", nil, "abc", MatchName},
		{"name in an attachment filename", "someone@qq.com", "", "简报", []string{"定襄县学习贯彻情况.pdf"}, "dingxiang", MatchName},
		{"display name wins over the subject", "someone@qq.com", "原平市教育科技局", "忻府区材料", nil, "yuanping", MatchName},
		{"longer form beats the shorter one it contains", "someone@qq.com", "", "原平市职业技术学校简报", nil, "ypzx", MatchName},
		{"longer form in a filename beats the contained county", "someone@qq.com", "", "简报", []string{"原平市职业技术学校-1月.pdf"}, "ypzx", MatchName},
		{"two units named: none", "someone@qq.com", "", "忻府区、原平市联合简报", nil, "", MatchNone},
		{"two units, one long one short: none", "someone@qq.com", "", "忻府区教育科技局转原平简报", nil, "", MatchNone},
		{"the school and the county both named: none", "someone@qq.com", "", "原平市职业技术学校与忻府简报", nil, "", MatchNone},
		{"same unit named twice in two forms", "someone@qq.com", "", "忻府区教育科技局（忻府）简报", nil, "xinfu", MatchName},
		{"nothing known", "someone@qq.com", "张三", "简报", []string{"a.pdf"}, "", MatchNone},
		{"one character is not a name", "someone@qq.com", "", "忻", nil, "", MatchNone},
		{"empty everything", "", "", "", nil, "", MatchNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, how := r.Match(tc.addr, tc.display, tc.subject, tc.files)
			if u != tc.wantUnit || how != tc.wantHow {
				t.Errorf("Match(%q, %q, %q, %q) = %q %s, want %q %s", tc.addr, tc.display, tc.subject, tc.files, u, how, tc.wantUnit, tc.wantHow)
			}
		})
	}
}

func TestMatchSharedAliasIdentifiesNeither(t *testing.T) {
	units := []Unit{
		{ID: "a", Name: "甲县教育科技局", Aliases: []string{"山区"}},
		{ID: "b", Name: "乙县教育科技局", Aliases: []string{"山区"}},
	}
	r, err := New(units, nil, beijing)
	if err != nil {
		t.Fatal(err)
	}
	if u, how := r.Match("x@qq.com", "", "山区简报", nil); u != "" || how != MatchNone {
		t.Errorf("an alias of two units matched %q %s, want none", u, how)
	}
	if u, _ := r.Match("x@qq.com", "", "甲县简报", nil); u != "a" {
		t.Errorf("甲县 matched %q, want a", u)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ＡＢＣ　职校", "abc职校"},
		{" 忻府区 教育科技局 ", "忻府区教育科技局"},
		{"２０２２年１月", "2022年1月"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
