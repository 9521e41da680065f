package roster

import (
	"slices"
	"testing"
	"time"
)

// FuzzMatch feeds sender, display name, subject and a filename to Match and the result to Place. Whatever
// comes in: no panic, the unit is "" or a registered one, the way of matching fits the unit, and a placed
// mail names a campaign the unit owes and a period. Seeds: the shapes of real mail, and
// testdata/fuzz/FuzzMatch/.
func FuzzMatch(f *testing.F) {
	seeds := [][4]string{
		{"xinfu-jky@example.cn", "忻府区教育科技局", "忻府区学习贯彻职教大会精神简报", "简报.pdf"},
		{"  XINFU-JKY@EXAMPLE.CN ", "", "", ""},
		{"张三 <Xinfu-Jky@Example.cn>", "", "", ""},
		{"wang@example.org", "宁武县教育科技局 王老师", "2022年1月职业教育大会筹备召开情况", "ningwu.pdf"},
		{"x@example.org", "", "忻府区 原平市 联合简报", "忻府区.pdf"},
		{"", "", "", ""},
		{"@", "\u202E", "\x00\xff\xfe", "../../x"},
		{"a@b", "忻", "府", "区"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], int64(1642000000))
	}
	units, campaigns := testUnits(), testCampaigns()
	r, err := New(units, campaigns, beijing)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, addr, display, subject, filename string, at int64) {
		var files []string
		if filename != "" {
			files = []string{filename, filename}
		}
		unit, how := r.Match(addr, display, subject, files)
		switch how {
		case MatchAddress, MatchName:
			if !slices.ContainsFunc(units, func(u Unit) bool { return u.ID == unit }) {
				t.Fatalf("Match gave unknown unit %q (%s)", unit, how)
			}
		case MatchNone:
			if unit != "" {
				t.Fatalf("Match gave unit %q with %s", unit, how)
			}
			return
		default:
			t.Fatalf("Match gave way %q", how)
		}
		when := time.Unix(at%(1<<40), 0)
		pl, ok := r.Place(unit, when, subject, files)
		if !ok {
			return
		}
		c, found := r.Campaign(pl.Campaign)
		if !found {
			t.Fatalf("Place gave unknown campaign %q", pl.Campaign)
		}
		if !r.Owes(unit, c) {
			t.Fatalf("Place gave campaign %s, which %s does not owe", pl.Campaign, unit)
		}
		if pl.Period == "" {
			t.Fatalf("Place gave campaign %s without a period", pl.Campaign)
		}
	})
}
