package web

import (
	"bytes"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"briefd/demo"
	"briefd/intake"
	"briefd/notify"
	"briefd/pdfcheck"
	"briefd/store"
)

// wire gives the fixture's office what the daemon gives it: the notifier (notices), the pipeline
// (人工登记) and the scheduler (催报).
func (f *fixture) wire(t *testing.T) {
	t.Helper()
	n, err := notify.New(notify.Options{Office: notify.Office{Name: "忻州市教育局职业教育科", Address: "xzszjk@example.cn",
		Contact: "王老师 0350-1234567", Location: beijing}, Now: func() time.Time { return f.now }, Roster: f.off.Roster}, f.off.Roster())
	if err != nil {
		t.Fatal(err)
	}
	f.off.SetComposer(n)
	chk := pdfcheck.New(pdfcheck.Options{Timeout: 20 * time.Second}, nil)
	t.Cleanup(func() { chk.Close() })
	f.off.SetRecorder(intake.NewPipeline(intake.PipelineOptions{Location: beijing, Now: func() time.Time { return f.now }}, f.st,
		f.off.Roster, chk, f.arch, slog.New(slog.DiscardHandler)))
	s, err := notify.NewScheduler(notify.SchedulerOptions{Roster: f.off.Roster, Now: func() time.Time { return f.now }}, f.st, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.off.SetReminder(s)
}

// postMultipart posts fields and files (field name -> file name -> data) as a browser's upload form.
func (c *client) postMultipart(path string, fields url.Values, files map[string]map[string][]byte) (*http.Response, string) {
	c.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for field, fs := range files {
		for name, data := range fs {
			w, err := mw.CreateFormFile(field, name)
			if err != nil {
				c.t.Fatal(err)
			}
			w.Write(data)
		}
	}
	mw.Close()
	req, err := http.NewRequest("POST", c.base+path, &b)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func wantBody(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: page lacks %q", what, w)
		}
	}
}

func TestCampaignPages(t *testing.T) {
	f, _, c := setup(t, nil)
	f.wire(t)
	_, body := c.get("/campaigns")
	wantBody(t, "报送任务", body, "<h1>报送任务</h1>", "学习贯彻全省职教大会精神情况简报", "配置文件", `href="/campaigns/new"`)
	tok := c.csrf("/campaigns/new")

	// A mistake: the sentences above the form, which keeps what was typed.
	resp, body := c.post("/campaigns", url.Values{"csrf": {tok}, "id": {"2022-safety"}, "title": {"校园安全专项检查情况"},
		"opens": {"2022-03-01"}, "due": {"2022-02-28"}, "units": {"xinfu", "kind:county"}, "keywords": {"安全"}})
	wantStatus(t, "bad campaign", resp, http.StatusBadRequest)
	wantBody(t, "bad campaign", body, "没有保存，请修改以下问题", "开始日期 2022-03-01 已经过去（不能早于今天 2022-03-10）",
		"截止日期 2022-02-28 早于开始日期 2022-03-01", `value="2022-safety"`, `value="校园安全专项检查情况"`,
		`value="xinfu" checked`, `value="kind:county" checked`, `value="安全"`)
	if cs, _ := f.st.Campaigns(); len(cs) != 0 {
		t.Fatalf("a refused campaign was stored: %+v", cs)
	}

	resp, _ = c.post("/campaigns", url.Values{"csrf": {tok}, "id": {"2022-safety"}, "title": {"校园安全专项检查情况"},
		"opens": {"2022-03-10"}, "due": {"2022-03-25"}, "units": {"kind:county"}})
	wantStatus(t, "add campaign", resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/campaigns/2022-safety?done=add" {
		t.Fatalf("redirected to %q", loc)
	}
	_, body = c.get("/campaigns/2022-safety?done=add")
	wantBody(t, "campaign page", body, "报送任务已添加，立即生效", "关于报送《校园安全专项检查情况》的通知", "请于2022年3月25日前报送",
		"xzszjk@example.cn", "PDF格式", "所有县（市、区）", `action="/campaigns/2022-safety/close"`)
	_, body = c.get("/")
	wantBody(t, "总览", body, "校园安全专项检查情况", `data-unit="xinfu" data-period="2022-safety/2022-03">未报送`,
		`data-unit="xzzx" data-period="2022-safety/2022-03" title="不需报送">`)

	// Edit, close; a campaign of config.yaml cannot be edited here.
	resp, _ = c.get("/campaigns/zjdh-study/edit")
	wantStatus(t, "edit a config campaign", resp, http.StatusConflict)
	_, body = c.get("/campaigns/2022-safety/edit")
	wantBody(t, "edit form", body, `value="2022-03-25"`, `value="2022-safety" readonly`)
	resp, _ = c.post("/campaigns/2022-safety/edit", url.Values{"csrf": {tok}, "title": {"校园安全专项检查"}, "opens": {"2022-03-10"},
		"due": {"2022-03-28"}, "units": {"kind:county"}})
	wantStatus(t, "edit", resp, http.StatusSeeOther)
	resp, _ = c.post("/campaigns/2022-safety/close", url.Values{"csrf": {tok}})
	wantStatus(t, "close", resp, http.StatusSeeOther)
	_, body = c.get("/campaigns")
	wantBody(t, "list after close", body, "校园安全专项检查", "已关闭 2022-03-10")

	_, body = c.get("/audit")
	wantBody(t, "操作记录", body, "<h1>操作记录</h1>", "新建报送任务", "修改报送任务", "关闭报送任务", "网页 127.0.0.1",
		"截止日期 2022-03-25 → 2022-03-28", `href="/campaigns/2022-safety"`)
	_, body = c.get("/audit?since=2022-03-11")
	wantBody(t, "操作记录 since tomorrow", body, "还没有操作记录")
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var tokenRe = regexp.MustCompile(`name="token" value="([^"]+)"`)

func TestUnitPages(t *testing.T) {
	f, srv, c := setup(t, func(o *Options) { o.Password = "pw" }) // a session, as the office has
	c.login("pw")
	tok := c.csrf("/units/new")
	resp, body := c.post("/units", url.Values{"csrf": {tok}, "id": {"jingle2"}, "name": {"静乐二中"}, "emails": {"xinfu-jky@example.cn"}, "kind": {"school"}})
	wantStatus(t, "a unit with another's address", resp, http.StatusBadRequest)
	wantBody(t, "a unit with another's address", body, "邮箱 xinfu-jky@example.cn 已登记给单位 忻府区教育科技局（xinfu）", `value="静乐二中"`)
	resp, _ = c.post("/units", url.Values{"csrf": {tok}, "id": {"jingle2"}, "name": {"静乐二中"}, "emails": {"jl2@example.cn"}, "kind": {"school"}})
	wantStatus(t, "add unit", resp, http.StatusSeeOther)
	_, body = c.get("/units?done=add&unit=jingle2")
	wantBody(t, "units after add", body, "单位已添加：静乐二中", `id="u-jingle2"`, "网页或命令添加", "jl2@example.cn")

	resp, _ = c.post("/units/xinfu/edit", url.Values{"csrf": {tok}, "name": {"忻府区教育局"}, "aliases": {"忻府区, 忻府"},
		"emails": {"xinfu-jky@example.cn, xinfu2@example.cn"}, "kind": {"county"}})
	wantStatus(t, "edit unit", resp, http.StatusSeeOther)
	if u, _ := f.off.Roster().UnitByAddress("xinfu2@example.cn"); u != "xinfu" {
		t.Error("the new address is not matched")
	}

	// Import: a GBK CSV as Excel saves it, previewed, then applied.
	sheet := gbk(t, "编号,单位名称,别名,邮箱,类型\nwutai,五台县教育局,五台,wutai-jky@example.cn,county\nxinzhou-new,忻州新区教育局,新区,xq@example.cn,县区\n")
	resp, body = c.postMultipart("/units/import", url.Values{"csrf": {tok}}, map[string]map[string][]byte{"file": {"单位名单.csv": sheet}})
	wantStatus(t, "import preview", resp, http.StatusOK)
	wantBody(t, "import preview", body, "导入单位：请确认", "新增 1 个，修改 1 个", "忻州新区教育局", "名称 五台县教育科技局 → 五台县教育局")
	if _, ok := f.off.Roster().Unit("xinzhou-new"); ok {
		t.Fatal("the preview changed the roster")
	}
	m := tokenRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no token on the preview page")
	}
	other := newClient(t, srv.Handler()) // another browser, logged in too, cannot apply it
	other.login("pw")
	resp, _ = other.post("/units/import", url.Values{"csrf": {other.csrf("/units")}, "token": {m[1]}})
	wantStatus(t, "apply from another browser", resp, http.StatusNotFound)
	resp, _ = c.post("/units/import", url.Values{"csrf": {tok}, "token": {m[1]}})
	wantStatus(t, "apply", resp, http.StatusSeeOther)
	_, body = c.get(resp.Header.Get("Location"))
	wantBody(t, "after the import", body, "表格已导入：新增 1 个单位，修改 1 个。", "忻州新区教育局", "五台县教育局")
	resp, _ = c.post("/units/import", url.Values{"csrf": {tok}, "token": {m[1]}})
	wantStatus(t, "apply twice", resp, http.StatusNotFound)

	for name, data := range map[string][]byte{
		"缺列.csv": gbk(t, "编号,名称\nx,y\n"),
		"重复.csv": []byte("id,name,emails\na1,甲,a1@example.cn\na1,甲,a2@example.cn\n"),
	} {
		resp, body = c.postMultipart("/units/import", url.Values{"csrf": {tok}}, map[string]map[string][]byte{"file": {name: data}})
		wantStatus(t, "bad sheet "+name, resp, http.StatusBadRequest)
		wantBody(t, "bad sheet "+name, body, "没有保存，请修改以下问题", "表格“"+name+"”")
	}
	_, body = c.get("/audit")
	wantBody(t, "操作记录", body, "添加单位", "修改单位", "导入单位表格", "单位名单.csv")

	resp, _ = c.postMultipart("/units/import", url.Values{"csrf": {"forged"}}, map[string]map[string][]byte{"file": {"a.csv": sheet}})
	wantStatus(t, "an upload without a valid CSRF token", resp, http.StatusForbidden)
}

func TestManualReceiptPage(t *testing.T) {
	f, _, c := setup(t, nil)
	f.wire(t)
	tok := c.csrf("/receipts/new")
	resp, body := c.postMultipart("/receipts/new", url.Values{"csrf": {tok}, "unit": {"shenchi"}, "campaign": {"zjdh-study"}, "note": {"微信发送"}},
		map[string]map[string][]byte{"files": {"神池简报.docx": demo.WordDoc()}})
	wantStatus(t, "a Word file", resp, http.StatusBadRequest)
	wantBody(t, "a Word file", body, "文件“神池简报.docx”不是可以打开的PDF：附件是Word文档", "请重新选择要上传的文件",
		`<option value="shenchi" selected>`, `<option value="zjdh-study" selected>`, `value="微信发送"`)
	before, _ := f.st.Receipts(nil)

	resp, _ = c.postMultipart("/receipts/new", url.Values{"csrf": {tok}, "unit": {"shenchi"}, "campaign": {"zjdh-study"}, "period": {"2022-01"}, "note": {"纸质报送"}},
		map[string]map[string][]byte{"files": {"神池简报.pdf": demo.PDF(2, "shenchi")}})
	wantStatus(t, "register", resp, http.StatusSeeOther)
	after, _ := f.st.Receipts(nil)
	if len(after) != len(before)+1 {
		t.Fatalf("%d receipts, want %d", len(after), len(before)+1)
	}
	rec := after[len(after)-1]
	if rec.Manual == nil || rec.Manual.Via != store.ViaWeb || rec.Manual.Client != "127.0.0.1" || !rec.Late || rec.Reply != "" {
		t.Errorf("receipt %+v", rec)
	}
	if loc := resp.Header.Get("Location"); loc != "/receipts/"+rec.Number+"?done=add" {
		t.Errorf("redirected to %q", loc)
	}
	_, body = c.get("/receipts/" + rec.Number + "?done=add")
	wantBody(t, "receipt page", body, "已登记，回执编号 "+rec.Number, "人工登记", "纸质报送", "网页 127.0.0.1", "神池简报.pdf", "可以打开")
	if strings.Contains(body, "重新发送回执") || strings.Contains(body, "/recheck") {
		t.Error("a receipt registered by hand offers to resend or recheck")
	}
	_, body = c.get("/")
	wantBody(t, "总览", body, `data-unit="shenchi" data-period="zjdh-study/2022-01"><a href="/receipts/`+rec.Number)
	if ob, _ := f.st.Outbox(func(it *store.OutboxItem) bool { return it.Receipt == rec.Number }); len(ob) != 0 {
		t.Errorf("a reply was queued for a receipt registered by hand")
	}
	if got, _ := filepath.Glob(filepath.Join(f.arch.Root, "zjdh-study", "2022-01", "神池*"+rec.Number+"*.pdf")); len(got) != 1 {
		t.Errorf("archived files %v", got)
	}
}

func TestRemindButton(t *testing.T) {
	f, _, c := setup(t, nil)
	f.wire(t)
	_, body := c.get("/?campaign=zjdh-monthly")
	wantBody(t, "总览", body, `action="/remind"`, `name="campaign" value="zjdh-monthly"`, "立即催报本任务未报单位")
	tok := c.csrf("/")
	resp, body := c.post("/remind", url.Values{"csrf": {tok}, "campaign": {"zjdh-monthly"}})
	wantStatus(t, "remind", resp, http.StatusOK)
	// March: xinfu and yuanping owe zjdh-monthly; neither has sent March's.
	wantBody(t, "remind", body, "催报：职业教育大会筹备召开情况", "已发送催报（2）", `data-unit="xinfu"`, "yuanping-jky@example.cn")
	items, _ := f.st.Outbox(func(it *store.OutboxItem) bool { return it.Kind == store.KindReminder })
	if len(items) != 2 {
		t.Errorf("%d reminders queued, want 2", len(items))
	}
	_, body = c.post("/remind", url.Values{"csrf": {tok}, "campaign": {"zjdh-monthly"}})
	wantBody(t, "remind again", body, "未发送（2）", "今天已经催报过")
	resp, body = c.post("/remind", url.Values{"csrf": {tok}, "campaign": {"nosuch"}})
	wantStatus(t, "remind an unknown campaign", resp, http.StatusBadRequest)
	wantBody(t, "remind an unknown campaign", body, "没有编号为“nosuch”的报送任务")
	_, body = c.get("/audit")
	wantBody(t, "操作记录", body, "催报", "已发送 2 个单位：忻府区教育科技局、原平市教育科技局")
}

// TestOfficePagesReadOnly: a read-only dashboard shows none of the new forms and refuses their posts.
func TestOfficePagesReadOnly(t *testing.T) {
	_, _, c := setup(t, func(o *Options) { o.ReadOnly, o.Password = true, "pw" })
	c.login("pw")
	for _, p := range []string{"/", "/units", "/campaigns", "/receipts", "/campaigns/zjdh-study"} {
		_, body := c.get(p)
		for _, w := range []string{`action="/remind"`, `href="/receipts/new"`, `href="/campaigns/new"`, `href="/units/new"`, `action="/units/import"`, "/edit"} {
			if strings.Contains(body, w) {
				t.Errorf("read-only %s shows %s", p, w)
			}
		}
	}
	tok := c.csrf("/")
	for _, p := range []string{"/remind", "/campaigns", "/units", "/units/import", "/receipts/new", "/campaigns/zjdh-study/close"} {
		resp, _ := c.post(p, url.Values{"csrf": {tok}})
		wantStatus(t, "read-only POST "+p, resp, http.StatusNotFound)
	}
	for _, p := range []string{"/campaigns/new", "/units/new", "/receipts/new"} {
		resp, _ := c.get(p)
		wantStatus(t, "read-only GET "+p, resp, http.StatusNotFound)
	}
	resp, _ := c.get("/audit")
	wantStatus(t, "操作记录 read-only", resp, http.StatusOK)
}

// TestImportPreviewsGiveWayOldestFirst: when more previews wait than are kept, the oldest one gives way;
// the others can still be applied.
func TestImportPreviewsGiveWayOldestFirst(t *testing.T) {
	f, _, c := setup(t, func(o *Options) { o.Password = "pw" })
	c.login("pw")
	tok := c.csrf("/units")
	sheet := []byte("id,name,emails\nxinzhou-new,忻州新区教育局,xq@example.cn\n")
	var tokens []string
	for range maxImports + 1 {
		f.now = f.now.Add(time.Second)
		resp, body := c.postMultipart("/units/import", url.Values{"csrf": {tok}}, map[string]map[string][]byte{"file": {"a.csv": sheet}})
		wantStatus(t, "preview", resp, http.StatusOK)
		m := tokenRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no token on the preview page")
		}
		tokens = append(tokens, m[1])
	}
	resp, _ := c.post("/units/import", url.Values{"csrf": {tok}, "token": {tokens[0]}})
	wantStatus(t, "the oldest preview", resp, http.StatusNotFound)
	resp, _ = c.post("/units/import", url.Values{"csrf": {tok}, "token": {tokens[1]}})
	wantStatus(t, "the second oldest preview", resp, http.StatusSeeOther)
}
