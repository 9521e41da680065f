package office

import (
	"testing"
	"time"

	"briefd/roster"
)

func TestCampaignState(t *testing.T) {
	today := roster.DateOf(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		c    CampaignInfo
		want string
	}{
		{CampaignInfo{Opens: "2026-12-03", Due: "2026-12-31"}, "未开始"},
		{CampaignInfo{Opens: "2026-12-02", Due: "2026-12-02"}, "进行中"},
		{CampaignInfo{Opens: "2026-11-01", Due: "2026-12-01"}, "已截止"},
		{CampaignInfo{Opens: "2026-01-01", Every: "month", Due: "2026-11-30", Until: "2027-12-31"}, "进行中"},
		{CampaignInfo{Opens: "2026-01-01", Every: "month", Until: "2026-11-30"}, "已截止"},
		{CampaignInfo{Opens: "2026-11-01", Due: "2026-12-31", Closed: "2026-12-01"}, "已关闭"},
	} {
		if got := StateZH(tc.c.State(today)); got != tc.want {
			t.Errorf("%+v on %s: %s, want %s", tc.c, today, got, tc.want)
		}
	}
	m := CampaignInfo{Every: "month", Until: "2027-12-31"}
	if got := m.ScheduleZH(); got != "每月月底，至 2027-12-31" {
		t.Errorf("monthly schedule %q", got)
	}
}

func TestUnitsZH(t *testing.T) {
	ros, err := roster.New([]roster.Unit{{ID: "xinfu", Name: "忻府区教育科技局", Kind: "county"}}, nil, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		units []string
		want  string
	}{
		{nil, "全部单位"},
		{[]string{"kind:county", "kind:school"}, "所有县（市、区）、所有学校"},
		{[]string{"xinfu", "gone"}, "忻府区教育科技局、gone"},
	} {
		if got := UnitsZH(ros, tc.units); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.units, got, tc.want)
		}
	}
	if DefinedInZH(SourceConfig) != "配置文件" || DefinedInZH(SourceChanged) != "网页或命令修改" || KindZH("") != "其他" {
		t.Error("source or kind words")
	}
}
