package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	corpus := filepath.Join("..", "..", "pdfcheck", "testdata", "corpus")
	good := filepath.Join(corpus, "valid-cjk.pdf")
	owner := filepath.Join(corpus, "enc-owner-aes256.pdf")
	word := filepath.Join(corpus, "word-docx.pdf")
	locked := filepath.Join(corpus, "enc-user-aes256.pdf")

	t.Run("all ok exits 0", func(t *testing.T) {
		code, out, errOut := run(t, noEnv, "check", good, owner)
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if !strings.Contains(out, "ok (encrypted)") || !strings.Contains(out, "valid-cjk.pdf") {
			t.Errorf("table:\n%s", out)
		}
	})
	t.Run("rejects exit 1 with the Chinese reason", func(t *testing.T) {
		code, out, errOut := run(t, noEnv, "check", good, word, locked)
		if code != 1 || !strings.Contains(errOut, "2 of 3 files rejected") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		if !strings.Contains(out, "附件是Word文档") || !strings.Contains(out, "PDF设置了打开密码") {
			t.Errorf("table:\n%s", out)
		}
	})
	t.Run("json, flag after the files", func(t *testing.T) {
		code, out, _ := run(t, noEnv, "check", good, word, "-json")
		if code != 1 {
			t.Errorf("exit %d", code)
		}
		var got []map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if len(got) != 2 {
			t.Fatalf("got %d results", len(got))
		}
		for _, key := range []string{"file", "kind", "verdict", "pages", "encrypted", "reason"} {
			if _, ok := got[0][key]; !ok {
				t.Errorf("no %q in %v", key, got[0])
			}
		}
		if len(got[0]) != 6 {
			t.Errorf("fields beyond the contract: %v", got[0])
		}
		if got[0]["verdict"] != "ok" || got[0]["pages"] != 2.0 || got[1]["reason"] != "not_pdf_word" || got[1]["kind"] != "docx" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("bad usage exits 2", func(t *testing.T) {
		if code, _, errOut := run(t, noEnv, "check"); code != 2 || !strings.Contains(errOut, "no files") {
			t.Errorf("no files: exit %d, %q", code, errOut)
		}
		if code, _, _ := run(t, noEnv, "check", "-nosuchflag", good); code != 2 {
			t.Errorf("bad flag: exit %d", code)
		}
	})
}
