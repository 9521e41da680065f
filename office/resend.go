package office

import "briefd/store"

// Resend queues the receipt's reply again.
func (o *Office) Resend(number string) (*store.OutboxItem, error) {
	it, err := o.st.Requeue(number, o.o.Now())
	if err != nil {
		return nil, err
	}
	o.queued()
	return it, nil
}
