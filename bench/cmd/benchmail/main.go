// Command benchmail measures briefd against what an office's admin would use instead: it generates a
// backlog of realistic submissions, loads it into a Dovecot on loopback, and times `briefd poll`, a plain
// go-imap fetch, mbsync, and mbsync + munpack + qpdf --check; then the IDLE latency of `briefd run` and
// the commands over a store of 100,000 receipts. bench/run.sh builds it and briefd and runs it.
//
//	benchmail run -briefd PATH [-n 500] [-small 100] [-runs 3] [-latency 50] [-receipts 100000] [-out DIR]
//	benchmail fetch ADDR USER PASS MAILBOX    (the plain fetch, run as its own process to measure it)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"briefd/pdfcheck"
)

func main() {
	pdfcheck.MaybeWorker() // the profile mode runs briefd's pipeline in this process
	if len(os.Args) < 2 {
		usageExit()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = cmdRun(os.Args[2:])
	case "fetch":
		if len(os.Args) != 6 {
			usageExit()
		}
		err = plainFetch(os.Args[2], os.Args[3], os.Args[4], os.Args[5])
	case "profile":
		err = cmdProfile(os.Args[2:])
	case "serve":
		err = cmdServe(os.Args[2:])
	default:
		usageExit()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmail:", err)
		os.Exit(1)
	}
}

func usageExit() {
	fmt.Fprintln(os.Stderr, "usage: benchmail run -briefd PATH [flags] | benchmail fetch ADDR USER PASS MAILBOX | benchmail profile [flags]")
	os.Exit(2)
}

type config struct {
	briefd   string
	n, small int
	runs     int
	latency  int
	receipts int
	out      string
	seed     uint64
	skip     string
	keep     string
	// corpus is the folder of real-world PDFs with its poppler.tsv ("": no real-world backlog); needReal
	// makes a missing pool an error instead of a note.
	corpus    string
	needReal  bool
	realMin   int64
	realShare float64
}

func cmdRun(args []string) error {
	var c config
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.StringVar(&c.briefd, "briefd", "", "the briefd binary to measure (required)")
	fs.IntVar(&c.n, "n", 500, "mails in the backlog")
	fs.IntVar(&c.small, "small", 100, "mails in the small backlog (RSS flatness)")
	fs.IntVar(&c.runs, "runs", 3, "runs of each measurement; the median is reported")
	fs.IntVar(&c.latency, "latency", 50, "mails appended one by one for the IDLE latency (0: skip)")
	fs.IntVar(&c.receipts, "receipts", 100_000, "receipts in the scale store (0: skip)")
	fs.StringVar(&c.out, "out", "", "folder for results.md (default: none)")
	fs.Uint64Var(&c.seed, "seed", 20220110, "random seed of the generated mail")
	fs.StringVar(&c.skip, "skip", "", "comma-separated phases to skip: backlog,pipeline,latency,scale")
	fs.StringVar(&c.keep, "keep-scale", "", "copy the scale store and its config.yaml into this folder, to time commands by hand")
	fs.StringVar(&c.corpus, "corpus", "../shared/corpus/pdf", "folder of real-world PDFs and their poppler.tsv for the second backlog (\"\": none)")
	fs.BoolVar(&c.needReal, "need-corpus", false, "fail when the real-world pool cannot be read (default: measure the generated backlog only, and say so)")
	fs.Int64Var(&c.realMin, "corpus-min", 100<<10, "smallest real-world PDF taken into the pool, bytes")
	fs.Float64Var(&c.realShare, "corpus-share", 0.5, "share of the real-world backlog's PDFs taken from the pool; the rest are generated")
	fs.Parse(args)
	if c.briefd == "" {
		return errors.New("-briefd is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, c)
	if err != nil {
		return err
	}
	defer b.cleanup()
	return b.run(ctx)
}

// plainFetch is the floor: one UID FETCH 1:* BODY.PEEK[] with every literal streamed to io.Discard.
func plainFetch(addr, user, pass, mailbox string) error {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		return err
	}
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return err
	}
	if sel.NumMessages == 0 {
		return errors.New("mailbox is empty")
	}
	start := time.Now()
	cmd := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	var n, total int64
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if it, ok := item.(imapclient.FetchItemDataBodySection); ok && it.Literal != nil {
				k, err := io.Copy(io.Discard, it.Literal)
				if err != nil {
					return err
				}
				total += k
				n++
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "fetched %d messages, %d bytes in %s\n", n, total, time.Since(start).Round(time.Millisecond))
	if n != int64(sel.NumMessages) {
		return fmt.Errorf("fetched %d of %d messages", n, sel.NumMessages)
	}
	return c.Logout().Wait()
}
