// Package booklet compiles a campaign period's briefings into what the office hands on (简报汇编): one
// booklet PDF with a cover, a contents page and every reporting unit's files in the roster's order, and
// one zip with the same files under readable names and a 清单.csv.
//
// It takes plain data (Unit, Cover), not the store's or the roster's types: the caller picks each unit's
// submission and hands over the archived files' paths.
//
// The booklet is written as a stream to an io.Writer, with no temporary file. Each source PDF is parsed
// with pdfcpu, one at a time, and its pages, with everything they reference, are copied into the booklet
// under new object numbers; then the parsed file is dropped. Memory is therefore bounded by the largest
// single file (a few times its size: pdfcpu's model of it, and its copy held until it is written whole),
// not by the booklet. The cover, the contents, the outline and the page-number stamps are
// written after the units' pages (a PDF's objects may come in any order), when every page number is known.
//
// A file that cannot be merged — missing, too large, damaged beyond what pdfcpu reads, needing a user
// password, encrypted and damaged so that pdfcpu would read ciphertext, or making pdfcpu panic — becomes
// one placeholder page naming the unit and receipt, and is listed in Result.Placeholders. A panic is
// recovered; what Go cannot recover (a stack overflow, running out of memory) would end the process, so
// sources are parsed with limits far below pdfcpu's defaults, and they are files pdfcheck's isolated
// worker has already accepted. An owner-password-only PDF is merged decrypted (pdfcpu opens it with
// the empty user password), as any viewer shows it.
//
// # Font
//
// Chinese text on the cover, contents, placeholders and page numbers uses the standard CJK font
// STSong-Light (Adobe-GB1) with the UniGB-UTF16-H CMap, not embedded, plus a ToUnicode CMap for text
// extraction. It is one of the fonts every PDF reader must be able to substitute (PDF 32000 9.7.5.2):
// poppler maps it to an installed CJK font through poppler-data and fontconfig, Chromium's PDFium carries
// the CMaps itself, and Acrobat, WPS and Windows viewers use SimSun or their own Song face. It costs a
// few hundred bytes where an embedded subset of Noto CJK would cost tens of kilobytes and a TrueType/CFF
// subsetter this module does not have. The price: the exact glyph shapes depend on the reader's
// machine, and poppler needs poppler-data (Debian installs it with poppler as a recommended package).
package booklet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"briefd/internal/pdfcpuconf"
)

// Unit states, as the roster names them.
const (
	StateReported = "reported" // a usable PDF arrived by the due date
	StateLate     = "late"     // a usable PDF arrived after the due date
	StateRejected = "rejected" // mail came, but no usable PDF
	StateMissing  = "missing"  // nothing came
)

// StateWord is the Chinese word for a state on the contents page and in 清单.csv.
func StateWord(state string) string {
	switch state {
	case StateReported:
		return "已报送"
	case StateLate:
		return "逾期报送"
	case StateRejected:
		return "未通过"
	case StateMissing:
		return "未报送"
	}
	return state
}

// Unit is one unit the campaign expects, in the roster's order.
type Unit struct {
	// Seq is the unit's number in the roster's order, from 1; 0 means its position in the list plus 1.
	Seq int
	// Name is the unit's name (报送单位).
	Name string
	// State is StateReported, StateLate, StateRejected or StateMissing.
	State string
	// Receipt is the number of the receipt whose files are used (e.g. JB2026-0012), "" when none.
	Receipt string
	// Received is when that receipt's mail arrived; zero when none.
	Received time.Time
	// Files are the archived PDFs of that receipt, in order. Only units reported or late may have files;
	// a reported or late unit without files gets a placeholder page.
	Files []string
}

// reporting reports whether the unit's files belong in the booklet.
func (u Unit) reporting() bool { return u.State == StateReported || u.State == StateLate }

// Cover is what the cover page says besides the counts, which are worked out from the units' states.
type Cover struct {
	Office   string    // the office's name, e.g. 忻州市教育局办公室
	Campaign string    // the campaign's title
	Period   string    // the period's key, e.g. 2026-03
	Due      string    // the due date as the roster gives it, e.g. 2026-03-31
	Made     time.Time // when the booklet is made; zero means now
}

// Options are the booklet's settings. Zero values take the documented defaults.
type Options struct {
	// PageNumbers stamps "第 N 页 / 共 M 页" at the foot of every page.
	PageNumbers bool
	// Location is the time zone of the dates shown (date made, received). Default time.Local.
	Location *time.Location
	// FileTimeout bounds the parse of one source file; past it the file becomes a placeholder.
	// Default 30s.
	FileTimeout time.Duration
	// MaxFileSize is the largest source file merged (pdfcpu holds a whole file in memory); larger ones
	// become placeholders. Default 64 MiB.
	MaxFileSize int64
}

// Defaults for Options.
const (
	DefaultFileTimeout = 30 * time.Second
	DefaultMaxFileSize = 64 << 20
)

func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.FileTimeout <= 0 {
		o.FileTimeout = DefaultFileTimeout
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	return o
}

// Problem is one file that could not be used as it is: in the booklet it became a placeholder page, in
// the zip it is missing (when it cannot be read at all).
type Problem struct {
	Unit    int    // index into the units given
	Name    string // the unit's name
	Receipt string
	File    string // the path given, "" when a reporting unit had no file
	Err     error
}

// Error says which unit's which file, and why, in English for logs and the command's stderr.
func (p Problem) Error() string {
	if p.File == "" {
		return fmt.Sprintf("%s (%s): %v", p.Name, p.Receipt, p.Err)
	}
	return fmt.Sprintf("%s (%s) %s: %v", p.Name, p.Receipt, filepath.Base(p.File), p.Err)
}

// Unwrap gives the cause, for errors.Is (ErrTooLarge, fs.ErrNotExist, ...).
func (p Problem) Unwrap() error { return p.Err }

// Errors a Problem may wrap besides pdfcpu's and the file system's.
var (
	ErrNoFile   = errors.New("reporting unit has no file")
	ErrTooLarge = errors.New("file too large to merge")
	ErrNoPages  = errors.New("no page found")
	ErrPanic    = errors.New("pdf library panicked")
	ErrPassword = errors.New("file needs a password to open")
	// ErrEncryption is an encrypted file whose encryption dictionary pdfcpu could not find: what it read
	// would be ciphertext.
	ErrEncryption = errors.New("encrypted file whose encryption cannot be read")
)

// UnitPages says where a unit is in the booklet.
type UnitPages struct {
	Start int // the booklet page its first file (or placeholder) starts on, from 1; 0 when it has none
	Pages int // pages it takes, placeholders included
	Files int // files merged as they are (not placeholders)
}

// Result is what WritePDF made.
type Result struct {
	Pages         int         // all pages of the booklet
	CoverPages    int         // always 1
	ContentsPages int         // pages of the contents
	Units         []UnitPages // one per unit given, in the same order
	Merged        int         // files merged
	Placeholders  []Problem   // files that became placeholder pages, in booklet order
	Bytes         int64       // bytes written
}

// Counts are the cover's figures: units per state.
type Counts struct{ Reported, Late, Rejected, Missing int }

// CountStates counts the units per state.
func CountStates(units []Unit) Counts {
	var c Counts
	for _, u := range units {
		switch u.State {
		case StateReported:
			c.Reported++
		case StateLate:
			c.Late++
		case StateRejected:
			c.Rejected++
		case StateMissing:
			c.Missing++
		}
	}
	return c
}

// validate rejects input that is the caller's mistake, not the files'.
func validate(units []Unit) error {
	for i, u := range units {
		switch u.State {
		case StateReported, StateLate:
		case StateRejected, StateMissing:
			if len(u.Files) > 0 {
				return fmt.Errorf("booklet: unit %d %q is %s but has files", i+1, u.Name, u.State)
			}
		default:
			return fmt.Errorf("booklet: unit %d %q: unknown state %q", i+1, u.Name, u.State)
		}
	}
	return nil
}

func seqOf(units []Unit, i int) int {
	if units[i].Seq > 0 {
		return units[i].Seq
	}
	return i + 1
}

// fileError says why a file is not usable, before any parsing: it is missing or too large.
func fileError(path string, maxSize int64) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s: not a regular file", path)
	case fi.Size() > maxSize:
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, fi.Size(), maxSize)
	}
	return nil
}

// WritePDF writes the booklet to w: a cover, the contents, then every reporting unit's files in the
// given order, with an outline entry per unit. Files that cannot be merged become placeholder pages and
// are listed in the Result; they are not an error. The error is for the caller's mistakes (an unknown
// state, files on a unit that has not reported), a failed write, or ctx ending; w then holds a partial
// file. A period without any usable file gives a booklet of cover and contents (Result.Merged is 0).
func WritePDF(ctx context.Context, w io.Writer, c Cover, units []Unit, o Options) (Result, error) {
	if err := validate(units); err != nil {
		return Result{}, err
	}
	o = o.withDefaults()
	if c.Made.IsZero() {
		c.Made = time.Now()
	}
	pdfcpuconf.NoConfigDir()
	b := newBuilder(w, c, units, o)
	return b.run(ctx)
}
