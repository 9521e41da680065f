package mailtest

import "briefd/demo"

// AppendAll appends the samples to mailbox over one connection and returns their UIDs.
func (d *Dovecot) AppendAll(mailbox string, samples []Sample) ([]uint32, error) {
	return demo.AppendAll(d.Addr, d.User, d.Pass, mailbox, samples)
}
