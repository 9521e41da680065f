package mailmsg

import (
	"slices"
	"strings"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
)

// This file reads the Authentication-Results field (RFC 8601) that the receiving provider writes: did
// the sender's domain vouch for the mail (DMARC, DKIM, SPF)?

// authResult is Message.Auth: the verdict of the topmost Authentication-Results field written by one of
// ids, "none" when there is none. The receiving provider adds its field at the top; fields below it
// came with the mail, and anyone can write those.
func authResult(h textproto.Header, ids []string) string {
	for _, v := range h.Values("Authentication-Results") {
		id, results, _ := authres.Parse(v) // a piece it cannot read leaves the others
		if trustedAuthServ(id, ids) {
			return authVerdict(results)
		}
	}
	return "none"
}

// trustedAuthServ reports whether id is one of ids or a host under one.
func trustedAuthServ(id string, ids []string) bool {
	id = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(id), "."))
	if id == "" {
		return false
	}
	for _, t := range ids {
		t = strings.ToLower(strings.Trim(strings.TrimSpace(t), "."))
		if t != "" && (id == t || strings.HasSuffix(id, "."+t)) {
			return true
		}
	}
	return false
}

// authVerdict condenses the results of one Authentication-Results field to "pass", "fail" or "none":
// DMARC decides when present; else any DKIM or SPF pass is a pass, and a hard SPF fail is a fail. A
// DKIM failure alone (a gateway that adds a footer breaks the signature) or an SPF softfail (~all) is
// weak evidence: "none". A "fail" means the sender is taken for forged and gets no reply.
func authVerdict(results []authres.Result) string {
	res := map[string][]authres.ResultValue{}
	for _, r := range results {
		switch r := r.(type) {
		case *authres.DMARCResult:
			res["dmarc"] = append(res["dmarc"], r.Value)
		case *authres.DKIMResult:
			res["dkim"] = append(res["dkim"], r.Value)
		case *authres.SPFResult:
			res["spf"] = append(res["spf"], r.Value)
		}
	}
	has := func(k string, vals ...authres.ResultValue) bool {
		for _, r := range res[k] {
			if slices.Contains(vals, r) {
				return true
			}
		}
		return false
	}
	switch {
	case has("dmarc", authres.ResultPass):
		return "pass"
	case has("dmarc", authres.ResultFail):
		return "fail"
	case has("dkim", authres.ResultPass) || has("spf", authres.ResultPass):
		return "pass"
	case has("spf", authres.ResultFail):
		return "fail"
	}
	return "none"
}
