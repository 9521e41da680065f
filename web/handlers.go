package web

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"briefd/office"
	"briefd/pdfcheck"
	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /receipts", s.receiptList)
	mux.HandleFunc("GET /receipts/{number}", s.receiptDetail)
	mux.HandleFunc("GET /receipts/{number}/files/{n}", s.download)
	mux.HandleFunc("GET /receipts/{number}/raw", s.downloadRaw)
	mux.HandleFunc("POST /receipts/{number}/assign", s.assign)
	mux.HandleFunc("POST /receipts/{number}/resend", s.resend)
	mux.HandleFunc("POST /receipts/{number}/recheck", s.recheck)
	mux.HandleFunc("GET /pending", s.pendingList)
	mux.HandleFunc("GET /letters", s.letterList)
	mux.HandleFunc("POST /receipts/{number}/answered", s.answer)
	mux.HandleFunc("GET /other", s.otherList)
	mux.HandleFunc("GET /booklet/{campaign}/{file}", s.booklet)
	mux.HandleFunc("GET /units", s.unitList)
	mux.HandleFunc("GET /units/new", s.unitNew)
	mux.HandleFunc("POST /units", s.unitCreate)
	mux.HandleFunc("GET /units/{id}/edit", s.unitEdit)
	mux.HandleFunc("POST /units/{id}/edit", s.unitUpdate)
	mux.HandleFunc("POST /units/import", s.unitImport)
	mux.HandleFunc("GET /campaigns", s.campaignList)
	mux.HandleFunc("GET /campaigns/new", s.campaignNew)
	mux.HandleFunc("POST /campaigns", s.campaignCreate)
	mux.HandleFunc("GET /campaigns/{id}", s.campaignDetail)
	mux.HandleFunc("GET /campaigns/{id}/edit", s.campaignEdit)
	mux.HandleFunc("POST /campaigns/{id}/edit", s.campaignUpdate)
	mux.HandleFunc("POST /campaigns/{id}/close", s.campaignClose)
	mux.HandleFunc("GET /receipts/new", s.receiptNew)
	mux.HandleFunc("POST /receipts/new", s.receiptCreate)
	mux.HandleFunc("POST /remind", s.remind)
	mux.HandleFunc("GET /audit", s.auditList)
	mux.HandleFunc("GET /export", s.export)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	static := http.FileServerFS(staticFiles())
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		static.ServeHTTP(w, r)
	})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "没有这个页面。")
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "请求来自其他网站，已拒绝。")
	}))
	return s.secure(s.gate(cop.Handler(mux)))
}

// csp allows only the dashboard's own files: no inline script or style, no framing, forms only to itself.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure sets the security headers and refuses request paths that are not clean.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.o.TLS {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		// A path with dot segments, doubled or encoded slashes or backslashes is never one of ours: refuse it
		// rather than let the mux redirect it somewhere.
		p, raw := r.URL.Path, r.URL.EscapedPath()
		if strings.Contains(p, "\\") || strings.Contains(p, "\x00") || (p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/")) ||
			strings.Contains(strings.ToLower(raw), "%2f") || strings.Contains(strings.ToLower(raw), "%5c") {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// public paths need no login.
func public(p string) bool {
	switch p {
	case "/login", "/healthz", "/readyz", "/metrics", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(p, "/static/")
}

// gate asks for a login (when there is a password) and checks the CSRF token of every request that is not
// a GET or HEAD.
func (s *Server) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		if s.o.Password != "" && !public(r.URL.Path) && s.session(r) == "" {
			if safe {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, http.StatusForbidden, "请先登录。")
			return
		}
		if !safe {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
				// An upload (人工登记's PDFs, a units spreadsheet): files beyond a few MB go to temporary
				// files, removed when the request ends.
				r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxUpload)
				if err := r.ParseMultipartForm(8 << 20); err != nil {
					msg := "上传的内容无法读取。"
					if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
						msg = fmt.Sprintf("上传的文件太大（一次最多 %d MB）。", s.o.MaxUpload>>20)
					}
					s.fail(w, r, http.StatusRequestEntityTooLarge, msg)
					return
				}
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			}
			if err := r.ParseForm(); err != nil {
				s.fail(w, r, http.StatusBadRequest, "表单无法读取。")
				return
			}
			if !s.csrfOK(r) {
				s.log.Warn("web: request refused: missing or wrong CSRF token", "path", r.URL.Path, "client", clientIP(r))
				s.fail(w, r, http.StatusForbidden, "表单已过期或来源不明（CSRF 校验失败），请回到页面重新操作。")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ---- rendering ----

// base is what every page's layout needs.
type base struct {
	Title      string
	Nav        string
	Office     string
	CSRF       string
	Login      bool // a password is set: show 退出
	Pending    int
	Questions  int // open questions (来信待处理)
	CanAssign  bool
	CanResend  bool
	CanExport  bool
	CanCompile bool // 简报汇编 downloads
	CanChange  bool // campaigns, units, 人工登记, 催报
	Now        string
	Flash      string
	Error      string
	Problems   []string // what is wrong with what was typed, each a sentence
}

func (s *Server) base(w http.ResponseWriter, r *http.Request, title, nav string) base {
	b := base{Title: title, Nav: nav, Office: s.o.OfficeName, CSRF: s.csrfToken(s.csrfBase(w, r)),
		Login: s.o.Password != "", CanAssign: !s.o.ReadOnly, CanResend: !s.o.ReadOnly,
		CanExport: !s.o.ReadOnly, CanCompile: !s.o.ReadOnly, CanChange: !s.o.ReadOnly, Now: s.fmtTime(s.o.Now())}
	if n, err := s.questionCount(); err == nil {
		b.Questions = n
	} else {
		s.log.Warn("web: counting questions", "err", err)
	}
	return b
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.tpl.pages[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		s.log.Error("web: render", "page", page, "err", err)
		http.Error(w, "页面生成失败", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages hold other people's mail
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorPage struct {
	base
	Status  int
	Message string
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	b := s.base(w, r, http.StatusText(status), "")
	if s.o.Password != "" && s.session(r) == "" {
		b.Nav, b.Login = "login", false // no navigation for someone not logged in
	}
	s.render(w, r, status, "error", errorPage{base: b, Status: status, Message: msg})
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("web: request failed", "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusInternalServerError, "读取数据失败，请稍后再试；详情见日志。")
}

// ---- 总览 ----

type column struct {
	Campaign, Title, Period, Due string
	PeriodName                   string // as people read it (roster.PeriodName)
	Counts                       map[string]int
	Open                         bool // the due date has not passed
}

type cell struct {
	Key     string // campaign/period
	Owes    bool
	State   string
	Receipt string
	At      string
	Tries   int
	Latest  string // the last usable receipt, when it is not Receipt (以最后一次报送为准)
}

type row struct {
	Unit  roster.Unit
	Cells []cell
}

type campaignHead struct {
	Title string
	Span  int
}

type overviewPage struct {
	base
	Campaigns []roster.Campaign
	Campaign  string
	Heads     []campaignHead
	Columns   []column
	Rows      []row
	Totals    map[string]int
	States    []string
	Undelivered
}

// Undelivered are the office's messages (replies, summaries, robot posts …) that failed for good in the
// last 7 days: the overview shows them so that a wrong password or an invalid robot key is seen.
type Undelivered struct {
	Failed    []failedLine // the latest few
	FailedAll int
}

type failedLine struct{ At, Kind, To, Error string }

func (s *Server) undelivered() (Undelivered, error) {
	since := s.o.Now().Add(-7 * 24 * time.Hour)
	items, err := s.st.Outbox(func(it *store.OutboxItem) bool { return it.State == store.OutFailed && it.Created.After(since) })
	if err != nil {
		return Undelivered{}, err
	}
	u := Undelivered{FailedAll: len(items)}
	for i := len(items) - 1; i >= 0 && len(u.Failed) < 5; i-- {
		it := items[i]
		u.Failed = append(u.Failed, failedLine{At: s.fmtTime(it.Created), Kind: report.KindZH(it.Kind), To: it.To, Error: it.LastError})
	}
	return u, nil
}

var states = []string{roster.StateReported, roster.StateLate, roster.StateRejected, roster.StateMissing}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	status, pending, err := s.status(ros)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := overviewPage{base: s.base(w, r, "总览", "overview"), Campaigns: ros.Campaigns(),
		Campaign: r.FormValue("campaign"), Totals: map[string]int{}, States: states}
	p.Pending = pending
	if p.Undelivered, err = s.undelivered(); err != nil {
		s.internal(w, r, err)
		return
	}
	units := ros.Units()
	idx := map[string]int{}
	for i, u := range units {
		idx[u.ID] = i
		p.Rows = append(p.Rows, row{Unit: u})
	}
	today := s.today()
	for _, ps := range status {
		if p.Campaign != "" && ps.Campaign != p.Campaign {
			continue
		}
		if n := len(p.Heads); n > 0 && p.Columns[len(p.Columns)-1].Campaign == ps.Campaign {
			p.Heads[n-1].Span++
		} else {
			p.Heads = append(p.Heads, campaignHead{Title: ps.Title, Span: 1})
		}
		due, _ := roster.ParseDate(ps.Due)
		p.Columns = append(p.Columns, column{Campaign: ps.Campaign, Title: ps.Title, Period: ps.Period, Due: ps.Due,
			PeriodName: ros.PeriodName(ps.Campaign, ps.Period), Counts: ps.Counts, Open: !due.Before(today)})
		for i := range p.Rows {
			p.Rows[i].Cells = append(p.Rows[i].Cells, cell{Key: ps.Campaign + "/" + ps.Period})
		}
		col := len(p.Columns) - 1
		for _, us := range ps.Units {
			i, ok := idx[us.Unit]
			if !ok {
				continue
			}
			p.Rows[i].Cells[col] = cell{Key: ps.Campaign + "/" + ps.Period, Owes: true, State: us.State, Receipt: us.Receipt, At: s.fmtTime(us.At), Tries: us.Tries}
			if us.Latest != us.Receipt {
				p.Rows[i].Cells[col].Latest = us.Latest
			}
			p.Totals[us.State]++
		}
	}
	s.render(w, r, http.StatusOK, "overview", p)
}

// ---- 收件记录 ----

// receiptRow is one receipt in a list.
type receiptRow struct {
	R        *store.Entry
	Received string
	UnitName string
	Campaign string
	Period   string   // as people read it (roster.PeriodName)
	Files    []string // the attachments' names
}

type receiptsPage struct {
	base
	F         filter
	Units     []roster.Unit
	Campaigns []roster.Campaign
	Verdicts  []string
	Rows      []receiptRow
	Total     int
	Page      int
	Pages     int
	PrevHref  string
	NextHref  string
	First     int
	Last      int
}

func (s *Server) receiptRow(ros *roster.Roster, e *store.Entry) receiptRow {
	rr := receiptRow{R: e, Received: s.fmtTime(e.Received), UnitName: unitName(ros, e.Unit),
		Campaign: campaignTitle(ros, e.Campaign), Period: ros.PeriodName(e.Campaign, e.Period)}
	if e.Filenames != "" {
		rr.Files = strings.Split(e.Filenames, " / ") // as store.Entry joins them
	}
	return rr
}

// unitName is the name of a unit, "" for none.
func unitName(ros *roster.Roster, id string) string {
	if id == "" {
		return ""
	}
	return ros.UnitName(id)
}

// campaignTitle is the title of a campaign, its id when the roster no longer has it, "" for none.
func campaignTitle(ros *roster.Roster, id string) string {
	if id == "" {
		return ""
	}
	if c, ok := ros.Campaign(id); ok {
		return c.Title
	}
	return id
}

// roster returns the current roster.
func (s *Server) roster() (*roster.Roster, error) {
	ros := s.o.Office.Roster()
	if ros == nil {
		return nil, errors.New("web: no roster")
	}
	return ros, nil
}

func (s *Server) receiptList(w http.ResponseWriter, r *http.Request) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	q := r.URL.Query()
	f := filter{Campaign: q.Get("campaign"), Unit: q.Get("unit"), Verdict: q.Get("verdict"),
		From: q.Get("from"), To: q.Get("to"), Q: strings.TrimSpace(q.Get("q"))}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	all, pending, err := s.find(f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := receiptsPage{base: s.base(w, r, "收件记录", "receipts"), F: f, Units: ros.Units(), Campaigns: ros.Campaigns(),
		Verdicts: verdicts, Total: len(all)}
	p.Pending = pending
	size := s.o.PageSize
	p.Pages = max(1, (len(all)+size-1)/size)
	p.Page = min(max(1, f.Page), p.Pages)
	lo, hi := (p.Page-1)*size, min(p.Page*size, len(all))
	for i := lo; i < hi; i++ {
		p.Rows = append(p.Rows, s.receiptRow(ros, all[i]))
	}
	if len(all) > 0 {
		p.First, p.Last = lo+1, hi
	}
	if p.Page > 1 {
		p.PrevHref = "/receipts?" + f.query(p.Page-1)
	}
	if p.Page < p.Pages {
		p.NextHref = "/receipts?" + f.query(p.Page+1)
	}
	s.render(w, r, http.StatusOK, "receipts", p)
}

// ---- 回执详情 ----

var receiptNumber = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)

// lookup returns the receipt named in the path, or writes 404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *store.Receipt {
	n := r.PathValue("number")
	if !receiptNumber.MatchString(n) {
		s.fail(w, r, http.StatusNotFound, "没有这个回执编号。")
		return nil
	}
	rec, err := s.st.Receipt(n)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "没有这个回执编号："+n)
		return nil
	}
	if err != nil {
		s.internal(w, r, err)
		return nil
	}
	return rec
}

type attachmentRow struct {
	store.Attachment
	N        int
	Download bool
	Why      string // the reason in words for office staff; the code when no words are known
}

type receiptPage struct {
	base
	R           *store.Receipt
	Received    string
	UnitName    string
	Campaign    string // its title
	Date        string
	Period      string
	Attachments []attachmentRow
	Units       []roster.Unit
	Registered  string // the unit the sender's address is registered to
	ReplyText   string // the reply's plain text, as the sender gets it
	ReplyError  bool   // Options.ReplyText failed
	Corrections []correctionRow
}

// correctionRow is one recheck that changed the receipt.
type correctionRow struct{ At, Before, After, Files string }

func (s *Server) receiptDetail(w http.ResponseWriter, r *http.Request) {
	rec := s.lookup(w, r)
	if rec == nil {
		return
	}
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pending, err := s.pendingCount()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := receiptPage{base: s.base(w, r, "回执 "+rec.Number, "receipts"), R: rec, Received: s.fmtTime(rec.Received),
		UnitName: unitName(ros, rec.Unit), Campaign: campaignTitle(ros, rec.Campaign), Date: s.fmtTime(rec.Date),
		Units: ros.Units()}
	p.Pending = pending
	if c, ok := ros.Campaign(rec.Campaign); ok {
		if per, ok := c.Period(rec.Period); ok {
			p.Period = "截止 " + per.Due.String()
			if name := c.PeriodName(per.Key); name != "" {
				p.Period = name + "，" + p.Period
			}
		}
	}
	if u, ok := ros.UnitByAddress(rec.From); ok {
		p.Registered = ros.UnitName(u)
	}
	if rec.Reply != "" && rec.Reply != store.ReplySuppressed {
		text, err := s.o.Office.ReplyText(rec)
		if err != nil {
			s.log.Warn("web: composing the reply's text", "receipt", rec.Number, "err", err)
			p.ReplyError = true
		}
		p.ReplyText = text
	}
	for i, a := range rec.Attachments {
		why := a.Reason
		if a.Reason != "" {
			if zh, _ := pdfcheck.ReasonText(a.Reason); zh != "" {
				why = zh
			}
		}
		p.Attachments = append(p.Attachments, attachmentRow{Attachment: a, N: i + 1, Download: a.Archived != "", Why: why})
	}
	if r.URL.Query().Get("done") == "assign" {
		p.Flash = "已分配给 " + p.UnitName + "。"
	} else if r.URL.Query().Get("done") == "resend" {
		p.Flash = "回执已重新排队发送。"
	} else if r.URL.Query().Get("done") == "add" {
		p.Flash = "已登记，回执编号 " + rec.Number + "。人工登记不发送回执邮件。"
	} else if r.URL.Query().Get("done") == "recheck" {
		p.Flash = "重新检查完毕，结果没有变化。"
		if n := len(rec.Corrections); n > 0 && s.o.Now().Sub(rec.Corrections[n-1].At) < time.Minute {
			c := rec.Corrections[n-1]
			p.Flash = fmt.Sprintf("检查结果已更正：%s → %s。", report.VerdictZH(c.Before), report.VerdictZH(c.After))
			if rec.Reply == store.ReplyQueued {
				p.Flash += "更正回执已排队发送。"
			}
		}
	}
	for _, c := range rec.Corrections {
		p.Corrections = append(p.Corrections, correctionRow{At: s.fmtTime(c.At), Before: report.VerdictZH(c.Before),
			After: report.VerdictZH(c.After), Files: c.Files})
	}
	s.render(w, r, http.StatusOK, "receipt", p)
}

// ---- downloads: only by receipt number and index; the path comes from the receipt ----

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	rec := s.lookup(w, r)
	if rec == nil {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(rec.Attachments) || rec.Attachments[n-1].Archived == "" {
		s.fail(w, r, http.StatusNotFound, "这个附件没有存档。")
		return
	}
	a := rec.Attachments[n-1]
	name := strings.TrimSuffix(a.Filename, path.Ext(a.Filename))
	if name == "" {
		name = fmt.Sprintf("%s_%d", rec.Number, n)
	}
	s.serveArchived(w, r, a.Archived, name+".pdf", "application/pdf")
}

func (s *Server) downloadRaw(w http.ResponseWriter, r *http.Request) {
	rec := s.lookup(w, r)
	if rec == nil {
		return
	}
	if rec.Raw == "" {
		s.fail(w, r, http.StatusNotFound, "这封邮件的原件没有存档。")
		return
	}
	s.serveArchived(w, r, rec.Raw, rec.Number+".eml", "message/rfc822")
}

func (s *Server) serveArchived(w http.ResponseWriter, r *http.Request, rel, filename, ctype string) {
	f, err := s.arch.Open(rel)
	if err != nil {
		s.log.Warn("web: archived file unavailable", "path", rel, "err", err)
		s.fail(w, r, http.StatusNotFound, "存档文件找不到了。")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		s.fail(w, r, http.StatusNotFound, "存档文件找不到了。")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", contentDisposition(filename))
	h.Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// contentDisposition offers filename for saving: an ASCII fallback for old clients and the real name
// as RFC 5987 UTF-8 (Chinese names), both without anything that could break out of the header.
func contentDisposition(filename string) string {
	filename = store.SafeName(filename)
	var ascii strings.Builder
	for _, r := range filename {
		switch {
		case r < 0x80 && r > 0x20 && r != '"' && r != '\\' && r != '%' && r != ';':
			ascii.WriteRune(r)
		default:
			ascii.WriteByte('_')
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii.String(), rfc5987(filename))
}

func rfc5987(s string) string {
	const keep = "!#$&+-.^_`|~"
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ---- actions ----

func (s *Server) assign(w http.ResponseWriter, r *http.Request) {
	if s.o.ReadOnly {
		s.fail(w, r, http.StatusNotFound, "分配功能未启用。")
		return
	}
	rec := s.lookup(w, r)
	if rec == nil {
		return
	}
	unit := r.PostFormValue("unit")
	ros := s.o.Office.Roster()
	if _, ok := ros.Unit(unit); !ok {
		s.fail(w, r, http.StatusBadRequest, "请选择一个单位。")
		return
	}
	learn := r.PostFormValue("learn") != ""
	_, err := s.o.Office.Assign(office.FromWeb(clientIP(r)), rec.Number, unit, learn)
	if err != nil {
		s.log.Warn("web: assign failed", "receipt", rec.Number, "unit", unit, "err", err)
		s.fail(w, r, http.StatusConflict, "分配未完成："+err.Error())
		return
	}
	s.log.Info("web: assigned", "receipt", rec.Number, "unit", unit, "learn", learn, "client", clientIP(r))
	to := "/receipts/" + rec.Number + "?done=assign"
	if r.PostFormValue("back") == "pending" {
		to = "/pending?done=" + url.QueryEscape(rec.Number)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) resend(w http.ResponseWriter, r *http.Request) {
	if s.o.ReadOnly {
		s.fail(w, r, http.StatusNotFound, "重发功能未启用。")
		return
	}
	rec := s.lookup(w, r)
	if rec == nil {
		return
	}
	_, err := s.o.Office.Resend(office.FromWeb(clientIP(r)), rec.Number)
	if err != nil {
		s.log.Warn("web: resend failed", "receipt", rec.Number, "err", err)
		s.fail(w, r, http.StatusConflict, "重发未完成："+err.Error())
		return
	}
	s.log.Info("web: resend queued", "receipt", rec.Number, "client", clientIP(r))
	http.Redirect(w, r, "/receipts/"+rec.Number+"?done=resend", http.StatusSeeOther)
}

func (s *Server) recheck(w http.ResponseWriter, r *http.Request) {
	if s.o.ReadOnly {
		s.fail(w, r, http.StatusNotFound, "重新检查功能未启用。")
		return
	}
	rec := s.lookup(w, r)
	if rec == nil {
		return
	}
	msg, err := s.o.Office.RecheckReceipt(r.Context(), office.FromWeb(clientIP(r)), rec.Number)
	if err != nil {
		s.log.Warn("web: recheck failed", "receipt", rec.Number, "err", err)
		s.fail(w, r, http.StatusConflict, "重新检查未完成："+err.Error())
		return
	}
	s.log.Info("web: rechecked", "receipt", rec.Number, "changed", msg != "", "client", clientIP(r))
	http.Redirect(w, r, "/receipts/"+rec.Number+"?done=recheck", http.StatusSeeOther)
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	if s.o.ReadOnly {
		s.fail(w, r, http.StatusNotFound, "导出功能未启用。")
		return
	}
	format := r.URL.Query().Get("format")
	if format != "xlsx" && format != "csv" {
		s.fail(w, r, http.StatusBadRequest, "导出格式只能是 xlsx 或 csv。")
		return
	}
	campaign := r.URL.Query().Get("campaign")
	if _, ok := s.o.Office.Roster().Campaign(campaign); campaign != "" && !ok {
		s.fail(w, r, http.StatusBadRequest, "没有这个报送任务。")
		return
	}
	var buf bytes.Buffer
	name, err := s.o.Office.Export(&buf, format, campaign)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if name == "" {
		name = "briefd." + format
	}
	ctype := "text/csv; charset=utf-8"
	if format == "xlsx" {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", contentDisposition(name))
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// ---- 待确认 ----

type pendingPage struct {
	base
	Rows     []receiptRow
	Units    []roster.Unit
	Page     int
	Pages    int
	PrevHref string
	NextHref string
}

func (s *Server) pendingList(w http.ResponseWriter, r *http.Request) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pending, err := s.pending()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := pendingPage{base: s.base(w, r, "待确认", "pending"), Units: ros.Units()}
	p.Pending = len(pending)
	size := s.o.PageSize
	p.Pages = max(1, (len(pending)+size-1)/size)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	p.Page = min(max(1, page), p.Pages)
	for i := (p.Page - 1) * size; i < min(p.Page*size, len(pending)); i++ {
		p.Rows = append(p.Rows, s.receiptRow(ros, pending[i]))
	}
	if p.Page > 1 {
		p.PrevHref = fmt.Sprintf("/pending?page=%d", p.Page-1)
	}
	if p.Page < p.Pages {
		p.NextHref = fmt.Sprintf("/pending?page=%d", p.Page+1)
	}
	if n := r.URL.Query().Get("done"); receiptNumber.MatchString(n) {
		if rec, err := s.st.Receipt(n); err == nil && rec.Unit != "" {
			p.Flash = fmt.Sprintf("%s 已分配给 %s。", rec.Number, ros.UnitName(rec.Unit))
		}
	}
	s.render(w, r, http.StatusOK, "pending", p)
}

// ---- 单位 ----

type unitDue struct {
	Title, Period, Due string // Period as people read it (roster.PeriodName)
	State              string
	Receipt            string
	At                 string
	Tries              int
}

type unitCard struct {
	roster.Unit
	Learned []string
	Dues    []unitDue
	Owing   int    // periods past their due date still missing or rejected
	Source  string // office.SourceConfig, SourceOffice or SourceChanged
}

type unitsPage struct {
	base
	Cards []unitCard
}

func (s *Server) unitList(w http.ResponseWriter, r *http.Request) { s.units(w, r, http.StatusOK, nil) }

// unitsWithProblems shows the units page with what was wrong with an upload.
func (s *Server) unitsWithProblems(w http.ResponseWriter, r *http.Request, probs []string) {
	s.units(w, r, http.StatusBadRequest, probs)
}

func (s *Server) units(w http.ResponseWriter, r *http.Request, code int, probs []string) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	status, pending, err := s.status(ros)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := unitsPage{base: s.base(w, r, "单位", "units")}
	p.Pending, p.Problems = pending, probs
	idx := map[string]int{}
	for i, u := range s.o.Office.Units() {
		idx[u.ID] = i
		// The addresses learned by hand (assign -learn) are listed apart from those registered.
		u.Emails = u.Registered()
		p.Cards = append(p.Cards, unitCard{Unit: u.Unit, Learned: slices.Sorted(slices.Values(u.Learned)), Source: u.Source})
	}
	q := r.URL.Query()
	switch q.Get("done") {
	case "add":
		p.Flash = "单位已添加：" + ros.UnitName(q.Get("unit")) + "。"
	case "edit":
		p.Flash = "单位已修改：" + ros.UnitName(q.Get("unit")) + "。"
	case "import":
		p.Flash = fmt.Sprintf("表格已导入：新增 %s 个单位，修改 %s 个。", digits(q.Get("added")), digits(q.Get("changed")))
	}
	today := s.today()
	for _, ps := range status {
		due, _ := roster.ParseDate(ps.Due)
		for _, us := range ps.Units {
			i, ok := idx[us.Unit]
			if !ok {
				continue
			}
			c := &p.Cards[i]
			c.Dues = append(c.Dues, unitDue{Title: ps.Title, Period: ros.PeriodName(ps.Campaign, ps.Period), Due: ps.Due, State: us.State,
				Receipt: us.Receipt, At: s.fmtTime(us.At), Tries: us.Tries})
			if (us.State == roster.StateMissing || us.State == roster.StateRejected) && due.Before(today) {
				c.Owing++
			}
		}
	}
	s.render(w, r, code, "units", p)
}

// digits is s when it is a number, else 0 (a count in a query string, shown on the page).
func digits(s string) string {
	if _, err := strconv.Atoi(s); err != nil || len(s) > 6 {
		return "0"
	}
	return s
}

// ---- login ----

type loginPage struct {
	base
	Next string
}

// safeNext keeps a post-login redirect on this site.
func safeNext(n string) string {
	if n == "" || !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") ||
		strings.ContainsAny(n, "\r\n\\") {
		return "/"
	}
	return n
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if s.o.Password == "" || s.session(r) != "" {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	b := s.base(w, r, "登录", "login")
	b.Login = false
	s.render(w, r, http.StatusOK, "login", loginPage{base: b, Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.o.Password == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	ip := clientIP(r)
	next := safeNext(r.PostFormValue("next"))
	b := s.base(w, r, "登录", "login")
	b.Login = false
	if !s.loginAllowed(ip) {
		s.log.Warn("web: login refused: too many failures", "client", ip)
		b.Error = "密码错误次数过多，请 5 分钟后再试。"
		s.render(w, r, http.StatusTooManyRequests, "login", loginPage{base: b, Next: next})
		return
	}
	if !s.checkPassword(r.PostFormValue("password")) {
		s.loginFailed(ip)
		s.log.Warn("web: login failed", "client", ip)
		time.Sleep(200 * time.Millisecond)
		b.Error = "密码不对。"
		s.render(w, r, http.StatusUnauthorized, "login", loginPage{base: b, Next: next})
		return
	}
	if old := s.session(r); old != "" {
		s.endSession(old)
	}
	tok := s.newSession()
	http.SetCookie(w, s.cookie(sessionCookie, tok, 0))
	s.log.Info("web: login", "client", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if tok := s.session(r); tok != "" {
		s.endSession(tok)
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
