package office

import (
	"fmt"

	"briefd/store"
)

// Resend queues the receipt's reply again, with its audit entry in one transaction. A receipt
// registered by hand has no sender to reply to.
func (o *Office) Resend(by Source, number string) (*store.OutboxItem, error) {
	r, err := o.st.Receipt(number)
	if err != nil {
		return nil, err
	}
	if r.Manual != nil {
		return nil, inputErr(fmt.Sprintf("回执 %s 是人工登记的，没有来信邮箱，不发送回执邮件", number))
	}
	it, err := o.st.Audited(o.entry(by, ActResend, number, fmt.Sprintf("%s 的回执重新发送给 %s", number, r.From))).Requeue(number, o.o.Now())
	if err != nil {
		return nil, err
	}
	o.queued()
	return it, nil
}
