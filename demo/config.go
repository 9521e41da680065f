package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"briefd/config"
	"briefd/roster"
)

// Units are the demo's units: the county bureaus of 忻州, each with its registered address.
var Units = []roster.Unit{
	{ID: "xinfu", Name: "忻府区教育科技局", Aliases: []string{"忻府区"}, Emails: []string{"xinfu-jky@example.cn"}, Kind: "county"},
	{ID: "yuanping", Name: "原平市教育科技局", Emails: []string{"yuanping-jky@example.cn"}, Kind: "county"},
	{ID: "dingxiang", Name: "定襄县教育科技局", Emails: []string{"dingxiang-jky@example.cn"}, Kind: "county"},
	{ID: "wutai", Name: "五台县教育科技局", Emails: []string{"wutai-jky@example.cn"}, Kind: "county"},
	{ID: "daixian", Name: "代县教育科技局", Emails: []string{"daixian-jky@example.cn"}, Kind: "county"},
	{ID: "fanshi", Name: "繁峙县教育科技局", Emails: []string{"fanshi-jky@example.cn"}, Kind: "county"},
	{ID: "ningwu", Name: "宁武县教育科技局", Emails: []string{"ningwu-jky@example.cn"}, Kind: "county"},
	{ID: "jingle", Name: "静乐县教育科技局", Emails: []string{"jingle-jky@example.cn"}, Kind: "county"},
	{ID: "shenchi", Name: "神池县教育科技局", Emails: []string{"shenchi-jky@example.cn"}, Kind: "county"},
	{ID: "wuzhai", Name: "五寨县教育科技局", Emails: []string{"wuzhai-jky@example.cn"}, Kind: "county"},
	{ID: "kelan", Name: "岢岚县教育科技局", Emails: []string{"kelan-jky@example.cn"}, Kind: "county"},
}

// Config is the demo's config around now: its servers at imapAddr and smtpAddr (IMAP user "office"),
// its state in dir, a once campaign open for the last 20 days and due in 5, a monthly one, the summary
// due at once, the dashboard on webPort. It writes the IMAP password file into dir.
func Config(dir, imapAddr, smtpAddr string, webPort int, now time.Time) (*config.Config, error) {
	pass := filepath.Join(dir, "imap.pass")
	if err := os.WriteFile(pass, []byte("demo-imap-password\n"), 0o600); err != nil {
		return nil, err
	}
	loc := time.FixedZone("CST", 8*3600)
	now = now.In(loc)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	c := config.Default()
	c.Office = config.OfficeConfig{Name: "忻州市教育局职业教育科（演示）", Address: SampleOffice, Contact: "职教科 0350-0000000（演示）",
		SummaryTo: []string{"head@example.cn"}, Timezone: "Asia/Shanghai"}
	c.IMAP.Server, c.IMAP.Security, c.IMAP.Username = imapAddr, "plain", "office"
	c.IMAP.Secret = config.Secret{PasswordFile: pass}
	c.SMTP.Server, c.SMTP.Security, c.SMTP.Secret = smtpAddr, "plain", config.Secret{}
	c.Store = config.StoreConfig{Path: filepath.Join(dir, "briefd.db"), Archive: filepath.Join(dir, "archive"), Spool: filepath.Join(dir, "spool")}
	c.Web.Listen = fmt.Sprintf("127.0.0.1:%d", webPort)
	c.Summary = config.SummaryConfig{Weekday: strings.ToLower(now.Weekday().String()), At: "00:00"}
	c.Log.Level = "warn"
	c.Units = Units
	c.Campaigns = []config.CampaignConfig{
		{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Units: config.UnitList{"all"}, Opens: day(now.AddDate(0, 0, -20)),
			Due: day(now.AddDate(0, 0, 5)), Keywords: []string{"学习贯彻", "职教大会精神"}},
		{ID: "zjdh-monthly", Title: "职业教育大会筹备召开情况", Units: config.UnitList{"xinfu", "yuanping"},
			Opens: day(time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, loc)), Every: "month",
			Until: day(time.Date(now.Year(), now.Month()+3, 0, 0, 0, 0, 0, loc)), Keywords: []string{"筹备", "召开情况"}},
	}
	return &c, nil
}
