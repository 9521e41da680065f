package intake

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"briefd/mailmsg"
	"briefd/pdfcheck"
)

// This file opens the zip archives that units send instead of several PDF attachments (issue 14 item 4).
// Nothing in an archive is trusted: entry names are decoded leniently (GBK from Windows and WinRAR,
// UTF-8 without its flag from macOS and Info-ZIP), sizes are counted on the bytes actually inflated, and
// an archive that would cost much to open is refused before or while it is read, never after.

// ZipOptions bounds what Unzip does with one archive. Zero values mean the defaults.
type ZipOptions struct {
	// MaxEntries is the most files (directories and metadata junk not counted) an archive may hold;
	// with more the whole archive is refused (pdfcheck.ReasonZipTooMany). Default 100.
	MaxEntries int
	// MaxTotal is the most bytes all its files may inflate to together, counted while inflating; beyond
	// it the whole archive is refused (pdfcheck.ReasonZipTooLarge). The pipeline passes its attachment
	// size limit. Default 50 MiB.
	MaxTotal int64
	// MaxRatio is the highest compression ratio (bytes out per byte in, measured as they are read) of one
	// file once more than 1 MiB has come out of it, and of all files together once more than 1 MiB has
	// come out of them; beyond it the whole archive is refused as a decompression bomb
	// (pdfcheck.ReasonZipBomb). Default 100.
	MaxRatio int
}

const (
	defaultZipMaxEntries = 100
	defaultZipMaxTotal   = 50 << 20
	defaultZipMaxRatio   = 100

	// zipRatioSlack is how much may come out of one file before its ratio is held against MaxRatio:
	// small files of text or blank pages legitimately compress far better than 100:1, and cost nothing.
	zipRatioSlack = 1 << 20
	// zipDirectoryBudget bounds what archive/zip may read to find and parse the central directory.
	// archive/zip keeps one struct of about 200 bytes per record it reads, and reads records until one
	// is bad, whatever the record count says; 1 MiB of records (at least 46 bytes each) is at most about
	// 5 MB of memory, and far more than 100 files with long names need.
	zipDirectoryBudget = 1<<20 + 128<<10
	// zipChunk is how much is inflated between two checks of the limits.
	zipChunk = 32 << 10
	// maxZipSkipped is how many skipped entries are listed by name.
	maxZipSkipped = 100
)

// ZipEntry is one file found in a zip archive.
type ZipEntry struct {
	// Attachment is the file as if it had been attached directly: Filename is the entry's base name
	// ("一中简报.pdf"), Size and SHA256 are of the inflated bytes, Path is the spooled file. ContentType is
	// empty (an archive declares none) and TooLarge and Inline are never set. Path is "" when Reason is
	// set, or when the archive as a whole was refused.
	mailmsg.Attachment
	// Name is the entry's path in the archive, decoded to UTF-8, with "/" between its folders
	// ("报告/一中简报.pdf"): what the reply should show.
	Name string `json:"name"`
	// Kind is what pdfcheck.Sniff says of the inflated bytes (pdfcheck.KindPDF, ...); "" when they were
	// not read to the end.
	Kind string `json:"kind"`
	// Reason is set when this file cannot be used and is not spooled: pdfcheck.ReasonZipNested (an
	// archive inside the archive: not opened), ReasonZipMethod (compressed other than stored or
	// deflated) or ReasonZipDamaged (its data does not inflate, or does not match its CRC or size).
	// When the whole archive is refused, the file it was refused on carries the archive's Reason.
	Reason string `json:"reason,omitempty"`
}

// ZipSkip is an entry of a zip archive that was not looked at.
type ZipSkip struct {
	// Name is the entry's decoded path.
	Name string `json:"name"`
	// Why is "directory", "macOS metadata", "Windows metadata", "Office lock file", "symlink",
	// "special file" or "no name".
	Why string `json:"why"`
}

// ZipResult is what Unzip found in one archive.
type ZipResult struct {
	// Reason, when set, refuses the archive as a whole (pdfcheck.ReasonZipNoPDF, ReasonZipEncrypted,
	// ReasonZipTooMany, ReasonZipTooLarge, ReasonZipBomb, ReasonZipUnsafePath, ReasonZipDamaged,
	// ReasonZipMethod, ReasonArchiveOther); then nothing of it stays spooled. ReasonZipDamaged and
	// ReasonZipMethod are given for the archive when no file in it is a PDF and some could not be read.
	Reason string `json:"reason"`
	// Entries are the files worth checking, in archive order. When Reason is "", all of them, each
	// spooled unless its own Reason is set. When Reason is set, they are listed without Path: all of
	// them for ReasonZipNoPDF, ReasonZipEncrypted, ReasonZipDamaged and ReasonZipMethod; those read up
	// to the refusal for ReasonZipTooLarge and ReasonZipBomb; none when the archive was refused on its
	// directory alone (unreadable, too many files, an unsafe path, overlapping entries).
	Entries []ZipEntry `json:"entries"`
	// Skipped are the directories and metadata entries passed over (at most 100 listed).
	Skipped []ZipSkip `json:"skipped"`
	// Problems are English notes on what was wrong with the archive and how it was handled.
	Problems []string `json:"problems"`
}

// Cleanup removes the spooled files. It is safe to call more than once.
func (r *ZipResult) Cleanup() {
	if r == nil {
		return
	}
	for i := range r.Entries {
		if r.Entries[i].Path != "" {
			os.Remove(r.Entries[i].Path)
			r.Entries[i].Path = ""
		}
	}
}

// Unzip opens the zip archive at file and spools every file in it worth checking into dir, each to its
// own file (size and SHA-256 computed while inflating, as Parse does for attachments), so that each can
// be checked and archived as if it had been attached directly. Directories, macOS and Windows metadata
// (__MACOSX/, ._*, .DS_Store, Thumbs.db, desktop.ini) and Office lock files are skipped. Files that are
// not PDFs are spooled too, so that the reply can say what they are; an archive inside the archive is
// not opened (nesting depth 1) but reported with pdfcheck.ReasonZipNested.
//
// Call it on an attachment pdfcheck sniffed as pdfcheck.KindArchive, never on an entry it returned. A
// RAR, 7z or other archive that is not a zip gets pdfcheck.ReasonArchiveOther; a file that is not an
// archive at all gets ReasonZipDamaged.
//
// Whatever is wrong with the archive is told in the result (Reason, the entries' Reasons, Problems);
// the error is only for failures of this machine: opening or reading file, writing to dir. On error
// nothing is left spooled.
func Unzip(file, dir string, opts ZipOptions) (*ZipResult, error) {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = defaultZipMaxEntries
	}
	if opts.MaxTotal <= 0 {
		opts.MaxTotal = defaultZipMaxTotal
	}
	if opts.MaxRatio <= 0 {
		opts.MaxRatio = defaultZipMaxRatio
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("intake: unzip: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("intake: unzip: %w", err)
	}
	u := &unzipper{opts: opts, dir: dir, src: &zipSource{f: f, budget: -1}, res: &ZipResult{}}
	if err := u.run(fi.Size()); err != nil {
		u.res.Cleanup()
		return nil, err
	}
	return u.res, nil
}

type unzipper struct {
	opts    ZipOptions
	dir     string
	src     *zipSource
	res     *ZipResult
	total   int64 // bytes inflated so far, all files
	totalIn int64 // compressed bytes they came from

	buf []byte
	br  *bufio.Reader
	fl  io.ReadCloser // a flate reader, reset for each file
}

// zipItem is a file worth checking, with its entry.
type zipItem struct {
	f      *zip.File
	entry  ZipEntry
	offset int64 // where its data starts; -1 when its local header is unreadable
}

func (u *unzipper) problem(format string, args ...any) {
	switch p := u.res.Problems; {
	case len(p) < mailmsg.MaxProblems:
		u.res.Problems = append(p, fmt.Sprintf(format, args...))
	case len(p) == mailmsg.MaxProblems:
		u.res.Problems = append(p, "more problems not listed")
	}
}

// fault returns the read error of the archive file, if one happened: a failure of this machine.
func (u *unzipper) fault() error {
	if u.src.err != nil {
		return fmt.Errorf("intake: unzip: reading archive: %w", u.src.err)
	}
	return nil
}

func (u *unzipper) run(size int64) error {
	res := u.res
	var head [8]byte
	n, _ := u.src.ReadAt(head[:], 0)
	if err := u.fault(); err != nil {
		return err
	}
	if !bytes.HasPrefix(head[:n], []byte("PK")) && pdfcheck.Sniff(u.src, size) == pdfcheck.KindArchive {
		if err := u.fault(); err != nil {
			return err
		}
		res.Reason = pdfcheck.ReasonArchiveOther
		u.problem("not a zip archive (RAR, 7z, gzip, ...): not opened")
		return nil
	}

	u.src.budget = zipDirectoryBudget
	zr, err := zip.NewReader(u.src, size)
	u.src.budget = -1
	if ferr := u.fault(); ferr != nil {
		return ferr
	}
	switch {
	case errors.Is(err, errZipBudget):
		res.Reason = pdfcheck.ReasonZipTooMany
		u.problem("central directory larger than %d KiB: not read", zipDirectoryBudget>>10)
		return nil
	case err != nil && !errors.Is(err, zip.ErrInsecurePath): // paths are judged below
		res.Reason = pdfcheck.ReasonZipDamaged
		u.problem("cannot read the archive: %v", err)
		return nil
	}

	// Look at every entry before reading any data: the archive is refused as a whole for a path that
	// leaves its folder, for a password, or for too many files.
	gbk := gbkArchive(zr.File)
	var items []*zipItem
	for _, f := range zr.File {
		name := zipEntryName(f, gbk)
		if unsafeZipPath(name) {
			res.Reason = pdfcheck.ReasonZipUnsafePath
			u.problem("entry %q leaves the archive's folder", name)
			return nil
		}
		if why := zipSkipWhy(f, name); why != "" {
			if len(res.Skipped) < maxZipSkipped {
				res.Skipped = append(res.Skipped, ZipSkip{Name: name, Why: why})
			}
			continue
		}
		base := path.Base(name)
		items = append(items, &zipItem{f: f, entry: ZipEntry{Attachment: mailmsg.Attachment{Filename: base}, Name: name}})
	}
	if len(items) > u.opts.MaxEntries {
		res.Reason = pdfcheck.ReasonZipTooMany
		u.problem("%d files, more than %d", len(items), u.opts.MaxEntries)
		return nil
	}
	for _, it := range items {
		if it.f.Flags&0x1 != 0 || it.f.Method == 99 { // traditional PKWARE or WinZip AES encryption
			res.Reason = pdfcheck.ReasonZipEncrypted
			u.problem("entry %q is encrypted", it.entry.Name)
			for _, it := range items {
				res.Entries = append(res.Entries, it.entry)
			}
			return nil
		}
	}
	if bad := u.overlapping(items, size); bad != "" {
		res.Reason = pdfcheck.ReasonZipBomb
		u.problem("entries overlap: %s", bad)
		return nil
	}
	if err := u.fault(); err != nil {
		return err
	}

	for _, it := range items {
		stop, err := u.extract(it)
		res.Entries = append(res.Entries, it.entry)
		if err != nil {
			return err
		}
		if stop != "" {
			res.Reason = stop
			res.Cleanup()
			return nil
		}
	}

	pdfs, damaged, method := 0, 0, 0
	for _, e := range res.Entries {
		switch {
		case e.Kind == pdfcheck.KindPDF:
			pdfs++
		case e.Reason == pdfcheck.ReasonZipDamaged:
			damaged++
		case e.Reason == pdfcheck.ReasonZipMethod:
			method++
		}
	}
	if pdfs == 0 {
		switch {
		case damaged > 0: // the damaged file may well have been the PDF
			res.Reason = pdfcheck.ReasonZipDamaged
		case method > 0:
			res.Reason = pdfcheck.ReasonZipMethod
		default:
			res.Reason = pdfcheck.ReasonZipNoPDF
		}
		res.Cleanup()
	}
	return nil
}

// overlapping finds the local header of each item and returns a description of two items whose data
// overlap (the construction of non-recursive zip bombs: many entries inflating the same bytes), or "".
// An item whose local header cannot be read is marked damaged.
func (u *unzipper) overlapping(items []*zipItem, size int64) string {
	var ok []*zipItem
	for _, it := range items {
		off, err := it.f.DataOffset()
		if err != nil || off < 0 || off > size || it.f.CompressedSize64 > uint64(size-off) {
			it.offset = -1
			continue
		}
		it.offset = off
		ok = append(ok, it)
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].offset < ok[j].offset })
	for i := 1; i < len(ok); i++ {
		a, b := ok[i-1], ok[i]
		if uint64(a.offset)+a.f.CompressedSize64 > uint64(b.offset) {
			return fmt.Sprintf("%q and %q", a.entry.Name, b.entry.Name)
		}
	}
	return ""
}

// extract inflates one item into a spool file, filling its entry. stop is the reason to refuse the whole
// archive (too large, bomb); a problem with this file alone is set as the entry's Reason.
func (u *unzipper) extract(it *zipItem) (stop string, err error) {
	f, e := it.f, &it.entry
	if it.offset < 0 {
		e.Reason = pdfcheck.ReasonZipDamaged
		u.problem("%q: local header unreadable or data beyond the end of the archive", e.Name)
		return "", nil
	}
	if f.Method != zip.Store && f.Method != zip.Deflate {
		e.Reason = pdfcheck.ReasonZipMethod
		u.problem("%q: compression method %d not supported", e.Name, f.Method)
		return "", nil
	}
	raw, err := f.OpenRaw()
	if err != nil {
		if ferr := u.fault(); ferr != nil {
			return "", ferr
		}
		e.Reason = pdfcheck.ReasonZipDamaged
		u.problem("%q: %v", e.Name, err)
		return "", nil
	}
	if u.buf == nil {
		u.buf = make([]byte, zipChunk)
		u.br = bufio.NewReaderSize(raw, zipChunk)
	} else {
		u.br.Reset(raw)
	}
	in := &countingReader{r: u.br}
	var r io.Reader = in
	if f.Method == zip.Deflate {
		if u.fl == nil {
			u.fl = flate.NewReader(in)
		} else if err := u.fl.(flate.Resetter).Reset(in, nil); err != nil {
			return "", fmt.Errorf("intake: unzip: %w", err)
		}
		r = u.fl
	}

	out, err := os.CreateTemp(u.dir, "zip-*")
	if err != nil {
		return "", fmt.Errorf("intake: unzip: spooling %q: %w", e.Name, err)
	}
	e.Path = out.Name()
	drop := func() {
		os.Remove(e.Path)
		e.Path = ""
	}
	h, crc := sha256.New(), crc32.NewIEEE()
	var n int64
	var rerr error
	for stop == "" {
		k, err := r.Read(u.buf)
		if k > 0 {
			switch {
			case u.total+int64(k) > u.opts.MaxTotal:
				stop = pdfcheck.ReasonZipTooLarge
				u.problem("%q: more than %d bytes inflated from the archive", e.Name, u.opts.MaxTotal)
				continue
			case n+int64(k) > zipRatioSlack && n+int64(k) > int64(u.opts.MaxRatio)*in.n:
				stop = pdfcheck.ReasonZipBomb
				u.problem("%q: %d bytes inflated from %d (ratio over %d; header says %d from %d)",
					e.Name, n+int64(k), in.n, u.opts.MaxRatio, f.UncompressedSize64, f.CompressedSize64)
				continue
			case u.total+int64(k) > zipRatioSlack && u.total+int64(k) > int64(u.opts.MaxRatio)*(u.totalIn+in.n):
				// Many small files each under the slack, together a bomb.
				stop = pdfcheck.ReasonZipBomb
				u.problem("%q: %d bytes inflated from %d in all files so far (ratio over %d)",
					e.Name, u.total+int64(k), u.totalIn+in.n, u.opts.MaxRatio)
				continue
			}
			if _, werr := out.Write(u.buf[:k]); werr != nil {
				out.Close()
				drop()
				return "", fmt.Errorf("intake: unzip: spooling %q: %w", e.Name, werr)
			}
			h.Write(u.buf[:k])
			crc.Write(u.buf[:k])
			n += int64(k)
			u.total += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	u.totalIn += in.n
	if cerr := out.Close(); cerr != nil {
		drop()
		return "", fmt.Errorf("intake: unzip: spooling %q: %w", e.Name, cerr)
	}
	if ferr := u.fault(); ferr != nil {
		drop()
		return "", ferr
	}
	e.Size, e.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	switch {
	case stop != "":
		e.Reason = stop
	case rerr != nil:
		e.Reason = pdfcheck.ReasonZipDamaged
		u.problem("%q: %v", e.Name, rerr)
	case uint64(n) != f.UncompressedSize64:
		e.Reason = pdfcheck.ReasonZipDamaged
		u.problem("%q: inflated to %d bytes, header says %d", e.Name, n, f.UncompressedSize64)
	case crc.Sum32() != f.CRC32 && !(f.CRC32 == 0 && f.Flags&0x8 != 0):
		e.Reason = pdfcheck.ReasonZipDamaged
		u.problem("%q: CRC-32 %08x, header says %08x", e.Name, crc.Sum32(), f.CRC32)
	}
	if e.Reason != "" {
		drop()
		return stop, nil
	}
	kind, err := sniffFile(e.Path, n)
	if err != nil {
		drop()
		return "", fmt.Errorf("intake: unzip: %w", err)
	}
	e.Kind = kind
	if kind == pdfcheck.KindArchive {
		e.Reason = pdfcheck.ReasonZipNested
		drop()
	}
	return "", nil
}

func sniffFile(name string, size int64) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return pdfcheck.Sniff(f, size), nil
}

// zipSource reads the archive file, remembering the first read error (a failure of this machine, not
// of the archive) and, while its budget is not negative, refusing reads beyond it.
type zipSource struct {
	f      *os.File
	budget int64
	err    error
}

var (
	errZipBudget = errors.New("zip directory larger than the budget")
	errZipOffset = errors.New("negative offset in the zip archive")
)

func (s *zipSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 { // an offset in the archive points before its start: the archive's fault, not the disk's
		return 0, errZipOffset
	}
	if s.budget >= 0 {
		if int64(len(p)) > s.budget {
			return 0, errZipBudget
		}
		s.budget -= int64(len(p))
	}
	n, err := s.f.ReadAt(p, off)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// countingReader counts the compressed bytes flate consumes. It is an io.ByteReader, so that flate
// reads through it byte by byte instead of buffering ahead, and the count is exact.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// gbkArchive reports whether the archive's names are in a legacy encoding: some name without the UTF-8
// flag (general purpose bit 11) is not valid UTF-8. Then every such name is read as GB18030, even one
// that happens to be valid UTF-8 too (GBK 录取 is the bytes of UTF-8 "¼ȡ").
func gbkArchive(files []*zip.File) bool {
	for _, f := range files {
		if f.Flags&0x800 == 0 && !utf8.ValidString(f.Name) {
			return true
		}
	}
	return false
}

// zipEntryName decodes an entry's name: from its Info-ZIP Unicode Path extra field when that is present
// and still matches the name; else as UTF-8 when flagged so or when the archive has no legacy name and
// it is valid UTF-8 (macOS and Info-ZIP write UTF-8 without the flag); else as GB18030 (Windows and
// WinRAR write the OEM code page, CP936 on Chinese Windows). Backslashes, which old Windows tools write,
// become slashes; control characters are removed.
func zipEntryName(f *zip.File, gbk bool) string {
	raw := f.Name
	name, ok := unicodePathExtra(f.Extra, raw)
	switch {
	case ok:
	case f.Flags&0x800 == 0 && gbk:
		s, err := simplifiedchinese.GB18030.NewDecoder().String(raw)
		if err != nil {
			s = raw
		}
		name = strings.ToValidUTF8(s, "\uFFFD")
	default:
		name = mailmsg.FixText(raw) // a flagged name that is not UTF-8 is GBK all the same
	}
	name = strings.ReplaceAll(name, `\`, "/")
	name = mailmsg.CleanFilename(name)
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	return name
}

// unicodePathExtra returns the name in an Info-ZIP Unicode Path extra field (0x7075: version 1, CRC-32
// of the header's name, UTF-8 name), when there is one whose CRC matches raw (a tool that renamed the
// entry without knowing the field leaves it stale).
func unicodePathExtra(extra []byte, raw string) (string, bool) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return "", false
		}
		d := extra[:size]
		extra = extra[size:]
		if id != 0x7075 || len(d) < 6 || d[0] != 1 {
			continue
		}
		if binary.LittleEndian.Uint32(d[1:5]) != crc32.ChecksumIEEE([]byte(raw)) || !utf8.Valid(d[5:]) {
			return "", false
		}
		return string(d[5:]), true
	}
	return "", false
}

// unsafeZipPath reports whether a decoded entry name (slashes only) leaves the archive's folder: an
// absolute path, a drive letter, or a ".." element. Unzip never writes under these names; an archive
// that holds one was made to attack an unzipper, or by something broken.
func unsafeZipPath(name string) bool {
	if strings.HasPrefix(name, "/") {
		return true
	}
	if len(name) >= 2 && name[1] == ':' && ('a' <= name[0]|0x20 && name[0]|0x20 <= 'z') {
		return true
	}
	for _, el := range strings.Split(name, "/") {
		if strings.TrimRight(el, " ") == ".." { // Windows drops trailing spaces
			return true
		}
	}
	return false
}

// zipSkipWhy says why an entry is not worth checking, or "".
func zipSkipWhy(f *zip.File, name string) string {
	base := path.Base(name)
	mode := f.Mode()
	switch {
	case name == "":
		return "no name"
	case strings.HasSuffix(name, "/") || mode.IsDir():
		return "directory"
	case mode&fs.ModeSymlink != 0:
		return "symlink"
	case !mode.IsRegular():
		return "special file"
	case name == "__MACOSX" || strings.HasPrefix(name, "__MACOSX/") || strings.Contains(name, "/__MACOSX/"),
		strings.HasPrefix(base, "._"), base == ".DS_Store":
		return "macOS metadata"
	case strings.EqualFold(base, "Thumbs.db"), strings.EqualFold(base, "desktop.ini"):
		return "Windows metadata"
	case strings.HasPrefix(base, "~$"):
		return "Office lock file"
	}
	return ""
}

// zipKindNames names kinds for a reply.
var zipKindNames = map[string]string{
	pdfcheck.KindPDF: "PDF", pdfcheck.KindDoc: "Word文档", pdfcheck.KindDocx: "Word文档",
	pdfcheck.KindXls: "Excel表格", pdfcheck.KindXlsx: "Excel表格", pdfcheck.KindPpt: "PowerPoint演示文稿",
	pdfcheck.KindPptx: "PowerPoint演示文稿", pdfcheck.KindWPS: "WPS文档", pdfcheck.KindOFD: "OFD文件",
	pdfcheck.KindImage: "图片", pdfcheck.KindArchive: "压缩包", pdfcheck.KindHTML: "网页",
	pdfcheck.KindText: "文本文件", pdfcheck.KindEmpty: "空文件", pdfcheck.KindOther: "其他文件",
}

// Contents lists the files found, for a reply: "报告/一中简报.pdf（PDF）、统计表.xlsx（Excel表格）", at most
// limit of them (all when limit <= 0) and then "等12个文件". A file not read to the end is listed without a
// kind. "" when no file was found.
func (r *ZipResult) Contents(limit int) string {
	if r == nil || len(r.Entries) == 0 {
		return ""
	}
	var b strings.Builder
	for i, e := range r.Entries {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, "等%d个文件", len(r.Entries))
			break
		}
		if i > 0 {
			b.WriteString("、")
		}
		b.WriteString(e.Name)
		if k := zipKindNames[e.Kind]; k != "" {
			b.WriteString("（" + k + "）")
		}
	}
	return b.String()
}
