package robottest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"briefd/robot/robottest"
)

// The fakes are tested with requests made by hand, not by package robot: they must refuse what the
// services refuse whoever sends it.

type answer struct {
	Status  int
	ErrCode *int `json:"errcode"`
	Code    *int `json:"code"`
}

func (a answer) code() int {
	switch {
	case a.ErrCode != nil:
		return *a.ErrCode
	case a.Code != nil:
		return *a.Code
	}
	return -999
}

func send(t *testing.T, method, u, ctype, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode}
	json.Unmarshal(b, &a)
	return a
}

const jsonType = "application/json; charset=utf-8"

func TestWeComFake(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	s := robottest.New(t, robottest.WeCom, "k1", robottest.Options{Now: func() time.Time { return now }})
	md := func(content string) string {
		b, _ := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": content}})
		return string(b)
	}
	tests := []struct {
		name   string
		method string
		url    string
		ctype  string
		body   string
		code   int
	}{
		{"markdown", "POST", s.URL(), jsonType, md("**报送**"), 0},
		{"text", "POST", s.URL(), jsonType, `{"msgtype":"text","text":{"content":"报送"}}`, 0},
		{"markdown at 4096 bytes", "POST", s.URL(), jsonType, md(strings.Repeat("报", 1365) + "a"), 0},
		{"markdown at 4097 bytes", "POST", s.URL(), jsonType, md(strings.Repeat("报", 1365) + "ab"), 40058},
		{"text over 2048 bytes", "POST", s.URL(), jsonType, `{"msgtype":"text","text":{"content":"` + strings.Repeat("报", 683) + `"}}`, 40058},
		{"wrong key", "POST", strings.Replace(s.URL(), "key=k1", "key=k2", 1), jsonType, md("x"), 93000},
		{"no key", "POST", strings.Replace(s.URL(), "?key=k1", "", 1), jsonType, md("x"), 93000},
		{"unknown msgtype", "POST", s.URL(), jsonType, `{"msgtype":"news","news":{}}`, 40008},
		{"empty content", "POST", s.URL(), jsonType, md(""), 40058},
		{"not JSON", "POST", s.URL(), jsonType, `msgtype=text`, 40058},
		{"form content type", "POST", s.URL(), "application/x-www-form-urlencoded", md("x"), 40058},
		{"GET", "GET", s.URL(), "", "", 405},
	}
	for _, tc := range tests {
		if a := send(t, tc.method, tc.url, tc.ctype, tc.body); a.code() != tc.code {
			t.Errorf("%s: code %d (HTTP %d), want %d", tc.name, a.code(), a.Status, tc.code)
		}
	}
	if n := len(s.Accepted()); n != 3 {
		t.Errorf("accepted %d, want 3", n)
	}
	// Its rate: 20 accepted in the minute, the next is refused.
	for i := 3; i < 20; i++ {
		if a := send(t, "POST", s.URL(), jsonType, md("x")); a.code() != 0 {
			t.Fatalf("post %d refused: %d", i, a.code())
		}
	}
	if a := send(t, "POST", s.URL(), jsonType, md("x")); a.code() != 45009 {
		t.Errorf("21st post in a minute: %d, want 45009", a.code())
	}
	now = now.Add(time.Minute)
	if a := send(t, "POST", s.URL(), jsonType, md("x")); a.code() != 0 {
		t.Errorf("a minute later: %d", a.code())
	}
}

func dingSign(secret string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d\n%s", ts, secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestDingTalkFake(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	const secret = "SECtest"
	s := robottest.New(t, robottest.DingTalk, "tok", robottest.Options{Secret: secret, Keywords: []string{"报送"},
		Now: func() time.Time { return now }})
	body := `{"msgtype":"markdown","markdown":{"title":"报送周报","text":"### 报送周报"}}`
	signed := func(ts int64, sign string, encode bool) string {
		if encode {
			sign = url.QueryEscape(sign)
		}
		return s.URL() + "&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + sign
	}
	ts := now.UnixMilli()
	// A timestamp whose signature has a + in it, to see that it must be percent-encoded.
	plus := ts
	for !strings.Contains(dingSign(secret, plus), "+") {
		plus++
	}
	tests := []struct {
		name string
		url  string
		body string
		code int
	}{
		{"signed", signed(ts, dingSign(secret, ts), true), body, 0},
		{"signed, + encoded", signed(plus, dingSign(secret, plus), true), body, 0},
		{"signed, + not encoded", signed(plus, dingSign(secret, plus), false), body, 310000},
		{"59 minutes old", signed(ts-59*60000, dingSign(secret, ts-59*60000), true), body, 0},
		{"61 minutes old", signed(ts-61*60000, dingSign(secret, ts-61*60000), true), body, 310000},
		{"61 minutes ahead", signed(ts+61*60000, dingSign(secret, ts+61*60000), true), body, 310000},
		{"timestamp in seconds", signed(ts/1000, dingSign(secret, ts/1000), true), body, 310000},
		{"tampered timestamp", signed(ts+1, dingSign(secret, ts), true), body, 310000},
		{"wrong secret", signed(ts, dingSign("SECother", ts), true), body, 310000},
		{"unsigned", s.URL(), body, 310000},
		{"wrong token", strings.Replace(signed(ts, dingSign(secret, ts), true), "=tok", "=tok2", 1), body, 300001},
		{"no keyword", signed(ts, dingSign(secret, ts), true), `{"msgtype":"markdown","markdown":{"title":"周报","text":"周报"}}`, 310000},
		{"markdown without title", signed(ts, dingSign(secret, ts), true), `{"msgtype":"markdown","markdown":{"text":"报送"}}`, 40035},
		{"title over 64", signed(ts, dingSign(secret, ts), true), `{"msgtype":"markdown","markdown":{"title":"报送` + strings.Repeat("报", 63) + `","text":"报送"}}`, 40035},
		{"text over 5000", signed(ts, dingSign(secret, ts), true), `{"msgtype":"text","text":{"content":"报送` + strings.Repeat("报", 4999) + `"}}`, 40035},
	}
	for _, tc := range tests {
		if a := send(t, "POST", tc.url, jsonType, tc.body); a.code() != tc.code {
			t.Errorf("%s: code %d (HTTP %d), want %d", tc.name, a.code(), a.Status, tc.code)
		}
	}
	// Over 20 in a minute: refused, and held for 10 minutes.
	for i := len(s.Accepted()); i < 20; i++ {
		if a := send(t, "POST", signed(ts, dingSign(secret, ts), true), jsonType, body); a.code() != 0 {
			t.Fatalf("post %d: %d", i, a.code())
		}
	}
	if a := send(t, "POST", signed(ts, dingSign(secret, ts), true), jsonType, body); a.code() != 130101 {
		t.Errorf("21st: %d, want 130101", a.code())
	}
	now = now.Add(5 * time.Minute)
	if a := send(t, "POST", signed(now.UnixMilli(), dingSign(secret, now.UnixMilli()), true), jsonType, body); a.code() != 130101 {
		t.Errorf("5 minutes later, still held: %d", a.code())
	}
	now = now.Add(6 * time.Minute)
	if a := send(t, "POST", signed(now.UnixMilli(), dingSign(secret, now.UnixMilli()), true), jsonType, body); a.code() != 0 {
		t.Errorf("11 minutes later: %d", a.code())
	}
}

func feishuSign(secret string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(fmt.Sprintf("%d\n%s", ts, secret)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestFeishuFake(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	const secret = "SECfs"
	s := robottest.New(t, robottest.Feishu, "hook-1", robottest.Options{Secret: secret, Now: func() time.Time { return now }})
	ts := now.Unix()
	card := func(ts any, sign string, content string) string {
		b, _ := json.Marshal(map[string]any{"timestamp": ts, "sign": sign, "msg_type": "interactive",
			"card": map[string]any{"header": map[string]any{"title": map[string]string{"tag": "plain_text", "content": "报送"}},
				"elements": []any{map[string]string{"tag": "markdown", "content": content}}}})
		return string(b)
	}
	tsStr := strconv.FormatInt(ts, 10)
	ok := card(tsStr, feishuSign(secret, ts), "**报送**")
	old := ts - 3601
	tests := []struct {
		name string
		url  string
		body string
		code int
	}{
		{"card", s.URL(), ok, 0},
		{"text", s.URL(), `{"timestamp":"` + tsStr + `","sign":"` + feishuSign(secret, ts) + `","msg_type":"text","content":{"text":"报送"}}`, 0},
		{"post", s.URL(), `{"timestamp":"` + tsStr + `","sign":"` + feishuSign(secret, ts) + `","msg_type":"post","content":{"post":{"zh_cn":{}}}}`, 0},
		{"an hour and a second old", s.URL(), card(strconv.FormatInt(old, 10), feishuSign(secret, old), "x"), 19021},
		{"timestamp as a number", s.URL(), card(ts, feishuSign(secret, ts), "x"), 19021},
		{"DingTalk's signature", s.URL(), card(tsStr, dingSign(secret, ts), "x"), 19021},
		{"unsigned", s.URL(), `{"msg_type":"text","content":{"text":"报送"}}`, 19021},
		{"wrong hook", strings.Replace(s.URL(), "hook-1", "hook-2", 1), ok, 19001},
		{"card without elements", s.URL(), `{"timestamp":"` + tsStr + `","sign":"` + feishuSign(secret, ts) + `","msg_type":"interactive","card":{"elements":[]}}`, 9499},
		{"unknown msg_type", s.URL(), `{"timestamp":"` + tsStr + `","sign":"` + feishuSign(secret, ts) + `","msg_type":"markdown","content":{"text":"x"}}`, 9499},
		{"body over 20 KB", s.URL(), card(tsStr, feishuSign(secret, ts), strings.Repeat("报", 7000)), 9499},
	}
	for _, tc := range tests {
		if a := send(t, "POST", tc.url, jsonType, tc.body); a.code() != tc.code {
			t.Errorf("%s: code %d (HTTP %d), want %d", tc.name, a.code(), a.Status, tc.code)
		}
	}
	// 5 a second: three were accepted at this instant, two more are, the sixth is not.
	for range 2 {
		if a := send(t, "POST", s.URL(), jsonType, ok); a.code() != 0 {
			t.Fatalf("refused: %d", a.code())
		}
	}
	if a := send(t, "POST", s.URL(), jsonType, ok); a.code() != 11232 {
		t.Errorf("6th in a second: %d, want 11232", a.code())
	}
}

func TestForced(t *testing.T) {
	s := robottest.New(t, robottest.WeCom, "k", robottest.Options{})
	s.Next(robottest.RateLimited, robottest.ServerError, robottest.InvalidKey)
	body := `{"msgtype":"text","text":{"content":"x"}}`
	for _, want := range []int{45009, -999, 93000, 0} {
		a := send(t, "POST", s.URL(), jsonType, body)
		if a.code() != want || want == -999 && a.Status != 500 {
			t.Errorf("code %d HTTP %d, want %d", a.code(), a.Status, want)
		}
	}
	if n := len(s.Refused()); n != 3 {
		t.Errorf("%d refusals recorded, want 3", n)
	}
}
