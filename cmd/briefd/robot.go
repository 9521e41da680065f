package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"briefd/config"
	"briefd/robot"
	"briefd/store"
)

// cmdRobot implements `briefd robot test [NAME...]` (post a test message now and print the service's
// answer) and `briefd robot list` (the robots and what became of their posts).
func cmdRobot(ctx context.Context, e *env, args []string) error {
	const usage = "  briefd robot test [NAME...] [-config PATH]\n  briefd robot list [-config PATH]\n" +
		"test: post a test message to the robots (all, or those named) and print each service's answer\n" +
		"list: the robots and what became of their posts in the last 30 days\n"
	sub, args, err := subcommand(e, "robot", args, usage, "test", "list")
	if err != nil {
		return err
	}
	if sub == "test" {
		return robotTest(ctx, e, args)
	}
	return robotList(e, args)
}

func robotTest(ctx context.Context, e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "robot test", "robot test [NAME...] [-config PATH]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// The robots' secrets only: testing a robot needs no mailbox password.
	cfg, err := config.Load(config.Path(*cfgFlag, e.getenv), e.getenv, false)
	if err != nil {
		return err
	}
	if len(cfg.Robots) == 0 {
		return usagef("the config has no robots: (see config.example.yaml)")
	}
	names := fs.Args()
	for _, n := range names {
		if !slices.ContainsFunc(cfg.Robots, func(r robot.Config) bool { return r.Name == n }) {
			return usagef("no robot named %q in the config", n)
		}
	}
	failed := 0
	for _, rc := range cfg.Robots {
		if len(names) > 0 && !slices.Contains(names, rc.Name) {
			continue
		}
		r, err := rc.Resolve(e.getenv, robot.Options{})
		if err != nil {
			fmt.Fprintf(e.stdout, "✗ %v\n", err)
			failed++
			continue
		}
		text, err := robot.Test(ctx, r)
		mark := "✓"
		if err != nil {
			mark = "✗"
			failed++
		}
		fmt.Fprintf(e.stdout, "%s %s", mark, text)
	}
	if failed > 0 {
		return fmt.Errorf("%d robot(s) could not post", failed)
	}
	return nil
}

// robotList prints each configured robot and its posts of the last 30 days: sent, waiting, failed
// for good with the service's answer.
func robotList(e *env, args []string) error {
	fs, cfgFlag := newFlags(e, "robot list", "robot list [-config PATH]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(e, *cfgFlag, false)
	if err != nil {
		return err
	}
	defer a.close()
	since := a.now().Add(-30 * 24 * time.Hour)
	posts, err := a.st.Outbox(func(it *store.OutboxItem) bool {
		return it.Kind == store.KindRobot && (it.Created.After(since) || it.State == store.OutQueued)
	})
	if err != nil {
		return err
	}
	if len(a.cfg.Robots) == 0 {
		fmt.Fprintln(e.stdout, "no robots configured (robots: in the config)")
	}
	loc := a.cfg.Location()
	for _, rc := range a.cfg.Robots {
		counts := map[string]int{}
		var last *store.OutboxItem
		for _, it := range posts {
			if it.To != rc.Name {
				continue
			}
			counts[it.State]++
			if it.LastError != "" {
				last = it
			}
		}
		fmt.Fprintf(e.stdout, "%s (%s; %v): last 30 days %d sent, %d waiting, %d failed, %d not needed\n", rc.Name, rc.Kind, rc.Events,
			counts[store.OutSent], counts[store.OutQueued], counts[store.OutFailed], counts[store.OutSuppressed])
		if last != nil {
			fmt.Fprintf(e.stdout, "  last problem (%s, %s, %s): %s\n", last.Created.In(loc).Format("2006-01-02 15:04"), last.Subject, last.State, last.LastError)
		}
	}
	for _, it := range posts {
		if !slices.ContainsFunc(a.cfg.Robots, func(r robot.Config) bool { return r.Name == it.To }) && it.State == store.OutQueued {
			fmt.Fprintf(e.stdout, "post %d to %q, which is no longer configured, waits: it fails at its next try\n", it.ID, it.To)
		}
	}
	return nil
}
