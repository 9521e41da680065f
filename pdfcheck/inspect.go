package pdfcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/log"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	pdfvalidate "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/validate"

	"briefd/internal/pdfcpuconf"
)

// result is what the isolated checker reports about one PDF. It is sent as one JSON line per phase:
// "parse" (the verdict) and then "validate" (extra warnings from pdfcpu's relaxed validation).
type result struct {
	Phase     string   `json:"phase"`
	Pages     int      `json:"pages"`
	Encrypted bool     `json:"encrypted"`
	Version   string   `json:"version,omitempty"`
	Reason    string   `json:"reason"`
	Warnings  []string `json:"warnings,omitempty"`

	pagesObj   int // object number of the page tree root, if known
	numObjects int // the number of objects as pdfcpu counts them
	rootCount  int // the page tree root's /Count, 0 if it has none
	firstPage  pageProblem
	encErr     bool // pdfcpu failed on the encryption: a wrong password or a dictionary it refuses
}

const (
	maxWarnings  = 12
	maxTreeDepth = 1 << 16 // page tree levels; real files have < 10, poppler follows thousands
	maxTreeNodes = 1 << 21 // page tree nodes visited
)

// msgLog collects pdfcpu's "repaired"/"skipped"/"digested" messages as warnings.
type msgLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *msgLog) add(s string) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "pdfcpu ") {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.msgs) < maxWarnings {
		l.msgs = append(l.msgs, s)
	}
}
func (l *msgLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs
	l.msgs = nil
	return m
}
func (l *msgLog) Printf(format string, args ...any) { l.add(fmt.Sprintf(format, args...)) }
func (l *msgLog) Println(args ...any)               { l.add(fmt.Sprintln(args...)) }
func (l *msgLog) Fatalf(format string, args ...any) { l.add(fmt.Sprintf(format, args...)) }
func (l *msgLog) Fatalln(args ...any)               { l.add(fmt.Sprintln(args...)) }

// inspector parses PDFs with pdfcpu. It runs inside the worker process; it is not safe for concurrent use.
type inspector struct {
	log *msgLog
}

func newInspector() *inspector {
	pdfcpuconf.NoConfigDir()
	l := &msgLog{}
	log.DisableLoggers()
	log.SetCLILogger(l)
	return &inspector{log: l}
}

func pdfConf() *model.Configuration {
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Optimize = false
	conf.OptimizeBeforeWriting = false
	conf.Offline = true
	conf.CheckFileNameExt = false
	return conf
}

// inspect parses the PDF at path and calls emit with the verdict, then with validation warnings when
// validate is set. A panic inside pdfcpu is reported as check_failed; a stack overflow or an out-of-memory
// kills the process, which the parent turns into check_failed.
func (in *inspector) inspect(ctx context.Context, path string, validate bool, emit func(result)) {
	in.log.take()
	f, err := os.Open(path)
	if err != nil {
		emit(result{Phase: "parse", Reason: ReasonUnreadable, Warnings: []string{err.Error()}})
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		emit(result{Phase: "parse", Reason: ReasonUnreadable, Warnings: []string{err.Error()}})
		return
	}
	size := fi.Size()

	var pctx *model.Context
	var res result
	func() {
		defer func() {
			if r := recover(); r != nil { // a bug of ours on a hostile file: that file's check fails, not the worker
				pctx, res = nil, result{Phase: "parse", Reason: ReasonCheckFailed, Warnings: []string{fmt.Sprintf("pdfcheck panicked: %v", r)}}
			}
		}()
		pctx, res = in.judge(ctx, newRawFile(readerOf(f, size), size))
	}()
	emit(res)
	if !validate || res.Reason != "" || pctx == nil {
		return
	}

	v := result{Phase: "validate"}
	func() {
		defer func() {
			if r := recover(); r != nil {
				v.Warnings = append(v.Warnings, fmt.Sprintf("validate: pdfcpu panicked: %v", r))
			}
		}()
		if err := pdfvalidate.XRefTable(pctx); err != nil { // what api.ValidateContext runs
			v.Warnings = append(v.Warnings, "validate: "+err.Error())
		}
	}()
	v.Warnings = append(v.Warnings, in.log.take()...)
	pctx = nil
	if size > 8<<20 {
		debug.FreeOSMemory() // give a big file's memory back before the next one
	}
	emit(v)
}

// inMemory is the largest file read into memory whole before it is parsed: the parser reads objects
// in small pieces, and from memory these cost no system call (a tenth of the worker's time on real-world
// files). Larger files are read piece by piece, so that a 50 MB scan does not cost 50 MB more.
const inMemory = 16 << 20

// readerOf is f's content in memory when it is small enough and reads whole, else f itself.
func readerOf(f *os.File, size int64) io.ReaderAt {
	if size > inMemory {
		return f
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), b); err != nil {
		return f
	}
	return bytes.NewReader(b)
}

// judge gives the verdict on one PDF the way poppler reaches it: the encryption as poppler's security
// handler sees it, then pdfcpu's parse of the file as poppler reads it, with poppler's reconstruction of
// the cross-reference table where poppler would reconstruct it.
func (in *inspector) judge(ctx context.Context, f *rawFile) (*model.Context, result) {
	size := f.size
	sec := f.security()
	var secWarn []string
	if sec.state != secNone || sec.why != "no /Encrypt in the trailer" {
		secWarn = []string{fmt.Sprintf("encryption: %s (%s)", sec.state, sec.why)}
	}
	if sec.state == secPassword || sec.state == secHandler {
		return nil, result{Phase: "parse", Reason: ReasonPassword, Encrypted: true, Warnings: secWarn}
	}
	if t, _ := f.popplerTrailer(); t == nil {
		// No section at startxref that poppler reads, and no "trailer" keyword to rebuild from: poppler
		// cannot open the file, whatever pdfcpu makes of it.
		return nil, result{Phase: "parse", Reason: ReasonDamaged,
			Warnings: []string{"no trailer dictionary: the cross-reference table cannot be read or rebuilt"}}
	}
	// hide: show pdfcpu the file without its encryption dictionary, because poppler reads it as not
	// encrypted, or because pdfcpu cannot decrypt what poppler decrypts (then it still reads the structure).
	hide := sec.state == secIgnored
	var hidden []patch
	view := func(head, tail []byte) io.ReadSeeker {
		o := &overlay{head: head, base: f.r, size: size, tail: tail}
		if hide {
			if hidden == nil {
				hidden = encryptKeys(f.r, size)
			}
			o.patches = hidden
		}
		return o
	}

	pctx, res := in.parse(ctx, view(nil, nil))
	if res.encErr && !hide {
		hide = true
		note := "pdfcpu reads an encryption dictionary that poppler does not use; read without it"
		if sec.state == secOpens {
			note = "pdfcpu cannot decrypt what poppler decrypts with the empty password; structure read undecrypted"
		}
		pctx, res = in.parse(ctx, view(nil, nil))
		res.Warnings = append(res.Warnings, note)
	}
	if needsRepair(res) && res.Reason != "" && missingEOF(f.r, size) {
		// cut just before %%EOF: the cross-reference data is complete, pdfcpu only wants the marker
		pctx2, res2 := in.parse(ctx, view(nil, []byte("\n%%EOF\n")))
		if res2.Reason == "" {
			pctx, res = pctx2, res2
			res.Warnings = append(res.Warnings, "missing %%EOF")
		}
	}
	force := false
	partial := false // the page count was read from a page tree root cut short: its kids are unknown
	if !needsRepair(res) && res.Reason == "" {
		if bad := misplacedObjects(pctx, f); bad != "" {
			// poppler finds another object where the table says one is, and rebuilds the table
			force = true
			res.Warnings = append(res.Warnings, bad)
		}
	}
	if needsRepair(res) || force {
		// pdfcpu failed, found no pages, or found the catalog without a trailer: do what poppler does.
		t, _ := f.popplerTrailer()
		s, err := f.scanned()
		switch {
		case t == nil:
			res = result{Phase: "parse", Reason: ReasonDamaged,
				Warnings: append(res.Warnings, "no trailer dictionary: the cross-reference table cannot be rebuilt")}
			pctx = nil
		case s == nil:
			res.Warnings = append(res.Warnings, "rebuild xref: "+err.Error())
		case res.Reason == "" && !force:
			// pdfcpu found the catalog by itself and poppler has a trailer to work with: nothing to add.
		default:
			// Parse what poppler would see: the objects where the scan found them, under poppler's trailer.
			// If pdfcpu had found the catalog by itself, keep that unless the rebuilt file opens.
			keep := pctx
			if res.Reason != "" || force {
				keep, pctx = nil, nil
			}
			if size > 8<<20 {
				runtime.GC() // the failed parse's objects go before the second parse allocates its own
			}
			head := newHeader(f.r, size)
			tail := repairTail(s, size, int64(len(head)), trailerEntries(t, hide))
			pctx2, res2 := in.parse(ctx, view(head, tail))
			if res2.encErr && !hide {
				hide = true
				pctx2, res2 = in.parse(ctx, view(head, repairTail(s, size, int64(len(head)), trailerEntries(t, true))))
			}
			pctx = keep
			if res2.Reason == "" || res.Reason != "" || force {
				pctx, res = pctx2, res2
				res.Warnings = append(res.Warnings, "cross-reference table rebuilt by scanning the file")
			}
			if res.Reason == ReasonNoPages && res.pagesObj > 0 {
				// The page tree root is the object the file was cut in: poppler still reads its /Count.
				if n := partialCount(f.r, size, s.offsets[res.pagesObj]); n > 0 && n <= max(res.numObjects, f.popplerSize(true)) {
					res.Pages, res.Reason, partial = n, "", true
					res.Warnings = append(res.Warnings, fmt.Sprintf("page tree root cut short; its /Count %d read from what is left", n))
				}
			}
		}
	}
	if res.Reason == ReasonNoPages && res.rootCount > res.numObjects {
		// Poppler accepts a /Count up to its own number of objects, which is larger than pdfcpu's when the
		// trailer's /Size is, or when it rebuilt the table (it sizes that in steps of 256).
		_, fromXRef := f.popplerTrailer()
		if n := f.popplerSize(!fromXRef || force); res.rootCount <= n {
			res.Pages, res.Reason = res.rootCount, ""
			res.Warnings = append(res.Warnings, fmt.Sprintf("page count %d: poppler counts %d objects", res.rootCount, n))
		}
	}
	switch fp := res.firstPage; {
	case res.Reason != "" || partial:
	case fp.noPage:
		res.Reason, res.Pages = ReasonNoPages, 0
		res.Warnings = append(res.Warnings, "no page object found in the page tree (poppler's pdfinfo still counts the /Count)")
	case fp.missing != "":
		res.Reason, res.Pages = ReasonDamaged, 0
		res.Warnings = append(res.Warnings, fp.missing)
	case fp.odd != "":
		res.Warnings = append(res.Warnings, fp.odd)
	}
	if res.Reason == "" {
		if n := f.linearizedPages(); n > 0 && n != res.Pages {
			res.Warnings = append(res.Warnings, fmt.Sprintf("page count %d from the linearization dictionary, as poppler reports it (the page tree says %d)", n, res.Pages))
			res.Pages = n
		}
	}
	switch {
	case res.Reason == ReasonPassword && sec.state != secOpens:
		res.Reason = ReasonDamaged // poppler asks for no password here: what pdfcpu cannot read is damage
	case sec.state == secOpens && hide && res.Reason != "":
		// The viewer decrypts this file and we could not: whether it shows its pages is not known here,
		// so the school is asked to check it rather than told it is damaged.
		res.Reason = ReasonCheckFailed
		res.Warnings = append(res.Warnings, "encrypted with the empty password, but not decryptable here: not judged")
	}
	res.Encrypted = sec.state == secOpens
	res.Warnings = append(secWarn, res.Warnings...)
	return pctx, res
}

// parse reads rs with pdfcpu and judges the result: the page count as poppler computes it (the root's
// /Count, if it is positive and not more than the number of objects), and at least one page that exists.
func (in *inspector) parse(ctx context.Context, rs io.ReadSeeker) (pctx *model.Context, res result) {
	res.Phase = "parse"
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w: %v", errPanic, r)
			}
		}()
		pctx, err = pdfcpu.ReadWithContext(ctx, rs, pdfConf())
	}()
	defer func() { res.Warnings = append(res.Warnings, in.log.take()...) }()
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		res.Reason, res.Encrypted, res.encErr = ReasonPassword, true, true
		return nil, res
	case errors.Is(err, errPanic):
		res.Reason = ReasonCheckFailed
		res.Warnings = append(res.Warnings, err.Error())
		return nil, res
	case err != nil:
		res.Reason = ReasonDamaged
		res.encErr = errors.Is(err, pdfcpu.ErrMalformedEncryption) || errors.Is(err, pdfcpu.ErrUnsupportedEncryptionFeature) ||
			strings.Contains(err.Error(), "encrypt")
		res.Warnings = append(res.Warnings, "parse: "+err.Error())
		return nil, res
	}
	xt := pctx.XRefTable
	func() {
		defer func() {
			if r := recover(); r != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("version: %v", r))
			}
		}()
		res.Version = xt.VersionString()
	}()
	res.Encrypted = xt.Encrypt != nil || xt.E != nil
	t := pageTree(xt)
	res.Warnings = append(res.Warnings, t.warns...)
	numObjects := len(xt.Table)
	if xt.Size != nil {
		numObjects = max(numObjects, *xt.Size)
	}
	res.pagesObj, res.numObjects = t.rootObj, numObjects
	if t.hasCount {
		res.rootCount = t.count
	}
	switch {
	case !t.hasCount && t.rootIsPage:
		res.Pages = 1
	case !t.hasCount:
		res.Warnings = append(res.Warnings, "page tree root has no /Count")
	case t.count <= 0:
	case t.count > numObjects:
		res.Warnings = append(res.Warnings, fmt.Sprintf("page tree: /Count %d is more than the %d objects", t.count, numObjects))
	default:
		res.Pages = t.count
	}
	if t.hasCount && t.count != t.leaves {
		res.Warnings = append(res.Warnings, fmt.Sprintf("page tree: /Count says %d, found %d pages", t.count, t.leaves))
	}
	res.firstPage = firstPageProblem(xt, t)
	if res.Pages == 0 {
		res.Reason = ReasonNoPages
	}
	if pctx.Read.Linearized {
		res.Warnings = append(res.Warnings, "info: linearized")
	}
	return pctx, res
}

var errPanic = errors.New("pdfcpu panicked")

// needsRepair reports whether a parse result calls for poppler's way of rebuilding the file: pdfcpu failed
// or found no pages, or it found the catalog only by scanning (poppler then needs a trailer).
func needsRepair(r result) bool {
	if r.Reason == ReasonPassword || r.Reason == ReasonCheckFailed {
		return false
	}
	return r.Reason != "" || slices.Contains(r.Warnings, "pdfcpu repaired: catalog")
}

// treeInfo is what pageTree found.
type treeInfo struct {
	leaves     int          // page objects reachable
	count      int          // the root's /Count
	hasCount   bool         // the root has a numeric /Count
	rootIsPage bool         // /Pages points straight at a page
	rootObj    int          // the root's object number, 0 if not an indirect reference
	first      types.Dict   // the first page in document order, nil if none
	firstRes   types.Object // its /Resources, its own or inherited; nil if none
	warns      []string
}

// pageTree counts the pages reachable from the catalog's page tree (leaves: /Type /Page, or a node without
// /Kids), guarding against loops, missing objects and absurd depth. declared is the root's /Count.
func pageTree(xt *model.XRefTable) (ti treeInfo) {
	defer func() {
		if r := recover(); r != nil {
			ti.warns = append(ti.warns, fmt.Sprintf("page tree: pdfcpu panicked: %v", r))
		}
	}()
	cat, err := xt.Catalog()
	if err != nil || cat == nil {
		ti.warns = []string{fmt.Sprintf("no catalog: %v", err)}
		return ti
	}
	root, ok := cat.Find("Pages")
	if !ok {
		ti.warns = []string{"catalog has no /Pages"}
		return ti
	}
	if ir, ok := root.(types.IndirectRef); ok {
		ti.rootObj = ir.ObjectNumber.Value()
	}
	if d, err := xt.DereferenceDict(root); err == nil && d != nil {
		if c, ok := d["Count"]; ok {
			switch c := c.(type) {
			case types.Integer:
				ti.count, ti.hasCount = c.Value(), true
			case types.Float:
				ti.count, ti.hasCount = int(c.Value()), true
			}
		}
		if t := d.Type(); t != nil && *t == "Page" {
			ti.rootIsPage = true
		}
	}
	pages := 0
	var warns []string
	type item struct {
		o     types.Object
		depth int
		res   types.Object // /Resources inherited from the ancestors
	}
	stack := []item{{root, 0, nil}}
	seen := map[int]bool{}
	nodes, missing, loops := 0, 0, 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if nodes++; nodes > maxTreeNodes {
			warns = append(warns, "page tree: too many nodes, stopped counting")
			break
		}
		if ir, ok := it.o.(types.IndirectRef); ok {
			n := ir.ObjectNumber.Value()
			if seen[n] {
				loops++
				continue
			}
			seen[n] = true
		}
		d, err := xt.DereferenceDict(it.o)
		if err != nil || d == nil {
			missing++
			continue
		}
		res := it.res
		if r, ok := d.Find("Resources"); ok {
			res = r
		}
		kids, hasKids := d.Find("Kids")
		if t := d.Type(); !hasKids || (t != nil && *t == "Page") {
			if pages++; pages == 1 {
				ti.first, ti.firstRes = d, res
			}
			continue
		}
		if it.depth >= maxTreeDepth {
			warns = append(warns, "page tree: too deep, stopped descending")
			continue
		}
		arr, err := xt.DereferenceArray(kids)
		if err != nil {
			missing++
			continue
		}
		for i := len(arr) - 1; i >= 0; i-- {
			stack = append(stack, item{arr[i], it.depth + 1, res})
		}
	}
	if missing > 0 {
		warns = append(warns, fmt.Sprintf("page tree: %d missing or broken nodes", missing))
	}
	if loops > 0 {
		warns = append(warns, fmt.Sprintf("page tree: %d loops", loops))
	}
	ti.leaves, ti.warns = pages, warns
	return ti
}

// pageProblem is what keeps the first page from being shown.
type pageProblem struct {
	noPage  bool   // the page tree leads to no page object
	missing string // the first page's content or resources refer to an object that is not there
	odd     string // they are of an unexpected type (a viewer skips them): a warning only
}

// firstPageProblem checks that the page tree leads to a page, and that the first page's content streams and
// resources, where it names them, are there. Poppler's pdfinfo only reads the root's /Count, so it "opens"
// a file without any page object, or whose first page lost its content; a viewer then shows nothing, and
// the office cannot read the briefing: such a file is not ok (issue 14).
func firstPageProblem(xt *model.XRefTable, t treeInfo) (p pageProblem) {
	defer func() {
		if r := recover(); r != nil {
			p.odd = fmt.Sprintf("first page: pdfcpu panicked: %v", r)
		}
	}()
	if t.first == nil {
		p.noPage = true
		return p
	}
	// there reports whether o, if it is a reference, leads to an object that exists.
	there := func(o types.Object) bool {
		if _, isRef := o.(types.IndirectRef); !isRef {
			return true
		}
		d, err := xt.Dereference(o)
		return err == nil && d != nil
	}
	if c, ok := t.first.Find("Contents"); ok && c != nil {
		if !there(c) {
			p.missing = "the first page's content stream is not in the file"
			return p
		}
		o, _ := xt.Dereference(c)
		switch o := o.(type) {
		case types.StreamDict:
		case types.Array:
			for i, e := range o {
				if !there(e) {
					p.missing = fmt.Sprintf("content stream %d of %d of the first page is not in the file", i+1, len(o))
					return p
				}
			}
		default:
			p.odd = fmt.Sprintf("first page: /Contents is a %T, not a stream", o)
		}
	}
	if t.firstRes != nil {
		if !there(t.firstRes) {
			p.missing = "the first page's resources are not in the file"
			return p
		}
		if d, err := xt.DereferenceDict(t.firstRes); err != nil || d == nil {
			p.odd = "first page: /Resources is not a dictionary"
		}
	}
	return p
}
