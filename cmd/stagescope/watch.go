package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/watch"
	"github.com/stagescope/stagescope/pipeline"
)

// watchQuiet is how long saves must stop before build --watch builds
// again: a burst of saves is one build.
const watchQuiet = 300 * time.Millisecond

// runWatch builds the target, then again whenever the Dockerfile, its
// .dockerignore or a file of the context that a COPY or ADD of the target
// reads is saved (a build still running is canceled), printing one line
// per build on stdout. It ends with Ctrl-C (exit code 130).
func runWatch(ctx context.Context, cmd *cobra.Command, conn *pipeline.Connecting, proj *pipeline.Project, target string, tags []string) error {
	out, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	store, err := historyStore()
	if err != nil {
		return err
	}
	sess, err := conn.Wait()
	if err != nil {
		return err
	}
	defer sess.Close()
	dir := proj.Base.ContextDir
	wctx, err := watch.ReadContext(dir, proj.Dockerfile)
	if err != nil {
		return usagef("%v", err)
	}
	dockerfile, _ := filepath.Abs(proj.Dockerfile)
	ignores := watch.IgnoreFiles(dir, proj.Dockerfile)
	// w watches the Dockerfile and the context; a new .dockerignore makes
	// a new one, which skips the folders it leaves out.
	var w *watch.Watcher
	start := func() error {
		nw, err := watch.New(watch.Options{Files: append([]string{dockerfile}, ignores...), Trees: []string{dir}, Skip: wctx.SkipDir})
		if err != nil {
			return fmt.Errorf("cannot watch %s: %w", dir, err)
		}
		if w != nil {
			w.Close()
		}
		w = nw
		<-w.Ready()
		if n, all := w.Dirs(); !all {
			fmt.Fprintf(stderr, "stagescope: the context has more than %d folders: only the first %d are watched, and saves deeper in it start no build\n", n, n)
		}
		return nil
	}
	if err := start(); err != nil {
		return err
	}
	defer func() { w.Close() }()
	fmt.Fprintf(stderr, "watching %s and the files the target copies from %s; Ctrl-C ends\n", proj.Dockerfile, dir)

	var prev *buildgraph.TargetResult
	// triggers reports whether the changed paths call for a build: the
	// Dockerfile or .dockerignore changed, or a file the target reads.
	triggers := func(paths []string) bool {
		if slices.Contains(paths, dockerfile) {
			return true
		}
		for _, f := range ignores {
			if slices.Contains(paths, f) {
				if c, err := watch.ReadContext(dir, proj.Dockerfile); err == nil {
					wctx = c
					if err := start(); err != nil {
						fmt.Fprintf(stderr, "stagescope: %s; saves are no longer followed\n", clean(err.Error()))
					}
				}
				return true
			}
		}
		c, err := proj.Graph.Closure(target)
		if err != nil {
			return false
		}
		return wctx.ReadsAny(watch.NewSources(c.ContextSources()), paths)
	}
	// settle waits until a change calls for a build and the files are
	// quiet again.
	settle := func(first bool) error {
		if !first {
			for wait := true; wait; {
				select {
				case paths, ok := <-w.Changes():
					if !ok {
						return nil
					}
					wait = !triggers(paths)
				case <-ctx.Done():
					return errInterrupted
				}
			}
		}
		quiet := time.NewTimer(watchQuiet)
		defer quiet.Stop()
		for {
			select {
			case paths := <-w.Changes():
				if triggers(paths) {
					quiet.Reset(watchQuiet)
				}
			case <-quiet.C:
				return nil
			case <-ctx.Done():
				return errInterrupted
			}
		}
	}
	for n := 1; ; n++ {
		if n > 1 {
			if err := settle(false); err != nil {
				return err
			}
		}
		if p, err := proj.Reload(); err != nil {
			fmt.Fprintf(out, "%s %s\n", stamp(), clean(buildgraph.FirstLine(err.Error())+"; waiting for a save"))
			continue
		} else {
			proj = p
		}
		plan, err := proj.Plan(target, tags)
		if err != nil {
			fmt.Fprintf(out, "%s %s\n", stamp(), clean(buildgraph.FirstLine(err.Error())+"; waiting for a save"))
			continue
		}
		plan.Request.Keep = true // measured on a buildkitd
		res, canceled, err := watchBuild(ctx, sess, proj, plan, store, func() *watch.Watcher { return w }, triggers)
		if err != nil {
			return err
		}
		if canceled {
			fmt.Fprintf(out, "%s %s canceled: a file changed\n", stamp(), clean(plan.Target))
			if err := settle(true); err != nil {
				return err
			}
			n = 0 // build now, without waiting for another save
			continue
		}
		if prev == nil {
			// The first build compares with the newest the records hold.
			if p, ok := pipeline.PreviousBuild(store, res.record); ok {
				prev = &p
			}
		}
		fmt.Fprintf(out, "%s %s\n", stamp(), summaryLine(prev, res.TargetResult, res.steps))
		if res.Error == "" && res.Size != nil {
			kept := res.TargetResult
			prev = &kept
		}
	}
}

// watchResult is a finished build's result and the steps it ran.
type watchResult struct {
	buildgraph.TargetResult
	steps  []*buildgraph.Step
	record *history.Record // nil when it was not recorded
}

// watchBuild runs one build, canceling it when a change calls for
// another (canceled is then true). err is set only for Ctrl-C.
func watchBuild(ctx context.Context, sess pipeline.Session, proj *pipeline.Project, plan *pipeline.Plan, store *history.Store, watcher func() *watch.Watcher, triggers func([]string) bool) (res watchResult, canceled bool, err error) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := pipeline.Start(bctx, sess, proj, []*pipeline.Plan{plan}, pipeline.Options{Measure: true, History: store})
	done := make(chan struct{})
	goSafe(func() {
		defer close(done)
		for ev := range run.Events() {
			run.Apply(ev)
		}
	})
	for {
		select {
		case <-done:
			o := run.Outcome
			if o == nil || len(o.Results) == 0 {
				return watchResult{TargetResult: buildgraph.TargetResult{Target: plan.Target, Error: "the build ended without an outcome"}}, false, nil
			}
			r := watchResult{TargetResult: o.Results[0], steps: run.Progress.Steps()}
			if len(o.Records) == 1 {
				r.record = o.Records[0]
			}
			if canceled {
				return r, true, nil
			}
			return r, false, nil
		case paths, ok := <-watcher().Changes():
			if ok && triggers(paths) && !canceled {
				canceled = true
				cancel()
			}
		case <-ctx.Done():
			cancel()
			<-done
			return watchResult{}, false, errInterrupted
		}
	}
}

// summaryLine is one build's line: target, outcome, size and what changed
// since the previous build of the target.
func summaryLine(prev *buildgraph.TargetResult, r buildgraph.TargetResult, steps []*buildgraph.Step) string {
	if r.Error != "" {
		return clean(r.Target + " failed: " + buildgraph.FirstLine(r.Error))
	}
	d := buildgraph.BuildDelta(prev, r.Previous, r, steps)
	return clean(r.Target + " built · " + strings.Join(d.Parts(3), " · "))
}

func stamp() string { return time.Now().Format("15:04:05") }

func clean(s string) string { return buildgraph.SanitizeLine(s) }
