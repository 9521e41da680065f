package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"briefd/intake"
	"briefd/notify"
	"briefd/office"
	"briefd/roster"
	"briefd/store"
)

// The pages where the office runs its campaigns itself: 报送任务 (campaigns added while briefd runs,
// with the notice to send), units added, changed or imported from a spreadsheet, receipts registered by
// hand (人工登记), 催报 now, and 操作记录 (the audit log). Every change goes through Options.Office, as
// the command line's does; a mistake in what was typed shows the office's Chinese sentences above the
// form, which keeps what was typed.

// by is who makes a change from this request, for the audit log.
func by(r *http.Request) office.Source { return office.FromWeb(clientIP(r)) }

// readOnly refuses a change in a read-only dashboard; it reports whether it did.
func (s *Server) readOnly(w http.ResponseWriter, r *http.Request) bool {
	if s.o.ReadOnly {
		s.fail(w, r, http.StatusNotFound, "此功能未启用（只读）。")
		return true
	}
	return false
}

// problems returns the sentences of an office.InputError, or nil for another error.
func problems(err error) []string {
	var ie *office.InputError
	if errors.As(err, &ie) {
		return ie.Problems
	}
	return nil
}

// refused answers a change the office refused or that failed: its problems (a mistake in what was typed,
// office.InputError) go to show, which puts them on the caller's page; any other error is an internal
// one. It reports whether there was an error, after which the handler returns.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, err error, show func(problems []string)) bool {
	if ps := problems(err); ps != nil {
		show(ps)
		return true
	}
	if err != nil {
		s.internal(w, r, err)
		return true
	}
	return false
}

// ---- 报送任务 ----

type campaignRow struct {
	office.CampaignInfo
	State    string // 未开始, 进行中, 已截止, 已关闭
	Units    string // in words
	Schedule string // the due date, or 每月 … 至 …
	Editable bool   // added at run time and not closed
}

type campaignsPage struct {
	base
	Rows    []campaignRow
	Ignored []string
}

func (s *Server) campaignRow(ros *roster.Roster, c office.CampaignInfo) campaignRow {
	return campaignRow{CampaignInfo: c, Units: office.UnitsZH(ros, c.Units), Schedule: c.ScheduleZH(),
		State: office.StateZH(c.State(s.today())), Editable: c.Source == office.SourceOffice && c.Closed == ""}
}

func (s *Server) campaignList(w http.ResponseWriter, r *http.Request) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := campaignsPage{base: s.base(w, r, "报送任务", "campaigns"), Ignored: s.o.Office.Ignored()}
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	for _, c := range s.o.Office.Campaigns() {
		p.Rows = append(p.Rows, s.campaignRow(ros, c))
	}
	slices.SortStableFunc(p.Rows, func(a, b campaignRow) int { // the open ones first
		return boolInt(a.Closed != "") - boolInt(b.Closed != "")
	})
	s.render(w, r, http.StatusOK, "campaigns", p)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setPending fills the count of 待确认 in the navigation.
func (s *Server) setPending(b *base) error {
	n, err := s.pendingCount()
	b.Pending = n
	return err
}

type campaignPage struct {
	base
	C      campaignRow
	Notice string
}

func (s *Server) campaignDetail(w http.ResponseWriter, r *http.Request) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	c, ok := s.o.Office.Campaign(r.PathValue("id"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "没有这个报送任务。")
		return
	}
	p := campaignPage{base: s.base(w, r, c.Title, "campaigns"), C: s.campaignRow(ros, c)}
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	if p.Notice, err = s.o.Office.Notice(c.ID); err != nil {
		s.log.Warn("web: notice text", "campaign", c.ID, "err", err)
	}
	switch r.URL.Query().Get("done") {
	case "add":
		p.Flash = "报送任务已添加，立即生效。请把下面的通知发给各单位。"
	case "edit":
		p.Flash = "报送任务已修改，立即生效。"
	case "close":
		p.Flash = "报送任务已关闭：不再催报，已收到的简报保留。"
	}
	s.render(w, r, http.StatusOK, "campaign", p)
}

type option struct{ Value, Label string }

type campaignFormPage struct {
	base
	In       office.CampaignInput
	Edit     bool
	Action   string
	Selected map[string]bool // the units and kinds ticked
	Kinds    []option
	Units    []roster.Unit
}

var kindOptions = []option{{"kind:county", "所有县（市、区）"}, {"kind:school", "所有学校"}, {"kind:other", "所有其他单位"}}

func (s *Server) campaignForm(w http.ResponseWriter, r *http.Request, status int, in office.CampaignInput, edit bool, errs []string) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	title, action := "新建报送任务", "/campaigns"
	if edit {
		title, action = "修改报送任务", "/campaigns/"+url.PathEscape(in.ID)+"/edit"
	}
	p := campaignFormPage{base: s.base(w, r, title, "campaigns"), In: in, Edit: edit, Action: action, Selected: map[string]bool{},
		Kinds: kindOptions, Units: ros.Units()}
	p.Problems = errs
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	for _, u := range strings.Split(in.Units, ",") {
		p.Selected[strings.TrimSpace(u)] = true
	}
	s.render(w, r, status, "campaign_form", p)
}

// campaignInput reads the form; the units come as ticked boxes, none for every unit.
func campaignInput(r *http.Request) office.CampaignInput {
	f := r.PostForm
	return office.CampaignInput{ID: f.Get("id"), Title: f.Get("title"), Units: strings.Join(f["units"], ","), Opens: f.Get("opens"),
		Due: f.Get("due"), Every: f.Get("every"), Keywords: f.Get("keywords")}
}

func (s *Server) campaignNew(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	s.campaignForm(w, r, http.StatusOK, office.CampaignInput{Opens: s.today().String()}, false, nil)
}

func (s *Server) campaignCreate(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	in := campaignInput(r)
	c, err := s.o.Office.AddCampaign(by(r), in)
	if s.refused(w, r, err, func(ps []string) {
		s.campaignForm(w, r, http.StatusBadRequest, in, false, ps)
	}) {
		return
	}
	s.log.Info("web: campaign added", "campaign", c.ID, "client", clientIP(r))
	http.Redirect(w, r, "/campaigns/"+url.PathEscape(c.ID)+"?done=add", http.StatusSeeOther)
}

func (s *Server) campaignEdit(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	c, ok := s.o.Office.Campaign(r.PathValue("id"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "没有这个报送任务。")
		return
	}
	if c.Source != office.SourceOffice {
		s.fail(w, r, http.StatusConflict, "这个报送任务定义在 config.yaml 中，只能在配置文件中修改。")
		return
	}
	if c.Closed != "" {
		s.fail(w, r, http.StatusConflict, "这个报送任务已于 "+c.Closed+" 关闭，不能再修改。")
		return
	}
	in := c.Input()
	if c.Every == "month" {
		in.Due = c.Until // the form's one date field is the last due date of a monthly campaign
	}
	s.campaignForm(w, r, http.StatusOK, in, true, nil)
}

func (s *Server) campaignUpdate(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	id := r.PathValue("id")
	in := campaignInput(r)
	in.ID = id
	_, err := s.o.Office.EditCampaign(by(r), id, in)
	if s.refused(w, r, err, func(ps []string) {
		s.campaignForm(w, r, http.StatusBadRequest, in, true, ps)
	}) {
		return
	}
	http.Redirect(w, r, "/campaigns/"+url.PathEscape(id)+"?done=edit", http.StatusSeeOther)
}

func (s *Server) campaignClose(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	id := r.PathValue("id")
	_, err := s.o.Office.CloseCampaign(by(r), id)
	if s.refused(w, r, err, func(ps []string) {
		s.fail(w, r, http.StatusConflict, strings.Join(ps, "；"))
	}) {
		return
	}
	http.Redirect(w, r, "/campaigns/"+url.PathEscape(id)+"?done=close", http.StatusSeeOther)
}

// ---- 单位: add, change, import ----

type unitFormPage struct {
	base
	In    office.UnitInput
	Edit  bool
	Kinds []option
}

var unitKinds = []option{{"", "（不填）"}, {"county", "县（市、区）"}, {"school", "学校"}, {"other", "其他"}}

func (s *Server) unitForm(w http.ResponseWriter, r *http.Request, status int, in office.UnitInput, edit bool, errs []string) {
	title := "添加单位"
	if edit {
		title = "修改单位：" + in.Name
	}
	p := unitFormPage{base: s.base(w, r, title, "units"), In: in, Edit: edit, Kinds: unitKinds}
	p.Problems = errs
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, status, "unit_form", p)
}

func unitInput(r *http.Request) office.UnitInput {
	f := r.PostForm
	return office.UnitInput{ID: f.Get("id"), Name: f.Get("name"), Aliases: f.Get("aliases"), Emails: f.Get("emails"), Kind: f.Get("kind")}
}

func (s *Server) unitNew(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	s.unitForm(w, r, http.StatusOK, office.UnitInput{}, false, nil)
}

func (s *Server) unitCreate(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	in := unitInput(r)
	u, err := s.o.Office.AddUnit(by(r), in)
	if s.refused(w, r, err, func(ps []string) {
		s.unitForm(w, r, http.StatusBadRequest, in, false, ps)
	}) {
		return
	}
	http.Redirect(w, r, "/units?done=add&unit="+url.QueryEscape(u.ID)+"#u-"+u.ID, http.StatusSeeOther)
}

func (s *Server) unitEdit(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	u, ok := s.o.Office.Unit(r.PathValue("id"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "没有这个单位。")
		return
	}
	s.unitForm(w, r, http.StatusOK, u.Input(), true, nil)
}

func (s *Server) unitUpdate(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	id := r.PathValue("id")
	in := unitInput(r)
	in.ID = id
	_, err := s.o.Office.EditUnit(by(r), id, in)
	if s.refused(w, r, err, func(ps []string) {
		s.unitForm(w, r, http.StatusBadRequest, in, true, ps)
	}) {
		return
	}
	http.Redirect(w, r, "/units?done=edit&unit="+url.QueryEscape(id)+"#u-"+id, http.StatusSeeOther)
}

// pendingImport is a spreadsheet read and previewed, waiting for the office to apply it.
type pendingImport struct {
	im  *office.UnitImport
	at  time.Time
	key string // the session (or pre-session) that uploaded it: only it may apply it
}

const (
	importTTL      = 30 * time.Minute
	maxImports     = 20
	maxImportBytes = 10 << 20
)

type importPage struct {
	base
	Im    *office.UnitImport
	Token string
}

// unitImport reads an uploaded spreadsheet and shows what it would change; the page's button posts
// back its token, and then it is applied.
func (s *Server) unitImport(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	if r.PostFormValue("token") != "" {
		s.unitImportApply(w, r)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		s.unitsWithProblems(w, r, []string{"请选择要导入的表格文件（.xlsx 或 .csv）。"})
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxImportBytes+1))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if len(data) > maxImportBytes {
		s.unitsWithProblems(w, r, []string{"表格太大（超过 10 MB）。"})
		return
	}
	name := filepath.Base(hdr.Filename)
	im, err := s.o.Office.PreviewUnits(name, data)
	if s.refused(w, r, err, func(ps []string) {
		s.unitsWithProblems(w, r, ps)
	}) {
		return
	}
	tok, key := randomToken(), s.csrfBase(nil, r) // csrfBase takes s.mu: not inside it
	now := s.o.Now()
	s.mu.Lock()
	for k, p := range s.imports {
		if now.Sub(p.at) > importTTL {
			delete(s.imports, k)
		}
	}
	for len(s.imports) >= maxImports { // the oldest preview gives way, not one chosen at random
		oldest := ""
		for k, p := range s.imports {
			if oldest == "" || p.at.Before(s.imports[oldest].at) {
				oldest = k
			}
		}
		delete(s.imports, oldest)
	}
	s.imports[tok] = pendingImport{im: im, at: now, key: key}
	s.mu.Unlock()
	p := importPage{base: s.base(w, r, "导入单位：确认", "units"), Im: im, Token: tok}
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "import", p)
}

func (s *Server) unitImportApply(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	tok, key := r.PostFormValue("token"), s.csrfBase(nil, r)
	s.mu.Lock()
	p, ok := s.imports[tok]
	if ok && p.key == key && s.o.Now().Sub(p.at) <= importTTL {
		delete(s.imports, tok)
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, r, http.StatusNotFound, "这次导入已过期或已经应用，请重新上传表格。")
		return
	}
	done, err := s.o.Office.ApplyUnits(by(r), p.im)
	if s.refused(w, r, err, func(ps []string) {
		s.unitsWithProblems(w, r, ps)
	}) {
		return
	}
	s.log.Info("web: units imported", "file", p.im.File, "added", len(done.Added), "changed", len(done.Changed), "client", clientIP(r))
	http.Redirect(w, r, fmt.Sprintf("/units?done=import&added=%d&changed=%d", len(done.Added), len(done.Changed)), http.StatusSeeOther)
}

// ---- 人工登记 ----

type receiptFormPage struct {
	base
	In        office.ReceiptInput
	Units     []roster.Unit
	Campaigns []office.CampaignInfo
}

func (s *Server) receiptForm(w http.ResponseWriter, r *http.Request, status int, in office.ReceiptInput, errs []string) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := receiptFormPage{base: s.base(w, r, "人工登记", "receipts"), In: in, Units: ros.Units()}
	p.Problems = errs
	for _, c := range s.o.Office.Campaigns() {
		if c.Closed == "" || c.ID == in.Campaign {
			p.Campaigns = append(p.Campaigns, c)
		}
	}
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	s.render(w, r, status, "receipt_new", p)
}

func (s *Server) receiptNew(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	q := r.URL.Query()
	s.receiptForm(w, r, http.StatusOK, office.ReceiptInput{Unit: q.Get("unit"), Campaign: q.Get("campaign"), Period: q.Get("period")}, nil)
}

func (s *Server) receiptCreate(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	f := r.PostForm
	in := office.ReceiptInput{Unit: f.Get("unit"), Campaign: f.Get("campaign"), Period: f.Get("period"), Note: f.Get("note")}
	var uploads []*multipart.FileHeader
	if r.MultipartForm != nil {
		for _, h := range r.MultipartForm.File["files"] {
			if h.Filename != "" {
				uploads = append(uploads, h)
			}
		}
	}
	dir, err := os.MkdirTemp("", "briefd-upload-")
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer os.RemoveAll(dir)
	for i, h := range uploads {
		path := filepath.Join(dir, fmt.Sprintf("%d-%s", i, store.SafeName(h.Filename)))
		if err := saveUpload(h, path); err != nil {
			s.internal(w, r, err)
			return
		}
		in.Files = append(in.Files, intake.ManualFile{Name: filepath.Base(h.Filename), Path: path})
	}
	rec, err := s.o.Office.AddReceipt(r.Context(), by(r), in)
	if s.refused(w, r, err, func(ps []string) {
		in.Files = nil // a browser does not keep chosen files; the form says to choose them again
		if len(uploads) > 0 {
			ps = append(ps, "请重新选择要上传的文件。")
		}
		s.receiptForm(w, r, http.StatusBadRequest, in, ps)
	}) {
		return
	}
	s.log.Info("web: receipt registered by hand", "receipt", rec.Number, "unit", rec.Unit, "client", clientIP(r))
	http.Redirect(w, r, "/receipts/"+rec.Number+"?done=add", http.StatusSeeOther)
}

func saveUpload(h *multipart.FileHeader, path string) error {
	in, err := h.Open()
	if err != nil {
		return err
	}
	defer in.Close()
	return store.WriteFileAtomic(path, 0o600, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// ---- 催报 ----

type remindPage struct {
	base
	Campaign string // its title; "" for every open campaign
	Result   notify.RemindResult
	Summary  string
}

func (s *Server) remind(w http.ResponseWriter, r *http.Request) {
	if s.readOnly(w, r) {
		return
	}
	campaign, unit := r.PostFormValue("campaign"), r.PostFormValue("unit")
	res, err := s.o.Office.Remind(by(r), campaign, unit)
	if s.refused(w, r, err, func(ps []string) {
		s.fail(w, r, http.StatusBadRequest, strings.Join(ps, "；"))
	}) {
		return
	}
	p := remindPage{base: s.base(w, r, "催报", "overview"), Result: res, Summary: office.RemindSummary(res)}
	if c, ok := s.o.Office.Campaign(campaign); ok {
		p.Campaign = c.Title
	}
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("web: reminders sent", "campaign", campaign, "unit", unit, "sent", len(res.Sent), "skipped", len(res.Skipped), "client", clientIP(r))
	s.render(w, r, http.StatusOK, "remind", p)
}

// ---- 操作记录 ----

type auditRow struct {
	store.AuditEntry
	When, Source, Action string
	Link                 string // the page of what it changed
}

// auditLink is the page of what an audit entry changed.
func auditLink(e store.AuditEntry) string {
	switch e.Action {
	case office.ActAssign, office.ActResend, office.ActRecheck, office.ActReceiptAdd, office.ActAnswer:
		if receiptNumber.MatchString(e.Target) {
			return "/receipts/" + e.Target
		}
	case office.ActCampaignAdd, office.ActCampaignEdit, office.ActCampaignClose:
		return "/campaigns/" + url.PathEscape(e.Target)
	case office.ActUnitAdd, office.ActUnitEdit, office.ActLearn:
		return "/units#u-" + e.Target
	}
	return ""
}

type auditPage struct {
	base
	Since string
	Rows  []auditRow
	Total int
}

const auditShown = 500

func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	var from time.Time
	if since != "" {
		d, err := roster.ParseDate(since)
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "日期请按 2026-03-01 的格式填写。")
			return
		}
		from = d.Start(s.o.Location)
	}
	es, err := s.o.Office.AuditLog(from)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := auditPage{base: s.base(w, r, "操作记录", "audit"), Since: since, Total: len(es)}
	if err := s.setPending(&p.base); err != nil {
		s.internal(w, r, err)
		return
	}
	for i := len(es) - 1; i >= 0 && len(p.Rows) < auditShown; i-- { // newest first
		e := es[i]
		p.Rows = append(p.Rows, auditRow{AuditEntry: e, When: s.fmtTime(e.At), Source: office.SourceZH(e.Via, e.Client),
			Action: office.ActionZH(e.Action), Link: auditLink(e)})
	}
	s.render(w, r, http.StatusOK, "audit", p)
}
