package office

import (
	"errors"
	"fmt"

	"briefd/store"
)

// ErrNotQuestion is returned (wrapped) by Answer for a receipt that is not a unit's question.
var ErrNotQuestion = errors.New("not a question waiting for an answer")

// Answer marks a unit's question (a mail that is no submission: verdict ignored, category question) as
// dealt with: it leaves 来信待处理 and the weekly summary. Marking it again changes nothing.
func (o *Office) Answer(by Source, number string) (*store.Receipt, error) {
	if r, err := o.st.Receipt(number); err == nil && !r.Answered.IsZero() && r.Category == store.CategoryQuestion {
		return r, nil
	}
	var out store.Receipt
	audit := o.entry(by, ActAnswer, number, number+" 标记为已处理")
	err := o.st.Audited(audit).UpdateReceipt(number, func(r *store.Receipt) error {
		audit.Detail = fmt.Sprintf("%s（%s：%s）标记为已处理", number, r.From, r.Subject)
		if r.Verdict != store.VerdictIgnored || r.Category != store.CategoryQuestion {
			return fmt.Errorf("%s: %w", number, ErrNotQuestion)
		}
		if r.Answered.IsZero() {
			r.Answered = o.o.Now()
		}
		out = *r
		return nil
	})
	if err != nil {
		return nil, err
	}
	o.log.Info("office: question marked as dealt with", "receipt", number)
	return &out, nil
}
