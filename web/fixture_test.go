package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"briefd/office"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

var beijing = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

func bj(month time.Month, day, hour, min int) time.Time {
	return time.Date(2022, month, day, hour, min, 0, 0, beijing)
}

// The units of config.example.yaml: the counties of Xinzhou and a school.
var xinzhou = []roster.Unit{
	{ID: "xinfu", Name: "忻府区教育科技局", Aliases: []string{"忻府区", "忻府"}, Emails: []string{"xinfu-jky@example.cn"}, Kind: "county"},
	{ID: "yuanping", Name: "原平市教育科技局", Aliases: []string{"原平"}, Emails: []string{"yuanping-jky@example.cn"}, Kind: "county"},
	{ID: "dingxiang", Name: "定襄县教育科技局", Aliases: []string{"定襄"}, Emails: []string{"dingxiang-jky@example.cn"}, Kind: "county"},
	{ID: "wutai", Name: "五台县教育科技局", Aliases: []string{"五台"}, Emails: []string{"wutai-jky@example.cn"}, Kind: "county"},
	{ID: "daixian", Name: "代县教育科技局", Aliases: []string{"代县"}, Emails: []string{"daixian-jky@example.cn"}, Kind: "county"},
	{ID: "fanshi", Name: "繁峙县教育科技局", Aliases: []string{"繁峙"}, Emails: []string{"fanshi-jky@example.cn"}, Kind: "county"},
	{ID: "ningwu", Name: "宁武县教育科技局", Aliases: []string{"宁武"}, Emails: []string{"ningwu-jky@example.cn"}, Kind: "county"},
	{ID: "jingle", Name: "静乐县教育科技局", Aliases: []string{"静乐"}, Emails: []string{"jingle-jky@example.cn"}, Kind: "county"},
	{ID: "shenchi", Name: "神池县教育科技局", Aliases: []string{"神池"}, Emails: []string{"shenchi-jky@example.cn"}, Kind: "county"},
	{ID: "wuzhai", Name: "五寨县教育科技局", Aliases: []string{"五寨"}, Emails: []string{"wuzhai-jky@example.cn"}, Kind: "county"},
	{ID: "kelan", Name: "岢岚县教育科技局", Aliases: []string{"岢岚"}, Emails: []string{"kelan-jky@example.cn"}, Kind: "county"},
	{ID: "hequ", Name: "河曲县教育科技局", Aliases: []string{"河曲"}, Emails: []string{"hequ-jky@example.cn"}, Kind: "county"},
	{ID: "baode", Name: "保德县教育科技局", Aliases: []string{"保德"}, Emails: []string{"baode-jky@example.cn"}, Kind: "county"},
	{ID: "pianguan", Name: "偏关县教育科技局", Aliases: []string{"偏关"}, Emails: []string{"pianguan-jky@example.cn"}, Kind: "county"},
	{ID: "xzzx", Name: "忻州市职业技术学校", Aliases: []string{"忻州职校"}, Emails: []string{"xzzx@example.cn"}, Kind: "school"},
}

func date(s string) roster.Date {
	d, err := roster.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

var campaigns = []roster.Campaign{
	{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Opens: date("2022-01-05"), Due: date("2022-01-31"),
		Keywords: []string{"学习贯彻", "职教大会精神"}},
	{ID: "zjdh-monthly", Title: "职业教育大会筹备召开情况", Units: []string{"xinfu", "yuanping"}, Opens: date("2022-01-05"),
		Every: "month", Until: date("2022-04-30"), Keywords: []string{"筹备", "召开情况", "月报"}},
}

// buildRoster builds the roster with the learned addresses added to their units, as cmd/briefd does.
func buildRoster(learned map[string]string) (*roster.Roster, error) {
	units := make([]roster.Unit, len(xinzhou))
	for i, u := range xinzhou {
		u.Emails = slices.Clone(u.Emails)
		u.Aliases = slices.Clone(u.Aliases)
		for addr, id := range learned {
			if id == u.ID && !slices.Contains(u.Emails, addr) {
				u.Emails = append(u.Emails, addr)
			}
		}
		units[i] = u
	}
	cs := make([]roster.Campaign, len(campaigns))
	for i, c := range campaigns {
		c.Units = slices.Clone(c.Units)
		cs[i] = c
	}
	return roster.New(units, cs, beijing)
}

// samplePDF is a small PDF that viewers open.
func samplePDF(title string) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>")
	stream := fmt.Sprintf("BT /F1 18 Tf 72 760 Td (%s) Tj ET", title)
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// fixture is a store, archive and roster with realistic mail, and the callbacks cmd/briefd would give.
type fixture struct {
	t        testing.TB
	dir      string
	st       *store.Store
	arch     store.Archive
	now      time.Time
	mu       sync.Mutex
	ros      *roster.Roster // of the config, without learned addresses
	off      *office.Office
	named    map[string]string // name -> receipt number
	pdfs     map[string][]byte // receipt number -> the bytes of its first archived PDF
	assigns  int
	resends  int
	answers  int
	rechecks int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data", "briefd.db"), store.Options{Location: beijing})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ros, err := buildRoster(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, st: st, arch: store.Archive{Root: filepath.Join(dir, "data", "archive")},
		now: bj(3, 10, 10, 0), ros: ros, named: map[string]string{}, pdfs: map[string][]byte{}}
	f.off, err = office.New(office.Options{Roster: ros, Archive: f.arch, Location: beijing, Now: func() time.Time { return f.now }}, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A file beside the archive that no request may reach.
	if err := os.WriteFile(filepath.Join(dir, "data", "config.yaml"), []byte("password: SECRET-CONFIG\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("password: SECRET-CONFIG\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) roster() *roster.Roster { return f.off.Roster() }

// mail is one received message for the fixture.
type mail struct {
	name     string // key in fixture.named
	at       time.Time
	from     string
	fromName string
	subject  string
	unit     string
	match    string
	campaign string
	period   string
	verdict  string
	files    []store.Attachment
	links    []string
	note     string
	category string // of ignored mail
	text     string
	reply    string
	archive  bool // archive the OK PDFs and the raw message
}

func pdfFile(name string, pages int) store.Attachment {
	return store.Attachment{Filename: name, Size: 180_000 + int64(pages)*23_000, SHA256: fmt.Sprintf("%064x", rand.Uint64()),
		Kind: "pdf", Verdict: "ok", Pages: pages}
}

func badFile(name, kind, reason string) store.Attachment {
	return store.Attachment{Filename: name, Size: 48_000, SHA256: fmt.Sprintf("%064x", rand.Uint64()), Kind: kind,
		Verdict: "reject", Reason: reason}
}

// add records m through store.Record, as the intake pipeline does, and archives its files.
func (f *fixture) add(m mail) string {
	f.t.Helper()
	ros := f.roster()
	late := false
	if m.campaign != "" {
		c, _ := ros.Campaign(m.campaign)
		p, ok := c.Period(m.period)
		if !ok {
			f.t.Fatalf("fixture: no period %s %s", m.campaign, m.period)
		}
		late = ros.Late(p, m.at)
	}
	if m.match == "" {
		m.match = roster.MatchNone
		if m.unit != "" {
			m.match = roster.MatchAddress
		}
	}
	rec := &store.Receipt{Received: m.at, MessageID: fmt.Sprintf("<%d.%s@mail.example.cn>", m.at.UnixNano(), m.name),
		From: m.from, FromName: m.fromName, Subject: m.subject, Date: m.at.Add(-2 * time.Minute), Unit: m.unit,
		Match: m.match, Campaign: m.campaign, Period: m.period, Late: late, Verdict: m.verdict,
		Attachments: slices.Clone(m.files), Links: m.links, Note: m.note, Auth: "pass", Size: 260_000, Mailbox: "INBOX",
		Category: m.category, Text: m.text}
	var out []*store.OutboxItem
	if m.verdict != store.VerdictIgnored {
		out = append(out, &store.OutboxItem{Kind: store.KindReply, Created: m.at, NextTry: m.at})
	}
	var saves [][2]string
	n, _, err := f.st.RecordWith(rec, nil, nil, out, func(r *store.Receipt) {
		if !m.archive {
			return
		}
		for i := range r.Attachments {
			if r.Attachments[i].OK() {
				r.Attachments[i].Archived = f.arch.PDFPath(r.Campaign, r.Period, ros.UnitName(r.Unit), r.Number, i+1)
				saves = append(saves, [2]string{r.Attachments[i].Archived, "pdf"})
			}
		}
		r.Raw = f.arch.RawPath(r.Received.Year(), r.Number)
		saves = append(saves, [2]string{r.Raw, "raw"})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range saves {
		var body []byte
		if s[1] == "pdf" {
			body = samplePDF("briefing " + n)
			if _, ok := f.pdfs[n]; !ok {
				f.pdfs[n] = body
			}
		} else {
			body = []byte("From: " + m.from + "\r\nSubject: test\r\n\r\nraw message of " + n + "\r\n")
		}
		tmp := filepath.Join(f.dir, "upload.tmp")
		if err := os.WriteFile(tmp, body, 0o600); err != nil {
			f.t.Fatal(err)
		}
		if err := f.arch.Save(s[0], tmp); err != nil {
			f.t.Fatal(err)
		}
	}
	if m.reply != "" {
		if err := f.st.UpdateReceipt(n, func(r *store.Receipt) error {
			r.Reply = m.reply
			if m.reply == store.ReplyFailed {
				r.ReplyNote = "550 5.1.1 mailbox unavailable"
			}
			return nil
		}); err != nil {
			f.t.Fatal(err)
		}
	}
	if m.name != "" {
		f.named[m.name] = n
	}
	return n
}

// seed records the mail of a realistic office in early March 2022: every verdict, on time, late,
// rejected, from unregistered senders, and a hostile subject.
func (f *fixture) seed() {
	study, monthly := "zjdh-study", "zjdh-monthly"
	f.add(mail{name: "xinfu-study", at: bj(1, 10, 14, 32), from: "xinfu-jky@example.cn", fromName: "忻府区教科局 王芳",
		subject: "忻府区学习贯彻全省职教大会精神情况简报", unit: "xinfu", campaign: study, period: "2022-01",
		verdict: store.VerdictAccepted, files: []store.Attachment{pdfFile("忻府区学习贯彻全省职教大会精神情况简报.pdf", 4)},
		reply: store.ReplySent, archive: true})
	f.add(mail{name: "yuanping-late", at: bj(2, 3, 9, 15), from: "yuanping-jky@example.cn", fromName: "原平市教育科技局",
		subject: "原平市关于学习贯彻职教大会精神的简报（补报）", unit: "yuanping", campaign: study, period: "2022-01",
		verdict: store.VerdictAccepted, files: []store.Attachment{pdfFile("原平市简报.pdf", 3)}, reply: store.ReplySent, archive: true})
	f.add(mail{name: "dingxiang-docx", at: bj(1, 20, 16, 5), from: "dingxiang-jky@example.cn", subject: "定襄县学习贯彻情况",
		unit: "dingxiang", campaign: study, period: "2022-01", verdict: store.VerdictRejected,
		files: []store.Attachment{badFile("定襄县学习贯彻情况.docx", "docx", pdfcheck.ReasonNotPDFWord)},
		reply: store.ReplySent})
	f.add(mail{name: "wutai-partial", at: bj(1, 25, 11, 0), from: "wutai-jky@example.cn", subject: "五台县职教大会精神学习简报及照片",
		unit: "wutai", campaign: study, period: "2022-01", verdict: store.VerdictPartial,
		files: []store.Attachment{pdfFile("五台县简报.pdf", 2), badFile("现场照片.jpg", "image", pdfcheck.ReasonImage)},
		reply: store.ReplySent, archive: true})
	f.add(mail{name: "daixian-encrypted", at: bj(1, 18, 8, 40), from: "daixian-jky@example.cn", subject: "代县简报", unit: "daixian", campaign: study,
		period: "2022-01", verdict: store.VerdictRejected,
		files: []store.Attachment{{Filename: "代县简报.pdf", Size: 90_000, Kind: "pdf", Verdict: "reject", Encrypted: true, Reason: pdfcheck.ReasonPassword}},
		reply: store.ReplySent})
	f.add(mail{name: "daixian-ok", at: bj(1, 19, 9, 5), from: "daixian-jky@example.cn", subject: "代县简报（去掉密码）", unit: "daixian",
		campaign: study, period: "2022-01", verdict: store.VerdictAccepted, files: []store.Attachment{pdfFile("代县简报.pdf", 5)},
		reply: store.ReplySent, archive: true})
	f.add(mail{name: "fanshi-link", at: bj(1, 28, 17, 45), from: "fanshi-jky@example.cn", subject: "繁峙县简报（超大附件）",
		unit: "fanshi", campaign: study, period: "2022-01", verdict: store.VerdictNoAttachment,
		links: []string{"https://mail.qq.com/cgi-bin/ftnExs_download?k=abc123&t=exs_ftn_download", "javascript:alert(2)"},
		reply: store.ReplyFailed})
	f.add(mail{at: bj(1, 29, 10, 0), from: "ningwu-jky@example.cn", subject: "宁武县简报", unit: "ningwu", campaign: study,
		period: "2022-01", verdict: store.VerdictTooLarge, note: "message is 73 MiB, over the 60 MiB limit", reply: store.ReplySent})
	f.add(mail{at: bj(1, 12, 7, 30), from: "xzzx@example.cn", fromName: "忻州职校办公室", subject: "忻州市职业技术学校学习贯彻职教大会精神简报",
		unit: "xzzx", campaign: study, period: "2022-01", verdict: store.VerdictAccepted,
		files: []store.Attachment{pdfFile("忻州职校简报.pdf", 6)}, reply: store.ReplySent, archive: true})
	for i, m := range []time.Month{1, 2} {
		f.add(mail{at: bj(m, 26, 15, 0), from: "xinfu-jky@example.cn", subject: fmt.Sprintf("忻府区职业教育大会筹备召开情况月报（%d月）", m),
			unit: "xinfu", campaign: monthly, period: fmt.Sprintf("2022-%02d", m), verdict: store.VerdictAccepted,
			files: []store.Attachment{pdfFile(fmt.Sprintf("忻府区%d月月报.pdf", m), 2+i)}, reply: store.ReplySent, archive: true})
	}
	f.add(mail{at: bj(2, 2, 10, 0), from: "yuanping-jky@example.cn", subject: "原平市职业教育大会筹备召开情况（1月）", unit: "yuanping",
		campaign: monthly, period: "2022-01", verdict: store.VerdictAccepted, files: []store.Attachment{pdfFile("原平1月.pdf", 2)},
		reply: store.ReplyQueued, archive: true})
	// From addresses nobody registered; the text names no unit.
	f.add(mail{name: "pending", at: bj(1, 28, 20, 11), from: "zhangsan1987@qq.com", fromName: "张三",
		subject: "关于学习贯彻全省职教大会精神的情况汇报", verdict: store.VerdictAccepted,
		files: []store.Attachment{pdfFile("情况汇报.pdf", 3)}, reply: store.ReplySent, archive: true})
	f.add(mail{name: "script", at: bj(2, 14, 3, 3), from: "attacker@evil.example", fromName: `"><img src=x onerror=alert(3)>`,
		subject: "<script>alert(1)</script>", verdict: store.VerdictRejected,
		files: []store.Attachment{badFile("<b>bold</b>.exe", "other", pdfcheck.ReasonNotPDF)}, reply: store.ReplySuppressed})
	f.add(mail{name: "malformed", at: bj(3, 1, 12, 0), from: "li.si@163.com", subject: "=?GB2312?B?broken", verdict: store.VerdictMalformed,
		note: "missing closing boundary", reply: store.ReplySent, archive: true})
	f.add(mail{name: "ignored", at: bj(2, 1, 6, 0), from: "MAILER-DAEMON@example.cn", subject: "Undelivered Mail Returned to Sender",
		verdict: store.VerdictIgnored, note: "delivery report", category: store.CategoryAuto})
	f.add(mail{name: "question", at: bj(3, 2, 9, 30), from: "wuzhai-jky@example.cn", subject: "请问简报截止时间是哪天？", unit: "wuzhai",
		match: "address", verdict: store.VerdictIgnored, note: "not a submission: question", category: store.CategoryQuestion,
		text: "市局职教科：\n请问学习贯彻简报的截止时间是哪天？<script>alert(9)</script>\n五寨县教育科技局", reply: store.ReplySuppressed})
	f.add(mail{name: "spam", at: bj(3, 3, 2, 0), from: "fapiao888@example.com", subject: "代开发票", verdict: store.VerdictIgnored,
		note: "not a submission: stranger", category: store.CategoryStranger, reply: store.ReplySuppressed})
}

// countingOffice is the real office (as cmd/briefd wires it), counting the calls the dashboard makes; a
// test may give it the reply text of its own (notify composes it in the daemon).
type countingOffice struct {
	*office.Office // what the dashboard does not count
	f              *fixture
	replyText      func(r *store.Receipt) (string, error)
}

func (c *countingOffice) Roster() *roster.Roster { return c.f.off.Roster() }

func (c *countingOffice) ReplyText(r *store.Receipt) (string, error) {
	if c.replyText != nil {
		return c.replyText(r)
	}
	return c.f.off.ReplyText(r)
}

func (c *countingOffice) Export(w io.Writer, format, campaign string) (string, error) {
	cw := csv.NewWriter(w)
	cw.Write([]string{"回执编号", "单位", "主题"})
	err := c.f.st.EachReceipt(func(r *store.Receipt) bool {
		if campaign == "" || r.Campaign == campaign {
			cw.Write([]string{r.Number, r.Unit, r.Subject})
		}
		return true
	})
	cw.Flush()
	return "简报收取情况_" + strings.ReplaceAll(c.f.now.Format("2006-01-02"), "-", "") + "." + format, err
}

func (c *countingOffice) Assign(by office.Source, number, unit string, learn bool) (*store.Receipt, error) {
	c.f.mu.Lock()
	c.f.assigns++
	c.f.mu.Unlock()
	return c.f.off.Assign(by, number, unit, learn)
}

func (c *countingOffice) Answer(by office.Source, number string) (*store.Receipt, error) {
	c.f.mu.Lock()
	c.f.answers++
	c.f.mu.Unlock()
	return c.f.off.Answer(by, number)
}

func (c *countingOffice) RecheckReceipt(ctx context.Context, by office.Source, number string) (string, error) {
	c.f.mu.Lock()
	c.f.rechecks++
	c.f.mu.Unlock()
	return c.f.off.RecheckReceipt(ctx, by, number)
}

func (c *countingOffice) Booklet(campaign, period string) (*office.Booklet, error) {
	return c.f.off.Booklet(campaign, period)
}

func (c *countingOffice) Resend(by office.Source, number string) (*store.OutboxItem, error) {
	c.f.mu.Lock()
	c.f.resends++
	c.f.mu.Unlock()
	return c.f.off.Resend(by, number)
}

// options is the Options part cmd/briefd would wire: the office.
func (f *fixture) options() Options {
	return Options{
		Location:   beijing,
		OfficeName: "忻州市教育局职业教育科",
		Now:        func() time.Time { return f.now },
		Office:     &countingOffice{Office: f.off, f: f},
		Health: func() Health {
			return Health{LastMailboxOK: f.now.Add(-90 * time.Second), MailboxErrors: 3, Reconnects: 1, OutboxDepth: 2}
		},
	}
}

func (f *fixture) server(o Options) *Server {
	f.t.Helper()
	s, err := New(o, f.st, f.arch, slog.New(slog.DiscardHandler))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}
