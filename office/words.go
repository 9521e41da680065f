package office

import (
	"strings"

	"briefd/roster"
)

// The words in which the command line and the dashboard show campaigns and units, so that both say the
// same thing.

// Where a campaign stands (CampaignInfo.State).
const (
	StateUpcoming = "upcoming" // opens later
	StateOpen     = "open"     // open and not past its (last) due date
	StateEnded    = "ended"    // past its (last) due date, not closed
	StateClosed   = "closed"   // closed by the office
)

// State says where the campaign stands on the office's date today.
func (c CampaignInfo) State(today roster.Date) string {
	last := c.Due
	if c.Every == "month" {
		last = c.Until
	}
	d := today.String()
	switch {
	case c.Closed != "":
		return StateClosed
	case d < c.Opens:
		return StateUpcoming
	case last != "" && d > last:
		return StateEnded
	}
	return StateOpen
}

// StateZH names a campaign's state: 未开始, 进行中, 已截止 or 已关闭.
func StateZH(state string) string {
	return map[string]string{StateUpcoming: "未开始", StateOpen: "进行中", StateEnded: "已截止", StateClosed: "已关闭"}[state]
}

// ScheduleZH is the campaign's due date, or 每月月底，至 <last due date> for a monthly one.
func (c CampaignInfo) ScheduleZH() string {
	if c.Every == "month" {
		return "每月月底，至 " + c.Until
	}
	return c.Due
}

// DefinedInZH says where a campaign or unit is defined: 配置文件, 网页或命令添加, 网页或命令修改.
func DefinedInZH(source string) string {
	switch source {
	case SourceOffice:
		return "网页或命令添加"
	case SourceChanged:
		return "网页或命令修改"
	}
	return "配置文件"
}

// KindZH names a kind of unit: 县（市、区）, 学校 or 其他.
func KindZH(kind string) string {
	switch kind {
	case "county":
		return "县（市、区）"
	case "school":
		return "学校"
	}
	return "其他"
}

// UnitsZH names who owes a campaign (CampaignInfo.Units): 全部单位, 所有县（市、区）, or the units' names.
func UnitsZH(ros *roster.Roster, units []string) string {
	if len(units) == 0 {
		return "全部单位"
	}
	var out []string
	for _, u := range units {
		if kind, ok := strings.CutPrefix(u, "kind:"); ok {
			out = append(out, "所有"+KindZH(kind))
			continue
		}
		out = append(out, ros.UnitName(u))
	}
	return strings.Join(out, "、")
}
