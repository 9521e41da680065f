package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"briefd/office"
)

// booklet streams a campaign period's 简报汇编: /booklet/{campaign}/{period}.pdf (the booklet, with page
// numbers) or .zip (every file and 清单.csv), built on request; nothing is written to disk.
func (s *Server) booklet(w http.ResponseWriter, r *http.Request) {
	if s.o.ReadOnly {
		s.fail(w, r, http.StatusNotFound, "汇编功能未启用。")
		return
	}
	file := r.PathValue("file")
	period, ext, _ := strings.Cut(file, ".")
	if ext != "pdf" && ext != "zip" {
		s.fail(w, r, http.StatusNotFound, "没有这个文件。")
		return
	}
	b, err := s.o.Office.Booklet(r.PathValue("campaign"), period)
	if errors.Is(err, office.ErrNoPeriod) {
		s.fail(w, r, http.StatusNotFound, "没有这个报送任务或这一期。")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	name := b.Cover.Campaign + "_" + b.Period + "_汇编." + ext
	if ext == "zip" {
		name = b.Cover.Campaign + "_" + b.Period + "_全部文件.zip"
	}
	h := w.Header()
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("Cache-Control", "no-store")
	if ext == "pdf" {
		h.Set("Content-Type", "application/pdf")
		res, err := b.WritePDF(r.Context(), w, true)
		if err != nil {
			// The headers are gone: the download ends short, and the log says why.
			s.log.Error("web: booklet", "campaign", b.Campaign, "period", b.Period, "err", err)
			return
		}
		s.log.Info("web: booklet", "campaign", b.Campaign, "period", b.Period, "pages", res.Pages, "placeholders", len(res.Placeholders),
			"client", clientIP(r))
		return
	}
	h.Set("Content-Type", "application/zip")
	if _, err := b.WriteZip(r.Context(), w); err != nil {
		s.log.Error("web: booklet zip", "campaign", b.Campaign, "period", b.Period, "err", err)
	}
}
