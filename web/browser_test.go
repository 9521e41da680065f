package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"briefd/internal/browsertest"
	"briefd/store"
)

// The browser helpers of the dashboard's tests (internal/browsertest), under the names used here.
func newBrowser(t *testing.T) context.Context { return browsertest.New(t) }

func screenshotDir(t *testing.T) string { return browsertest.ScreenshotDir(t) }

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, ctx, what, steps...)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return browsertest.Text(t, ctx, sel)
}

func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	browsertest.Shoot(t, ctx, dir, name)
}

// TestBrowser drives the dashboard in chromium as the office would: log in, read the matrix, open a
// receipt, download its PDF, assign a mail from an unregistered sender and see the matrix change. It saves
// screenshots of every page at 1280×800 and 390×844.
func TestBrowser(t *testing.T) {
	ctx := newBrowser(t)
	dir := screenshotDir(t)
	f := newFixture(t)
	f.seed()
	o := f.options()
	o.Password = "忻州2022"
	o.Office.(*countingOffice).replyText = func(r *store.Receipt) (string, error) { // what notify composes, in short
		return fmt.Sprintf("%s：\n\n您于 %s 发来的邮件《%s》已收到，回执编号 %s。\n附件 %d 个，检查结果见下。\n\n"+
			"——%s（本邮件由系统自动发送，请勿回复）", r.FromName, r.Received.In(beijing).Format("2006年1月2日 15:04"),
			r.Subject, r.Number, len(r.Attachments), "忻州市教育局职业教育科"), nil
	}
	// A robot whose key is wrong: the overview says so.
	if err := f.st.Enqueue(&store.OutboxItem{Kind: store.KindRobot, To: "职教科群", Subject: "summary", State: store.OutFailed,
		Created: f.now.Add(-time.Hour), LastError: "invalid webhook key: the robot was removed from the group or the key is wrong: code 93000"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(f.server(o).Handler())
	t.Cleanup(ts.Close)
	u := ts.URL

	// Login.
	do(t, ctx, "open the dashboard", chromedp.Navigate(u+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
	shoot(t, ctx, dir, "0-login")
	do(t, ctx, "wrong password",
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "nope"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)))
	if got := text(t, ctx, "p.error"); got != "密码不对。" {
		t.Errorf("after a wrong password: %q", got)
	}
	do(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "忻州2022"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
		chromedp.WaitVisible(chromedp.ID("matrix")))

	// The matrix.
	shenchi := `td[data-unit="shenchi"][data-period="zjdh-study/2022-01"]`
	for sel, want := range map[string]string{
		`td[data-unit="xinfu"][data-period="zjdh-study/2022-01"]`:     "已报送",
		`td[data-unit="yuanping"][data-period="zjdh-study/2022-01"]`:  "逾期报送",
		`td[data-unit="dingxiang"][data-period="zjdh-study/2022-01"]`: "未通过",
		shenchi: "未报送",
		`td[data-unit="xinfu"][data-period="zjdh-monthly/2022-03"]`: "未报送",
		`td[data-unit="wutai"][data-period="zjdh-monthly/2022-01"]`: "—",
	} {
		if got := text(t, ctx, sel); got != want {
			t.Errorf("matrix %s: %q, want %q", sel, got, want)
		}
	}
	if got := text(t, ctx, ".undelivered b"); got != "最近 7 天有 1 条消息发送失败" {
		t.Errorf("undelivered banner: %q", got)
	}
	shoot(t, ctx, dir, "1-overview")

	// Open a receipt from the matrix and download its PDF.
	n := f.named["xinfu-study"]
	do(t, ctx, "open a receipt", chromedp.Click(chromedp.CSS(`td[data-unit="xinfu"][data-period="zjdh-study/2022-01"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`table.attachments`)))
	if got := text(t, ctx, "h1"); got != "回执 "+n {
		t.Errorf("receipt page heading %q", got)
	}
	if got := text(t, ctx, "h2.subject"); got != "忻府区学习贯彻全省职教大会精神情况简报" {
		t.Errorf("receipt subject %q", got)
	}
	if got := text(t, ctx, "pre.reply"); !strings.Contains(got, "回执编号 "+n+"。\n附件 1 个") {
		t.Errorf("reply text %q", got)
	}
	shoot(t, ctx, dir, "2-receipt")

	dl := t.TempDir()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.CallBrowser(tctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: ptr(true)}); err != nil {
		t.Fatalf("download behaviour: %v", err)
	}
	progress := chromedp.BrowserEvents(tctx, browser.DownloadProgress)
	begin := chromedp.BrowserEvents(tctx, browser.DownloadWillBegin)
	do(t, ctx, "click 下载 PDF", chromedp.Click(chromedp.CSS(`a[href="/receipts/`+n+`/files/1"]`)))
	var suggested string
	for ev, err := range begin {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		suggested = ev.SuggestedFilename
		break
	}
	var saved string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			saved = filepath.Join(dl, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("download cancelled")
		}
	}
	got, err := os.ReadFile(saved)
	if err != nil {
		t.Fatalf("downloaded file: %v", err)
	}
	if !bytes.Equal(got, f.pdfs[n]) {
		t.Errorf("downloaded %d bytes that differ from the archived PDF (%d bytes)", len(got), len(f.pdfs[n]))
	}
	if suggested != "忻府区学习贯彻全省职教大会精神情况简报.pdf" {
		t.Errorf("the browser offers the name %q", suggested)
	}

	// The other pages.
	do(t, ctx, "收件记录", chromedp.Navigate(u+"/receipts"), chromedp.WaitVisible(chromedp.CSS("table.receipts")))
	shoot(t, ctx, dir, "3-receipts")
	do(t, ctx, "收件记录 filtered", chromedp.SetValue(chromedp.CSS(`select[name="verdict"]`), "rejected"),
		chromedp.Click(chromedp.CSS(`form.filters button`)),
		chromedp.WaitReady(chromedp.CSS(`select[name="verdict"] option[value="rejected"][selected]`))) // the new page
	if got := text(t, ctx, "p.hint"); !strings.HasPrefix(got, "共 3 封") {
		t.Errorf("filter by verdict: %q", got)
	}
	do(t, ctx, "the hostile subject", chromedp.Navigate(u+"/receipts/"+f.named["script"]), chromedp.WaitVisible(chromedp.CSS("h2.subject")))
	if got := text(t, ctx, "h2.subject"); got != "<script>alert(1)</script>" {
		t.Errorf("hostile subject shown as %q", got)
	}
	do(t, ctx, "单位", chromedp.Navigate(u+"/units"), chromedp.WaitVisible(chromedp.CSS("#u-xinfu")))
	shoot(t, ctx, dir, "5-units")

	// Assign the unregistered mail to 神池 and see the matrix change.
	p := f.named["pending"]
	row := "#r-" + p
	do(t, ctx, "待确认", chromedp.Navigate(u+"/pending"), chromedp.WaitVisible(chromedp.CSS(row)))
	shoot(t, ctx, dir, "4-pending")
	do(t, ctx, "assign",
		chromedp.SetValue(chromedp.CSS(row+` select[name="unit"]`), "shenchi"),
		chromedp.Click(chromedp.CSS(row+` input[name="learn"]`)),
		chromedp.Click(chromedp.CSS(row+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	if got := text(t, ctx, "p.flash"); got != p+" 已分配给 神池县教育科技局。" {
		t.Errorf("after the assign: %q", got)
	}
	do(t, ctx, "the mail left 待确认", chromedp.WaitNotPresent(chromedp.CSS(row)))
	do(t, ctx, "back to 总览", chromedp.Click(chromedp.CSS(`nav a[href="/"]`)), chromedp.WaitVisible(chromedp.ID("matrix")))
	if got := text(t, ctx, shenchi); got != "已报送" {
		t.Errorf("神池 after the assign: %q, want 已报送", got)
	}
	if l, _ := f.st.Learned(); l["zhangsan1987@qq.com"] != "shenchi" {
		t.Errorf("the address was not registered: %v", l)
	}
	shoot(t, ctx, dir, "6-overview-after-assign")

	// Log out.
	do(t, ctx, "log out", chromedp.Click(chromedp.CSS(`form.logout button`)), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
	do(t, ctx, "pages need the login again", chromedp.Navigate(u+"/units"), chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))
}

func ptr[T any](v T) *T { return &v }
