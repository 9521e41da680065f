package pdfcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/log"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
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
}

const (
	maxWarnings  = 12
	maxTreeDepth = 256     // page tree levels; real files have < 10
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
	api.DisableConfigDir()
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

	var pctx *model.Context
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("pdfcpu panicked: %v", r)
			}
		}()
		pctx, err = pdfcpu.ReadWithContext(ctx, f, pdfConf())
	}()
	res := result{Phase: "parse"}
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		res.Reason, res.Encrypted = ReasonPassword, true
	case err != nil && strings.HasPrefix(err.Error(), "pdfcpu panicked"):
		res.Reason = ReasonCheckFailed
		res.Warnings = append(res.Warnings, err.Error())
	case err != nil:
		res.Reason = ReasonDamaged
		res.Warnings = append(res.Warnings, "parse: "+err.Error())
	}
	if err != nil {
		res.Warnings = append(res.Warnings, in.log.take()...)
		emit(res)
		return
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("version: %v", r))
			}
		}()
		res.Version = pctx.XRefTable.VersionString()
	}()
	res.Encrypted = pctx.XRefTable.Encrypt != nil || pctx.XRefTable.E != nil
	pages, declared, warns := pageTree(pctx.XRefTable)
	res.Pages = pages
	res.Warnings = append(res.Warnings, warns...)
	if declared != pages {
		res.Warnings = append(res.Warnings, fmt.Sprintf("page tree: /Count says %d, found %d pages", declared, pages))
	}
	if pages == 0 {
		res.Reason = ReasonNoPages
	}
	if pctx.Read.Linearized {
		res.Warnings = append(res.Warnings, "info: linearized")
	}
	res.Warnings = append(res.Warnings, in.log.take()...)
	emit(res)
	if !validate || res.Reason != "" {
		return
	}

	v := result{Phase: "validate"}
	func() {
		defer func() {
			if r := recover(); r != nil {
				v.Warnings = append(v.Warnings, fmt.Sprintf("validate: pdfcpu panicked: %v", r))
			}
		}()
		if err := api.ValidateContext(pctx); err != nil {
			v.Warnings = append(v.Warnings, "validate: "+err.Error())
		}
	}()
	v.Warnings = append(v.Warnings, in.log.take()...)
	pctx = nil
	if f, err := f.Stat(); err == nil && f.Size() > 8<<20 {
		debug.FreeOSMemory() // give a big file's memory back before the next one
	}
	emit(v)
}

// pageTree counts the pages reachable from the catalog's page tree (leaves: /Type /Page, or a node without
// /Kids), guarding against loops, missing objects and absurd depth. declared is the root's /Count.
func pageTree(xt *model.XRefTable) (pages, declared int, warns []string) {
	defer func() {
		if r := recover(); r != nil {
			warns = append(warns, fmt.Sprintf("page tree: pdfcpu panicked: %v", r))
		}
	}()
	cat, err := xt.Catalog()
	if err != nil || cat == nil {
		return 0, 0, []string{fmt.Sprintf("catalog: %v", err)}
	}
	root, ok := cat.Find("Pages")
	if !ok {
		return 0, 0, []string{"catalog has no /Pages"}
	}
	if d, err := xt.DereferenceDict(root); err == nil && d != nil {
		if c := d.IntEntry("Count"); c != nil {
			declared = *c
		}
	}
	type item struct {
		o     types.Object
		depth int
	}
	stack := []item{{root, 0}}
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
		kids, hasKids := d.Find("Kids")
		if t := d.Type(); !hasKids || (t != nil && *t == "Page") {
			pages++
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
			stack = append(stack, item{arr[i], it.depth + 1})
		}
	}
	if missing > 0 {
		warns = append(warns, fmt.Sprintf("page tree: %d missing or broken nodes", missing))
	}
	if loops > 0 {
		warns = append(warns, fmt.Sprintf("page tree: %d loops", loops))
	}
	return pages, declared, warns
}
