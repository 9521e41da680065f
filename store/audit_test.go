package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func auditLen(t *testing.T, s *Store) int {
	t.Helper()
	es, err := s.AuditLog(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestAuditWithTheChange: a change and its audit entry are written together, or neither is.
func TestAuditWithTheChange(t *testing.T) {
	s := openTest(t, "")
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, beijing)
	entry := func(action string) *AuditEntry {
		return &AuditEntry{At: at, Action: action, Target: "x", Detail: "测试", Via: ViaWeb, Client: "192.0.2.7"}
	}

	c := &CampaignRecord{ID: "c1", Title: "简报", Opens: "2026-12-01", Due: "2026-12-31", Created: at, Updated: at}
	if err := s.PutCampaign(c, true, entry("campaign.add")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCampaign(&CampaignRecord{ID: "c1", Title: "又一个"}, true, entry("campaign.add")); !errors.Is(err, ErrExists) {
		t.Errorf("adding an id twice: %v, want ErrExists", err)
	}
	if err := s.PutCampaign(&CampaignRecord{ID: "nosuch"}, false, entry("campaign.edit")); !errors.Is(err, ErrNotFound) {
		t.Errorf("editing an unknown id: %v, want ErrNotFound", err)
	}
	edit := *c
	edit.Title, edit.Created, edit.Updated = "新名称", time.Time{}, at.Add(time.Hour)
	if err := s.PutCampaign(&edit, false, entry("campaign.edit")); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Campaigns()
	if err != nil || len(cs) != 1 || cs[0].Title != "新名称" || !cs[0].Created.Equal(at) {
		t.Errorf("campaigns after the edit: %+v %v", cs, err)
	}
	if n := auditLen(t, s); n != 2 {
		t.Errorf("%d audit entries after two changes and two refusals", n)
	}

	n, _, err := s.RecordWith(receipt("<a@example.cn>", at), nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if _, _, err := s.Audited(entry("assign")).Replace(n, func(r *Receipt) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("replace: %v", err)
	}
	if _, err := s.Audited(entry("resend")).Requeue("JB2026-9999", at); !errors.Is(err, ErrNotFound) {
		t.Fatalf("requeue of an unknown receipt: %v", err)
	}
	if n := auditLen(t, s); n != 2 {
		t.Errorf("a refused change left an audit entry (%d entries)", n)
	}
	if _, _, err := s.Audited(entry("assign")).Replace(n, func(r *Receipt) error { r.Unit = "xinfu"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Audited(entry("learn")).Learn("zhang@example.com", "xinfu"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Audited(entry("resend")).Requeue(n, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Audited(entry("answer")).UpdateReceipt(n, func(r *Receipt) error { r.Note = "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	man := receipt("", at)
	man.Manual = &ManualEntry{Note: "纸质报送", Via: ViaCommand, Client: "root"}
	if _, _, err := s.Audited(entry("receipt.add")).RecordWith(man, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	es, err := s.AuditLog(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i, e := range es {
		if e.Seq != uint64(i+1) {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
		actions = append(actions, e.Action)
	}
	want := []string{"campaign.add", "campaign.edit", "assign", "learn", "resend", "answer", "receipt.add"}
	if len(actions) != len(want) {
		t.Fatalf("audit log %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Errorf("audit log %v, want %v", actions, want)
			break
		}
	}
	if es[0].Via != ViaWeb || es[0].Client != "192.0.2.7" || es[0].Detail != "测试" {
		t.Errorf("entry read back as %+v", es[0])
	}
}

func TestAuditLogSince(t *testing.T) {
	s := openTest(t, "")
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, beijing)
	for i := range 3 {
		if err := s.Audit(&AuditEntry{At: day.AddDate(0, 0, i), Action: "remind"}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.AuditLog(day.AddDate(0, 0, 1))
	if err != nil || len(es) != 2 || !es[0].At.Equal(day.AddDate(0, 0, 1)) {
		t.Errorf("since the second day: %+v %v", es, err)
	}
}

// TestEnqueueOnceEach: one transaction for every batch; a batch whose mark is set is not queued again,
// and the audit entry sees what was.
func TestEnqueueOnceEach(t *testing.T) {
	s := openTest(t, "")
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, beijing)
	if err := s.SetMark("remind:c:2026-12:b:2026-12-01", at); err != nil {
		t.Fatal(err)
	}
	batches := []Batch{
		{Mark: "remind:c:2026-12:a:2026-12-01", Items: []*OutboxItem{{Kind: KindReminder, To: "a@example.cn"}, {Kind: KindReminder, To: "a2@example.cn"}}},
		{Mark: "remind:c:2026-12:b:2026-12-01", Items: []*OutboxItem{{Kind: KindReminder, To: "b@example.cn"}}},
	}
	var seen []bool
	queued, err := s.EnqueueOnceEach(at, batches, func(q []bool) *AuditEntry {
		seen = q
		return &AuditEntry{At: at, Action: "remind"}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 2 || !queued[0] || queued[1] || len(seen) != 2 || !seen[0] || seen[1] {
		t.Errorf("queued %v, audit saw %v; want [true false]", queued, seen)
	}
	if _, n := count(t, s); n != 2 {
		t.Errorf("%d outbox items, want 2", n)
	}
	if n := auditLen(t, s); n != 1 {
		t.Errorf("%d audit entries", n)
	}
	queued, err = s.EnqueueOnceEach(at, batches, nil)
	if err != nil || queued[0] || queued[1] {
		t.Errorf("second time: %v %v", queued, err)
	}
}

// TestUnitsKeepCreated: a unit written again keeps its place in the order units were added.
func TestUnitsKeepCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "briefd.db")
	s := openTest(t, path)
	t1 := time.Date(2026, 12, 1, 9, 0, 0, 0, beijing)
	if err := s.PutUnits([]UnitRecord{{ID: "zz", Name: "后加的", Created: t1}, {ID: "aa", Name: "再后加的", Created: t1.Add(time.Minute)}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUnits([]UnitRecord{{ID: "zz", Name: "改名", Created: t1.Add(time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	us, err := s.Units()
	if err != nil || len(us) != 2 || us[0].ID != "zz" || us[0].Name != "改名" || !us[0].Created.Equal(t1) {
		t.Errorf("units: %+v %v", us, err)
	}
}
