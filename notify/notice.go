package notify

import (
	"bytes"
	"fmt"
	"strings"

	"briefd/roster"
)

// NoticeData is what templates/notice.txt.tmpl sees: the notice of a campaign that the office pastes
// into its own mail to the units (title, due date, the address, PDF only).
type NoticeData struct {
	Title   string
	To      string // whom it addresses: 各报送单位, or the units' names
	Monthly bool
	Opens   string // 2026年3月1日
	Due     string // once campaigns
	Until   string // monthly campaigns: the last due date
	Address string // where to send
	Today   string
	Office  Office
}

// Notice is the text of the notice for campaign c, as the office sends it to the units itself.
func (n *Notifier) Notice(c roster.Campaign) (string, error) {
	tmpl, err := n.loadText("notice.txt.tmpl")
	if err != nil {
		return "", err
	}
	d := NoticeData{Title: Clean(c.Title, 120), To: "各报送单位", Monthly: c.Monthly(), Opens: cnDate(c.Opens), Due: cnDate(c.Due),
		Until: cnDate(c.Until), Address: n.o.Office.Address, Office: n.o.Office}
	t := n.now().In(n.o.Office.Location)
	d.Today = fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	if len(c.Units) > 0 {
		var names []string
		for _, u := range n.o.Roster().UnitsOf(c) {
			names = append(names, Clean(u.Name, 80))
		}
		if len(names) > 0 && len(names) <= 12 {
			d.To = strings.Join(names, "、")
		}
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, &d); err != nil {
		return "", fmt.Errorf("notify: notice: %w", err)
	}
	return b.String(), nil
}
