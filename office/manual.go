package office

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"briefd/intake"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

// Recorder records receipts registered by hand (*intake.Pipeline): it checks their files as mail
// attachments are checked and archives them.
type Recorder interface {
	RecordManual(ctx context.Context, m intake.Manual) (*store.Receipt, error)
}

// SetRecorder gives the office the pipeline that records receipts registered by hand.
func (o *Office) SetRecorder(r Recorder) { o.recorder = r }

// ReceiptInput is a briefing that came without mail (人工登记): on paper, through WeChat.
type ReceiptInput struct {
	Unit, Campaign string
	Period         string // "2026-03"; "" is the campaign's current period
	Note           string // e.g. 纸质报送
	Files          []intake.ManualFile
}

// AddReceipt registers a briefing that came without mail. The unit must owe the campaign, the period
// must have opened; every file must be a PDF that opens (the check of mail attachments). The receipt is
// numbered like any other, marked 人工登记 with the note and who registered it, counts in status, and
// no reply is sent; it and its audit entry are written in one transaction.
func (o *Office) AddReceipt(ctx context.Context, by Source, in ReceiptInput) (*store.Receipt, error) {
	ros := o.Roster()
	now := o.o.Now()
	var probs []string
	unit, uok := ros.Unit(strings.TrimSpace(in.Unit))
	if !uok {
		probs = append(probs, missingWord("单位", in.Unit))
	}
	c, cok := ros.Campaign(strings.TrimSpace(in.Campaign))
	if !cok {
		probs = append(probs, missingWord("报送任务", in.Campaign))
	}
	var p roster.Period
	if uok && cok {
		if !ros.Owes(unit.ID, c) {
			probs = append(probs, fmt.Sprintf("%s不需要报送《%s》", unit.Name, c.Title))
		}
		key := strings.TrimSpace(in.Period)
		var ok bool
		if key == "" {
			if p, ok = ros.PeriodAt(c, now); !ok {
				probs = append(probs, fmt.Sprintf("《%s》没有可以报送的期次", c.Title))
			}
		} else if p, ok = c.Period(key); !ok {
			var keys []string
			for _, q := range c.Periods() {
				keys = append(keys, q.Key)
			}
			probs = append(probs, fmt.Sprintf("《%s》没有“%s”这一期（可选：%s）", c.Title, key, strings.Join(keys, "、")))
		}
		if ok && now.Before(p.Opens.Start(o.o.Location)) {
			probs = append(probs, fmt.Sprintf("《%s》第 %s 期 %s 才开始，还不能登记", c.Title, p.Key, p.Opens))
		}
	}
	if len(probs) > 0 {
		return nil, &InputError{Problems: probs}
	}
	if o.recorder == nil {
		return nil, errors.New("office: register a receipt: no pipeline to check files with")
	}
	note := strings.TrimSpace(in.Note)
	detail := fmt.Sprintf("%s（%s），《%s》第 %s 期，%d 个文件", unit.Name, unit.ID, c.Title, p.Key, len(in.Files))
	if note != "" {
		detail += "，" + note
	}
	rec, err := o.recorder.RecordManual(ctx, intake.Manual{Unit: unit.ID, Campaign: c.ID, Period: p.Key, Late: ros.Late(p, now), At: now,
		Files: in.Files, Note: note, Via: by.Via, Client: by.Client, Audit: o.entry(by, ActReceiptAdd, "", detail)})
	var rf *intake.RejectedFile
	if errors.As(err, &rf) {
		why, _ := pdfcheck.ReasonText(rf.Reason)
		return nil, inputErr(fmt.Sprintf("文件“%s”不是可以打开的PDF：%s", rf.Name, why))
	}
	if err != nil {
		return nil, err
	}
	rec.Received = rec.Received.In(o.o.Location)
	return rec, nil
}

func missingWord(what, id string) string {
	if strings.TrimSpace(id) == "" {
		return "请选择" + what
	}
	return fmt.Sprintf("没有编号为“%s”的%s", strings.TrimSpace(id), what)
}
