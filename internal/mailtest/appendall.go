package mailtest

// AppendAll appends the samples to mailbox over one connection (Append logs in for every message, which
// is slow for a backlog of hundreds) and returns their UIDs.
func AppendAll(addr, user, pass, mailbox string, samples []Sample) ([]uint32, error) {
	c, err := login(addr, user, pass)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	uids := make([]uint32, 0, len(samples))
	for _, s := range samples {
		uid, err := appendWith(c, mailbox, s.Raw, s.Date, nil)
		if err != nil {
			return uids, err
		}
		uids = append(uids, uid)
	}
	return uids, c.Logout().Wait()
}

// AppendAll appends the samples to mailbox over one connection and returns their UIDs.
func (d *Dovecot) AppendAll(mailbox string, samples []Sample) ([]uint32, error) {
	return AppendAll(d.Addr, d.User, d.Pass, mailbox, samples)
}
