package office

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"briefd/roster"
	"briefd/store"
)

// UnitInput is a unit as a person types it: aliases and emails separated by commas, 、 or spaces; kind
// county, school or other (or 县区, 学校, 其他; empty is other).
type UnitInput struct {
	ID, Name, Aliases, Emails, Kind string
}

// UnitInfo is a unit as the office lists it.
type UnitInfo struct {
	roster.Unit
	Source  string   `json:"source"`  // config, office (added at run time) or changed (config's unit changed at run time)
	Learned []string `json:"learned"` // addresses registered by hand for the unit (assign -learn), not in its list
}

// Registered are the unit's addresses without those learned by hand.
func (u UnitInfo) Registered() []string {
	return slices.DeleteFunc(slices.Clone(u.Emails), func(e string) bool { return slices.Contains(u.Learned, e) })
}

// Input returns the unit as the form shows it (without the learned addresses).
func (u UnitInfo) Input() UnitInput {
	return UnitInput{ID: u.ID, Name: u.Name, Aliases: strings.Join(u.Aliases, "、"), Emails: strings.Join(u.Registered(), ", "), Kind: u.Kind}
}

// Units lists every unit in the roster's order, with where it is defined and its learned addresses.
func (o *Office) Units() []UnitInfo {
	s := o.runtime.Load()
	var out []UnitInfo
	for _, u := range o.Roster().Units() {
		ui := UnitInfo{Unit: u, Source: SourceConfig, Learned: []string{}}
		if s != nil {
			if isRuntimeUnit(s, u.ID) {
				ui.Source = SourceOffice
				if _, inConfig := o.o.Roster.Unit(u.ID); inConfig {
					ui.Source = SourceChanged
				}
			}
			for _, addr := range sortedKeys(s.learned) {
				if s.learned[addr] == u.ID && slices.Contains(u.Emails, addr) && !o.listed(s, u.ID, addr) {
					ui.Learned = append(ui.Learned, addr)
				}
			}
		}
		out = append(out, ui)
	}
	return out
}

// listed reports whether addr is in the unit's own list (config or run time), not only learned.
func (o *Office) listed(s *runtimeState, id, addr string) bool {
	for _, u := range s.units {
		if u.ID == id {
			return slices.Contains(u.Emails, addr)
		}
	}
	u, ok := o.o.Roster.Unit(id)
	return ok && slices.Contains(u.Emails, addr)
}

// Unit returns one unit as Units lists it.
func (o *Office) Unit(id string) (UnitInfo, bool) {
	for _, u := range o.Units() {
		if u.ID == id {
			return u, true
		}
	}
	return UnitInfo{}, false
}

// kindOf reads a unit's kind as people write it.
func kindOf(s string) (string, bool) {
	switch strings.TrimSpace(s) {
	case "":
		return "", true
	case "county", "县区", "县（市、区）", "县(市、区)", "县市区", "县":
		return "county", true
	case "school", "学校":
		return "school", true
	case "other", "其他":
		return "other", true
	}
	return "", false
}

func (o *Office) unitRecord(in UnitInput) (store.UnitRecord, []string) {
	var probs []string
	u := store.UnitRecord{ID: strings.TrimSpace(in.ID), Name: strings.TrimSpace(in.Name), Aliases: splitWords(in.Aliases)}
	for _, e := range splitWords(in.Emails) {
		u.Emails = append(u.Emails, roster.NormalizeAddress(e))
	}
	kind, ok := kindOf(in.Kind)
	if !ok {
		probs = append(probs, fmt.Sprintf("单位类型“%s”不认识（可填 county 县区、school 学校、other 其他，或留空）", strings.TrimSpace(in.Kind)))
	}
	u.Kind = kind
	return u, probs
}

// AddUnit adds a unit at run time, checked by the roster's rules (an id of its own, a name, addresses
// that are addresses and not another unit's), stored with its audit entry in one transaction and in
// the roster at once.
func (o *Office) AddUnit(by Source, in UnitInput) (UnitInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	u, probs := o.unitRecord(in)
	switch {
	case u.ID == "":
		probs = append([]string{"单位编号不能为空"}, probs...)
	case !idPattern.MatchString(u.ID):
		probs = append([]string{"单位编号“" + u.ID + "”" + idRule}, probs...)
	default:
		if old, ok := o.Roster().Unit(u.ID); ok {
			probs = append(probs, fmt.Sprintf("单位编号 %s 已经存在（%s），请换一个编号", u.ID, old.Name))
		}
	}
	now := o.o.Now()
	u.Created, u.Updated = now, now
	detail := fmt.Sprintf("%s（%s），邮箱：%s", u.Name, u.ID, listWord(u.Emails))
	if err := o.changeUnits([]store.UnitRecord{u}, o.entry(by, ActUnitAdd, u.ID, detail), probs); err != nil {
		return UnitInfo{}, err
	}
	o.log.Info("office: unit added", "unit", u.ID, "via", by.Via, "client", by.Client)
	info, _ := o.Unit(u.ID)
	return info, nil
}

// EditUnit changes a unit's name, aliases, addresses and kind; a unit of config.yaml is then the
// office's version from now on (the units page says so).
func (o *Office) EditUnit(by Source, id string, in UnitInput) (UnitInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	old, ok := o.Unit(id)
	if !ok {
		return UnitInfo{}, inputErr(fmt.Sprintf("没有编号为“%s”的单位", id))
	}
	in.ID = id
	u, probs := o.unitRecord(in)
	before := old.Unit
	before.Emails = slices.DeleteFunc(slices.Clone(before.Emails), func(e string) bool { return slices.Contains(old.Learned, e) })
	changes := unitChanges(before, unitOf(u))
	if len(changes) == 0 && len(probs) == 0 {
		return old, nil
	}
	now := o.o.Now()
	u.Created, u.Updated = now, now
	detail := fmt.Sprintf("%s（%s）：%s", u.Name, id, strings.Join(changes, "；"))
	if err := o.changeUnits([]store.UnitRecord{u}, o.entry(by, ActUnitEdit, id, detail), probs); err != nil {
		return UnitInfo{}, err
	}
	o.log.Info("office: unit changed", "unit", id, "via", by.Via, "client", by.Client)
	info, _ := o.Unit(id)
	return info, nil
}

func unitOf(u store.UnitRecord) roster.Unit {
	return roster.Unit{ID: u.ID, Name: u.Name, Aliases: u.Aliases, Emails: u.Emails, Kind: u.Kind}
}

// changeUnits checks the roster with us in it, then stores us and the audit entry in one transaction
// and makes the new roster current. typed are the problems found in the typing, listed with the
// roster's: any problem changes nothing. The caller holds o.mu.
func (o *Office) changeUnits(us []store.UnitRecord, audit *store.AuditEntry, typed []string) error {
	s, err := o.load()
	if err != nil {
		return err
	}
	next := *s
	next.units = slices.Clone(s.units)
	for _, u := range us {
		if i := slices.IndexFunc(next.units, func(x store.UnitRecord) bool { return x.ID == u.ID }); i >= 0 {
			u.Created = next.units[i].Created
			next.units[i] = u
		} else {
			next.units = append(next.units, u)
		}
	}
	ch := &changing{units: map[string]bool{}}
	for _, u := range us {
		ch.units[u.ID] = true
	}
	r, left, err := o.build(&next, ch)
	id := ""
	if len(us) == 1 {
		id = us[0].ID
	}
	if err := rosterProblems(err, "unit", id, typed, nil); err != nil {
		return err
	}
	if err := o.st.PutUnits(us, audit); err != nil {
		return err
	}
	o.ros.Store(r)
	o.runtime.Store(&next)
	o.ignored.Store(left)
	return nil
}

func listWord(l []string) string {
	if len(l) == 0 {
		return "（无）"
	}
	return strings.Join(l, "、")
}

// unitChanges describes in Chinese what changed from a to b.
func unitChanges(a, b roster.Unit) []string {
	var out []string
	diff := func(name, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %s → %s", name, x, y))
		}
	}
	diff("名称", a.Name, b.Name)
	diff("别名", listWord(a.Aliases), listWord(b.Aliases))
	diff("邮箱", listWord(a.Emails), listWord(b.Emails))
	diff("类型", kindWord(a.Kind), kindWord(b.Kind))
	return out
}

func kindWord(k string) string {
	switch k {
	case "county":
		return "县（市、区）"
	case "school":
		return "学校"
	}
	return "其他"
}

// UnitImport is what applying a units spreadsheet changes (PreviewUnits), or changed (ApplyUnits).
type UnitImport struct {
	File    string
	Rows    []roster.Unit // the spreadsheet's units, as read
	Columns []string      // the columns it has: without aliases or kind, those of a unit stay as they are
	Added   []roster.Unit
	Changed []UnitChange
	Same    int // rows that change nothing
}

// UnitChange is one unit a spreadsheet changes.
type UnitChange struct {
	Before, After roster.Unit
	What          []string // in Chinese: 邮箱 a@example.cn → b@example.cn
}

// Empty reports whether applying it changes nothing.
func (im *UnitImport) Empty() bool { return len(im.Added) == 0 && len(im.Changed) == 0 }

// PreviewUnits reads a spreadsheet of units (.xlsx or .csv, UTF-8 or GBK; the columns of units_file:
// id, name, aliases, emails, kind, in English or Chinese) and says what applying it would change:
// units added, units whose name, aliases, addresses or kind change (each row replaces them), rows that
// change nothing. Units not in the spreadsheet stay as they are, and so do the aliases and kinds of a
// spreadsheet without those columns. Problems (missing columns, an id twice,
// an address of another unit) are an *InputError.
func (o *Office) PreviewUnits(name string, data []byte) (*UnitImport, error) {
	sheet, err := roster.ReadUnitsSheet(name, data)
	if err != nil {
		var fe *roster.FileError
		if errors.As(err, &fe) {
			return nil, inputErr("表格“" + name + "”：" + fe.ZH)
		}
		return nil, err
	}
	if len(sheet.Units) == 0 {
		return nil, inputErr("表格“" + name + "”中没有单位（第一行是列名，从第二行起每行一个单位）")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	im, _, err := o.plan(name, sheet.Units, sheet.Columns)
	return im, err
}

// ApplyUnits applies what PreviewUnits read, against the roster as it is now (it may have changed since
// the preview): every change and one audit entry in one transaction.
func (o *Office) ApplyUnits(by Source, im *UnitImport) (*UnitImport, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	done, recs, err := o.plan(im.File, im.Rows, im.Columns)
	if err != nil {
		return nil, err
	}
	if done.Empty() {
		return done, nil
	}
	var parts []string
	if n := len(done.Added); n > 0 {
		var ids []string
		for _, u := range done.Added {
			ids = append(ids, u.ID)
		}
		parts = append(parts, fmt.Sprintf("新增 %d 个（%s）", n, strings.Join(ids, "、")))
	}
	for _, c := range done.Changed {
		parts = append(parts, fmt.Sprintf("修改 %s：%s", c.After.ID, strings.Join(c.What, "；")))
	}
	detail := fmt.Sprintf("“%s”：%s", im.File, strings.Join(parts, "；"))
	if err := o.changeUnits(recs, o.entry(by, ActUnitImport, im.File, detail), nil); err != nil {
		return nil, err
	}
	o.log.Info("office: units imported", "file", im.File, "added", len(done.Added), "changed", len(done.Changed),
		"via", by.Via, "client", by.Client)
	return done, nil
}

// plan works out what the rows change and checks the roster they make. The caller holds o.mu.
func (o *Office) plan(file string, rows []roster.Unit, columns []string) (*UnitImport, []store.UnitRecord, error) {
	im := &UnitImport{File: file, Rows: rows, Columns: columns}
	var recs []store.UnitRecord
	var probs []string
	now := o.o.Now()
	for i, row := range rows {
		in := UnitInput{ID: row.ID, Name: row.Name, Aliases: strings.Join(row.Aliases, ","), Emails: strings.Join(row.Emails, ","), Kind: row.Kind}
		old, exists := o.Unit(row.ID)
		if exists && !slices.Contains(columns, "aliases") {
			in.Aliases = strings.Join(old.Aliases, ",")
		}
		if exists && !slices.Contains(columns, "kind") {
			in.Kind = old.Kind
		}
		u, ps := o.unitRecord(in)
		for _, p := range ps {
			probs = append(probs, fmt.Sprintf("单位 %s：%s", row.ID, p))
		}
		if !exists && !idPattern.MatchString(u.ID) { // a unit of config.yaml keeps the id it has there
			probs = append(probs, fmt.Sprintf("第 %d 个单位的编号“%s”%s", i+1, u.ID, idRule))
		}
		after := unitOf(u)
		if !exists {
			im.Added = append(im.Added, after)
		} else {
			before := old.Unit
			before.Emails = slices.DeleteFunc(slices.Clone(before.Emails), func(e string) bool { return slices.Contains(old.Learned, e) })
			what := unitChanges(before, after)
			if len(what) == 0 {
				im.Same++
				continue
			}
			im.Changed = append(im.Changed, UnitChange{Before: before, After: after, What: what})
		}
		u.Created, u.Updated = now, now
		recs = append(recs, u)
	}
	if len(recs) == 0 && len(probs) == 0 {
		return im, nil, nil
	}
	s, err := o.load()
	if err != nil {
		return nil, nil, err
	}
	next := *s
	next.units = slices.Clone(s.units)
	for _, u := range recs {
		if i := slices.IndexFunc(next.units, func(x store.UnitRecord) bool { return x.ID == u.ID }); i >= 0 {
			next.units[i] = u
		} else {
			next.units = append(next.units, u)
		}
	}
	ch := &changing{units: map[string]bool{}}
	for _, u := range recs {
		ch.units[u.ID] = true
	}
	_, _, err = o.build(&next, ch)
	if err := rosterProblems(err, "unit", "", probs, nil); err != nil {
		return nil, nil, err
	}
	return im, recs, nil
}
