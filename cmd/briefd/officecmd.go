package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"briefd/daemon"
	"briefd/intake"
	"briefd/notify"
	"briefd/office"
	"briefd/report"
	"briefd/roster"
)

// The office's run-time commands: campaigns, units, receipts registered by hand, 催报 and the audit log.
// Each parses its flags and calls package office, as the dashboard does; a mistake in what was typed
// (office.InputError) is printed in Chinese and exits with status 2.

// listFlag is a flag that may be given more than once (-file a.pdf -file b.pdf).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// forwardArgs is the command line that runs the same command in the daemon: the flags that were set
// (files as absolute paths, since the daemon does not run in the caller's folder), then pos.
func forwardArgs(cmd []string, fs *flag.FlagSet, pos []string) []string {
	out := append([]string{}, cmd...)
	fs.Visit(func(f *flag.Flag) {
		if l, ok := f.Value.(*listFlag); ok {
			for _, v := range *l {
				out = append(out, "-"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "-"+f.Name+"="+f.Value.String())
	})
	return append(append(out, "--"), pos...)
}

// given copies the flags given on the command line onto the fields they are named for (an edit changes
// only what was typed).
func given(fs *flag.FlagSet, fields map[string]*string) {
	fs.Visit(func(f *flag.Flag) {
		if p, ok := fields[f.Name]; ok {
			*p = f.Value.String()
		}
	})
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// absPaths makes each path absolute.
func absPaths(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		out[i] = abs
	}
	return out, nil
}

// openAppAs is openApp for a command whose forwarded form is args (files made absolute).
func openAppAs(e *env, configFlag string, needSecrets bool, args []string) (*app, error) {
	a, err := openApp(e, configFlag, needSecrets)
	var dr *daemonRunning
	if errors.As(err, &dr) {
		dr.args = args
	}
	return a, err
}

// subcommand splits "campaign add ..." into the subcommand and its arguments, or prints the usage.
func subcommand(e *env, name string, args []string, usage string, subs ...string) (string, []string, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		printSubUsage(e.stderr, usage)
		if len(args) == 0 {
			return "", nil, usagef("need a subcommand: %s", strings.Join(subs, ", "))
		}
		return "", nil, errHelp
	}
	for _, s := range subs {
		if args[0] == s {
			return s, args[1:], nil
		}
	}
	printSubUsage(e.stderr, usage)
	return "", nil, usagef("unknown %s subcommand %q (%s)", name, args[0], strings.Join(subs, ", "))
}

// printSubUsage prints a usage text whose lines start "  briefd ..." as "usage: briefd ...", the rest aligned.
func printSubUsage(w io.Writer, usage string) {
	lines := strings.Split(usage, "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "  briefd "); ok {
			if i == 0 {
				lines[i] = "usage: briefd " + rest
			} else {
				lines[i] = "       briefd " + rest
			}
		}
	}
	fmt.Fprint(w, strings.Join(lines, "\n"))
}

const campaignUsage = `  briefd campaign list [-json]
  briefd campaign add -id ID -title TITLE (-due DATE | -every month [-until DATE]) [-opens DATE] [-units all|ID,ID|kind:county] [-keywords WORD,WORD]
  briefd campaign edit ID [-title T] [-due DATE] [-every month] [-until DATE] [-opens DATE] [-units …] [-keywords …]
  briefd campaign close ID
  briefd campaign notice ID
Campaigns added here live in the database and take effect at once, in the running daemon too;
those of config.yaml are changed in config.yaml. Dates are YYYY-MM-DD, not in the past.
`

// cmdCampaign implements `briefd campaign`.
func cmdCampaign(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand(e, "campaign", args, campaignUsage, "list", "add", "edit", "close", "notice")
	if err != nil {
		return err
	}
	fs, cfgFlag := newFlags(e, "campaign "+sub, strings.TrimPrefix(strings.Split(campaignUsage, "\n")[0], "  briefd "))
	var in office.CampaignInput
	asJSON := fs.Bool("json", false, "list: print JSON (field names are stable)")
	if sub == "add" {
		fs.StringVar(&in.ID, "id", "", "the campaign's id: letters, digits, - and _ (e.g. 2026-safety)")
	}
	if sub == "add" || sub == "edit" {
		fs.StringVar(&in.Title, "title", "", "the title, as the notice names it")
		fs.StringVar(&in.Due, "due", "", "the due date of a once campaign (the last due date of a monthly one)")
		fs.StringVar(&in.Every, "every", "", "month: due at the end of every month")
		fs.StringVar(&in.Until, "until", "", "a monthly campaign's last due date (default: the end of the year it opens)")
		fs.StringVar(&in.Opens, "opens", "", "the day it opens (default: today)")
		fs.StringVar(&in.Units, "units", "", "all (default), unit ids (xinfu,yuanping) or kinds (kind:county)")
		fs.StringVar(&in.Keywords, "keywords", "", "words that mark its mail, separated by commas")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	needID := sub == "edit" || sub == "close" || sub == "notice"
	if needID && fs.NArg() != 1 || !needID && fs.NArg() != 0 {
		fs.Usage()
		if needID {
			return usagef("need the campaign's id")
		}
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	a, err := openAppAs(e, *cfgFlag, false, forwardArgs([]string{"campaign", sub}, fs, fs.Args()))
	if err != nil {
		return err
	}
	defer a.close()
	var info office.CampaignInfo
	switch sub {
	case "list":
		cs := a.off.Campaigns()
		if *asJSON {
			return writeJSON(e.stdout, cs)
		}
		printCampaigns(e, a, cs)
		return nil
	case "notice":
		if a.shared == nil {
			n, err := daemon.Composer(a.parts(nil))
			if err != nil {
				return err
			}
			a.off.SetComposer(n)
		}
		text, err := a.off.Notice(fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, text)
		return nil
	case "add":
		info, err = a.off.AddCampaign(e.source(), in)
	case "edit":
		id := fs.Arg(0)
		cur, ok := a.off.Campaign(id)
		if !ok {
			return &office.InputError{Problems: []string{fmt.Sprintf("没有编号为“%s”的报送任务", id)}}
		}
		edit := cur.Input()
		given(fs, map[string]*string{"title": &edit.Title, "due": &edit.Due, "every": &edit.Every, "until": &edit.Until,
			"opens": &edit.Opens, "units": &edit.Units, "keywords": &edit.Keywords})
		if cur.Every == "month" && flagSet(fs, "due") && !flagSet(fs, "until") {
			edit.Until = edit.Due // a monthly campaign's -due is its last due date, as in the dashboard
		}
		info, err = a.off.EditCampaign(e.source(), id, edit)
	case "close":
		info, err = a.off.CloseCampaign(e.source(), fs.Arg(0))
	}
	if err != nil {
		return err
	}
	printCampaigns(e, a, []office.CampaignInfo{info})
	if sub == "add" {
		fmt.Fprintf(e.stderr, "campaign %s added; it counts from now on (`briefd campaign notice %s` prints the notice to send the units)\n", info.ID, info.ID)
	}
	return nil
}

func printCampaigns(e *env, a *app, cs []office.CampaignInfo) {
	t := &report.Text{Header: []string{"编号", "名称", "报送单位", "开始", "截止", "状态", "来源"}}
	for _, c := range cs {
		state := office.StateZH(c.State(a.off.Today()))
		if c.Closed != "" {
			state += " " + c.Closed
		}
		t.Add(c.ID, c.Title, office.UnitsZH(a.R(), c.Units), c.Opens, c.ScheduleZH(), state, office.DefinedInZH(c.Source))
	}
	t.Write(e.stdout)
	for _, why := range a.off.Ignored() {
		fmt.Fprintln(e.stderr, "注意：", why)
	}
}

const unitUsage = `  briefd unit list [-json]
  briefd unit add -id ID -name NAME [-aliases A,B] [-emails X@EXAMPLE.CN,…] [-kind county|school|other]
  briefd unit edit ID [-name NAME] [-aliases …] [-emails …] [-kind …]
  briefd unit import FILE.xlsx|FILE.csv [-apply]
Units added or changed here live in the database and replace those of config.yaml of the same id.
import shows what the spreadsheet (the columns of units_file) would change; -apply applies it.
`

// cmdUnit implements `briefd unit`.
func cmdUnit(ctx context.Context, e *env, args []string) error {
	sub, args, err := subcommand(e, "unit", args, unitUsage, "list", "add", "edit", "import")
	if err != nil {
		return err
	}
	fs, cfgFlag := newFlags(e, "unit "+sub, strings.TrimPrefix(strings.Split(unitUsage, "\n")[0], "  briefd "))
	var in office.UnitInput
	asJSON := fs.Bool("json", false, "list: print JSON")
	apply := fs.Bool("apply", false, "import: apply the changes (without it, only show them)")
	if sub == "add" {
		fs.StringVar(&in.ID, "id", "", "the unit's id: letters, digits, - and _")
	}
	if sub == "add" || sub == "edit" {
		fs.StringVar(&in.Name, "name", "", "the unit's name")
		fs.StringVar(&in.Aliases, "aliases", "", "other names it signs with, separated by commas")
		fs.StringVar(&in.Emails, "emails", "", "its addresses, separated by commas")
		fs.StringVar(&in.Kind, "kind", "", "county, school or other")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	needArg := sub == "edit" || sub == "import"
	if needArg && fs.NArg() != 1 || !needArg && fs.NArg() != 0 {
		fs.Usage()
		return usagef("need one argument for unit %s, not %d", sub, fs.NArg())
	}
	pos := fs.Args()
	if sub == "import" {
		if pos, err = absPaths(pos); err != nil {
			return err
		}
	}
	a, err := openAppAs(e, *cfgFlag, false, forwardArgs([]string{"unit", sub}, fs, pos))
	if err != nil {
		return err
	}
	defer a.close()
	switch sub {
	case "list":
		us := a.off.Units()
		if *asJSON {
			return writeJSON(e.stdout, us)
		}
		printUnits(e, us)
		return nil
	case "add":
		u, err := a.off.AddUnit(e.source(), in)
		if err != nil {
			return err
		}
		printUnits(e, []office.UnitInfo{u})
	case "edit":
		cur, ok := a.off.Unit(pos[0])
		if !ok {
			return &office.InputError{Problems: []string{fmt.Sprintf("没有编号为“%s”的单位", pos[0])}}
		}
		edit := cur.Input()
		given(fs, map[string]*string{"name": &edit.Name, "aliases": &edit.Aliases, "emails": &edit.Emails, "kind": &edit.Kind})
		u, err := a.off.EditUnit(e.source(), pos[0], edit)
		if err != nil {
			return err
		}
		printUnits(e, []office.UnitInfo{u})
	case "import":
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return usagef("%v", err)
		}
		im, err := a.off.PreviewUnits(filepath.Base(pos[0]), data)
		if err != nil {
			return err
		}
		if *apply && !im.Empty() {
			if im, err = a.off.ApplyUnits(e.source(), im); err != nil {
				return err
			}
		}
		printImport(e, im, *apply)
	}
	return nil
}

func printUnits(e *env, us []office.UnitInfo) {
	t := &report.Text{Header: []string{"编号", "名称", "类型", "邮箱", "别名", "来源"}}
	for _, u := range us {
		t.Add(u.ID, u.Name, office.KindZH(u.Kind), strings.Join(u.Emails, ", "), strings.Join(u.Aliases, "、"), office.DefinedInZH(u.Source))
	}
	t.Write(e.stdout)
}

func printImport(e *env, im *office.UnitImport, applied bool) {
	verb := "将"
	if applied {
		verb = "已"
	}
	for _, u := range im.Added {
		fmt.Fprintf(e.stdout, "%s新增  %s %s  邮箱：%s\n", verb, u.ID, u.Name, strings.Join(u.Emails, ", "))
	}
	for _, c := range im.Changed {
		fmt.Fprintf(e.stdout, "%s修改  %s %s：%s\n", verb, c.After.ID, c.After.Name, strings.Join(c.What, "；"))
	}
	fmt.Fprintf(e.stdout, "%s：新增 %d 个，修改 %d 个，不变 %d 个；表格中没有的单位保持不变\n", im.File, len(im.Added), len(im.Changed), im.Same)
	if !applied && !im.Empty() {
		fmt.Fprintln(e.stderr, "nothing changed yet: run it again with -apply to apply these changes")
	}
}

// cmdReceipt implements `briefd receipt add`.
func cmdReceipt(ctx context.Context, e *env, args []string) error {
	const usage = "  briefd receipt add -unit ID -campaign ID [-period 2026-03] [-file F.pdf …] [-note 纸质报送]\n" +
		"Registers a briefing that came without mail (on paper, through WeChat): numbered like any receipt,\n" +
		"marked 人工登记, counted in status; the files must be PDFs that open; no reply is sent.\n"
	_, args, err := subcommand(e, "receipt", args, usage, "add")
	if err != nil {
		return err
	}
	fs, cfgFlag := newFlags(e, "receipt add", strings.TrimPrefix(strings.Split(usage, "\n")[0], "  briefd "))
	var in office.ReceiptInput
	var files listFlag
	fs.StringVar(&in.Unit, "unit", "", "the unit's id")
	fs.StringVar(&in.Campaign, "campaign", "", "the campaign's id")
	fs.StringVar(&in.Period, "period", "", "the period, e.g. 2026-03 (default: the current one)")
	fs.StringVar(&in.Note, "note", "", "how it came, e.g. 纸质报送, 微信发送")
	fs.Var(&files, "file", "a PDF of the briefing (repeat for several)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (files are given with -file)", fs.Arg(0))
	}
	abs, err := absPaths(files)
	if err != nil {
		return err
	}
	files = abs
	for _, p := range files {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			return &office.InputError{Problems: []string{fmt.Sprintf("文件“%s”不存在或不是普通文件", p)}}
		}
		in.Files = append(in.Files, intake.ManualFile{Name: filepath.Base(p), Path: p})
	}
	a, err := openAppAs(e, *cfgFlag, false, forwardArgs([]string{"receipt", "add"}, fs, nil))
	if err != nil {
		return err
	}
	defer a.close()
	done, err := a.withParts()
	if err != nil {
		return err
	}
	defer done()
	r, err := a.off.AddReceipt(ctx, e.source(), in)
	if err != nil {
		return err
	}
	late := ""
	if r.Late {
		late = "（逾期）"
	}
	fmt.Fprintf(e.stdout, "%s  %s  %s 第 %s 期%s  人工登记，%d 个文件，不发送回执邮件\n", r.Number, a.R().UnitName(r.Unit), r.Campaign,
		r.Period, late, len(r.Attachments))
	return nil
}

// cmdRemind implements `briefd remind`.
func cmdRemind(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "remind", "remind [-campaign ID] [-unit ID] [-json]")
	campaign := fs.String("campaign", "", "only this campaign (default: every open campaign's current period)")
	unit := fs.String("unit", "", "only this unit")
	asJSON := fs.Bool("json", false, "print who was reminded and who was skipped as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	done, err := a.withParts()
	if err != nil {
		return err
	}
	defer done()
	res, err := a.off.Remind(e.source(), *campaign, *unit)
	if err != nil {
		return err
	}
	if res.Sent == nil {
		res.Sent = []notify.RemindLine{}
	}
	if res.Skipped == nil {
		res.Skipped = []notify.RemindLine{}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
	} else {
		t := &report.Text{Header: []string{"结果", "单位", "报送任务", "期", "截止", "邮箱 / 原因"}}
		for _, l := range res.Sent {
			t.Add("已催报", l.UnitName, l.Title, l.PeriodName, l.Due, strings.Join(l.To, ", "))
		}
		for _, l := range res.Skipped {
			t.Add("未发送", l.UnitName, l.Title, l.PeriodName, l.Due, l.Why)
		}
		t.Write(e.stdout)
		fmt.Fprintln(e.stdout, office.RemindSummary(res))
	}
	if len(res.Sent) > 0 && e.shared == nil {
		fmt.Fprintln(e.stderr, "the reminders are queued: the daemon or `briefd poll` sends them")
	}
	return nil
}

// cmdAudit implements `briefd audit`.
func cmdAudit(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "audit", "audit [-since YYYY-MM-DD] [-json]")
	since := fs.String("since", "", "only changes on or after this date (office time zone)")
	asJSON := fs.Bool("json", false, "print JSON (field names are stable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	var from time.Time
	if *since != "" {
		d, err := roster.ParseDate(*since)
		if err != nil {
			return usagef("-since: %v", err)
		}
		from = d.Start(a.cfg.Location())
	}
	list, err := a.off.AuditLog(from)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, list)
	}
	t := &report.Text{Header: []string{"时间", "来源", "操作", "对象", "内容"}}
	for _, x := range list {
		t.Add(x.At.Format("2006-01-02 15:04:05"), office.SourceZH(x.Via, x.Client), office.ActionZH(x.Action), x.Target, x.Detail)
	}
	t.Write(e.stdout)
	fmt.Fprintf(e.stdout, "%d changes\n", len(list))
	return nil
}
