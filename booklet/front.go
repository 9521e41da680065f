package booklet

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
)

// Contents page geometry (A4 portrait, points).
const (
	ctSize      = 11.0  // row text
	ctLine      = 15.0  // line height within a row
	ctGap       = 6.0   // space between rows
	ctTop       = 728.0 // first row's top on the first contents page (below the title)
	ctTopNext   = 770.0 // on the following pages
	ctBottom    = 78.0  // rows end above this (room for the footnote and the page number)
	ctSeqRight  = 84.0
	ctName      = 94.0
	ctNameWidth = 250.0
	ctState     = 356.0
	ctReceipt   = 420.0
	ctRecWidth  = 88.0
	ctPageRight = 540.0
	ctMaxLines  = 3
)

// contentsRow is one unit's row on the contents.
type contentsRow struct {
	unit  int
	lines []string // the name, wrapped
}

func (r contentsRow) height() float64 { return float64(len(r.lines))*ctLine + ctGap }

// layoutContents wraps every unit's name and spreads the rows over as many contents pages as they need.
// It depends on the names only, so the number of contents pages is known before any file is read.
func (b *builder) layoutContents() {
	b.rows = make([]contentsRow, len(b.units))
	for i, u := range b.units {
		b.rows[i] = contentsRow{unit: i, lines: wrap(u.Name, ctSize, ctNameWidth, ctMaxLines)}
	}
	page, y := []int{}, ctTop
	for i, r := range b.rows {
		if y-r.height() < ctBottom && len(page) > 0 {
			b.layout = append(b.layout, page)
			page, y = []int{}, ctTopNext
		}
		page = append(page, i)
		y -= r.height()
	}
	b.layout = append(b.layout, page)
}

// writeFront writes the cover and the contents, now that every unit's page is known.
func (b *builder) writeFront() {
	b.writeCover()
	for i, rows := range b.layout {
		b.writeContentsPage(i, rows)
	}
}

func (b *builder) writeCover() {
	cv := newCanvas(stampFontName, b.used)
	mid := a4[2] / 2
	cv.textCenter(mid, 742, 16, b.c.Office)
	y := 600.0
	title := wrap(b.c.Campaign, 26, 460, 3)
	for _, l := range title {
		cv.boldCenter(mid, y, 26, l)
		y -= 36
	}
	y -= 14
	cv.boldCenter(mid, y, 32, "简 报 汇 编")
	cv.line(130, y-24, a4[2]-130, y-24, 0.8)

	counts := CountStates(b.units)
	made := b.c.Made.In(b.o.Location)
	info := []string{
		"报送期次：" + orDash(b.c.Period),
		"截止日期：" + orDash(b.c.Due),
		"汇编日期：" + fmt.Sprintf("%d年%d月%d日 %s", made.Year(), made.Month(), made.Day(), made.Format("15:04")),
		fmt.Sprintf("应报单位：%d 个", len(b.units)),
	}
	y = 390
	for _, l := range info {
		cv.text(170, y, 14, l)
		y -= 26
	}
	y -= 16
	cv.textCenter(mid, y, 14, fmt.Sprintf("已报送 %d / 逾期 %d / 未通过 %d / 未报送 %d",
		counts.Reported, counts.Late, counts.Rejected, counts.Missing))
	y -= 26
	cv.textCenter(mid, y, 11, fmt.Sprintf("本汇编收录 %d 个单位的 %d 份文件，共 %d 页",
		b.unitsWithFiles(), b.res.Merged, b.res.Pages))
	if n := len(b.res.Placeholders); n > 0 {
		y -= 20
		cv.textCenter(mid, y, 11, fmt.Sprintf("另有 %d 份文件无法并入，已以说明页代替（目录中标 ※）", n))
	}
	if b.res.Merged == 0 {
		y -= 20
		cv.textCenter(mid, y, 11, "本期没有可并入的文件")
	}
	b.writeOwnPage(b.cover, cv, 1)
}

func (b *builder) unitsWithFiles() int {
	n := 0
	for _, up := range b.res.Units {
		if up.Files > 0 {
			n++
		}
	}
	return n
}

func (b *builder) writeContentsPage(i int, rows []int) {
	cv := newCanvas(stampFontName, b.used)
	mid := a4[2] / 2
	top := ctTopNext
	if i == 0 {
		cv.boldCenter(mid, 790, 20, "目　录")
		sub := b.c.Campaign
		if b.c.Period != "" {
			sub += "（" + b.c.Period + "）"
		}
		cv.textCenter(mid, 766, 11, wrap(sub, 11, 460, 1)[0])
		top = ctTop
	}
	// header
	hy := top + 10
	cv.textRight(ctSeqRight, hy, 10, "序号")
	cv.text(ctName, hy, 10, "报送单位")
	cv.text(ctState, hy, 10, "状态")
	cv.text(ctReceipt, hy, 10, "回执编号")
	cv.textRight(ctPageRight, hy, 10, "页码")
	cv.line(56, hy-5, ctPageRight, hy-5, 0.6)

	y := top - ctLine + 2
	if len(b.units) == 0 {
		cv.textCenter(mid, y, ctSize, "（本期没有应报单位）")
	}
	for _, ri := range rows {
		r := b.rows[ri]
		u := b.units[r.unit]
		cv.textRight(ctSeqRight, y, ctSize, strconv.Itoa(seqOf(b.units, r.unit)))
		for k, l := range r.lines {
			cv.text(ctName, y-float64(k)*ctLine, ctSize, l)
		}
		state := StateWord(u.State)
		if b.marked[r.unit] {
			state += "※"
		}
		cv.text(ctState, y, ctSize, state)
		if u.Receipt != "" {
			cv.text(ctReceipt, y, ctSize, wrap(u.Receipt, ctSize, ctRecWidth, 1)[0])
		}
		if up := b.res.Units[r.unit]; up.Start > 0 {
			cv.textRight(ctPageRight, y, ctSize, strconv.Itoa(up.Start))
		}
		y -= r.height()
	}
	if len(b.res.Placeholders) > 0 {
		cv.text(56, ctBottom-22, 9, "※ 该单位有文件无法并入汇编，汇编中以说明页代替，请按回执编号单独查看原文件。")
	}
	b.writeOwnPage(b.contents[i], cv, 2+i)
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
