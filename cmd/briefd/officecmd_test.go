package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"briefd/demo"
	"briefd/office"
	"briefd/roster"
	"briefd/store"
)

// day is a date n days from today in the office time zone, as the commands read dates.
func day(n int) string {
	return time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, n).Format("2006-01-02")
}

// TestCampaignCommands: add, list, edit, close and the notice; every mistake exits 2 with the Chinese
// sentence the dashboard shows, and changes nothing.
func TestCampaignCommands(t *testing.T) {
	p := writeConfig(t, baseConfig)
	code, out, errs := run(t, secretEnv, "campaign", "add", "-config", p, "-id", "2026-safety", "-title", "校园安全专项检查情况",
		"-due", day(10), "-units", "kind:county", "-keywords", "安全,专项检查")
	if code != 0 || !strings.Contains(out, "2026-safety  校园安全专项检查情况") {
		t.Fatalf("campaign add: exit %d\n%s%s", code, out, errs)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"due in the past", []string{"add", "-id", "x", "-title", "T", "-due", day(-1)}, []string{"截止日期 " + day(-1) + " 已经过去"}},
		{"due before opens", []string{"add", "-id", "x", "-title", "T", "-opens", day(5), "-due", day(3)},
			[]string{"截止日期 " + day(3) + " 早于开始日期 " + day(5)}},
		{"unknown unit", []string{"add", "-id", "x", "-title", "T", "-due", day(3), "-units", "xinfu,atlantis"}, []string{"没有编号为“atlantis”的单位"}},
		{"duplicate id", []string{"add", "-id", "2026-safety", "-title", "T", "-due", day(3)}, []string{"任务编号 2026-safety 已经存在"}},
		{"id of config.yaml", []string{"add", "-id", "zjdh-study", "-title", "T", "-due", day(3)}, []string{"任务编号 zjdh-study 已在 config.yaml 中定义"}},
		{"several at once", []string{"add", "-id", "x", "-due", "2026/1/1"}, []string{"有 2 处问题", "任务名称不能为空", "截止日期“2026/1/1”不是有效的日期"}},
		{"edit a campaign of config.yaml", []string{"edit", "zjdh-study", "-title", "x"}, []string{"只能在配置文件中修改"}},
		{"unknown subcommand", []string{"delete", "x"}, []string{`unknown campaign subcommand "delete"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := run(t, secretEnv, append(append([]string{"campaign"}, tc.args...), "-config", p)...)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}

	if code, _, errs := run(t, secretEnv, "campaign"); code != 2 || !strings.Contains(errs, "need a subcommand") {
		t.Errorf("no subcommand: exit %d\n%s", code, errs)
	}
	code, out, errs = run(t, secretEnv, "campaign", "edit", "2026-safety", "-due", day(12), "-config", p)
	if code != 0 || !strings.Contains(out, day(12)) {
		t.Fatalf("campaign edit: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, secretEnv, "campaign", "notice", "2026-safety", "-config", p)
	if code != 0 || !strings.Contains(out, "关于报送《校园安全专项检查情况》的通知") || !strings.Contains(out, "xzszjk@example.cn") ||
		!strings.Contains(out, "忻府区教育科技局、原平市教育科技局、定襄县教育科技局") {
		t.Errorf("notice: exit %d\n%s", code, out)
	}
	if code, _, errs := run(t, secretEnv, "campaign", "close", "2026-safety", "-config", p); code != 0 {
		t.Fatalf("campaign close: %s", errs)
	}
	code, out, _ = run(t, secretEnv, "campaign", "list", "-json", "-config", p)
	var cs []office.CampaignInfo
	if err := json.Unmarshal([]byte(out), &cs); err != nil || code != 0 {
		t.Fatalf("list -json: %v\n%s", err, out)
	}
	if len(cs) != 3 || cs[2].ID != "2026-safety" || cs[2].Source != office.SourceOffice || cs[2].Closed != day(0) || cs[2].Due != day(12) {
		t.Errorf("campaigns %+v", cs)
	}
	code, out, _ = run(t, secretEnv, "audit", "-config", p)
	for _, w := range []string{"新建报送任务", "修改报送任务", "截止日期 " + day(10) + " → " + day(12), "关闭报送任务", "命令行 ", "3 changes"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("audit lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = run(t, secretEnv, "audit", "-since", day(1), "-config", p)
	if code != 0 || !strings.Contains(out, "0 changes") {
		t.Errorf("audit -since tomorrow:\n%s", out)
	}

	// A monthly campaign's -due is its last due date, as the dashboard's form has it.
	if code, out, errs := run(t, secretEnv, "campaign", "add", "-config", p, "-id", "monthly", "-title", "月报", "-every", "month",
		"-until", day(60)); code != 0 {
		t.Fatalf("monthly add: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run(t, secretEnv, "campaign", "edit", "monthly", "-due", day(90), "-config", p); code != 0 {
		t.Fatalf("monthly edit: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, secretEnv, "campaign", "list", "-json", "-config", p)
	cs = nil
	if err := json.Unmarshal([]byte(out), &cs); err != nil || code != 0 {
		t.Fatalf("list -json: %v\n%s", err, out)
	}
	if i := slices.IndexFunc(cs, func(c office.CampaignInfo) bool { return c.ID == "monthly" }); i < 0 || cs[i].Until != day(90) {
		t.Errorf("monthly campaign after -due %s: %+v", day(90), cs)
	}

	// The table says what the dashboard says: where each campaign stands, who owes it, its schedule.
	if code, _, errs := run(t, secretEnv, "campaign", "add", "-config", p, "-id", "later", "-title", "下月专项", "-opens", day(5),
		"-due", day(20), "-units", "xinfu"); code != 0 {
		t.Fatalf("add later: %s", errs)
	}
	code, out, _ = run(t, secretEnv, "campaign", "list", "-config", p)
	for _, w := range []string{"已关闭 " + day(0), "所有县（市、区）", "每月月底，至 " + day(90), "进行中", "未开始", "忻府区教育科技局",
		"网页或命令添加", "配置文件"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("campaign list lacks %q:\n%s", w, out)
		}
	}
}

// TestReceiptAddCommand: a PDF registered by hand counts in status at once; a Word file exits 2 and
// records nothing.
func TestReceiptAddCommand(t *testing.T) {
	p := writeConfig(t, baseConfig)
	dir := filepath.Dir(p)
	if code, _, errs := run(t, secretEnv, "campaign", "add", "-config", p, "-id", "now", "-title", "本月简报", "-due", day(5)); code != 0 {
		t.Fatal(errs)
	}
	doc := filepath.Join(dir, "定襄简报.doc")
	os.WriteFile(doc, demo.WordDoc(), 0o600)
	code, _, errs := run(t, secretEnv, "receipt", "add", "-unit", "dingxiang", "-campaign", "now", "-file", doc, "-config", p)
	if code != 2 || !strings.Contains(errs, "文件“定襄简报.doc”不是可以打开的PDF：附件是Word文档") {
		t.Errorf("a Word file: exit %d\n%s", code, errs)
	}
	if rs := readStore(t, p); len(rs) != 0 {
		t.Fatalf("%d receipts after a refused registration", len(rs))
	}
	pdf := filepath.Join(dir, "定襄简报.pdf")
	os.WriteFile(pdf, demo.PDF(2, "dingxiang"), 0o600)
	code, out, errs := run(t, secretEnv, "receipt", "add", "-unit", "dingxiang", "-campaign", "now", "-file", pdf, "-note", "纸质报送", "-config", p)
	if code != 0 || !strings.Contains(out, "人工登记，1 个文件") {
		t.Fatalf("receipt add: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, secretEnv, "status", "-json", "-campaign", "now", "-config", p)
	var st []struct {
		Units []struct{ Unit, State, Receipt string }
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || len(st) != 1 {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, u := range st[0].Units {
		if want := map[bool]string{true: roster.StateReported, false: roster.StateMissing}[u.Unit == "dingxiang"]; u.State != want {
			t.Errorf("%s is %s, want %s", u.Unit, u.State, want)
		}
	}
	rs := readStore(t, p)
	if len(rs) != 1 || rs[0].Manual == nil || rs[0].Manual.Note != "纸质报送" || rs[0].Manual.Via != store.ViaCommand || rs[0].Reply != "" {
		t.Errorf("receipt %+v", rs[0])
	}
	code, _, errs = run(t, secretEnv, "receipt", "add", "-unit", "dingxiang", "-campaign", "now", "-file", filepath.Join(dir, "nope.pdf"), "-config", p)
	if code != 2 || !strings.Contains(errs, "nope.pdf”不存在") {
		t.Errorf("a missing file: exit %d\n%s", code, errs)
	}
}

// TestRemindCommand: 催报 now says who got one and who was skipped, once per unit per day.
func TestRemindCommand(t *testing.T) {
	p := writeConfig(t, baseConfig)
	if code, _, errs := run(t, secretEnv, "campaign", "add", "-config", p, "-id", "now", "-title", "本月简报", "-due", day(5)); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := run(t, secretEnv, "remind", "-campaign", "now", "-json", "-config", p)
	if code != 0 {
		t.Fatalf("remind: exit %d\n%s", code, errs)
	}
	var res struct{ Sent, Skipped []struct{ Unit, Why string } }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Sent) != 2 || len(res.Skipped) != 1 || res.Skipped[0].Unit != "dingxiang" || res.Skipped[0].Why != "没有登记邮箱" {
		t.Errorf("first press: %+v", res)
	}
	code, out, _ = run(t, secretEnv, "remind", "-campaign", "now", "-unit", "xinfu", "-config", p)
	if code != 0 || !strings.Contains(out, "今天已经催报过") {
		t.Errorf("second press:\n%s", out)
	}
	for _, args := range [][]string{{"-campaign", "nosuch"}, {"-unit", "atlantis"}} {
		if code, _, errs := run(t, secretEnv, append([]string{"remind", "-config", p}, args...)...); code != 2 || !strings.Contains(errs, "没有编号为") {
			t.Errorf("remind %v: exit %d %s", args, code, errs)
		}
	}
}

// TestUnitCommands: add, edit, and a GBK spreadsheet imported after its preview.
func TestUnitCommands(t *testing.T) {
	p := writeConfig(t, baseConfig)
	code, _, errs := run(t, secretEnv, "unit", "add", "-id", "daixian", "-name", "代县教育科技局", "-emails", "daixian@example.cn", "-kind", "county", "-config", p)
	if code != 0 {
		t.Fatal(errs)
	}
	code, _, errs = run(t, secretEnv, "unit", "add", "-id", "other", "-name", "抢邮箱", "-emails", "xinfu-jky@example.cn", "-config", p)
	if code != 2 || !strings.Contains(errs, "邮箱 xinfu-jky@example.cn 已登记给单位 忻府区教育科技局（xinfu）") {
		t.Errorf("an address of another unit: exit %d\n%s", code, errs)
	}
	if code, _, errs = run(t, secretEnv, "unit", "edit", "dingxiang", "-emails", "dx@example.cn", "-config", p); code != 0 {
		t.Fatal(errs)
	}
	// Only what was typed changes: the name and kind stay.
	if code, out, _ := run(t, secretEnv, "unit", "list", "-config", p); code != 0 ||
		!regexp.MustCompile(`dingxiang +定襄县教育科技局 +县（市、区） +dx@example.cn `).MatchString(out) {
		t.Errorf("after unit edit -emails:\n%s", out)
	}
	sheet, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("编号,单位名称,邮箱\nwutai,五台县教育科技局,wutai@example.cn\nxinfu,忻府区教育局,xinfu-jky@example.cn\n"))
	csv := filepath.Join(filepath.Dir(p), "单位.csv")
	os.WriteFile(csv, sheet, 0o600)
	code, out, _ := run(t, secretEnv, "unit", "import", csv, "-config", p)
	if code != 0 || !strings.Contains(out, "将新增  wutai 五台县教育科技局") || !strings.Contains(out, "将修改  xinfu 忻府区教育局：名称 忻府区教育科技局 → 忻府区教育局") {
		t.Errorf("preview:\n%s", out)
	}
	code, out, _ = run(t, secretEnv, "unit", "list", "-json", "-config", p)
	if code != 0 || strings.Contains(out, "wutai") {
		t.Errorf("the preview changed the units:\n%s", out)
	}
	if code, _, errs = run(t, secretEnv, "unit", "import", csv, "-apply", "-config", p); code != 0 {
		t.Fatal(errs)
	}
	code, out, _ = run(t, secretEnv, "unit", "list", "-json", "-config", p)
	var us []office.UnitInfo
	if err := json.Unmarshal([]byte(out), &us); err != nil || code != 0 {
		t.Fatal(err)
	}
	got := map[string]office.UnitInfo{}
	for _, u := range us {
		got[u.ID] = u
	}
	if got["wutai"].Source != office.SourceOffice || got["xinfu"].Name != "忻府区教育局" || got["xinfu"].Source != office.SourceChanged ||
		strings.Join(got["xinfu"].Aliases, ",") != "忻府区,忻府" || strings.Join(got["dingxiang"].Emails, ",") != "dx@example.cn" {
		t.Errorf("units after the import: %+v", us)
	}
	bad := filepath.Join(filepath.Dir(p), "bad.csv")
	os.WriteFile(bad, []byte("id,name\nx,y\n"), 0o600)
	if code, _, errs := run(t, secretEnv, "unit", "import", bad, "-apply", "-config", p); code != 2 || !strings.Contains(errs, "表格第一行缺少列：邮箱（emails）") {
		t.Errorf("a sheet without emails: exit %d\n%s", code, errs)
	}
}
