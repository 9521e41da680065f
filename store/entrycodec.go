package store

import (
	"encoding/binary"
	"errors"
	"time"
)

// The entries bucket holds every receipt's Entry in a small binary form, written with the receipt, so
// that loading the index reads ~150 bytes a receipt instead of decoding its whole JSON.
//
//	version byte (1)
//	flags byte: 1 Late, 2 Usable
//	Received: varint Unix seconds, uvarint nanoseconds, varint zone offset in seconds
//	Number, From, FromName, Subject, Filenames, Unit, Match, Campaign, Period, Verdict, Reply:
//	    each a uvarint length and the bytes
const entryCodecVersion = 1

var errEntryCodec = errors.New("store: bad entry encoding")

func appendEntry(b []byte, e *Entry) []byte {
	var flags byte
	if e.Late {
		flags |= 1
	}
	if e.Usable {
		flags |= 2
	}
	b = append(b, entryCodecVersion, flags)
	_, off := e.Received.Zone()
	b = binary.AppendVarint(b, e.Received.Unix())
	b = binary.AppendUvarint(b, uint64(e.Received.Nanosecond()))
	b = binary.AppendVarint(b, int64(off))
	for _, s := range [...]string{e.Number, e.From, e.FromName, e.Subject, e.Filenames, e.Unit, e.Match, e.Campaign,
		e.Period, e.Verdict, e.Reply} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeEntry reads what appendEntry wrote. The strings share one allocation. Received comes back in
// the zone a receipt's JSON would give it: UTC for offset 0, the local zone when it has that offset at
// that instant, else a fixed zone with that offset (so it prints as it was written).
// zones, when not nil, shares one fixed zone for each offset between calls.
func decodeEntry(v []byte, zones map[int]*time.Location) (Entry, error) {
	var e Entry
	if len(v) < 2 || v[0] != entryCodecVersion {
		return e, errEntryCodec
	}
	e.Late, e.Usable = v[1]&1 != 0, v[1]&2 != 0
	p := 2
	sec, n := binary.Varint(v[p:])
	if n <= 0 {
		return e, errEntryCodec
	}
	p += n
	nsec, n := binary.Uvarint(v[p:])
	if n <= 0 || nsec >= 1e9 {
		return e, errEntryCodec
	}
	p += n
	off, n := binary.Varint(v[p:])
	if n <= 0 || off < -24*3600 || off > 24*3600 {
		return e, errEntryCodec
	}
	p += n
	e.Received = receivedTime(sec, int64(nsec), int(off), zones)
	s := string(v) // one allocation for every string of the entry
	for _, f := range [...]*string{&e.Number, &e.From, &e.FromName, &e.Subject, &e.Filenames, &e.Unit, &e.Match,
		&e.Campaign, &e.Period, &e.Verdict, &e.Reply} {
		l, n := binary.Uvarint(v[p:])
		if n <= 0 || l > uint64(len(v)-p-n) {
			return e, errEntryCodec
		}
		p += n
		*f = s[p : p+int(l)]
		p += int(l)
	}
	if p != len(v) {
		return e, errEntryCodec
	}
	return e, nil
}

func receivedTime(sec, nsec int64, off int, zones map[int]*time.Location) time.Time {
	t := time.Unix(sec, nsec)
	switch {
	case off == 0:
		return t.UTC()
	case zoneOffset(t.In(time.Local)) == off:
		return t.In(time.Local)
	}
	loc := zones[off]
	if loc == nil {
		loc = time.FixedZone("", off)
		if zones != nil {
			zones[off] = loc
		}
	}
	return t.In(loc)
}

func zoneOffset(t time.Time) int {
	_, off := t.Zone()
	return off
}
