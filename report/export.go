package report

import (
	"fmt"
	"io"
	"time"

	"briefd/roster"
	"briefd/store"
)

// Export builds the export of receipts and status for a campaign ("" for all) as of now and writes it
// as format: "xlsx" (an overview, a sheet per campaign period, the receipts and the mails waiting for
// assignment) or "csv" (the status of every unit in every period, one row each; table "receipts" gives
// the receipts instead). It returns a file name for it, e.g. briefd-zjdh-study-20260305.xlsx.
func Export(w io.Writer, st *store.Store, ros *roster.Roster, now time.Time, format, campaign, table string) (string, error) {
	if campaign != "" {
		if _, ok := ros.Campaign(campaign); !ok {
			return "", fmt.Errorf("report: no campaign has the id %q", campaign)
		}
	}
	if format != "xlsx" && format != "csv" {
		return "", fmt.Errorf("report: %q: %w", format, ErrFormat)
	}
	if table != "" && table != "status" && table != "receipts" {
		return "", fmt.Errorf("report: table %q: use status or receipts", table)
	}
	es, err := st.Entries(func(e *store.Entry) bool { return campaign == "" || e.Campaign == campaign || e.Unassigned() })
	if err != nil {
		return "", fmt.Errorf("report: read receipts: %w", err)
	}
	loc := ros.Location()
	status := Status(es, ros, campaign, now)
	name := "briefd"
	if campaign != "" {
		name += "-" + campaign
	}
	name += "-" + now.In(loc).Format("20060102")
	switch {
	case format == "xlsx":
		return name + ".xlsx", WriteXLSX(w, Workbook(status, es, ros, loc))
	case table == "receipts":
		return name + "-receipts.csv", WriteCSV(w, ReceiptsSheet("收件记录", es, ros, loc))
	default:
		return name + ".csv", WriteCSV(w, StatusTable(status, loc))
	}
}
