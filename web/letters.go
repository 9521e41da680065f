package web

import (
	"fmt"
	"net/http"
	"slices"

	"briefd/office"
	"briefd/store"
)

// ---- 来信待处理: units' mails that are no submission (questions), and 其他来信: everything else ignored ----

// openQuestion reports whether e is a unit's question the office has not dealt with.
func openQuestion(e *store.Entry) bool {
	return e.Verdict == store.VerdictIgnored && e.Category == store.CategoryQuestion && !e.Answered
}

// otherMail reports whether e is ignored mail other than a question (strangers, lists, automatic mail).
func otherMail(e *store.Entry) bool {
	return e.Verdict == store.VerdictIgnored && e.Category != store.CategoryQuestion
}

// letter is one question with its text, read from the receipt.
type letter struct {
	receiptRow
	Text     string
	Answered string
}

type lettersPage struct {
	base
	Letters []letter
	All     bool // answered ones shown too
}

func (s *Server) letterList(w http.ResponseWriter, r *http.Request) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	all := r.URL.Query().Get("all") != ""
	var es copies
	if err := s.scan(func(e *store.Entry) {
		if openQuestion(e) || all && e.Verdict == store.VerdictIgnored && e.Category == store.CategoryQuestion {
			es.add(e)
		}
	}); err != nil {
		s.internal(w, r, err)
		return
	}
	newestFirst(es.all)
	p := lettersPage{base: s.base(w, r, "来信待处理", "letters"), All: all}
	for _, e := range es.all[:min(len(es.all), 200)] {
		l := letter{receiptRow: s.receiptRow(ros, e)}
		if rec, err := s.st.Receipt(e.Number); err == nil {
			l.Text = rec.Text
			if !rec.Answered.IsZero() {
				l.Answered = s.fmtTime(rec.Answered)
			}
		}
		p.Letters = append(p.Letters, l)
	}
	if n := r.URL.Query().Get("done"); receiptNumber.MatchString(n) {
		p.Flash = fmt.Sprintf("%s 已标记为已处理。", n)
	}
	s.render(w, r, http.StatusOK, "letters", p)
}

type otherPage struct {
	base
	Rows       []receiptRow
	Category   string
	Categories []categoryCount
	Total      int
	Shown      int
}

type categoryCount struct {
	Code, Word string
	N          int
}

// otherCategories in the order the filter offers them.
var otherCategories = []string{store.CategoryStranger, store.CategoryBulk, store.CategoryAuto}

func (s *Server) otherList(w http.ResponseWriter, r *http.Request) {
	ros, err := s.roster()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	cat := r.URL.Query().Get("category")
	if cat != "" && !slices.Contains(otherCategories, cat) {
		cat = ""
	}
	counts := map[string]int{}
	var es copies
	if err := s.scan(func(e *store.Entry) {
		if !otherMail(e) {
			return
		}
		c := e.Category
		if c == "" {
			c = store.CategoryAuto // recorded before categories
		}
		counts[c]++
		if cat == "" || c == cat {
			es.add(e)
		}
	}); err != nil {
		s.internal(w, r, err)
		return
	}
	newestFirst(es.all)
	p := otherPage{base: s.base(w, r, "其他来信", "other"), Category: cat, Total: len(es.all)}
	for _, c := range otherCategories {
		p.Categories = append(p.Categories, categoryCount{Code: c, Word: categoryWord(c), N: counts[c]})
	}
	limit := s.o.PageSize * 4
	for _, e := range es.all[:min(len(es.all), limit)] {
		p.Rows = append(p.Rows, s.receiptRow(ros, e))
	}
	p.Shown = len(p.Rows)
	s.render(w, r, http.StatusOK, "other", p)
}

// answer marks a question as dealt with.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) {
	if s.o.ReadOnly {
		s.fail(w, r, http.StatusNotFound, "标记功能未启用。")
		return
	}
	rec := s.lookup(w, r)
	if rec == nil {
		return
	}
	if _, err := s.o.Office.Answer(office.FromWeb(clientIP(r)), rec.Number); err != nil {
		s.log.Warn("web: answer failed", "receipt", rec.Number, "err", err)
		s.fail(w, r, http.StatusConflict, "标记未完成："+err.Error())
		return
	}
	s.log.Info("web: question marked as dealt with", "receipt", rec.Number, "client", clientIP(r))
	http.Redirect(w, r, "/letters?done="+rec.Number, http.StatusSeeOther)
}

// questionCount is the number of open questions, shown in the navigation.
func (s *Server) questionCount() (int, error) {
	n := 0
	err := s.scan(func(e *store.Entry) {
		if openQuestion(e) {
			n++
		}
	})
	return n, err
}
