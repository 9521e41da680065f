package booklet

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
)

// builder writes one booklet.
type builder struct {
	c     Cover
	units []Unit
	o     Options

	out  *out
	ch   chunk
	used map[rune]bool // characters shown in the booklet's font

	font      int
	fontParts [3]int
	pagesRoot int
	catalog   int
	info      int
	outlines  int
	open      int // the shared "q" stream before a copied page's content, when numbering pages

	kids     []int      // page objects in booklet order
	stamps   []stampJob // page-number stamps to write once the page count is known
	cover    ownPage
	contents []ownPage
	rows     []contentsRow
	layout   [][]int // contents page -> rows on it
	marked   []bool  // unit has a placeholder
	res      Result
}

// ownPage is a page the booklet makes itself, written at the end.
type ownPage struct{ page, content int }

type stampJob struct {
	num   int // the stream's object
	page  int // booklet page number, from 1
	g     pageGeometry
	close bool // restore the graphics state saved before a copied page's content
}

func newBuilder(w io.Writer, c Cover, units []Unit, o Options) *builder {
	b := &builder{c: c, units: units, o: o, out: newOut(w), used: map[rune]bool{}}
	b.font = b.out.alloc()
	for i := range b.fontParts {
		b.fontParts[i] = b.out.alloc()
	}
	b.pagesRoot, b.catalog, b.info = b.out.alloc(), b.out.alloc(), b.out.alloc()
	if o.PageNumbers {
		b.open = b.out.alloc()
	}
	b.res.Units = make([]UnitPages, len(units))
	b.marked = make([]bool, len(units))
	return b
}

func (b *builder) run(ctx context.Context) (Result, error) {
	b.layoutContents()
	b.cover = b.ownPage()
	for range b.layout {
		b.contents = append(b.contents, b.ownPage())
	}
	b.res.CoverPages, b.res.ContentsPages = 1, len(b.contents)

	for i, u := range b.units {
		if err := ctx.Err(); err != nil {
			return b.res, err
		}
		if !u.reporting() {
			continue
		}
		up := &b.res.Units[i]
		up.Start = len(b.kids) + 1
		if len(u.Files) == 0 {
			b.placeholder(i, "", ErrNoFile)
		}
		for _, f := range u.Files {
			if err := b.addFile(ctx, i, f); err != nil {
				if ctx.Err() != nil {
					return b.res, ctx.Err()
				}
				b.placeholder(i, f, err)
				continue
			}
			up.Files++
			b.res.Merged++
		}
		up.Pages = len(b.kids) + 1 - up.Start
		if b.out.err != nil {
			return b.res, b.out.err
		}
	}
	b.res.Pages = len(b.kids)
	b.writeFront()
	b.writeStamps()
	fontObjects(&b.ch, b.font, b.fontParts, b.used)
	b.writeOutline()
	b.writeTree()
	b.out.commit(&b.ch)
	id := md5.Sum(fmt.Appendf(nil, "%s|%s|%s|%d", b.c.Campaign, b.c.Period, b.c.Made, b.res.Pages))
	err := b.out.finish(b.catalog, b.info, id[:])
	b.res.Bytes = b.out.n
	return b.res, err
}

// ownPage numbers a page the booklet draws, in the next place.
func (b *builder) ownPage() ownPage {
	p := ownPage{page: b.out.alloc(), content: b.out.alloc()}
	b.kids = append(b.kids, p.page)
	return p
}

// addFile copies one source file's pages; on any error nothing of it is written.
func (b *builder) addFile(ctx context.Context, unit int, path string) (err error) {
	src, err := openSource(ctx, path, b.o)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: copy: %v", ErrPanic, r)
		}
		if err != nil {
			b.ch.reset()
		}
	}()
	cp := newCopier(src, b.out, &b.ch)
	first := len(b.kids)
	kids := make([]int, 0, len(src.pages))
	var stamps []stampJob
	for i, p := range src.pages {
		var st *stampRefs
		if b.o.PageNumbers {
			st = &stampRefs{open: b.open, stamp: b.out.alloc(), font: b.font}
			stamps = append(stamps, stampJob{num: st.stamp, page: first + i + 1, g: p.geometry(src.xt), close: true})
		}
		if err := cp.copyPage(p, b.pagesRoot, st); err != nil {
			return fmt.Errorf("page %d: %w", i+1, err)
		}
		kids = append(kids, cp.pages[p.num])
	}
	if err := cp.drain(ctx); err != nil {
		return err
	}
	b.kids = append(b.kids, kids...)
	b.stamps = append(b.stamps, stamps...)
	b.out.commit(&b.ch)
	if b.ch.buf.Cap() > 16<<20 {
		b.ch = chunk{} // do not keep a big file's buffer for the next one
	}
	if size := len(src.xt.Table); size > 100000 {
		src = nil
		runtime.GC()
	}
	return nil
}

// placeholder adds a page saying that a file could not be merged.
func (b *builder) placeholder(unit int, path string, err error) {
	u := b.units[unit]
	b.res.Placeholders = append(b.res.Placeholders, Problem{Unit: unit, Name: u.Name, Receipt: u.Receipt, File: path, Err: err})
	b.marked[unit] = true
	p := b.ownPage()
	cv := newCanvas(stampFontName, b.used)
	const x, size, lead = 90.0, 12.0, 18.0
	cv.boldCenter(a4[2]/2, 620, 18, "该单位文件无法并入汇编")
	cv.textCenter(a4[2]/2, 590, 14, "请单独查看 回执编号 "+orDash(u.Receipt))
	lines := wrap("报送单位："+u.Name, size, a4[2]-2*x, 3)
	if path != "" {
		lines = append(lines, wrap(fmt.Sprintf("文件：第 %d 份，%s", 1+indexOf(u.Files, path), filepath.Base(path)), size, a4[2]-2*x, 3)...)
	}
	lines = append(lines, "原因："+reasonZH(err))
	y := 530.0
	for _, l := range lines {
		cv.text(x, y, size, l)
		y -= lead
	}
	cv.text(x, y-12, 10, "汇编中保留此页以便核对页码；原文件见同一批下载的压缩包（zip）。")
	b.writeOwnPage(p, cv, len(b.kids))
	b.out.commit(&b.ch)
}

func indexOf(files []string, f string) int {
	for i, g := range files {
		if g == f {
			return i
		}
	}
	return -1
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// reasonZH says in Chinese why a file became a placeholder.
func reasonZH(err error) string {
	switch {
	case errors.Is(err, ErrNoFile):
		return "没有可用的文件。"
	case errors.Is(err, ErrTooLarge):
		return "文件过大，无法并入。"
	case errors.Is(err, ErrPassword):
		return "文件设有打开密码。"
	case errors.Is(err, ErrEncryption):
		return "文件已加密且已损坏，汇编程序无法解密。"
	case errors.Is(err, ErrNoPages):
		return "文件中找不到页面。"
	case isNotExist(err):
		return "归档中找不到该文件。"
	}
	return "文件已损坏或格式特殊，汇编程序无法读取。"
}

// writeOwnPage writes a page the booklet drew: page n (from 1) of the booklet.
func (b *builder) writeOwnPage(p ownPage, cv *canvas, n int) {
	contents := fmt.Sprintf("%d 0 R", p.content)
	if b.o.PageNumbers {
		s := b.out.alloc()
		b.stamps = append(b.stamps, stampJob{num: s, page: n, g: pageGeometry{box: a4}})
		contents += fmt.Sprintf(" %d 0 R", s)
	}
	b.ch.stream(p.content, "", cv.b.Bytes())
	b.ch.obj(p.page, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /%s %d 0 R >> >> /Contents [%s] >>",
		b.pagesRoot, fmtBox(a4), stampFontName, b.font, contents))
}

// writeStamps writes "第 N 页 / 共 M 页" for every page, at the foot of the page as it is shown.
func (b *builder) writeStamps() {
	if b.o.PageNumbers && b.open != 0 {
		b.ch.stream(b.open, "", []byte("q\n"))
	}
	for _, s := range b.stamps {
		cv := newCanvas(stampFontName, b.used)
		text := fmt.Sprintf("第 %d 页 / 共 %d 页", s.page, b.res.Pages)
		const size, margin = 9.0, 14.0
		w := textWidth(text, size)
		x0, y0, x1, y1 := s.g.box[0], s.g.box[1], s.g.box[2], s.g.box[3]
		var tm string
		switch s.g.rotate {
		case 90: // shown turned clockwise: its foot is the right edge, read upwards
			tm = fmt.Sprintf("0 1 -1 0 %s %s", num2(x1-margin), num2((y0+y1)/2-w/2))
		case 180:
			tm = fmt.Sprintf("-1 0 0 -1 %s %s", num2((x0+x1)/2+w/2), num2(y1-margin))
		case 270:
			tm = fmt.Sprintf("0 -1 1 0 %s %s", num2(x0+margin), num2((y0+y1)/2+w/2))
		default:
			tm = fmt.Sprintf("1 0 0 1 %s %s", num2((x0+x1)/2-w/2), num2(y0+margin))
		}
		if s.close {
			cv.b.WriteString("\nQ\n")
		}
		fmt.Fprintf(&cv.b, "q 0 g BT /%s %s Tf %s Tm <%s> Tj ET Q\n", stampFontName, num2(size), tm, cv.hex(text))
		b.ch.stream(s.num, "", cv.b.Bytes())
		if b.ch.buf.Len() > 1<<20 {
			b.out.commit(&b.ch)
		}
	}
}

// writeOutline writes one outline entry per unit with pages, titled with its name, in the units' order.
func (b *builder) writeOutline() {
	type item struct {
		num   int
		title string
		page  int
	}
	var items []item
	for i, up := range b.res.Units {
		if up.Start > 0 {
			items = append(items, item{b.out.alloc(), b.units[i].Name, b.kids[up.Start-1]})
		}
	}
	if len(items) == 0 {
		return
	}
	root := b.out.alloc()
	b.outlines = root
	b.ch.obj(root, fmt.Sprintf("<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>",
		items[0].num, items[len(items)-1].num, len(items)))
	for i, it := range items {
		var s strings.Builder
		fmt.Fprintf(&s, "<< /Title %s /Parent %d 0 R /Dest [%d 0 R /Fit]", textString(it.title), root, it.page)
		if i > 0 {
			fmt.Fprintf(&s, " /Prev %d 0 R", items[i-1].num)
		}
		if i < len(items)-1 {
			fmt.Fprintf(&s, " /Next %d 0 R", items[i+1].num)
		}
		s.WriteString(" >>")
		b.ch.obj(it.num, s.String())
	}
}

// writeTree writes the page tree (one level: every page is a kid of the root), the catalog and the
// document information.
func (b *builder) writeTree() {
	var s strings.Builder
	fmt.Fprintf(&s, "<< /Type /Pages /Count %d /Kids [", len(b.kids))
	for i, k := range b.kids {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%d 0 R", k)
	}
	s.WriteString("] >>")
	b.ch.obj(b.pagesRoot, s.String())
	cat := fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R", b.pagesRoot)
	if b.outlines != 0 {
		cat += fmt.Sprintf(" /Outlines %d 0 R /PageMode /UseOutlines", b.outlines)
	}
	b.ch.obj(b.catalog, cat+" >>")
	title := strings.TrimSpace(b.c.Campaign + " " + b.c.Period + " 简报汇编")
	made := b.c.Made.In(b.o.Location)
	_, off := made.Zone()
	tz := "Z"
	if off != 0 {
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		tz = fmt.Sprintf("%c%02d'%02d'", sign, off/3600, off%3600/60)
	}
	b.ch.obj(b.info, fmt.Sprintf("<< /Title %s /Author %s /Creator (briefd) /Producer (briefd booklet) /CreationDate (D:%s%s) >>",
		textString(title), textString(b.c.Office), made.Format("20060102150405"), tz))
}
