package intake

import (
	"os"
	"testing"

	"briefd/pdfcheck"
)

// TestMain lets the test binary serve as pdfcheck's isolated worker process.
func TestMain(m *testing.M) {
	pdfcheck.MaybeWorker()
	os.Exit(m.Run())
}
