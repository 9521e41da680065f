package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"slices"
	"time"

	"briefd/office"
	"briefd/report"
	"briefd/roster"
	"briefd/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// The pages, each a file in templates/ defining "content", rendered inside templates/layout.html.
var pageNames = []string{"overview", "receipts", "receipt", "pending", "letters", "other", "units", "login", "error",
	"campaigns", "campaign", "campaign_form", "unit_form", "import", "receipt_new", "remind", "audit"}

type templates struct{ pages map[string]*template.Template }

func parseTemplates() (*templates, error) {
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		p, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		t.pages[name] = p
	}
	return t, nil
}

func staticFiles() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded folder exists at build time
	}
	return sub
}

var funcs = template.FuncMap{
	"stateWord":    report.StateZH,
	"verdictWord":  report.VerdictZH,
	"verdictClass": verdictClass,
	"replyWord":    replyWord,
	"matchWord":    matchWord,
	"kindWord":     kindWord,
	"unitKindWord": office.KindZH,
	"definedIn":    office.DefinedInZH,
	"size":         humanSize,
	"httpURL":      httpURL,
	"authWord":     authWord,
	"categoryWord": categoryWord,
	"hasColumn":    func(im *office.UnitImport, col string) bool { return slices.Contains(im.Columns, col) },
	"sourceWord":   office.SourceZH,
}

// verdicts in the order the filter offers them.
var verdicts = []string{store.VerdictAccepted, store.VerdictPartial, store.VerdictRejected, store.VerdictNoAttachment,
	store.VerdictTooLarge, store.VerdictMalformed, store.VerdictFailed, store.VerdictIgnored}

// verdictClass is the CSS class of a verdict badge: the colour goes with the word, never alone.
func verdictClass(v string) string {
	switch v {
	case store.VerdictAccepted:
		return "ok"
	case store.VerdictPartial:
		return "warn"
	case store.VerdictIgnored:
		return "muted"
	}
	return "bad"
}

func replyWord(s string) string {
	switch s {
	case store.ReplyQueued:
		return "待发送"
	case store.ReplySent:
		return "已发送"
	case store.ReplyFailed:
		return "发送失败"
	case store.ReplySuppressed:
		return "不回复"
	case "":
		return "无"
	}
	return s
}

func matchWord(s string) string {
	switch s {
	case roster.MatchAddress:
		return "按登记邮箱"
	case roster.MatchName:
		return "按单位名称（请核对）"
	case roster.MatchManual:
		return "人工指定"
	case roster.MatchNone, "":
		return "未匹配"
	}
	return s
}

// authWord names the sender authentication the receiving server recorded.
func authWord(s string) string {
	switch s {
	case "pass":
		return "通过（SPF/DKIM）"
	case "fail":
		return "未通过：发件人可能是伪造的"
	case "none":
		return "无"
	}
	return s
}

func kindWord(s string) string {
	switch s {
	case "pdf":
		return "PDF"
	case "doc", "docx":
		return "Word 文档"
	case "wps":
		return "WPS 文档"
	case "image":
		return "图片"
	case "archive":
		return "压缩包"
	case "other", "":
		return "其他"
	}
	return s
}

func humanSize(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// httpURL returns the link as a URL when it is http or https, else nil: a mail's links are shown as
// links only when they are web addresses.
func httpURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}

const timeLayout = "2006-01-02 15:04"

// today is the office's date now.
func (s *Server) today() roster.Date { return roster.DateOf(s.o.Now().In(s.o.Location)) }

func (s *Server) fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.o.Location).Format(timeLayout)
}

// categoryWord says why a mail is no submission (store.Receipt.Category), as the office reads it.
func categoryWord(c string) string {
	switch c {
	case store.CategoryQuestion:
		return "来信咨询"
	case store.CategoryStranger:
		return "无附件的陌生来信"
	case store.CategoryBulk:
		return "群发邮件"
	case store.CategoryAuto, "":
		return "自动回复、退信等"
	}
	return c
}
