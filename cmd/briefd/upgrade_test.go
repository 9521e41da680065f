package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"briefd/store"
)

// TestUpgrade opens databases written by the briefd of each older schema (testdata/schema1, schema2):
// each is backed up, migrated, and shows the same receipts and status as that briefd printed.
func TestUpgrade(t *testing.T) {
	for _, v := range []int{1, 2} {
		t.Run(fmt.Sprintf("schema%d", v), func(t *testing.T) { testUpgrade(t, v) })
	}
}

func testUpgrade(t *testing.T, schema int) {
	dir := t.TempDir()
	fixture := fmt.Sprintf("testdata/schema%d/", schema)
	db, err := os.ReadFile(fixture + "briefd.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "briefd.db"), db, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(fixture + "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(string(cfg), "DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errs := run(t, os.Getenv, "receipts", "-json", "-config", cfgPath)
	if code != 0 {
		t.Fatalf("receipts: exit %d: %s", code, errs)
	}
	var got, want []map[string]any
	readJSON(t, []byte(out), &got)
	readJSON(t, mustRead(t, fixture+"receipts.json"), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("receipts after the upgrade differ from what schema %d showed:\n%s", schema, out)
	}

	code, out, errs = run(t, os.Getenv, "status", "-json", "-config", cfgPath)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	var gotS, wantS []map[string]any
	readJSON(t, []byte(out), &gotS)
	readJSON(t, mustRead(t, fixture+"status.json"), &wantS)
	// Periods that opened since the fixture was made may be added; those it shows must be the same.
	byPeriod := map[string]any{}
	for _, p := range gotS {
		byPeriod[p["campaign"].(string)+" "+p["period"].(string)] = p
	}
	// Keys added since (a unit's latest receipt) may be there too; those the old briefd printed must be the same.
	for _, w := range wantS {
		k := w["campaign"].(string) + " " + w["period"].(string)
		if !contains(byPeriod[k], w) {
			t.Errorf("status of %s after the upgrade: %v, want %v", k, byPeriod[k], w)
		}
	}

	if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("briefd.db.schema%d.bak", schema))); err != nil {
		t.Errorf("no backup of the schema %d database: %v", schema, err)
	}
	st, err := store.Open(filepath.Join(dir, "briefd.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, err := st.Schema(); err != nil || v != store.SchemaVersion {
		t.Errorf("schema %d (%v) after the upgrade, want %d", v, err, store.SchemaVersion)
	}
}

func readJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// contains reports whether got has every key of want with the same value, in maps and lists of maps at
// any depth (more keys in got are fine).
func contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !contains(g[k], v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !contains(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}
