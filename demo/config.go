package demo

import "briefd/roster"

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
