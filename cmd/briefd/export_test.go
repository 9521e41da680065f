package main

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"briefd/internal/mailtest"
)

// hostileConfig is baseConfig with a unit whose name is a spreadsheet formula and a summary recipient.
func hostileConfig(t *testing.T) string {
	t.Helper()
	text := strings.Replace(baseConfig, "  timezone: Asia/Shanghai", "  timezone: Asia/Shanghai\n  summary_to: [head@example.cn]", 1)
	text = strings.Replace(text, "campaigns:", `  - {id: evil, name: '=HYPERLINK("http://x","y")', emails: [evil@example.cn], kind: school}
campaigns:`, 1)
	p := writeConfig(t, text)
	createStore(t, p)
	return p
}

func TestExportCommand(t *testing.T) {
	p := hostileConfig(t)
	dir := t.TempDir()
	xlsx := filepath.Join(dir, "out.xlsx")
	if code, _, errOut := run(t, secretEnv, "export", "-o", xlsx, "-config", p); code != 0 {
		t.Fatalf("export xlsx exit %d: %s", code, errOut)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) < 3 || sheets[0] != "概览" || sheets[1] != "zjdh-study 2022-01" {
		t.Fatalf("sheets %q", sheets)
	}
	rows, _ := f.GetRows("zjdh-study 2022-01")
	found := false
	for _, r := range rows {
		if r[0] == "evil" {
			found = true
			if r[1] != `'=HYPERLINK("http://x","y")` {
				t.Errorf("unit name cell %q not neutralised", r[1])
			}
			if fm, _ := f.GetCellFormula("zjdh-study 2022-01", "B"+fmt.Sprint(len(rows))); fm != "" {
				t.Errorf("formula %q in the sheet", fm)
			}
		}
	}
	if !found {
		t.Error("no row for unit evil")
	}

	csvPath := filepath.Join(dir, "out.csv")
	if code, _, errOut := run(t, secretEnv, "export", "-format", "csv", "-o", csvPath, "-campaign", "zjdh-study", "-config", p); code != 0 {
		t.Fatalf("export csv exit %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) {
		t.Error("csv has no BOM")
	}
	if !bytes.Contains(raw, []byte("\r\n")) || bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
		t.Error("csv lines do not all end in CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+4 { // header + 4 units of the once campaign
		t.Errorf("%d csv rows", len(recs))
	}
	for _, r := range recs {
		if r[4] == "evil" && r[5] != `'=HYPERLINK("http://x","y")` {
			t.Errorf("csv name %q", r[5])
		}
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "-o", filepath.Join(dir, "x.pdf")}, 2, "use xlsx or csv"},
		{[]string{"export"}, 2, "-o FILE is required"},
		{[]string{"export", "-o", filepath.Join(dir, "x.csv"), "-campaign", "nope"}, 2, "no campaign"},
		{[]string{"export", "-o", filepath.Join(dir, "x.csv"), "-table", "units"}, 2, "status or receipts"},
	} {
		code, _, errOut := run(t, secretEnv, append(c.args, "-config", p)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q; want %d %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); err == nil {
		t.Error("a failed export left a file")
	}
}

func TestSummaryCommand(t *testing.T) {
	p := hostileConfig(t)
	code, out, errOut := run(t, secretEnv, "summary", "-config", p)
	if code != 0 || !strings.Contains(out, "报送情况周报") || !strings.Contains(out, "服务状态") || !strings.Contains(errOut, "-send queues it now") {
		t.Fatalf("summary exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = run(t, secretEnv, "summary", "-send", "-config", p)
	if code != 0 || !strings.Contains(errOut, "queued the summary to 1 recipient") {
		t.Fatalf("summary -send exit %d: %s", code, errOut)
	}
	// Sent again on request: -send does not look at the mark.
	if code, _, errOut = run(t, secretEnv, "summary", "-send", "-config", p); code != 0 {
		t.Fatalf("second -send exit %d: %s", code, errOut)
	}
	_, _, errOut = run(t, secretEnv, "summary", "-config", p)
	if !strings.Contains(errOut, "queued at") {
		t.Errorf("summary does not say this week's was queued: %s", errOut)
	}
	// Without recipients -send is a usage error.
	if code, _, errOut := run(t, secretEnv, "summary", "-send", "-config", testStore(t)); code != 2 || !strings.Contains(errOut, "summary_to") {
		t.Errorf("-send without summary_to: exit %d %s", code, errOut)
	}
}

// TestInternalDate: mails whose Date header says 1970 or 2099 are placed by the server's INTERNALDATE:
// they count for the period open now, on time. Then `summary -send` and `poll` deliver the summary
// through the outbox to a real SMTP conversation, once.
func TestInternalDate(t *testing.T) {
	imapSrv := mailtest.NewIMAP(t, mailtest.IMAPOptions{User: "office", Pass: "demo-imap-password"})
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	now := time.Now()
	pdf := base64.StdEncoding.EncodeToString(mailtest.PDF(2, "jianbao"))
	for i, c := range []struct{ from, date string }{
		{"xinfu-jky@example.cn", "Thu, 01 Jan 1970 00:00:00 +0000"},
		{"yuanping-jky@example.cn", "Fri, 31 Dec 2099 23:59:59 +0800"},
	} {
		raw := fmt.Sprintf("From: <%s>\r\nTo: %s\r\nSubject: =?UTF-8?B?%s?=\r\nDate: %s\r\nMessage-ID: <date%d@example.org>\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"+
			"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
			c.from, mailtest.SampleOffice, base64.StdEncoding.EncodeToString([]byte("学习贯彻简报")), c.date, i, pdf)
		if _, err := imapSrv.Append("INBOX", []byte(raw), now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	cfgPath, err := writeDemoConfig(dir, imapSrv.Addr, sink.Addr(), now)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, secretEnv, "poll", "-config", cfgPath); code != 0 {
		t.Fatalf("poll exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := run(t, secretEnv, "receipts", "-json", "-config", cfgPath)
	if code != 0 {
		t.Fatalf("receipts: %s", errOut)
	}
	var rs []struct {
		Received time.Time `json:"received"`
		Campaign string    `json:"campaign"`
		Late     bool      `json:"late"`
		Verdict  string    `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d receipts", len(rs))
	}
	for i, r := range rs {
		if d := r.Received.Sub(now.Add(-time.Hour)); d < -time.Second || d > time.Second {
			t.Errorf("receipt %d: received %s, want the INTERNALDATE %s", i, r.Received, now.Add(-time.Hour))
		}
		if r.Campaign != "zjdh-study" || r.Late || r.Verdict != "accepted" {
			t.Errorf("receipt %d: %+v", i, r)
		}
	}
	_, out, _ = run(t, secretEnv, "status", "-json", "-campaign", "zjdh-study", "-config", cfgPath)
	if strings.Count(out, `"state": "reported"`) != 2 {
		t.Errorf("status does not show both as reported:\n%s", out)
	}

	replies := len(sink.Messages())
	if code, _, errOut := run(t, secretEnv, "summary", "-send", "-config", cfgPath); code != 0 {
		t.Fatalf("summary -send: %s", errOut)
	}
	for range 2 {
		if code, out, errOut := run(t, secretEnv, "poll", "-config", cfgPath); code != 0 {
			t.Fatalf("poll exit %d\n%s%s", code, out, errOut)
		}
	}
	msgs := sink.Messages()[replies:]
	if len(msgs) != 1 || msgs[0].To[0] != "head@example.cn" || !bytes.Contains(msgs[0].Data, []byte("Auto-Submitted: auto-generated")) {
		t.Fatalf("%d mails after summary -send", len(msgs))
	}
}
