package office

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"briefd/roster"
	"briefd/store"
)

var beijing = time.FixedZone("CST", 8*3600)

// cli is who makes the changes of the tests.
var cli = Source{Via: store.ViaCommand, Client: "tester"}

type rig struct {
	t    *testing.T
	st   *store.Store
	arch store.Archive
	off  *Office
}

func newRig(t *testing.T) *rig {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{Location: beijing})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := func(s string) roster.Date { v, _ := roster.ParseDate(s); return v }
	ros, err := roster.New([]roster.Unit{
		{ID: "xinfu", Name: "忻府区教育科技局", Emails: []string{"xinfu-jky@example.cn"}},
		{ID: "yuanping", Name: "原平市教育科技局", Emails: []string{"yuanping-jky@example.cn"}},
	}, []roster.Campaign{{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Opens: d("2022-01-05"), Due: d("2022-01-31")}}, beijing)
	if err != nil {
		t.Fatal(err)
	}
	arch := store.Archive{Root: filepath.Join(dir, "archive")}
	off, err := New(Options{Roster: ros, Archive: arch, Location: beijing}, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, st: st, arch: arch, off: off}
}

// record stores a receipt with one usable PDF of the given hash, archived where the pipeline would.
func (r *rig) record(from, unit, sha string) string {
	r.t.Helper()
	rec := &store.Receipt{Received: time.Date(2022, 1, 20, 9, 0, 0, 0, beijing), From: from, Subject: "简报", Verdict: store.VerdictAccepted,
		Unit: unit, Match: roster.MatchNone,
		Attachments: []store.Attachment{{Filename: "简报.pdf", SHA256: sha, Kind: "pdf", Verdict: "ok", Pages: 2}}}
	if unit != "" {
		rec.Match, rec.Campaign, rec.Period = roster.MatchAddress, "zjdh-study", "2022-01"
		if n, ok, _ := r.st.LookupFile(unit, rec.Campaign, rec.Period, sha); ok {
			rec.Attachments[0].DuplicateOf, rec.DuplicateOf = n, n
		}
	}
	n, _, err := r.st.RecordWith(rec, nil, nil, nil, func(rc *store.Receipt) {
		if rc.Attachments[0].DuplicateOf == "" {
			name, _ := r.off.Roster().Unit(unit)
			rc.Attachments[0].Archived = r.arch.PDFPath(rc.Campaign, rc.Period, name.Name, rc.Number, 1)
		}
	})
	if err != nil {
		r.t.Fatal(err)
	}
	got, _ := r.st.Receipt(n)
	if p := got.Attachments[0].Archived; p != "" {
		full := filepath.Join(r.arch.Root, p)
		os.MkdirAll(filepath.Dir(full), 0o700)
		if err := os.WriteFile(full, []byte("%PDF-1.4 "+sha), 0o600); err != nil {
			r.t.Fatal(err)
		}
	}
	return n
}

func (r *rig) archivedAt(n string) string {
	r.t.Helper()
	rec, err := r.st.Receipt(n)
	if err != nil {
		r.t.Fatal(err)
	}
	p := rec.Attachments[0].Archived
	if p != "" {
		if b, err := os.ReadFile(filepath.Join(r.arch.Root, p)); err != nil || !strings.HasPrefix(string(b), "%PDF") {
			r.t.Errorf("%s: archived file %s: %v", n, p, err)
		}
	}
	return p
}

// TestAssignKeepsEverythingConsistent: the receipt moves to the unit's period, its archived PDF to the
// unit's folder, and the duplicate index follows, both ways.
func TestAssignKeepsEverythingConsistent(t *testing.T) {
	r := newRig(t)
	first := r.record("xinfu-jky@example.cn", "xinfu", "aaaa")
	same := r.record("zhang@example.com", "", "aaaa") // the same file, from an unregistered address
	other := r.record("li@example.com", "", "bbbb")   // another file
	if p := r.archivedAt(same); !strings.HasPrefix(p, filepath.Join("unassigned", "none")+string(filepath.Separator)) {
		t.Fatalf("an unmatched receipt is archived at %q", p)
	}

	got, err := r.off.Assign(cli, same, "xinfu", false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Unit != "xinfu" || got.Match != roster.MatchManual || got.Campaign != "zjdh-study" || got.Period != "2022-01" {
		t.Errorf("after assign: %+v", got)
	}
	if got.DuplicateOf != first || got.Attachments[0].DuplicateOf != first {
		t.Errorf("the file %s sent before is not marked: %q %q", first, got.DuplicateOf, got.Attachments[0].DuplicateOf)
	}
	want := r.arch.PDFPath("zjdh-study", "2022-01", "忻府区教育科技局", same, 1)
	if p := r.archivedAt(same); p != want {
		t.Errorf("archived at %q, want %q", p, want)
	}
	if left, _ := filepath.Glob(filepath.Join(r.arch.Root, "unassigned", "none", "*"+same+"*")); len(left) > 0 {
		t.Errorf("old names left: %v", left)
	}

	// A file first sent by an unmatched mail: once assigned, it is the one later copies point to.
	if _, err := r.off.Assign(cli, other, "xinfu", false); err != nil {
		t.Fatal(err)
	}
	if n, ok, _ := r.st.LookupFile("xinfu", "zjdh-study", "2022-01", "bbbb"); !ok || n != other {
		t.Errorf("index: %q %v, want %s", n, ok, other)
	}
	later := r.record("xinfu-jky@example.cn", "xinfu", "bbbb")
	if rec, _ := r.st.Receipt(later); rec.DuplicateOf != other {
		t.Errorf("a later copy is not a duplicate of the assigned receipt: %q", rec.DuplicateOf)
	}

	// Given to another unit after all: the index of the first unit forgets it.
	if _, err := r.off.Assign(cli, other, "yuanping", false); err != nil {
		t.Fatal(err)
	}
	if n, ok, _ := r.st.LookupFile("xinfu", "zjdh-study", "2022-01", "bbbb"); ok && n == other {
		t.Errorf("xinfu's index still points at %s", other)
	}
	if n, ok, _ := r.st.LookupFile("yuanping", "zjdh-study", "2022-01", "bbbb"); !ok || n != other {
		t.Errorf("yuanping's index: %q %v", n, ok)
	}
	if p := r.archivedAt(other); p != r.arch.PDFPath("zjdh-study", "2022-01", "原平市教育科技局", other, 1) {
		t.Errorf("archived at %q after the second assign", p)
	}

	if _, err := r.off.Assign(cli, other, "atlantis", false); err == nil {
		t.Error("an unknown unit was accepted")
	}
}

// TestAssignLearn: the address is learned and the roster matches it at once; an address registered to
// another unit is not taken over.
func TestAssignLearn(t *testing.T) {
	r := newRig(t)
	n := r.record("zhang@example.com", "", "cccc")
	if _, err := r.off.Assign(cli, n, "yuanping", true); err != nil {
		t.Fatal(err)
	}
	if u, ok := r.off.Roster().UnitByAddress("zhang@example.com"); !ok || u != "yuanping" {
		t.Errorf("roster matches the learned address to %q %v", u, ok)
	}
	if _, err := r.off.Assign(cli, n, "xinfu", true); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("learning a registered address for another unit: %v", err)
	}
}
