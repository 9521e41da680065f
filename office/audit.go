package office

import (
	"fmt"
	"os/user"
	"strings"
	"time"

	"briefd/roster"
	"briefd/store"
)

// Source says who asks for a change and through what, for the audit log (操作记录) and the receipts
// registered by hand.
type Source struct {
	Via    string // store.ViaCommand, store.ViaSocket or store.ViaWeb
	Client string // the user running the command; the browser's address
}

// FromCommand is a command run by this process's user; forwarded: it came over the control socket
// (the socket is the daemon account's alone, so its user is the daemon's).
func FromCommand(forwarded bool) Source {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if forwarded {
		return Source{Via: store.ViaSocket, Client: name}
	}
	return Source{Via: store.ViaCommand, Client: name}
}

// FromWeb is the dashboard, used from the address ip.
func FromWeb(ip string) Source { return Source{Via: store.ViaWeb, Client: ip} }

// SourceZH says in Chinese where a change came from: 命令行（root）, 命令行，经控制套接字（root）,
// 网页（192.0.2.1）.
func SourceZH(via, client string) string {
	var s string
	switch via {
	case store.ViaCommand:
		s = "命令行"
	case store.ViaSocket:
		s = "命令行（经控制套接字）"
	case store.ViaWeb:
		s = "网页"
	default:
		s = via
	}
	if client != "" {
		s += " " + client
	}
	return s
}

// Actions of the audit log (store.AuditEntry.Action).
const (
	ActCampaignAdd   = "campaign.add"
	ActCampaignEdit  = "campaign.edit"
	ActCampaignClose = "campaign.close"
	ActUnitAdd       = "unit.add"
	ActUnitEdit      = "unit.edit"
	ActUnitImport    = "unit.import"
	ActAssign        = "assign"
	ActLearn         = "learn"
	ActResend        = "resend"
	ActRecheck       = "recheck"
	ActReceiptAdd    = "receipt.add"
	ActRemind        = "remind"
	ActAnswer        = "answer"
)

// ActionZH names an action of the audit log in Chinese.
func ActionZH(action string) string {
	switch action {
	case ActCampaignAdd:
		return "新建报送任务"
	case ActCampaignEdit:
		return "修改报送任务"
	case ActCampaignClose:
		return "关闭报送任务"
	case ActUnitAdd:
		return "添加单位"
	case ActUnitEdit:
		return "修改单位"
	case ActUnitImport:
		return "导入单位表格"
	case ActAssign:
		return "指定报送单位"
	case ActLearn:
		return "登记邮箱"
	case ActResend:
		return "重新发送回执"
	case ActRecheck:
		return "重新检查"
	case ActReceiptAdd:
		return "人工登记"
	case ActRemind:
		return "催报"
	case ActAnswer:
		return "来信已处理"
	}
	return action
}

func (o *Office) entry(by Source, action, target, detail string) *store.AuditEntry {
	return &store.AuditEntry{At: o.o.Now(), Action: action, Target: target, Detail: detail, Via: by.Via, Client: by.Client}
}

// AuditLog returns the changes made through the command line, the control socket and the dashboard
// since the given time (all when zero), oldest first; the times in the office time zone.
func (o *Office) AuditLog(since time.Time) ([]store.AuditEntry, error) {
	es, err := o.st.AuditLog(since)
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].At = es[i].At.In(o.o.Location)
	}
	if es == nil {
		es = []store.AuditEntry{}
	}
	return es, nil
}

// InputError is what is wrong with what a person typed or uploaded, each problem a sentence in
// Chinese; nothing was changed. The command line prints it and exits with status 2; the dashboard
// shows it above the form, which keeps what was typed.
type InputError struct{ Problems []string }

func (e *InputError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0]
	}
	return fmt.Sprintf("有 %d 处问题：\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

func inputErr(format ...string) *InputError { return &InputError{Problems: format} }

// rosterProblems turns the roster's problems into the office's sentences after the problems found
// before (typed): those about the unit or campaign being changed (what, id) as they are, others named
// first; problems of fields in skip (already said: a date that is not a date) are left out. A nil err
// gives typed alone, nil when it is empty.
func rosterProblems(err error, what, id string, typed []string, skip map[string]bool) error {
	out := typed
	re, ok := err.(*roster.Error)
	if err != nil && !ok {
		return err
	}
	if !ok {
		if len(out) == 0 {
			return nil
		}
		return &InputError{Problems: out}
	}
	for _, p := range re.Details {
		if p.What == what && p.ID == id && skip[p.Field] {
			continue
		}
		s := p.ZH
		if p.What != what || p.ID != id {
			kind := "单位"
			if p.What == "campaign" {
				kind = "报送任务"
			}
			s = kind + " " + p.ID + "：" + s
		}
		out = appendOnce(out, s)
	}
	return &InputError{Problems: out}
}
