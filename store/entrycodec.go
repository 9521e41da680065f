package store

import (
	"encoding/binary"
	"errors"
	"time"
)

// The entries bucket holds every receipt's Entry in a small binary form, written with the receipt, so
// that loading the index reads ~150 bytes a receipt instead of decoding its whole JSON.
//
//	version byte (2)
//	flags byte: 1 Late, 2 Usable, 4 Answered
//	Received: varint Unix seconds, uvarint nanoseconds, varint zone offset in seconds
//	Number, From, FromName, Subject, Filenames, Unit, Match, Campaign, Period, Verdict, Reply, Category:
//	    each a uvarint length and the bytes
const entryCodecVersion = 2 // 1: schema 1, without Category and Answered

var errEntryCodec = errors.New("store: bad entry encoding")

func appendEntry(b []byte, e *Entry) []byte {
	var flags byte
	if e.Late {
		flags |= 1
	}
	if e.Usable {
		flags |= 2
	}
	if e.Answered {
		flags |= 4
	}
	b = append(b, entryCodecVersion, flags)
	_, off := e.Received.Zone()
	b = binary.AppendVarint(b, e.Received.Unix())
	b = binary.AppendUvarint(b, uint64(e.Received.Nanosecond()))
	b = binary.AppendVarint(b, int64(off))
	for _, s := range [...]string{e.Number, e.From, e.FromName, e.Subject, e.Filenames, e.Unit, e.Match, e.Campaign,
		e.Period, e.Verdict, e.Reply, e.Category} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeEntry reads what appendEntry wrote. The entry's strings are substrings of v, so entries decoded
// from one string share its memory. Received comes back in the zone a receipt's JSON would give it: UTC
// for offset 0, the local zone when it has that offset at that instant, else a fixed zone with that
// offset (so it prints as it was written). zones, when not nil, shares one fixed zone per offset.
func decodeEntry(v string, zones map[int]*time.Location) (Entry, error) {
	var e Entry
	if len(v) < 2 || v[0] != entryCodecVersion {
		return e, errEntryCodec
	}
	e.Late, e.Usable, e.Answered = v[1]&1 != 0, v[1]&2 != 0, v[1]&4 != 0
	p := 2
	u, n := uvarint(v[p:])
	if n <= 0 {
		return e, errEntryCodec
	}
	sec := int64(u>>1) ^ -int64(u&1) // zig-zag, as binary.AppendVarint writes it
	p += n
	nsec, n := uvarint(v[p:])
	if n <= 0 || nsec >= 1e9 {
		return e, errEntryCodec
	}
	p += n
	u, n = uvarint(v[p:])
	off := int64(u>>1) ^ -int64(u&1)
	if n <= 0 || off < -24*3600 || off > 24*3600 {
		return e, errEntryCodec
	}
	p += n
	e.Received = receivedTime(sec, int64(nsec), int(off), zones)
	for _, f := range [...]*string{&e.Number, &e.From, &e.FromName, &e.Subject, &e.Filenames, &e.Unit, &e.Match,
		&e.Campaign, &e.Period, &e.Verdict, &e.Reply, &e.Category} {
		l, n := uvarint(v[p:])
		if n <= 0 || l > uint64(len(v)-p-n) {
			return e, errEntryCodec
		}
		p += n
		*f = v[p : p+int(l)]
		p += int(l)
	}
	if p != len(v) {
		return e, errEntryCodec
	}
	return e, nil
}

// uvarint is binary.Uvarint for a string: the value and the bytes read, 0 when s is too short, < 0 on
// overflow.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	if len(s) >= binary.MaxVarintLen64 {
		return 0, -binary.MaxVarintLen64
	}
	return 0, 0
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
