package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"briefd/intake"
	"briefd/pdfcheck"
	"briefd/roster"
	"briefd/store"
)

// cmdProfile runs briefd's intake (watcher, pipeline, pdfcheck with 2 workers, as `briefd poll` wires
// them, without the replies) over a mailbox in this process under the CPU profiler, to see what
// dominates. The pdfcheck workers are separate processes and are not in the profile.
func cmdProfile(args []string) error {
	fs := flag.NewFlagSet("profile", flag.ExitOnError)
	addr := fs.String("addr", "", "IMAP server host:port (plain)")
	user := fs.String("user", "office", "IMAP user")
	pass := fs.String("pass", "secret", "IMAP password")
	mailbox := fs.String("mailbox", "INBOX", "mailbox")
	dir := fs.String("dir", "", "work folder (store, spool, archive)")
	cpu := fs.String("cpuprofile", "cpu.prof", "CPU profile output")
	n := fs.Int("n", 0, "mails generated into a Dovecot of its own when -addr is empty")
	block := fs.String("blockprofile", "", "block profile output (default: none)")
	mutex := fs.String("mutexprofile", "", "mutex profile output (default: none)")
	mem := fs.String("memprofile", "", "allocation profile output (default: none)")
	corpus := fs.String("corpus", "../shared/corpus/pdf", "real-world PDFs for the mailbox \"real\" (with -n)")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("-dir is required")
	}
	if *addr == "" {
		if *n == 0 {
			return errors.New("-addr or -n is required")
		}
		b, err := newBench(context.Background(), config{n: *n, small: 0, seed: 20220110, corpus: *corpus,
			realMin: 100 << 10, realShare: 0.5, needReal: *mailbox == "real"})
		if err != nil {
			return err
		}
		defer b.cleanup()
		if err := b.load(); err != nil {
			return err
		}
		*addr, *user, *pass = b.d.Addr, b.d.User, b.d.Pass
		self, _ := os.Executable()
		if out, err := exec.Command(self, "fetch", *addr, *user, *pass, *mailbox).CombinedOutput(); err != nil { // warm up
			return fmt.Errorf("%v: %s", err, out)
		}
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	var us []roster.Unit
	for _, u := range units {
		us = append(us, roster.Unit{ID: u.id, Name: u.name, Aliases: []string{u.alias}, Emails: []string{u.email}})
	}
	now := time.Now()
	c := roster.Campaign{ID: "zjdh-study", Title: "学习贯彻全省职教大会精神情况简报", Keywords: []string{"学习贯彻"}}
	c.Opens = roster.DateOf(now.AddDate(0, 0, -40))
	c.Due = roster.DateOf(now.AddDate(0, 0, 30))
	ros, err := roster.New(us, []roster.Campaign{c}, loc)
	if err != nil {
		return err
	}
	st, err := store.Open(*dir+"/briefd.db", store.Options{Location: loc})
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	chk := pdfcheck.New(pdfcheck.Options{Timeout: 30 * time.Second, MaxSize: 50 << 20, Workers: 2}, log)
	defer chk.Close()
	spool := *dir + "/spool"
	os.MkdirAll(spool, 0o700)
	w := intake.NewWatcher(intake.IMAPOptions{Server: *addr, Security: intake.SecurityPlain, Username: *user,
		Password: *pass, Mailbox: *mailbox, MaxMessage: 60 << 20, SpoolDir: spool}, st, log)
	p := intake.NewPipeline(intake.PipelineOptions{Ours: []string{officeAddr}, Marker: "briefd", Replies: true,
		MaxAttachment: 50 << 20, SpoolDir: spool, Location: loc}, st, func() *roster.Roster { return ros }, chk,
		store.Archive{Root: *dir + "/archive"}, log)
	f, err := os.Create(*cpu)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	if *block != "" {
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	}
	if *mutex != "" {
		runtime.SetMutexProfileFraction(5)
	}
	start := time.Now()
	got, err := w.PollWith(context.Background(), p)
	pprof.StopCPUProfile()
	for _, pr := range []struct{ name, path string }{{"block", *block}, {"mutex", *mutex}, {"allocs", *mem}} {
		if pr.path == "" {
			continue
		}
		out, ferr := os.Create(pr.path)
		if ferr != nil {
			return ferr
		}
		if werr := pprof.Lookup(pr.name).WriteTo(out, 0); werr != nil {
			out.Close()
			return werr
		}
		if cerr := out.Close(); cerr != nil {
			return cerr
		}
	}
	var parts []string
	for k, v := range p.Counts() {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	fmt.Fprintf(os.Stderr, "profiled %d mails in %s: %s; profile in %s\n", got, time.Since(start).Round(time.Millisecond),
		strings.Join(parts, ", "), *cpu)
	return err
}

// cmdServe loads a backlog into a Dovecot of its own and keeps it running until interrupted, for
// profiling by hand: it prints the address and a briefd config that polls it.
func cmdServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	n := fs.Int("n", 100, "mails")
	dir := fs.String("dir", "", "folder for the briefd config (required)")
	corpus := fs.String("corpus", "../shared/corpus/pdf", "real-world PDFs for the mailbox \"real\" (\"\": none)")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("-dir is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, config{n: *n, small: 0, seed: 20220110, corpus: *corpus, realMin: 100 << 10, realShare: 0.5})
	if err != nil {
		return err
	}
	defer b.cleanup()
	if err := b.load(); err != nil {
		return err
	}
	fmt.Printf("imap %s user %s pass %s\n", b.d.Addr, b.d.User, b.d.Pass)
	for _, set := range b.sets {
		sub := filepath.Join(*dir, set.mailbox)
		cfg, err := b.writeConfig(sub, set.mailbox, b.sink.Addr())
		if err != nil {
			return err
		}
		rc, _, err := b.mbsyncrc(filepath.Join(sub, "mbsync"), set.mailbox)
		if err != nil {
			return err
		}
		fmt.Printf("%s backlog: config %s mbsyncrc %s\n", set.name, cfg, rc)
	}
	<-ctx.Done()
	return nil
}
