package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestProviderDomain(t *testing.T) {
	for host, want := range map[string]string{
		"imap.163.com": "163.com", "imap.qiye.163.com": "163.com", "imap.qq.com": "qq.com", "imap.exmail.qq.com": "qq.com",
		"mail.example.com.cn": "example.com.cn", "mail.jyj.xinzhou.gov.cn": "xinzhou.gov.cn", "127.0.0.1": "", "::1": "",
		"localhost": "", "IMAP.163.COM.": "163.com",
	} {
		if got := providerDomain(host); got != want {
			t.Errorf("providerDomain(%q) = %q, want %q", host, got, want)
		}
	}
}

// TestExampleHasEveryKey: config.example.yaml names every key of the config (set, or commented out), and
// what it sets is the default, so that it stays the reference the README says it is.
func TestExampleHasEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	set := map[string]*yaml.Node{} // dotted key -> value, of what the example sets
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := join(prefix, n.Content[i].Value)
			set[k] = n.Content[i+1]
			walk(n.Content[i+1], k)
		}
	}
	walk(doc.Content[0], "")
	commented := map[string]bool{} // keys only named in a comment ("# move_to: 已处理"), by their name
	for _, m := range regexp.MustCompile(`(?m)^\s*#\s*([a-z_]+):`).FindAllStringSubmatch(string(data), -1) {
		commented[m[1]] = true
	}
	// The example's own office, servers and addresses are examples; where a default exists, it is shown.
	examples := map[string]bool{"imap.server": true, "imap.username": true, "smtp.server": true, "smtp.username": true,
		"office.name": true, "office.address": true, "office.contact": true, "office.summary_to": true}
	var problems []string
	var check func(t reflect.Type, v reflect.Value, prefix string)
	check = func(t reflect.Type, v reflect.Value, prefix string) {
		for name, ft := range yamlFields(t) {
			key := join(prefix, name)
			if key == "units" || key == "campaigns" {
				continue // the office's own lists: the example shows some
			}
			node, ok := set[key]
			if !ok && !commented[name] {
				problems = append(problems, key+": not in config.example.yaml, neither set nor commented out")
				continue
			}
			fv := fieldByYAML(v, name)
			if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(yamlUnmarshaler) {
				check(ft, fv, key)
				continue
			}
			if ok && !examples[key] && fv.IsValid() && !fv.IsZero() {
				want, _ := yaml.Marshal(fv.Interface())
				var got any
				node.Decode(&got)
				gotText, _ := yaml.Marshal(got)
				if strings.TrimSpace(string(want)) != strings.TrimSpace(string(gotText)) {
					problems = append(problems, fmt.Sprintf("%s: the example sets %s, the default is %s", key,
						strings.TrimSpace(string(gotText)), strings.TrimSpace(string(want))))
				}
			}
		}
	}
	check(reflect.TypeOf(Config{}), reflect.ValueOf(Default()), "")
	for _, p := range problems {
		t.Error(p)
	}
}

// fieldByYAML returns the field of struct v whose yaml name is name, looking into inline fields.
func fieldByYAML(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			if fv := fieldByYAML(v.Field(i), name); fv.IsValid() {
				return fv
			}
			continue
		}
		if tag == name {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// TestStorePath: the database path read alone is the one Load resolves, written in block or flow style,
// through an alias, or left to its default; a file that does not say it clearly gives nothing.
func TestStorePath(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"example", string(example), ""},
		{"block", "office:\n  name: x\nstore:\n  path: /var/lib/briefd/b.db\n  archive: a\n", "/var/lib/briefd/b.db"},
		{"flow", `store: {path: "/srv/briefd.db", archive: a}`, "/srv/briefd.db"},
		{"alias", "x: &p /srv/alias.db\nstore:\n  path: *p\n", "/srv/alias.db"},
		{"default", "office: {name: x}\n", Default().Store.Path},
		{"store without path", "store: {archive: a}\n", Default().Store.Path},
	} {
		p := write(c.name+".yaml", c.text)
		got, ok := StorePath(p)
		want := c.want
		if want == "" { // as Load resolves it
			cfg, err := Load(p, func(string) string { return "" }, false)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			want = cfg.Store.Path
		}
		if !ok || got != want {
			t.Errorf("%s: StorePath = %q %v, want %q", c.name, got, ok, want)
		}
	}
	for _, c := range []struct{ name, text string }{
		{"not yaml", "store: [path: x\n"},
		{"store is a word", "store: b.db\n"},
		{"empty path", "store: {path: \"\"}\n"},
	} {
		if got, ok := StorePath(write(c.name+".yaml", c.text)); ok {
			t.Errorf("%s: StorePath = %q, true", c.name, got)
		}
	}
	if got, ok := StorePath(dir + "/missing.yaml"); ok {
		t.Errorf("a missing file: StorePath = %q, true", got)
	}
}
