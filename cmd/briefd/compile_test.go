package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"briefd/internal/mailtest"
)

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (CI is set, so this is a failure)", name)
		}
		t.Skipf("%s is not installed", name)
	}
}

// TestCompileCommand: the booklet of a period from mail received on Dovecot, checked with poppler: a
// page for the cover, the contents, each reporting unit's latest files (a corrected version replaces the
// first), their names and states findable; the zip has the same files under readable names.
func TestCompileCommand(t *testing.T) {
	needTool(t, "pdfinfo")
	needTool(t, "pdftotext")
	d := mailtest.NewDovecot(t)
	sink := mailtest.NewSink(t, mailtest.SinkOptions{})
	dir := t.TempDir()
	cfgPath := writeRelConfig(t, dir, &relConfig{IMAP: d.Addr, SMTP: sink.Addr(), User: d.User, Pass: d.Pass})
	at := time.Now().Add(-3 * time.Hour)
	send := func(from, subject, id string, pdf []byte) {
		t.Helper()
		if _, err := d.Append("INBOX", mailtest.MailWithPDF("单位", from, subject, at, id, id+".pdf", pdf), at); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Minute)
	}
	send("xinfu-jky@example.cn", "学习贯彻全省职教大会精神情况简报", "x1", mailtest.PDF(3, "Xinfu first"))
	send("xinfu-jky@example.cn", "学习贯彻全省职教大会精神情况简报（更正）", "x2", mailtest.PDF(5, "Xinfu corrected"))
	send("wutai-jky@example.cn", "学习贯彻全省职教大会精神情况简报", "w1", mailtest.PDF(2, "Wutai"))
	send("yuanping-jky@example.cn", "学习贯彻全省职教大会精神情况简报", "y1", mailtest.PDF(2, "Yuanping")[:300]) // damaged
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runMain(context.Background(), &env{stdout: &out, stderr: &errb, getenv: noEnv}, append(args, "-config", cfgPath))
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("poll"); code != 0 {
		t.Fatalf("poll: %s", errs)
	}
	base := filepath.Join(dir, "汇编")
	code, out, errs := run("compile", "-campaign", "zjdh-study", "-o", base, "-page-numbers")
	if code != 0 {
		t.Fatalf("compile: exit %d\n%s%s", code, out, errs)
	}
	t.Logf("%s%s", out, errs)
	info, err := exec.Command("pdfinfo", base+".pdf").CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, info)
	}
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(info)
	pages, _ := strconv.Atoi(string(m[1]))
	if pages != 1+1+5+2 { // cover, contents, 忻府区's corrected 5 pages, 五台县's 2
		t.Errorf("the booklet has %d pages, want 9", pages)
	}
	text, err := exec.Command("pdftotext", "-f", "1", "-l", "2", base+".pdf", "-").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"学习贯彻全省职教大会精神情况简报", "忻府区教育科技局", "五台县教育科技局", "原平市教育科技局", "代县教育科技局",
		"已报送", "未通过", "未报送"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("cover and contents lack %q:\n%s", want, text)
		}
	}
	body, _ := exec.Command("pdftotext", "-f", "3", "-l", "3", base+".pdf", "-").CombinedOutput()
	if !bytes.Contains(body, []byte("Xinfu corrected")) || bytes.Contains(body, []byte("Xinfu first")) {
		t.Errorf("the booklet does not carry the latest version of 忻府区's briefing:\n%s", body)
	}
	zr, err := zip.OpenReader(base + ".zip")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	all := strings.Join(names, " ")
	if len(names) != 3 || !strings.Contains(all, "忻府区教育科技局") || !strings.Contains(all, "清单.csv") {
		t.Errorf("zip holds %q", names)
	}

	if code, _, errs := run("compile", "-campaign", "nope", "-o", base); code != 2 || !strings.Contains(errs, "zjdh-study") {
		t.Errorf("an unknown campaign: exit %d: %s", code, errs)
	}
	if code, _, errs := run("compile", "-campaign", "zjdh-study", "-period", "1999-01", "-o", base); code != 2 || !strings.Contains(errs, "periods:") {
		t.Errorf("an unknown period: exit %d: %s", code, errs)
	}
}
