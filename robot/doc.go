// Package robot posts briefd's messages to the office's group chat through a group robot's webhook:
// 企业微信 (WeCom) 群机器人, 钉钉 (DingTalk) 自定义机器人 or 飞书 (Feishu) 自定义机器人. It knows each
// service's documented API (JSON shape, message types, size limits, signatures, result codes, rates),
// builds the four kinds of message briefd sends (summary, reminder, alert, problems) from plain data,
// and says of a failed post whether to try again later or give up, so that the outbox can retry it like
// mail.
//
// A robot is configured by a Config (name, kind, where its webhook URL and secret are, its events);
// Config.Resolve reads the URL and secret and returns a *Robot, whose URL and secret never appear in
// its String, %#v, logs or errors (…?key=****, …?access_token=****, …/hook/****). Robot.Post sends a
// Message; the *Error it returns tells temporary from permanent (IsTemporary, RetryAfter). Robot.Ready
// says when the robot may post again under its rate limit (20 a minute). The limit is kept in memory:
// after a restart it starts from zero.
//
// Webhook URLs must be https; http is allowed only to a loopback address, for the fakes in robottest.
// Redirects are never followed.
//
// # What the services document, and where it was read
//
// None of the services could be reached from where this was written; their documentation was read
// through the copies and quotes named here, and the result codes through real answers quoted in public
// bug reports. Where a number is not documented, the choice is said.
//
// WeCom, 群机器人配置说明 (developer.work.weixin.qq.com/document/path/91770; quoted in full by
// cnblogs.com/xxhxs-21/p/18849085, hexdocs.pm/wechat_sdk WeChat.Work.ChatRobot and the field comments
// of pkg.go.dev/github.com/coscms/webcore/library/imbot/workwx):
//   - POST JSON to https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY.
//   - msgtype text: text.content at most 2048 bytes, UTF-8; msgtype markdown: markdown.content at most
//     4096 bytes, UTF-8 (real answer when over: errcode 40058 "markdown.content exceed max length 4096",
//     RayWangQvQ/BiliBiliToolPro#702, dromara/domain-admin#152).
//   - Each robot sends at most 20 messages a minute.
//   - Success is errcode 0 in the JSON answer. Codes seen in real answers: 45009 "api freq out of
//     limit" (WecomTeam/wecom-openclaw-plugin#48; temporary, a minute's pause: WeCom gives no
//     duration), 93000 "invalid webhook url" (wes-lin/Cloud189Checkin#175, zema1/watchvuln#146:
//     permanent). -1 "system busy" is WeCom's global busy code (temporary).
//
// DingTalk, 自定义机器人接入 and its 安全设置 (open.dingtalk.com/document/group/custom-robot-access;
// quoted by blog.csdn.net/lxw1844912514/article/details/125780346, juejin.cn/post/7129698690297495583,
// blog.csdn.net/weixin_43564241/article/details/139138811):
//   - POST JSON to https://oapi.dingtalk.com/robot/send?access_token=TOKEN, UTF-8.
//   - 加签: timestamp (ms, within an hour of DingTalk's clock) and sign =
//     urlEncode(Base64(HmacSHA256(key=secret, msg=timestamp+"\n"+secret))) added to the query.
//   - msgtype markdown with markdown.title (shown in the chat list only) and markdown.text.
//   - Each robot sends at most 20 messages a minute; over that it is held for 10 minutes: errcode
//     130101 "send too fast, exceed 20 times per minute" (ccfos/nightingale#369; temporary, 10 minutes).
//   - Refusals seen: 310000 "sign not match" / "keywords not in content" (qd-today/qd#510,
//     srcrs/BilibiliTask#53), 300001 and 300005 "token is not exist"
//     (timonwong/prometheus-webhook-dingtalk#91, #226): permanent. -1 is the global busy code.
//   - 660026 is named as a rate-limit code by briefd's issue; no DingTalk page or answer we could read
//     has it. It is treated as a rate limit.
//   - Size: the robot page gives no limit for markdown.text. The closest documented number is the
//     server API's global error 34016 (content and markdown at most 5000 characters, title at most 64),
//     which is used as a bound (DingTalkTextMax, DingTalkTitleMax), counted in UTF-16 units.
//   - A single newline does not break a line in DingTalk's markdown; "  \n" does (cscoder.cn's notes on
//     open.dingtalk.com/document/orgapp/message-type).
//
// Feishu, 自定义机器人使用指南 (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, read at
// open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN, and its copy
// blog.csdn.net/qq_43108153/article/details/136166075):
//   - POST JSON to https://open.feishu.cn/open-apis/bot/v2/hook/ID.
//   - The request body is at most 20 KB (FeishuBodyMax keeps under 20 000 bytes).
//   - 签名校验: timestamp (s, within an hour) and sign = Base64(HmacSHA256(key=timestamp+"\n"+secret,
//     msg="")) in the body; refused with code 19021 "sign match fail or timestamp is not within one
//     hour from current time" (feiyu563/PrometheusAlert#422).
//   - Success is code 0 ("StatusCode" is a legacy duplicate). 9499 "Bad Request": body malformed or
//     over 20 KB (permanent; but an answer of 9499 whose message says too many requests is taken as a
//     rate limit). 19022 "Ip Not Allowed", 19024 "Key Words Not Found": permanent. An invalid hook
//     answers "param invalid: incoming webhook access token invalid" (sansan0/TrendRadar#278), code
//     19001: permanent.
//   - Rate: 100 a minute and 5 a second per robot; 11232 is the rate-limit answer, more likely at the
//     hour and half hour (temporary, a minute's pause).
//   - Markdown: a "post" (富文本) is built of text/a/at/img tags and renders no markdown; a message
//     card renders markdown in its "markdown" element (消息卡片 Markdown 组件,
//     open.larkoffice.com/document/ukTMukTMukTM/uADOwUjLwgDM14CM4ATN). Posts use msg_type
//     "interactive" with a plain_text header (the title) and one markdown element (the body).
//
// # Security
//
// The key is in the URL, so the URL is read from an environment variable or a file, never from the
// config; errors of net/http, which quote the URL, are unwrapped to their cause, and every text we
// make from an answer or error has the key, token, hook id and secret masked. Text from mail (unit
// names, subjects, addresses) is made inert in markdown (esc), so that a subject cannot post a link or
// an @all into the office's chat.
//
// Tests run against the fakes in robot/robottest, which check what the services check.
package robot
