package office

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"briefd/demo"
	"briefd/intake"
	"briefd/notify"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

func TestMain(m *testing.M) {
	pdfcheck.MaybeWorker() // the PDF checker of AddReceipt runs this binary as its worker
	os.Exit(m.Run())
}

var web = Source{Via: store.ViaWeb, Client: "192.0.2.10"}

// office2026 is an office on 2026-03-10 10:00 with two counties and a school in config.yaml and one
// campaign there; path is its database (a second office on it is a restart).
type office2026 struct {
	t    *testing.T
	path string
	st   *store.Store
	off  *Office
	base *roster.Roster
	now  time.Time
	dir  string
}

func configRoster(t *testing.T) *roster.Roster {
	t.Helper()
	d := func(s string) roster.Date { v, _ := roster.ParseDate(s); return v }
	ros, err := roster.New([]roster.Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Emails: []string{"xinfu-jky@example.cn"}, Kind: "county"},
		{ID: "yuanping", Name: "原平市教育科技局", Emails: []string{"yuanping-jky@example.cn"}, Kind: "county"},
		{ID: "xzzx", Name: "忻州市职业技术学校", Emails: []string{"xzzx@example.cn"}, Kind: "school"},
	}, []roster.Campaign{{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Opens: d("2026-03-01"), Due: d("2026-03-31")}}, beijing)
	if err != nil {
		t.Fatal(err)
	}
	return ros
}

func newOffice2026(t *testing.T) *office2026 {
	dir := t.TempDir()
	o := &office2026{t: t, path: filepath.Join(dir, "briefd.db"), base: configRoster(t), now: time.Date(2026, 3, 10, 10, 0, 0, 0, beijing), dir: dir}
	o.restart()
	return o
}

// restart closes the store (when open) and opens the office again on the same database.
func (o *office2026) restart() {
	o.t.Helper()
	if o.st != nil {
		o.st.Close()
	}
	st, err := store.Open(o.path, store.Options{Location: beijing})
	if err != nil {
		o.t.Fatal(err)
	}
	o.t.Cleanup(func() { st.Close() })
	off, err := New(Options{Roster: o.base, Archive: store.Archive{Root: filepath.Join(o.dir, "archive")}, Location: beijing,
		Now: func() time.Time { return o.now }}, st, nil)
	if err != nil {
		o.t.Fatal(err)
	}
	o.st, o.off = st, off
}

func (o *office2026) audit() []store.AuditEntry {
	o.t.Helper()
	es, err := o.off.AuditLog(time.Time{})
	if err != nil {
		o.t.Fatal(err)
	}
	return es
}

// wantInput checks that err is an *InputError saying each of want (in some problem).
func wantInput(t *testing.T, err error, want ...string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T), want an *InputError", err, err)
	}
	for _, w := range want {
		if !slices.ContainsFunc(ie.Problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem says %q: %q", w, ie.Problems)
		}
	}
}

func TestAddCampaign(t *testing.T) {
	o := newOffice2026(t)
	in := CampaignInput{ID: "2026-safety", Title: "校园安全专项检查情况", Units: "kind:county", Due: "2026-03-20", Keywords: "安全, 专项检查"}
	info, err := o.off.AddCampaign(web, in)
	if err != nil {
		t.Fatal(err)
	}
	if info.Source != SourceOffice || info.Opens != "2026-03-10" || info.Due != "2026-03-20" || !slices.Equal(info.Keywords, []string{"安全", "专项检查"}) {
		t.Errorf("added %+v", info)
	}
	// Live at once: the roster owes it to the counties, places their mail in it, status shows it.
	ros := o.off.Roster()
	c, ok := ros.Campaign("2026-safety")
	if !ok || len(ros.UnitsOf(c)) != 2 || ros.Owes("xzzx", c) {
		t.Fatalf("roster after the add: %v %+v", ok, ros.UnitsOf(c))
	}
	if pl, ok := ros.Place("xinfu", o.now.Add(time.Hour), "忻府区校园安全专项检查情况", nil); !ok || pl.Campaign != "2026-safety" {
		t.Errorf("mail placed in %+v", pl)
	}
	status, _, err := o.off.Status("2026-safety")
	if err != nil || len(status) != 1 || len(status[0].Units) != 2 {
		t.Errorf("status %+v %v", status, err)
	}
	es := o.audit()
	if len(es) != 1 || es[0].Action != ActCampaignAdd || es[0].Target != "2026-safety" || es[0].Via != store.ViaWeb ||
		es[0].Client != "192.0.2.10" || !strings.Contains(es[0].Detail, "《校园安全专项检查情况》") {
		t.Errorf("audit %+v", es)
	}
	// A restart keeps it.
	o.restart()
	if c, ok := o.off.Roster().Campaign("2026-safety"); !ok || c.Title != "校园安全专项检查情况" {
		t.Errorf("after a restart: %v %+v", ok, c)
	}
	if got := o.off.Campaigns(); len(got) != 2 || got[0].Source != SourceConfig || got[1].ID != "2026-safety" {
		t.Errorf("campaigns listed %+v", got)
	}

	// A monthly campaign without an end runs to the end of the year; the due field is its last due date.
	m, err := o.off.AddCampaign(web, CampaignInput{ID: "monthly", Title: "月报", Every: "month"})
	if err != nil || m.Until != "2026-12-31" || m.Every != "month" {
		t.Errorf("monthly: %+v %v", m, err)
	}
	m2, err := o.off.AddCampaign(web, CampaignInput{ID: "monthly2", Title: "月报二", Every: "每月", Due: "2026-06-30"})
	if err != nil || m2.Until != "2026-06-30" {
		t.Errorf("monthly with a due date: %+v %v", m2, err)
	}
}

// TestAddCampaignBadInput: every mistake the issue names gets a Chinese sentence, and nothing is stored.
func TestAddCampaignBadInput(t *testing.T) {
	o := newOffice2026(t)
	for _, tc := range []struct {
		name string
		in   CampaignInput
		want []string
	}{
		{"due in the past", CampaignInput{ID: "a", Title: "T", Due: "2026-03-01"}, []string{"截止日期 2026-03-01 已经过去（不能早于今天 2026-03-10）"}},
		{"opens in the past", CampaignInput{ID: "a", Title: "T", Opens: "2026-02-01", Due: "2026-04-01"}, []string{"开始日期 2026-02-01 已经过去"}},
		{"due before opens", CampaignInput{ID: "a", Title: "T", Opens: "2026-04-10", Due: "2026-04-01"}, []string{"截止日期 2026-04-01 早于开始日期 2026-04-10"}},
		{"monthly, last due before opens", CampaignInput{ID: "a", Title: "T", Every: "month", Opens: "2026-05-10", Until: "2026-04-30"},
			[]string{"最后一期的截止日期 2026-04-30 早于开始日期 2026-05-10"}},
		{"unknown unit", CampaignInput{ID: "a", Title: "T", Due: "2026-04-01", Units: "xinfu,atlantis"}, []string{"没有编号为“atlantis”的单位"}},
		{"unknown kind", CampaignInput{ID: "a", Title: "T", Due: "2026-04-01", Units: "kind:village"}, []string{"“kind:village”不是单位类型"}},
		{"duplicate id of config.yaml", CampaignInput{ID: "zjdh-study", Title: "T", Due: "2026-04-01"}, []string{"任务编号 zjdh-study 已在 config.yaml 中定义"}},
		{"no id, no title, no due", CampaignInput{}, []string{"任务编号不能为空", "任务名称不能为空", "缺少截止日期"}},
		{"an id with a slash", CampaignInput{ID: "a/../b", Title: "T", Due: "2026-04-01"}, []string{"只能由字母、数字"}},
		{"not a date", CampaignInput{ID: "a", Title: "T", Due: "2026/04/01"}, []string{"截止日期“2026/04/01”不是有效的日期"}},
		{"every week", CampaignInput{ID: "a", Title: "T", Every: "week", Due: "2026-04-01"}, []string{"报送周期“week”不支持"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := o.off.AddCampaign(web, tc.in)
			wantInput(t, err, tc.want...)
		})
	}
	if _, err := o.off.AddCampaign(web, CampaignInput{ID: "a", Title: "T", Due: "2026-04-01"}); err != nil {
		t.Fatal(err)
	}
	_, err := o.off.AddCampaign(web, CampaignInput{ID: "a", Title: "又一个", Due: "2026-04-01"})
	wantInput(t, err, "任务编号 a 已经存在")
	if cs, _ := o.st.Campaigns(); len(cs) != 1 {
		t.Errorf("%d campaigns stored, want the one good one", len(cs))
	}
	if es := o.audit(); len(es) != 1 {
		t.Errorf("refused changes were audited: %+v", es)
	}
}

func TestEditAndCloseCampaign(t *testing.T) {
	o := newOffice2026(t)
	if _, err := o.off.AddCampaign(web, CampaignInput{ID: "c", Title: "原名称", Due: "2026-03-20"}); err != nil {
		t.Fatal(err)
	}
	_, err := o.off.EditCampaign(web, "zjdh-study", CampaignInput{Title: "x"})
	wantInput(t, err, "定义在 config.yaml 中，只能在配置文件中修改")
	_, err = o.off.EditCampaign(web, "nosuch", CampaignInput{Title: "x"})
	wantInput(t, err, "没有编号为“nosuch”的报送任务")

	o.now = o.now.AddDate(0, 0, 5) // its opening day is in the past now, and may stay so
	info, err := o.off.EditCampaign(web, "c", CampaignInput{Title: "新名称", Opens: "2026-03-10", Due: "2026-03-25"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Title != "新名称" || info.Due != "2026-03-25" || info.Opens != "2026-03-10" {
		t.Errorf("after the edit: %+v", info)
	}
	_, err = o.off.EditCampaign(web, "c", CampaignInput{Title: "新名称", Opens: "2026-03-11", Due: "2026-03-25"})
	wantInput(t, err, "开始日期 2026-03-11 已经过去")
	es := o.audit()
	if last := es[len(es)-1]; last.Action != ActCampaignEdit || !strings.Contains(last.Detail, "名称 原名称 → 新名称") ||
		!strings.Contains(last.Detail, "截止日期 2026-03-20 → 2026-03-25") {
		t.Errorf("edit audited as %+v", last)
	}

	if _, err := o.off.CloseCampaign(web, "c"); err != nil {
		t.Fatal(err)
	}
	c, _ := o.off.Roster().Campaign("c")
	if c.Closed.String() != "2026-03-15" {
		t.Errorf("closed %s", c.Closed)
	}
	_, err = o.off.CloseCampaign(web, "c")
	wantInput(t, err, "已于 2026-03-15 关闭")
	_, err = o.off.CloseCampaign(web, "zjdh-study")
	wantInput(t, err, "只能在配置文件中修改")
	_, err = o.off.EditCampaign(web, "c", CampaignInput{Title: "关闭后改名", Opens: "2026-03-10", Due: "2026-03-25"})
	wantInput(t, err, "已于 2026-03-15 关闭，不能再修改")
	o.restart()
	if c, _ := o.off.Roster().Campaign("c"); c.Closed.IsZero() {
		t.Error("closed campaign open again after a restart")
	}
}

// TestConfigTakesAnIDLater: when config.yaml later defines an id added at run time, briefd still
// starts; the config's campaign counts and the run-time one is named as left out.
func TestConfigTakesAnIDLater(t *testing.T) {
	o := newOffice2026(t)
	if _, err := o.off.AddCampaign(web, CampaignInput{ID: "later", Title: "网页添加", Due: "2026-03-20"}); err != nil {
		t.Fatal(err)
	}
	d := func(s string) roster.Date { v, _ := roster.ParseDate(s); return v }
	base, err := roster.New(o.base.Units(), append(o.base.Campaigns(), roster.Campaign{ID: "later", Title: "配置文件", Opens: d("2026-03-01"), Due: d("2026-03-31")}), beijing)
	if err != nil {
		t.Fatal(err)
	}
	o.base = base
	o.restart()
	if c, _ := o.off.Roster().Campaign("later"); c.Title != "配置文件" {
		t.Errorf("campaign %+v", c)
	}
	if ig := o.off.Ignored(); len(ig) != 1 || !strings.Contains(ig[0], "config.yaml 中也有这个编号") {
		t.Errorf("ignored %q", ig)
	}
	// The entry left out does not stop the office's other changes, and stays left out through them.
	if _, err := o.off.AddCampaign(web, CampaignInput{ID: "another", Title: "另一个任务", Due: "2026-03-25"}); err != nil {
		t.Errorf("adding another campaign: %v", err)
	}
	if _, err := o.off.AddUnit(web, UnitInput{ID: "newunit", Name: "新单位", Emails: "new@example.cn"}); err != nil {
		t.Errorf("adding a unit: %v", err)
	}
	if _, err := o.off.EditCampaign(web, "later", CampaignInput{Title: "改名", Due: "2026-03-20"}); err == nil {
		t.Error("editing the campaign config.yaml defines too was accepted")
	}
	if ig := o.off.Ignored(); len(ig) != 1 || !strings.Contains(ig[0], "later") {
		t.Errorf("ignored after other changes %q", ig)
	}
	if c, _ := o.off.Roster().Campaign("later"); c.Title != "配置文件" {
		t.Errorf("campaign after other changes %+v", c)
	}
	if _, ok := o.off.Roster().Campaign("another"); !ok {
		t.Error("the campaign added after is not in the roster")
	}
}

func TestUnits(t *testing.T) {
	o := newOffice2026(t)
	u, err := o.off.AddUnit(web, UnitInput{ID: "daixian", Name: "代县教育科技局", Aliases: "代县", Emails: "DaiXian@example.cn, dx2@example.cn", Kind: "县区"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Source != SourceOffice || u.Kind != "county" || !slices.Equal(u.Emails, []string{"daixian@example.cn", "dx2@example.cn"}) {
		t.Errorf("added %+v", u)
	}
	if id, ok := o.off.Roster().UnitByAddress("dx2@example.cn"); !ok || id != "daixian" {
		t.Error("the new unit's address is not matched")
	}
	_, err = o.off.AddUnit(web, UnitInput{ID: "xinfu", Name: "x"})
	wantInput(t, err, "单位编号 xinfu 已经存在（忻府区教育科技局）")
	_, err = o.off.AddUnit(web, UnitInput{ID: "dup", Name: "抢邮箱", Emails: "xinfu-jky@example.cn not-an-address", Kind: "village"})
	wantInput(t, err, "邮箱 xinfu-jky@example.cn 已登记给单位 忻府区教育科技局（xinfu）", "“not-an-address”不是有效的邮箱地址", "单位类型“village”不认识")

	// A unit of config.yaml changed: from now on the office's version.
	u, err = o.off.EditUnit(web, "xinfu", UnitInput{Name: "忻府区教育局", Emails: "xinfu-new@example.cn", Kind: "county"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Source != SourceChanged || u.Name != "忻府区教育局" {
		t.Errorf("changed %+v", u)
	}
	if _, ok := o.off.Roster().UnitByAddress("xinfu-jky@example.cn"); ok {
		t.Error("the old address still matches")
	}
	es := o.audit()
	if len(es) != 2 || es[1].Action != ActUnitEdit || !strings.Contains(es[1].Detail, "名称 忻府区教育科技局 → 忻府区教育局") ||
		!strings.Contains(es[1].Detail, "邮箱 xinfu-jky@example.cn → xinfu-new@example.cn") {
		t.Errorf("audit %+v", es)
	}
	o.restart()
	if u, _ := o.off.Unit("xinfu"); u.Name != "忻府区教育局" {
		t.Errorf("after a restart %+v", u)
	}
}

func gbkBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImportUnits: a GBK spreadsheet as Excel saves it: the preview says what changes, apply makes
// exactly that in one transaction; bad sheets change nothing.
func TestImportUnits(t *testing.T) {
	o := newOffice2026(t)
	sheet := gbkBytes(t, "编号,单位名称,别名,邮箱,类型\n"+
		"xinfu,忻府区教育科技局,,xinfu-jky@example.cn,county\n"+ // the same as config.yaml
		"yuanping,原平市教育局,原平,yp@example.cn,county\n"+ // changed
		"daixian,代县教育科技局,代县,daixian@example.cn,county\n") // new
	im, err := o.off.PreviewUnits("单位.csv", sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Added) != 1 || im.Added[0].ID != "daixian" || len(im.Changed) != 1 || im.Same != 1 {
		t.Fatalf("preview %+v", im)
	}
	if w := strings.Join(im.Changed[0].What, "；"); !strings.Contains(w, "名称 原平市教育科技局 → 原平市教育局") || !strings.Contains(w, "邮箱 yuanping-jky@example.cn → yp@example.cn") {
		t.Errorf("changes %q", w)
	}
	if _, ok := o.off.Roster().Unit("daixian"); ok {
		t.Fatal("the preview changed the roster")
	}
	done, err := o.off.ApplyUnits(web, im)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Added) != 1 || len(done.Changed) != 1 {
		t.Errorf("applied %+v", done)
	}
	if u, ok := o.off.Roster().Unit("daixian"); !ok || u.Name != "代县教育科技局" {
		t.Error("daixian not in the roster")
	}
	if es := o.audit(); len(es) != 1 || es[0].Action != ActUnitImport || es[0].Target != "单位.csv" {
		t.Errorf("audit %+v", es)
	}
	// The same sheet again changes nothing.
	im, err = o.off.PreviewUnits("单位.csv", sheet)
	if err != nil || !im.Empty() || im.Same != 3 {
		t.Errorf("again: %+v %v", im, err)
	}
	// A sheet without the aliases and kind columns leaves them as they are.
	im, err = o.off.PreviewUnits("邮箱.csv", []byte("id,name,emails\nyuanping,原平市教育局,yp@example.cn\n"))
	if err != nil || !im.Empty() || im.Same != 1 {
		t.Errorf("a sheet without aliases and kind: %+v %v", im, err)
	}

	for _, tc := range []struct{ name, data, want string }{
		{"missing columns", "编号,名称\nxinfu,忻府\n", "表格第一行缺少列：邮箱（emails）"},
		{"duplicate ids", "id,name,emails\nnew1,新一,a@example.cn\nnew1,新一,b@example.cn\n", "编号 new1 出现了两次（第 2 行和第 3 行）"},
		{"an address of another unit", "id,name,emails\nnew2,新二,xzzx@example.cn\n", "单位 new2：邮箱 xzzx@example.cn 已登记给单位 忻州市职业技术学校（xzzx）"},
		{"bad id", "id,name,emails\n新单位,新,c@example.cn\n", "编号“新单位”只能由字母、数字"},
		{"no rows", "id,name,emails\n", "表格“units.csv”中没有单位"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := o.off.PreviewUnits("units.csv", []byte(tc.data))
			wantInput(t, err, tc.want)
		})
	}
	_, err = o.off.PreviewUnits("units.xls", []byte("x"))
	wantInput(t, err, "请使用 .xlsx 或 .csv 格式")
	if us, _ := o.st.Units(); len(us) != 2 {
		t.Errorf("%d units stored", len(us))
	}
}

// TestAddReceipt: a briefing on paper or a PDF from WeChat: numbered like mail, counted in status, no
// reply, audited; bad input records nothing.
func TestAddReceipt(t *testing.T) {
	o := newOffice2026(t)
	chk := pdfcheck.New(pdfcheck.Options{Timeout: 20 * time.Second}, nil)
	defer chk.Close()
	p := intake.NewPipeline(intake.PipelineOptions{Location: beijing, Now: func() time.Time { return o.now }}, o.st,
		o.off.Roster, chk, o.off.Archive(), slog.New(slog.DiscardHandler))
	o.off.SetRecorder(p)
	write := func(name string, data []byte) intake.ManualFile {
		path := filepath.Join(o.dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return intake.ManualFile{Name: name, Path: path}
	}
	ctx := context.Background()
	cli := Source{Via: store.ViaCommand, Client: "wang"}
	_, err := o.off.AddReceipt(ctx, cli, ReceiptInput{Unit: "atlantis", Campaign: "nosuch"})
	wantInput(t, err, "没有编号为“atlantis”的单位", "没有编号为“nosuch”的报送任务")
	_, err = o.off.AddReceipt(ctx, cli, ReceiptInput{Unit: "xinfu", Campaign: "zjdh-study", Period: "2026-04"})
	wantInput(t, err, "没有“2026-04”这一期（可选：2026-03）")
	_, err = o.off.AddReceipt(ctx, cli, ReceiptInput{Unit: "xinfu", Campaign: "zjdh-study", Files: []intake.ManualFile{write("简报.docx", demo.WordDoc())}})
	wantInput(t, err, "文件“简报.docx”不是可以打开的PDF：附件是Word文档")
	if _, err := o.off.AddCampaign(web, CampaignInput{ID: "schools", Title: "学校简报", Units: "kind:school", Due: "2026-04-01"}); err != nil {
		t.Fatal(err)
	}
	_, err = o.off.AddReceipt(ctx, cli, ReceiptInput{Unit: "xinfu", Campaign: "schools"})
	wantInput(t, err, "忻府区教育科技局不需要报送《学校简报》")
	if rs, _ := o.st.Receipts(nil); len(rs) != 0 {
		t.Fatalf("refused registrations recorded %d receipts", len(rs))
	}

	rec, err := o.off.AddReceipt(ctx, cli, ReceiptInput{Unit: "xinfu", Campaign: "zjdh-study", Note: "纸质报送",
		Files: []intake.ManualFile{write("忻府区简报.pdf", demo.PDF(3, "xinfu"))}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Period != "2026-03" || rec.Late || rec.Manual == nil || rec.Manual.Client != "wang" || rec.Reply != "" {
		t.Errorf("receipt %+v", rec)
	}
	status, _, _ := o.off.Status("zjdh-study")
	if st := status[0].Units[0]; st.Unit != "xinfu" || st.State != roster.StateReported || st.Receipt != rec.Number {
		t.Errorf("status of xinfu %+v", st)
	}
	es := o.audit()
	if last := es[len(es)-1]; last.Action != ActReceiptAdd || last.Target != rec.Number || !strings.Contains(last.Detail, "1 个文件，纸质报送") {
		t.Errorf("audit %+v", last)
	}
	_, err = o.off.Resend(cli, rec.Number)
	wantInput(t, err, "人工登记的，没有来信邮箱")
}

// TestRemindThroughOffice: the office checks what it is asked, the scheduler reminds, the audit entry
// says who got one.
func TestRemindThroughOffice(t *testing.T) {
	o := newOffice2026(t)
	n, err := notify.New(notify.Options{Office: notify.Office{Name: "忻州市教育局职业教育科", Address: "xzszjk@example.cn", Location: beijing},
		Now: func() time.Time { return o.now }, Roster: o.off.Roster}, o.off.Roster())
	if err != nil {
		t.Fatal(err)
	}
	s, err := notify.NewScheduler(notify.SchedulerOptions{Roster: o.off.Roster, Now: func() time.Time { return o.now }}, o.st, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.off.SetReminder(s)
	woken := 0
	o.off.SetQueued(func() { woken++ })
	_, err = o.off.Remind(web, "nosuch", "atlantis")
	wantInput(t, err, "没有编号为“nosuch”的报送任务", "没有编号为“atlantis”的单位")
	res, err := o.off.Remind(web, "zjdh-study", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sent) != 3 || woken != 1 {
		t.Errorf("sent %+v, sender woken %d times", res.Sent, woken)
	}
	es := o.audit()
	if len(es) != 1 || es[0].Action != ActRemind || !strings.Contains(es[0].Detail, "已发送 3 个单位：忻府区教育科技局、原平市教育科技局、忻州市职业技术学校") {
		t.Errorf("audit %+v", es)
	}
	res, err = o.off.Remind(web, "", "xinfu")
	if err != nil || len(res.Sent) != 0 || len(res.Skipped) != 1 || res.Skipped[0].Why != notify.SkipToday {
		t.Errorf("again: %+v %v", res, err)
	}
	if _, err := o.off.AddCampaign(web, CampaignInput{ID: "c", Title: "关了的", Due: "2026-03-20"}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.off.CloseCampaign(web, "c"); err != nil {
		t.Fatal(err)
	}
	_, err = o.off.Remind(web, "c", "")
	wantInput(t, err, "已于 2026-03-10 关闭，不再催报")
}
