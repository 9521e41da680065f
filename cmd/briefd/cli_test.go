package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"briefd/config"
	"briefd/roster"
	"briefd/store"
)

// testStore writes baseConfig and fills its store with recs through store.Record. It returns the config path.
func testStore(t *testing.T, recs ...*store.Receipt) string {
	t.Helper()
	p := writeConfig(t, baseConfig)
	createStore(t, p, recs...)
	return p
}

// createStore creates the database of the config at p, with recs recorded.
func createStore(t *testing.T, p string, recs ...*store.Receipt) {
	t.Helper()
	cfg, err := config.Load(p, secretEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Prefix: cfg.Replies.ReceiptPrefix, Location: cfg.Location()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, r := range recs {
		if _, _, err := st.Record(r, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoDatabaseElsewhere: a command run where the config's relative store.path finds no database
// says so, instead of creating an empty one that would answer "nobody has reported".
func TestNoDatabaseElsewhere(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(baseConfig, "path: STATE/briefd.db", "path: data/briefd.db", 1)
	text = strings.ReplaceAll(text, "STATE", dir)
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	code, _, errOut := run(t, secretEnv, "status", "-config", p)
	if code != 1 || !strings.Contains(errOut, "there is no database") || !strings.Contains(errOut, "working directory") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat("data"); !os.IsNotExist(err) {
		t.Errorf("status created a database folder here: %v", err)
	}
}

// readStore opens the config's store after a command ran and returns its receipts.
func readStore(t *testing.T, configPath string) []*store.Receipt {
	t.Helper()
	cfg, err := config.Load(configPath, secretEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Location: cfg.Location()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Receipts(nil)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedCopy(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }

var (
	receiptKeys = []string{"receipt", "received", "message_id", "from", "subject", "unit", "match", "campaign", "period",
		"late", "verdict", "attachments", "links", "reply", "reply_note"}
	attachmentKeys = []string{"filename", "size", "sha256", "kind", "verdict", "pages", "encrypted", "reason", "duplicate_of"}
	periodKeys     = []string{"campaign", "period", "due", "units"}
	unitStateKeys  = []string{"unit", "name", "state", "receipt", "at"}
)

// sampleReceipts are four mails of January 2022; Received is in UTC, as a server may give it.
func sampleReceipts() []*store.Receipt {
	utc := func(d, h, m int) time.Time { return time.Date(2022, 1, d, h, m, 0, 0, time.UTC) }
	pdf := store.Attachment{Filename: "忻府区学习贯彻简报.pdf", Size: 12345, SHA256: strings.Repeat("ab", 32), Kind: "pdf", Verdict: "ok", Pages: 4}
	return []*store.Receipt{
		{Received: utc(10, 6, 32), MessageID: "<1@example.cn>", From: "xinfu-jky@example.cn", Subject: "忻府区学习贯彻简报",
			Unit: "xinfu", Match: roster.MatchAddress, Campaign: "zjdh-study", Period: "2022-01", Verdict: store.VerdictAccepted,
			Attachments: []store.Attachment{pdf}, Reply: store.ReplySent},
		{Received: utc(31, 16, 0), MessageID: "<2@example.cn>", From: "yuanping-jky@example.cn", Subject: "原平市学习贯彻简报",
			Unit: "yuanping", Match: roster.MatchAddress, Campaign: "zjdh-study", Period: "2022-01", Late: true,
			Verdict: store.VerdictAccepted, Attachments: []store.Attachment{pdf}},
		{Received: utc(20, 2, 0), MessageID: "<3@qq.com>", From: "someone@qq.com", Subject: "学习贯彻简报",
			Match: roster.MatchNone, Verdict: store.VerdictRejected,
			Attachments: []store.Attachment{{Filename: "简报.docx", Size: 100, SHA256: "cd", Kind: "docx", Verdict: "reject", Reason: "not a PDF"}}},
		{Received: utc(21, 2, 0), MessageID: "<4@qq.com>", From: "other@qq.com", Subject: "超大附件",
			Match: roster.MatchNone, Verdict: store.VerdictNoAttachment, Links: []string{"https://mail.qq.com/cgi-bin/ftnExs_download?k=1"}},
	}
}

func TestReceiptsJSON(t *testing.T) {
	p := testStore(t, sampleReceipts()...)
	code, out, errOut := run(t, secretEnv, "receipts", "-json", "-config", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	if len(got) != 4 {
		t.Fatalf("%d receipts, want 4", len(got))
	}
	for i, r := range got {
		if ks := keysOf(r); !slices.Equal(ks, sortedCopy(receiptKeys)) {
			t.Errorf("receipt %d keys:\n got %v\nwant %v", i, ks, sortedCopy(receiptKeys))
		}
		if _, ok := r["attachments"].([]any); !ok {
			t.Errorf("receipt %d: attachments is %T, want an array", i, r["attachments"])
		}
		if _, ok := r["links"].([]any); !ok {
			t.Errorf("receipt %d: links is %T, want an array", i, r["links"])
		}
		recv, _ := r["received"].(string)
		if !strings.HasSuffix(recv, "+08:00") {
			t.Errorf("receipt %d: received %q is not in office time (+08:00)", i, recv)
		}
	}
	first := got[0]
	want := map[string]any{"receipt": "JB2022-0001", "received": "2022-01-10T14:32:00+08:00", "message_id": "<1@example.cn>",
		"from": "xinfu-jky@example.cn", "unit": "xinfu", "match": "address", "campaign": "zjdh-study", "period": "2022-01",
		"late": false, "verdict": "accepted", "reply": "sent", "reply_note": ""}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("receipt 0 %s = %v, want %v", k, first[k], v)
		}
	}
	at := first["attachments"].([]any)[0].(map[string]any)
	if ks := keysOf(at); !slices.Equal(ks, sortedCopy(attachmentKeys)) {
		t.Errorf("attachment keys:\n got %v\nwant %v", ks, sortedCopy(attachmentKeys))
	}
	if at["size"] != 12345.0 || at["pages"] != 4.0 || at["verdict"] != "ok" || at["encrypted"] != false || at["duplicate_of"] != "" {
		t.Errorf("attachment %v", at)
	}
	if got[1]["received"] != "2022-02-01T00:00:00+08:00" || got[1]["late"] != true {
		t.Errorf("receipt 1: received %v late %v", got[1]["received"], got[1]["late"])
	}
	if l := got[3]["links"].([]any); len(l) != 1 {
		t.Errorf("receipt 3 links %v", l)
	}

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"by unit", []string{"-unit", "xinfu"}, []string{"JB2022-0001"}},
		{"unmatched", []string{"-unit", "none"}, []string{"JB2022-0003", "JB2022-0004"}},
		{"by campaign", []string{"-campaign", "zjdh-study"}, []string{"JB2022-0001", "JB2022-0002"}},
		{"since a Beijing date", []string{"-since", "2022-02-01"}, []string{"JB2022-0002"}},
		{"by verdict", []string{"-verdict", "rejected"}, []string{"JB2022-0003"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, secretEnv, append([]string{"receipts", "-json", "-config", p}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var rs []struct{ Receipt string }
			if err := json.Unmarshal([]byte(out), &rs); err != nil {
				t.Fatal(err)
			}
			var nums []string
			for _, r := range rs {
				nums = append(nums, r.Receipt)
			}
			if !slices.Equal(nums, tc.want) {
				t.Errorf("got %v, want %v", nums, tc.want)
			}
		})
	}
	t.Run("empty store prints []", func(t *testing.T) {
		code, out, _ := run(t, secretEnv, "receipts", "-json", "-config", testStore(t))
		if code != 0 || strings.TrimSpace(out) != "[]" {
			t.Errorf("exit %d, output %q", code, out)
		}
	})
	t.Run("table", func(t *testing.T) {
		code, out, _ := run(t, secretEnv, "receipts", "-config", p)
		if code != 0 || !strings.Contains(out, "2022-01-10 14:32") || !strings.Contains(out, "4 receipts") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("bad -since", func(t *testing.T) {
		if code, _, errOut := run(t, secretEnv, "receipts", "-since", "yesterday", "-config", p); code != 2 || !strings.Contains(errOut, "-since") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}

func TestStatusJSON(t *testing.T) {
	p := testStore(t, sampleReceipts()...)
	code, out, errOut := run(t, secretEnv, "status", "-json", "-config", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	// zjdh-study: one period; zjdh-monthly: four months, all opened long ago.
	if len(got) != 5 {
		t.Fatalf("%d periods, want 5", len(got))
	}
	states := map[string]map[string]any{}
	for _, ps := range got {
		for _, k := range periodKeys {
			if _, ok := ps[k]; !ok {
				t.Errorf("period %v lacks %q", ps["period"], k)
			}
		}
		units, ok := ps["units"].([]any)
		if !ok {
			t.Fatalf("units is %T", ps["units"])
		}
		for _, u := range units {
			um := u.(map[string]any)
			for _, k := range unitStateKeys {
				if _, ok := um[k]; !ok {
					t.Errorf("%v/%v unit %v lacks %q: %v", ps["campaign"], ps["period"], um["unit"], k, um)
				}
			}
			if ps["campaign"] == "zjdh-study" {
				states[um["unit"].(string)] = um
			}
		}
	}
	study := got[0]
	if study["campaign"] != "zjdh-study" || study["period"] != "2022-01" || study["due"] != "2022-01-31" {
		t.Errorf("first period: %v %v %v", study["campaign"], study["period"], study["due"])
	}
	for _, tc := range []struct{ unit, state, receipt, at string }{
		{"xinfu", "reported", "JB2022-0001", "2022-01-10T14:32:00+08:00"},
		{"yuanping", "late", "JB2022-0002", "2022-02-01T00:00:00+08:00"},
		{"dingxiang", "missing", "", ""},
	} {
		u := states[tc.unit]
		if u == nil {
			t.Errorf("no state for %s", tc.unit)
			continue
		}
		if u["state"] != tc.state || u["receipt"] != tc.receipt || u["at"] != tc.at {
			t.Errorf("%s: %v", tc.unit, u)
		}
	}
	if states["xinfu"]["name"] != "忻府区教育科技局" {
		t.Errorf("name %v", states["xinfu"]["name"])
	}
	t.Run("one campaign", func(t *testing.T) {
		code, out, _ := run(t, secretEnv, "status", "-json", "-campaign", "zjdh-monthly", "-config", p)
		var got []map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 4 {
			t.Errorf("exit %d, %d periods:\n%s", code, len(got), out)
		}
	})
	t.Run("unknown campaign", func(t *testing.T) {
		if code, _, errOut := run(t, secretEnv, "status", "-campaign", "nope", "-config", p); code != 2 || !strings.Contains(errOut, `"nope"`) {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("table", func(t *testing.T) {
		code, out, _ := run(t, secretEnv, "status", "-config", p)
		for _, w := range []string{"忻府区教育科技局", "已报送", "逾期报送", "未报送", "2 mails from unregistered senders"} {
			if !strings.Contains(out, w) {
				t.Errorf("exit %d, table lacks %q:\n%s", code, w, out)
			}
		}
	})
}

func TestAssign(t *testing.T) {
	p := testStore(t, sampleReceipts()...)
	code, out, errOut := run(t, secretEnv, "assign", "-config", p, "JB2022-0003", "dingxiang")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "JB2022-0003 → dingxiang") {
		t.Errorf("output %q", out)
	}
	r := readStore(t, p)[2]
	if r.Unit != "dingxiang" || r.Match != roster.MatchManual || r.Campaign != "zjdh-study" || r.Period != "2022-01" || r.Late {
		t.Errorf("after assign: unit %q match %q campaign %q period %q late %v", r.Unit, r.Match, r.Campaign, r.Period, r.Late)
	}
	code, out, _ = run(t, secretEnv, "status", "-json", "-campaign", "zjdh-study", "-config", p)
	if code != 0 || !strings.Contains(out, `"state": "rejected"`) {
		t.Errorf("dingxiang's rejected mail does not show in status:\n%s", out)
	}

	t.Run("learn", func(t *testing.T) {
		code, out, errOut := run(t, secretEnv, "assign", "-learn", "-config", p, "JB2022-0004", "yuanping")
		if code != 0 || !strings.Contains(out, "other@qq.com is now registered for yuanping") {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		a, err := openApp(&env{stdout: &strings.Builder{}, stderr: &strings.Builder{}, getenv: secretEnv}, p, false)
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		if u, how := a.R().Match("Other@QQ.com", "", "材料", nil); u != "yuanping" || how != roster.MatchAddress {
			t.Errorf("the next mail from the learned address matched %q %s, want yuanping address", u, how)
		}
		if u, _ := a.R().Match("someone@qq.com", "", "材料", nil); u != "" {
			t.Errorf("an address assigned without -learn matched %q", u)
		}
	})
	t.Run("learning an address registered to another unit", func(t *testing.T) {
		code, _, errOut := run(t, secretEnv, "assign", "-learn", "-config", p, "JB2022-0001", "dingxiang")
		if code != 1 || !strings.Contains(errOut, "xinfu-jky@example.cn is already registered to xinfu") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown unit", []string{"JB2022-0003", "nosuch"}, 2, `no unit has the id "nosuch"`},
		{"unknown receipt", []string{"JB2022-0099", "xinfu"}, 1, "JB2022-0099"},
		{"missing arguments", []string{"JB2022-0003"}, 2, "need a receipt number and a unit id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, secretEnv, append([]string{"assign", "-config", p}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d): %s", code, tc.code, errOut)
			}
		})
	}
}

func TestBackupCommand(t *testing.T) {
	p := testStore(t, sampleReceipts()...)
	dst := filepath.Join(t.TempDir(), "copy.db")
	code, out, errOut := run(t, secretEnv, "backup", "-config", p, dst)
	if code != 0 || !strings.Contains(out, "wrote "+dst) {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	st, err := store.Open(dst, store.Options{})
	if err != nil {
		t.Fatalf("the copy does not open: %v", err)
	}
	defer st.Close()
	rs, err := st.Receipts(nil)
	if err != nil || len(rs) != 4 || rs[3].Number != "JB2022-0004" {
		t.Errorf("copy holds %d receipts (%v)", len(rs), err)
	}
	if code, _, errOut := run(t, secretEnv, "backup", "-config", p); code != 2 || !strings.Contains(errOut, "need the file") {
		t.Errorf("backup without FILE: exit %d %s", code, errOut)
	}
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown command suggests the nearest", []string{"recipts"}, 2, `unknown command "recipts" (did you mean "receipts"?)`},
		{"unknown command suggests the nearest, 2", []string{"stauts"}, 2, `did you mean "status"?`},
		{"unknown command far from all", []string{"frobnicate"}, 2, `unknown command "frobnicate"; run 'briefd help'`},
		{"no command", nil, 2, ""},
		{"unknown flag", []string{"receipts", "-jsn"}, 2, "flag provided but not defined: -jsn"},
		{"config without check", []string{"config"}, 2, "config check"},
		{"config with another subcommand", []string{"config", "show"}, 2, "config check"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, secretEnv, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q lacks %q", code, tc.code, errOut, tc.want)
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		code, out, _ := run(t, secretEnv, "help")
		if code != 0 {
			t.Errorf("help exited %d", code)
		}
		for _, name := range commandNames() {
			if !strings.Contains(out, "  "+name+" ") {
				t.Errorf("help does not list %s:\n%s", name, out)
			}
		}
	})
	helps := [][]string{{"config", "-h"}, {"config", "check", "-h"}, {"-h"}, {"--help"}}
	for _, name := range commandNames() {
		if name != "config" {
			helps = append(helps, []string{name, "-h"})
		}
	}
	for _, args := range helps {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := run(t, noEnv, args...)
			if code != 0 {
				t.Errorf("exit %d, want 0: %s", code, errOut)
			}
			if !strings.Contains(out+errOut, "usage: briefd") {
				t.Errorf("no usage shown:\n%s%s", out, errOut)
			}
		})
	}
}

// TestFlagsAfterArguments: flags go before or after the arguments, as the README's quick start writes
// `briefd assign 回执编号 单位id -learn`; after "--" everything is an argument.
func TestFlagsAfterArguments(t *testing.T) {
	p := testStore(t, sampleReceipts()...)
	code, out, errOut := run(t, secretEnv, "assign", "JB2022-0004", "yuanping", "-learn", "-config", p)
	if code != 0 || !strings.Contains(out, "JB2022-0004 → yuanping") || !strings.Contains(out, "is now registered for yuanping") {
		t.Fatalf("assign RECEIPT UNIT -learn -config: exit %d: %s%s", code, out, errOut)
	}
	code, out, errOut = run(t, secretEnv, "resend", "JB2022-0001", "-config", p)
	if code != 0 || !strings.Contains(out, "queued") {
		t.Errorf("resend RECEIPT -config: exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = run(t, secretEnv, "receipts", "-config", p, "-json", "-unit", "yuanping")
	if code != 0 || !strings.Contains(out, "JB2022-0004") {
		t.Errorf("receipts with flags only: exit %d", code)
	}
	code, _, errOut = run(t, secretEnv, "resend", "-config", p, "--", "-JB2022-0001")
	if code != 1 || !strings.Contains(errOut, "-JB2022-0001") {
		t.Errorf("after --, a dash is an argument: exit %d: %s", code, errOut)
	}
	code, _, errOut = run(t, secretEnv, "assign", "JB2022-0004", "-learnn", "yuanping", "-config", p)
	if code != 2 || !strings.Contains(errOut, "flag provided but not defined: -learnn") {
		t.Errorf("an unknown flag after an argument: exit %d: %s", code, errOut)
	}
}
