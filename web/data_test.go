package web

import (
	"slices"
	"strings"
	"testing"
	"time"

	"briefd/store"
)

// The search finds what lower-casing every field with strings.ToLower would find, without doing it.
func TestMatches(t *testing.T) {
	fields := []string{
		"JB2022-0042", "关于学习贯彻全省职教大会精神的情况汇报", "ZhangSan1987@QQ.com", "张三", "情况汇报.PDF / 照片.jpg",
		"İstanbul", "273\u212A", "ΣΊΣΥΦΟΣ", "ＱＱ邮箱", "a\xffB", "",
	}
	queries := []string{
		"情况汇报", "jb2022", "JB2022-0042", "qq.com", "QQ.COM", "zhangsan", ".pdf", "istanbul", "i̇stanbul", "273k", "k",
		"σίσυφος", "ｑｑ", "ＱＱ", "邮箱", "b", "\xff", "x", " / 照片",
	}
	for _, f := range fields {
		for _, q := range queries {
			q = strings.ToLower(q)
			e := &store.Entry{Subject: f}
			want := strings.Contains(strings.ToLower(f), q)
			if got := matches(e, q, foldOf(q)); got != want {
				t.Errorf("matches(%q, %q) = %v, want %v", f, q, got, want)
			}
		}
	}
	e := &store.Entry{Number: "JB2022-0042", Subject: "简报", From: "Li.Si@163.com", FromName: "李四", Filenames: "a.pdf / B.PDF"}
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"jb2022-0042", true}, {"简报", true}, {"li.si@163", true}, {"李四", true}, {"b.pdf", true}, {"王五", false},
	} {
		if got := matches(e, tc.q, foldOf(tc.q)); got != tc.want {
			t.Errorf("matches(entry, %q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestNewestFirst(t *testing.T) {
	at := bj(2, 1, 10, 0)
	es := []*store.Entry{
		{Number: "JB2022-9999", Received: at},
		{Number: "JB2022-10000", Received: at},
		{Number: "JB2022-0001", Received: at.Add(-time.Minute)},
		{Number: "JB2022-0002", Received: at.Add(time.Minute)},
		{Number: "JA2022-5", Received: at},
	}
	newestFirst(es)
	var got []string
	for _, e := range es {
		got = append(got, e.Number)
	}
	want := []string{"JB2022-0002", "JB2022-10000", "JB2022-9999", "JA2022-5", "JB2022-0001"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
