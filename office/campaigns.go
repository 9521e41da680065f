package office

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"briefd/roster"
	"briefd/store"
)

// CampaignInput is a campaign as a person types it (the dashboard's form, the flags of `briefd
// campaign`): dates as YYYY-MM-DD, units as "all", "xinfu,yuanping" or "kind:county", keywords
// separated by commas or spaces. Empty Opens is today; a monthly campaign without Until runs to the end
// of the year.
type CampaignInput struct {
	ID, Title, Units, Opens, Due, Every, Until, Keywords string
}

// CampaignInfo is a campaign as the office lists it.
type CampaignInfo struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Units    []string  `json:"units"` // ids and kinds; empty: every unit
	Opens    string    `json:"opens"`
	Due      string    `json:"due,omitempty"`
	Every    string    `json:"every,omitempty"`
	Until    string    `json:"until,omitempty"`
	Keywords []string  `json:"keywords"`
	Closed   string    `json:"closed,omitempty"`
	Source   string    `json:"source"` // config (config.yaml: changed only there) or office (added at run time)
	Created  time.Time `json:"created,omitzero"`
	Updated  time.Time `json:"updated,omitzero"`
}

// Where a campaign or unit is defined (CampaignInfo.Source, UnitInfo.Source).
const (
	SourceConfig  = "config"  // config.yaml (or units_file)
	SourceOffice  = "office"  // added at run time
	SourceChanged = "changed" // a unit of config.yaml changed at run time
)

// Input returns the campaign as the form shows it.
func (c CampaignInfo) Input() CampaignInput {
	units := strings.Join(c.Units, ",")
	if units == "" {
		units = "all"
	}
	return CampaignInput{ID: c.ID, Title: c.Title, Units: units, Opens: c.Opens, Due: c.Due, Every: c.Every, Until: c.Until,
		Keywords: strings.Join(c.Keywords, ",")}
}

// Campaigns lists every campaign, those of config.yaml first, then those added at run time in the
// order they were added.
func (o *Office) Campaigns() []CampaignInfo {
	ros := o.Roster()
	rt := map[string]store.CampaignRecord{}
	if s := o.runtime.Load(); s != nil {
		for _, c := range s.camps {
			rt[c.ID] = c
		}
	}
	var out []CampaignInfo
	for _, c := range ros.Campaigns() {
		ci := CampaignInfo{ID: c.ID, Title: c.Title, Units: c.Units, Opens: c.Opens.String(), Due: c.Due.String(), Every: c.Every,
			Until: c.Until.String(), Keywords: c.Keywords, Closed: c.Closed.String(), Source: SourceConfig}
		if r, ok := rt[c.ID]; ok {
			if _, inConfig := o.o.Roster.Campaign(c.ID); !inConfig {
				ci.Source, ci.Created, ci.Updated = SourceOffice, r.Created.In(o.o.Location), r.Updated.In(o.o.Location)
			}
		}
		if ci.Units == nil {
			ci.Units = []string{}
		}
		if ci.Keywords == nil {
			ci.Keywords = []string{}
		}
		out = append(out, ci)
	}
	return out
}

// Campaign returns one campaign as Campaigns lists it.
func (o *Office) Campaign(id string) (CampaignInfo, bool) {
	for _, c := range o.Campaigns() {
		if c.ID == id {
			return c, true
		}
	}
	return CampaignInfo{}, false
}

// idPattern is what run-time campaign and unit ids may be: they name folders of the archive and parts
// of the dashboard's addresses.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)

const idRule = "只能由字母、数字、- 和 _ 组成，以字母或数字开头，最多 40 个字符（例如 2026-zjdh）"

// splitWords splits a list as people type it: commas, semicolons, 、 and spaces.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == '、' || r == '，' || r == '；' || r == ' ' || r == '\n' || r == '\t' || r == '\u3000'
	})
}

// campaignOf turns a stored campaign into the roster's.
func campaignOf(c store.CampaignRecord) (roster.Campaign, error) {
	rc := roster.Campaign{ID: c.ID, Title: c.Title, Units: slices.Clone(c.Units), Every: c.Every, Keywords: slices.Clone(c.Keywords)}
	for _, d := range []struct {
		s   string
		dst *roster.Date
	}{{c.Opens, &rc.Opens}, {c.Due, &rc.Due}, {c.Until, &rc.Until}, {c.Closed, &rc.Closed}} {
		if d.s == "" {
			continue
		}
		v, err := roster.ParseDate(d.s)
		if err != nil {
			return rc, fmt.Errorf("office: stored campaign %s: %w", c.ID, err)
		}
		*d.dst = v
	}
	return rc, nil
}

// record reads in as a campaign record, with every problem of the typing (the roster's rules come
// after). old is the campaign being edited (nil: a new one): its dates may be in the past as long as
// they are not changed.
func (o *Office) record(in CampaignInput, old *store.CampaignRecord) (c store.CampaignRecord, probs []string, bad map[string]bool) {
	bad = map[string]bool{}
	today := roster.DateOf(o.o.Now().In(o.o.Location))
	c = store.CampaignRecord{ID: strings.TrimSpace(in.ID), Title: strings.TrimSpace(in.Title), Keywords: splitWords(in.Keywords)}
	if old != nil {
		c.ID, c.Created, c.Closed = old.ID, old.Created, old.Closed
	} else if c.ID != "" && !idPattern.MatchString(c.ID) { // an empty one: the roster says so
		probs = append(probs, "任务编号“"+c.ID+"”"+idRule)
	}
	switch every := strings.TrimSpace(in.Every); every {
	case "", "once", "一次":
	case "month", "monthly", "每月":
		c.Every = "month"
	default:
		c.Every = every // the roster says it is not supported
	}
	for _, u := range splitWords(in.Units) {
		if u == "all" || u == "全部" {
			c.Units = nil
			break
		}
		c.Units = append(c.Units, u)
	}
	date := func(field, name, s string, was string) string {
		s = strings.TrimSpace(s)
		if s == "" {
			return ""
		}
		d, err := roster.ParseDate(s)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s“%s”不是有效的日期，请按 2026-03-01 的格式填写", name, s))
			bad[field] = true
			return ""
		}
		if d.Before(today) && d.String() != was {
			probs = append(probs, fmt.Sprintf("%s %s 已经过去（不能早于今天 %s）", name, d, today))
		}
		return d.String()
	}
	var was store.CampaignRecord
	if old != nil {
		was = *old
	}
	switch {
	case strings.TrimSpace(in.Opens) != "":
		c.Opens = date("opens", "开始日期", in.Opens, was.Opens)
	case old != nil:
		c.Opens = old.Opens
	default:
		c.Opens = today.String()
	}
	if c.Every == "month" {
		until := in.Until
		if strings.TrimSpace(until) == "" {
			until = in.Due // the last due date, typed in the due field
		}
		c.Until = date("until", "最后一期的截止日期", until, was.Until)
		if strings.TrimSpace(until) == "" {
			year := today.Year
			if d, err := roster.ParseDate(c.Opens); err == nil {
				year = d.Year
			}
			c.Until = fmt.Sprintf("%04d-12-31", year)
		}
	} else {
		c.Due = date("due", "截止日期", in.Due, was.Due)
	}
	return c, probs, bad
}

// AddCampaign adds a campaign at run time: checked by the roster's rules (those of `config check`)
// and those of a new campaign (an id of its own, no date in the past), stored with its audit entry in
// one transaction, and in the roster at once (matching, status, reminders, the dashboard).
func (o *Office) AddCampaign(by Source, in CampaignInput) (CampaignInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, probs, bad := o.record(in, nil)
	if _, ok := o.o.Roster.Campaign(c.ID); ok && c.ID != "" {
		return CampaignInfo{}, inputErr(fmt.Sprintf("任务编号 %s 已在 config.yaml 中定义，请换一个编号", c.ID))
	} else if _, ok := o.Roster().Campaign(c.ID); ok && c.ID != "" {
		return CampaignInfo{}, inputErr(fmt.Sprintf("任务编号 %s 已经存在，请换一个编号（修改已有任务请用“修改”）", c.ID))
	}
	now := o.o.Now()
	c.Created, c.Updated = now, now
	detail := fmt.Sprintf("《%s》（%s），%s，报送单位：%s", c.Title, c.ID, campaignDates(c), unitsWord(c.Units))
	if err := o.changeCampaign(&c, true, o.entry(by, ActCampaignAdd, c.ID, detail), probs, bad); err != nil {
		return CampaignInfo{}, err
	}
	o.log.Info("office: campaign added", "campaign", c.ID, "via", by.Via, "client", by.Client)
	info, _ := o.Campaign(c.ID)
	return info, nil
}

// EditCampaign changes a campaign added at run time (those of config.yaml are changed there) that is not
// closed. Dates that change may not be in the past.
func (o *Office) EditCampaign(by Source, id string, in CampaignInput) (CampaignInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	old, err := o.runtimeCampaign(id)
	if err != nil {
		return CampaignInfo{}, err
	}
	if old.Closed != "" {
		return CampaignInfo{}, inputErr(fmt.Sprintf("报送任务 %s 已于 %s 关闭，不能再修改", id, old.Closed))
	}
	c, probs, bad := o.record(in, &old)
	c.Updated = o.o.Now()
	changes := campaignChanges(old, c)
	if len(changes) == 0 && len(probs) == 0 {
		info, _ := o.Campaign(id)
		return info, nil
	}
	detail := fmt.Sprintf("《%s》（%s）：%s", c.Title, c.ID, strings.Join(changes, "；"))
	if err := o.changeCampaign(&c, false, o.entry(by, ActCampaignEdit, id, detail), probs, bad); err != nil {
		return CampaignInfo{}, err
	}
	o.log.Info("office: campaign changed", "campaign", id, "via", by.Via, "client", by.Client)
	info, _ := o.Campaign(id)
	return info, nil
}

// CloseCampaign closes a campaign added at run time: no reminders from today, no period opens after
// today; what it received stays.
func (o *Office) CloseCampaign(by Source, id string) (CampaignInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, err := o.runtimeCampaign(id)
	if err != nil {
		return CampaignInfo{}, err
	}
	if c.Closed != "" {
		return CampaignInfo{}, inputErr(fmt.Sprintf("报送任务 %s 已于 %s 关闭", id, c.Closed))
	}
	now := o.o.Now()
	c.Closed, c.Updated = roster.DateOf(now.In(o.o.Location)).String(), now
	if err := o.changeCampaign(&c, false, o.entry(by, ActCampaignClose, id, fmt.Sprintf("《%s》（%s）关闭，不再催报", c.Title, id)), nil, nil); err != nil {
		return CampaignInfo{}, err
	}
	o.log.Info("office: campaign closed", "campaign", id, "via", by.Via, "client", by.Client)
	info, _ := o.Campaign(id)
	return info, nil
}

// runtimeCampaign returns the stored campaign id, or says why it cannot be changed.
func (o *Office) runtimeCampaign(id string) (store.CampaignRecord, error) {
	if _, ok := o.o.Roster.Campaign(id); ok {
		return store.CampaignRecord{}, inputErr(fmt.Sprintf("报送任务 %s 定义在 config.yaml 中，只能在配置文件中修改", id))
	}
	if s := o.runtime.Load(); s != nil {
		for _, c := range s.camps {
			if c.ID == id {
				return c, nil
			}
		}
	}
	return store.CampaignRecord{}, inputErr(fmt.Sprintf("没有编号为“%s”的报送任务", id))
}

// changeCampaign checks the roster with c in it, then stores c and the audit entry in one
// transaction and makes the new roster current. typed are the problems found in the typing (bad: of
// these fields), listed with the roster's: any problem changes nothing. The caller holds o.mu.
func (o *Office) changeCampaign(c *store.CampaignRecord, create bool, audit *store.AuditEntry, typed []string, bad map[string]bool) error {
	s, err := o.load()
	if err != nil {
		return err
	}
	next := *s
	next.camps = slices.Clone(s.camps)
	if i := slices.IndexFunc(next.camps, func(x store.CampaignRecord) bool { return x.ID == c.ID }); i >= 0 {
		next.camps[i] = *c
	} else {
		next.camps = append(next.camps, *c)
	}
	r, left, err := o.build(&next, &changing{camps: map[string]bool{c.ID: true}})
	if err := rosterProblems(err, "campaign", c.ID, typed, bad); err != nil {
		return err
	}
	if err := o.st.PutCampaign(c, create, audit); err != nil {
		if errors.Is(err, store.ErrExists) {
			return inputErr(fmt.Sprintf("任务编号 %s 已经存在", c.ID))
		}
		return err
	}
	o.ros.Store(r)
	o.runtime.Store(&next)
	o.ignored.Store(left)
	return nil
}

func campaignDates(c store.CampaignRecord) string {
	if c.Every == "month" {
		return fmt.Sprintf("每月报送，%s 至 %s", c.Opens, c.Until)
	}
	return fmt.Sprintf("%s 开始，%s 截止", c.Opens, c.Due)
}

func unitsWord(units []string) string {
	if len(units) == 0 {
		return "全部单位"
	}
	return strings.Join(units, "、")
}

// campaignChanges describes in Chinese what changed from a to b.
func campaignChanges(a, b store.CampaignRecord) []string {
	var out []string
	diff := func(name, x, y string) {
		if x != y {
			if x == "" {
				x = "（无）"
			}
			if y == "" {
				y = "（无）"
			}
			out = append(out, fmt.Sprintf("%s %s → %s", name, x, y))
		}
	}
	diff("名称", a.Title, b.Title)
	diff("报送单位", unitsWord(a.Units), unitsWord(b.Units))
	diff("开始日期", a.Opens, b.Opens)
	diff("周期", everyWord(a.Every), everyWord(b.Every))
	diff("截止日期", a.Due, b.Due)
	diff("最后一期的截止日期", a.Until, b.Until)
	diff("关键词", strings.Join(a.Keywords, "、"), strings.Join(b.Keywords, "、"))
	return out
}

func everyWord(e string) string {
	if e == "month" {
		return "每月"
	}
	return "一次"
}

// Notice is the text of the notice of a campaign that the office pastes into its own mail to the
// units: the title, the due date, the address, PDF only.
func (o *Office) Notice(id string) (string, error) {
	c, ok := o.Roster().Campaign(id)
	if !ok {
		return "", inputErr(fmt.Sprintf("没有编号为“%s”的报送任务", id))
	}
	if o.composer == nil {
		return "", errors.New("office: notice: nothing composes mail here")
	}
	return o.composer.Notice(c)
}
