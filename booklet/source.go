package booklet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// source is one parsed input PDF.
type source struct {
	xt    *model.XRefTable
	pages []srcPage
}

// srcPage is a leaf of the source's page tree with the attributes it inherits.
type srcPage struct {
	num      int
	dict     types.Dict
	res      types.Object // /Resources, own or inherited
	mediaBox types.Object
	cropBox  types.Object
	rotate   types.Object
}

const (
	maxTreeDepth = 64     // page tree levels
	maxPages     = 100000 // pages in one source file
)

// pdfConf is pdfcpu's configuration for reading sources, with limits far below pdfcpu's defaults (512 MB
// per stream): the booklet only decodes object and cross-reference streams, and runs inside the service.
func pdfConf(o Options) *model.Configuration {
	conf := model.NewDefaultConfiguration()
	conf.Limits.MaxStreamBytes = o.MaxFileSize
	conf.Limits.MaxDecodeBytes = 32 << 20
	conf.Limits.MaxObjectCount = 1_000_000
	conf.Limits.MaxObjectStreamCount = 100_000
	conf.Limits.MaxXRefEntries = 1_000_000
	conf.ValidationMode = model.ValidationRelaxed
	conf.Optimize = false
	conf.OptimizeBeforeWriting = false
	conf.Offline = true
	conf.CheckFileNameExt = false
	return conf
}

// openSource parses the PDF at path and finds its pages. Whatever goes wrong, a panic in pdfcpu
// included, comes back as an error.
func openSource(ctx context.Context, path string, o Options) (src *source, err error) {
	if err := fileError(path, o.MaxFileSize); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(ctx, o.FileTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			src, err = nil, fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	pctx, err := pdfcpu.ReadWithContext(ctx, f, pdfConf(o))
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		return nil, ErrPassword
	case err != nil:
		return nil, fmt.Errorf("parse: %w", err)
	}
	if pctx.XRefTable.Encrypt == nil && declaresEncryption(f) {
		// pdfcpu missed the trailer that says so (a damaged file): what it read is still encrypted
		return nil, ErrEncryption
	}
	pages, err := pageLeaves(pctx.XRefTable)
	if err != nil {
		return nil, err
	}
	if pctx.XRefTable.Encrypt != nil && !decrypted(pctx.XRefTable, pages[0]) {
		return nil, ErrEncryption
	}
	return &source{xt: pctx.XRefTable, pages: pages}, nil
}

// encryptRE finds an /Encrypt entry or a standard security handler's dictionary.
var encryptRE = regexp.MustCompile(`/Encrypt[ \t\r\n\f\x00]*(?:\d+[ \t\r\n\f\x00]+\d+[ \t\r\n\f\x00]+R|<<)|/Filter[ \t\r\n\f\x00]*/Standard\b`)

// declaresEncryption reports whether the file is encrypted by its own words, read in chunks: a trailer's
// /Encrypt, or an encryption dictionary left where the trailer that pointed at it was cut off.
func declaresEncryption(r io.ReaderAt) bool {
	const chunk, overlap = 1 << 20, 64
	buf := make([]byte, chunk+overlap)
	for off := int64(0); ; off += chunk {
		n, err := r.ReadAt(buf, off)
		if encryptRE.Match(buf[:n]) {
			return true
		}
		if err != nil || n < len(buf) {
			return false
		}
	}
}

// decrypted checks that a page's content really was decrypted: pdfcpu leaves ciphertext in streams it
// read while repairing a damaged file, before it knew the key. The first content stream of the page
// must decode.
func decrypted(xt *model.XRefTable, p srcPage) bool {
	c := deref(xt, p.dict["Contents"])
	if a, ok := c.(types.Array); ok && len(a) > 0 {
		c = deref(xt, a[0])
	}
	sd, ok := c.(types.StreamDict)
	if !ok || len(sd.FilterPipeline) == 0 {
		return true // nothing to tell by
	}
	probe := sd
	probe.Content = nil
	return probe.DecodeWithLimit(32<<20) == nil
}

// deref follows references until it reaches a direct object; nil for a dangling or looping one.
func deref(xt *model.XRefTable, o types.Object) types.Object {
	for range 32 {
		var n int
		switch r := o.(type) {
		case types.IndirectRef:
			n = r.ObjectNumber.Value()
		case *types.IndirectRef:
			if r == nil {
				return nil
			}
			n = r.ObjectNumber.Value()
		default:
			return o
		}
		o = objectAt(xt, n)
	}
	return nil
}

// objectAt is source object n, nil when it does not exist. An object inside an object stream is parsed
// on first use (pdfcpu reads those lazily) and kept.
func objectAt(xt *model.XRefTable, n int) types.Object {
	e, ok := xt.Table[n]
	if !ok || e == nil || e.Free {
		return nil
	}
	if l, ok := e.Object.(types.LazyObjectStreamObject); ok {
		o, err := l.DecodedObject(context.Background())
		if err != nil {
			o = nil
		}
		e.Object = o
	}
	return e.Object
}

func refNum(o types.Object) int {
	switch r := o.(type) {
	case types.IndirectRef:
		return r.ObjectNumber.Value()
	case *types.IndirectRef:
		if r != nil {
			return r.ObjectNumber.Value()
		}
	}
	return 0
}

func dictOf(xt *model.XRefTable, o types.Object) types.Dict {
	switch d := deref(xt, o).(type) {
	case types.Dict:
		return d
	case types.StreamDict:
		return d.Dict
	}
	return nil
}

func nameOf(xt *model.XRefTable, d types.Dict, key string) string {
	if n, ok := deref(xt, d[key]).(types.Name); ok {
		return string(n)
	}
	return ""
}

// pageLeaves walks the page tree from the catalog, depth first in /Kids order, and returns its pages
// with their inherited attributes. Loops, repeated kids and over-deep trees are cut where they start.
func pageLeaves(xt *model.XRefTable) ([]srcPage, error) {
	if xt.Root == nil {
		return nil, fmt.Errorf("%w: no catalog", ErrNoPages)
	}
	cat := dictOf(xt, *xt.Root)
	if cat == nil {
		return nil, fmt.Errorf("%w: no catalog", ErrNoPages)
	}
	type frame struct {
		node                     types.Object
		depth                    int
		res, media, crop, rotate types.Object
	}
	var pages []srcPage
	seen := map[int]bool{}
	stack := []frame{{node: cat["Pages"]}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		num := refNum(f.node)
		if num == 0 || seen[num] || f.depth > maxTreeDepth {
			continue // pages must be indirect objects; a loop or a repeat is cut
		}
		seen[num] = true
		d := dictOf(xt, f.node)
		if d == nil {
			continue
		}
		if v, ok := d["Resources"]; ok {
			f.res = v
		}
		if v, ok := d["MediaBox"]; ok {
			f.media = v
		}
		if v, ok := d["CropBox"]; ok {
			f.crop = v
		}
		if v, ok := d["Rotate"]; ok {
			f.rotate = v
		}
		kids, isArr := deref(xt, d["Kids"]).(types.Array)
		if nameOf(xt, d, "Type") == "Page" || (!isArr && nameOf(xt, d, "Type") != "Pages") {
			pages = append(pages, srcPage{num: num, dict: d, res: f.res, mediaBox: f.media, cropBox: f.crop, rotate: f.rotate})
			if len(pages) > maxPages {
				return nil, fmt.Errorf("more than %d pages", maxPages)
			}
			continue
		}
		for _, k := range slices.Backward(kids) {
			stack = append(stack, frame{node: k, depth: f.depth + 1, res: f.res, media: f.media, crop: f.crop, rotate: f.rotate})
		}
	}
	if len(pages) == 0 {
		return nil, ErrNoPages
	}
	return pages, nil
}

// box reads a rectangle [llx lly urx ury], normalised; ok is false when o is not one.
func box(xt *model.XRefTable, o types.Object) (r [4]float64, ok bool) {
	a, isArr := deref(xt, o).(types.Array)
	if !isArr || len(a) != 4 {
		return r, false
	}
	for i, e := range a {
		switch v := deref(xt, e).(type) {
		case types.Integer:
			r[i] = float64(v)
		case types.Float:
			r[i] = float64(v)
		default:
			return r, false
		}
	}
	if r[0] > r[2] {
		r[0], r[2] = r[2], r[0]
	}
	if r[1] > r[3] {
		r[1], r[3] = r[3], r[1]
	}
	if r[2]-r[0] < 1 || r[3]-r[1] < 1 {
		return r, false
	}
	return r, true
}

// a4 is the media box of the booklet's own pages and of source pages without a usable one.
var a4 = [4]float64{0, 0, 595.28, 841.89}

// pageGeometry is what a stamp needs to know of a page: the visible box and the rotation.
type pageGeometry struct {
	box    [4]float64
	rotate int // 0, 90, 180 or 270
}

func (p srcPage) geometry(xt *model.XRefTable) pageGeometry {
	g := pageGeometry{box: a4}
	if b, ok := box(xt, p.mediaBox); ok {
		g.box = b
	}
	if c, ok := box(xt, p.cropBox); ok {
		// the visible area is the crop box clipped to the media box
		c = [4]float64{max(c[0], g.box[0]), max(c[1], g.box[1]), min(c[2], g.box[2]), min(c[3], g.box[3])}
		if c[2]-c[0] >= 1 && c[3]-c[1] >= 1 {
			g.box = c
		}
	}
	if r, ok := deref(xt, p.rotate).(types.Integer); ok {
		g.rotate = ((int(r)%360)/90*90 + 360) % 360
	}
	return g
}

// copier copies a source's pages into the booklet, renumbering every object they reach.
type copier struct {
	xt      *model.XRefTable
	o       *out
	num     map[int]int // source object number -> booklet object number
	pages   map[int]int // source page object number -> booklet object number
	queue   []int       // source objects numbered but not yet written
	c       *chunk
	scratch bytes.Buffer
}

func newCopier(src *source, o *out, c *chunk) *copier {
	cp := &copier{xt: src.xt, o: o, num: map[int]int{}, pages: map[int]int{}, c: c}
	for _, p := range src.pages {
		cp.pages[p.num] = o.alloc()
	}
	return cp
}

// remap numbers a source object on first sight. References to the source's page tree nodes, its
// catalog, pages that are not copied, or objects that do not exist become null.
func (cp *copier) remap(r types.IndirectRef) int {
	n := r.ObjectNumber.Value()
	if b, ok := cp.pages[n]; ok {
		return b
	}
	if b, ok := cp.num[n]; ok {
		return b
	}
	obj := objectAt(cp.xt, n)
	if obj == nil {
		cp.num[n] = 0
		return 0
	}
	switch v := obj.(type) {
	case types.Dict:
		switch nameOf(cp.xt, v, "Type") {
		case "Pages", "Catalog", "Page":
			cp.num[n] = 0
			return 0
		}
	case types.ObjectStreamDict, types.XRefStreamDict:
		cp.num[n] = 0
		return 0
	}
	b := cp.o.alloc()
	cp.num[n] = b
	cp.queue = append(cp.queue, n)
	return b
}

// pageKeysDropped are page keys not copied: the tree link (rewritten), inheritable attributes (written
// from what the page inherits), article beads (they belong to the source's threads) and page actions.
var pageKeysDropped = map[string]bool{
	"Parent": true, "Resources": true, "MediaBox": true, "CropBox": true, "Rotate": true,
	"Contents": true, "B": true, "AA": true, "Kids": true, "Count": true, "Type": true,
}

// stampRefs are the objects a page-number stamp adds to a copied page.
type stampRefs struct {
	open, stamp int // content streams before ("q") and after the page's own ("Q" and the number)
	font        int // the booklet's font
}

// copyPage writes page p as booklet object cp.pages[p.num], with its inherited attributes made its own.
func (cp *copier) copyPage(p srcPage, parent int, st *stampRefs) error {
	b := &cp.scratch
	b.Reset()
	remap := cp.remap
	if err := writeDict(b, p.dict, remap, 0, func(k string) bool { return pageKeysDropped[k] }); err != nil {
		return err
	}
	b.Truncate(b.Len() - 2) // reopen the dictionary: drop ">>"
	fmt.Fprintf(b, "/Type /Page /Parent %d 0 R", parent)
	g := p.geometry(cp.xt)
	if mb, ok := box(cp.xt, p.mediaBox); ok {
		fmt.Fprintf(b, " /MediaBox [%s]", fmtBox(mb))
	} else {
		fmt.Fprintf(b, " /MediaBox [%s]", fmtBox(a4))
	}
	if _, ok := box(cp.xt, p.cropBox); ok {
		fmt.Fprintf(b, " /CropBox [%s]", fmtBox(g.box))
	}
	if g.rotate != 0 {
		fmt.Fprintf(b, " /Rotate %d", g.rotate)
	}
	b.WriteString(" /Resources ")
	if err := cp.resources(b, p.res, st); err != nil {
		return err
	}
	b.WriteString(" /Contents ")
	if err := cp.contents(b, p.dict["Contents"], st); err != nil {
		return err
	}
	b.WriteString(" >>")
	cp.c.obj(cp.pages[p.num], b.String())
	return nil
}

// resources writes the page's resources; with a stamp, as a dictionary of the page's own whose /Font
// also holds the booklet's font.
func (cp *copier) resources(b *bytes.Buffer, res types.Object, st *stampRefs) error {
	if st == nil {
		if res == nil {
			b.WriteString("<< >>")
			return nil
		}
		return writeObject(b, res, cp.remap, 1)
	}
	rd := maps.Clone(dictOf(cp.xt, res))
	if rd == nil {
		rd = types.Dict{}
	}
	fonts := maps.Clone(dictOf(cp.xt, rd["Font"]))
	if fonts == nil {
		fonts = types.Dict{}
	}
	fonts[stampFontName] = types.IndirectRef{ObjectNumber: types.Integer(st.font), GenerationNumber: bookletGen}
	rd["Font"] = fonts
	return writeDict(b, rd, cp.remapOwn, 1, nil)
}

// bookletGen marks a reference that already holds a booklet object number (pdfcpu never reads a
// negative generation).
const bookletGen = -0x7fff

// remapOwn is remap for objects that mix source references with the booklet's own.
func (cp *copier) remapOwn(r types.IndirectRef) int {
	if r.GenerationNumber == bookletGen {
		return r.ObjectNumber.Value()
	}
	return cp.remap(r)
}

// contents writes the page's content streams; with a stamp, wrapped in q/Q and followed by the stamp.
func (cp *copier) contents(b *bytes.Buffer, c types.Object, st *stampRefs) error {
	var refs []types.Object
	switch v := c.(type) {
	case types.IndirectRef, *types.IndirectRef:
		if a, ok := deref(cp.xt, v).(types.Array); ok {
			refs = a // a reference to an array of streams
		} else {
			refs = []types.Object{v}
		}
	case types.Array:
		refs = v
	}
	var parts []string
	for _, r := range refs {
		if _, ok := deref(cp.xt, r).(types.StreamDict); !ok {
			continue // a content that is not a stream is left out, as viewers do
		}
		var nb bytes.Buffer
		if err := writeObject(&nb, r, cp.remap, 1); err != nil {
			return err
		}
		if nb.String() != "null" {
			parts = append(parts, nb.String())
		}
	}
	if st != nil {
		parts = append([]string{fmt.Sprintf("%d 0 R", st.open)}, parts...)
		parts = append(parts, fmt.Sprintf("%d 0 R", st.stamp))
	}
	b.WriteString("[" + strings.Join(parts, " ") + "]")
	return nil
}

// drain writes every object numbered so far and those they reach in turn.
func (cp *copier) drain(ctx context.Context) error {
	for len(cp.queue) > 0 {
		if len(cp.queue)%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		n := cp.queue[0]
		cp.queue = cp.queue[1:]
		if err := cp.copyObject(n, cp.num[n]); err != nil {
			return fmt.Errorf("object %d: %w", n, err)
		}
	}
	return nil
}

func (cp *copier) copyObject(n, to int) error {
	o := objectAt(cp.xt, n)
	b := &cp.scratch
	b.Reset()
	switch v := o.(type) {
	case types.StreamDict:
		raw := v.Raw
		if err := writeDict(b, v.Dict, cp.remap, 0, func(k string) bool { return k == "Length" }); err != nil {
			return err
		}
		b.Truncate(b.Len() - 2)
		fmt.Fprintf(b, "/Length %d >>", len(raw))
		cp.c.objs = append(cp.c.objs, objAt{to, cp.c.buf.Len()})
		fmt.Fprintf(&cp.c.buf, "%d 0 obj\n%s\nstream\n", to, b.Bytes())
		cp.c.buf.Write(raw)
		cp.c.buf.WriteString("\nendstream\nendobj\n")
		return nil
	default:
		if err := writeObject(b, v, cp.remap, 0); err != nil {
			return err
		}
	}
	cp.c.obj(to, b.String())
	return nil
}

func fmtBox(r [4]float64) string {
	return fmt.Sprintf("%s %s %s %s", num(r[0]), num(r[1]), num(r[2]), num(r[3]))
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
