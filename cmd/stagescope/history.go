package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
)

// historyStore opens the build records; a bad STAGESCOPE_HISTORY_KEEP is
// bad input.
func historyStore() (*history.Store, error) {
	s, err := history.Default()
	if err != nil {
		return nil, usagef("%v", err)
	}
	return s, nil
}

// notRecorded says once, on w, that a build was not recorded.
func notRecorded(w io.Writer, err error) {
	if err != nil {
		fmt.Fprintf(w, "stagescope: %s; the build was not recorded\n", buildgraph.SanitizeLine(buildgraph.FirstLine(err.Error())))
	}
}

// historyError maps the store's errors on an id to bad input (exit 2).
func historyError(err error) error {
	var nf *history.NotFoundError
	var amb *history.AmbiguousError
	if errors.As(err, &nf) || errors.As(err, &amb) {
		return usagef("%s", err)
	}
	return err
}

const historyLong = `Every build stagescope runs (build, compare and the interactive view) is
recorded, one record per target: when and on which engine it ran, the
Dockerfile (path and digest), target, platform, build arguments (values of
names like TOKEN, PASSWORD or KEY are redacted; secrets are never stored,
only their ids), named contexts, the outcome, every step (vertex digest,
its inputs, stage, Dockerfile line, start, end, cached, state, error) and,
for measured builds, the image's sizes and layers.

The records live in $XDG_STATE_HOME/stagescope/builds.db (default
~/.local/state/stagescope/builds.db). The newest 50 records of each
Dockerfile and target are kept; STAGESCOPE_HISTORY_KEEP=N keeps N.

Without a subcommand, history lists the records, newest first. Record ids
can be shortened to any unique prefix, as with git.

With --engine, history lists instead the builds the engine itself keeps
(BuildKit's history API: a buildkitd, Docker 23 and later), whoever ran
them: stagescope, buildctl, docker buildx. Running builds come first, then
the newest. ` + "`history show REF --engine`" + ` opens one, its timeline too.
Docker 20.10 keeps no such history: history says so in one sentence and
exits with 1.

Exit codes: 0 success, 1 the records cannot be read (or, with --engine,
the engine keeps no history), 2 bad usage (an unknown or ambiguous id
prefix among them), 3 no engine answers (--engine).`

func newHistoryCmd() *cobra.Command {
	var file, target, format string
	var limit int
	var fromEngine bool
	var ef engineFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List, show and prune the records of past builds",
		Long:  historyLong,
		Example: `  stagescope history
  stagescope history -f examples/hello-multistage/Dockerfile --target builder --format json
  stagescope history show 3f2a9c
  stagescope history prune --older-than 30d
  stagescope history --engine --addr unix:///run/buildkit/buildkitd.sock
  stagescope history show --engine --timeline 8q2m`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				return usagef("%q is not a history command; did you mean %q?", args[0], s[0])
			}
			return usagef("%q is not a history command: show, prune, or none to list", args[0])
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usagef("--format %q: want table or json", format)
			}
			if limit < 0 {
				return usagef("--limit %d: want 0 (all) or more", limit)
			}
			if fromEngine {
				if file != "" {
					return usagef("--file does not go with --engine: the engine keeps no Dockerfile paths (--target selects its builds)")
				}
				return listEngineHistory(cmd, &ef, target, format, limit)
			}
			store, err := historyStore()
			if err != nil {
				return err
			}
			list, err := store.List(history.Filter{Dockerfile: dockerfileOf(file), Target: target, Limit: limit})
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), struct {
					SchemaVersion int               `json:"schemaVersion"`
					Records       []history.Summary `json:"records"`
				}{history.SchemaVersion, nonNil(list)})
			}
			printHistory(cmd.OutOrStdout(), list)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "", "only the records of this Dockerfile (a folder: its Dockerfile)")
	fs.StringVar(&target, "target", "", "only the records of this target")
	fs.StringVar(&format, "format", "table", "output: table or json")
	fs.IntVar(&limit, "limit", 0, "at most `N` records (0: all)")
	fs.BoolVar(&fromEngine, "engine", false, "the builds the engine keeps in its own history (buildkitd, Docker 23+), not stagescope's records")
	ef.register(cmd)
	cmd.SuggestionsMinimumDistance = 2
	cmd.AddCommand(newHistoryShowCmd(), newHistoryPruneCmd())
	return cmd
}

func nonNil(list []history.Summary) []history.Summary {
	if list == nil {
		return []history.Summary{}
	}
	return list
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// localTime is how records' times are shown.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(displayZone).Format("2006-01-02 15:04:05")
}

// displayZone is where history shows times: the local zone. Tests set
// their own rather than time.Local, which goroutines of other tests read.
var displayZone = time.Local

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func sizeOf(n *int64) string {
	if n == nil || *n == buildgraph.Unknown {
		return "-"
	}
	return buildgraph.HumanSize(*n)
}

func printHistory(w io.Writer, list []history.Summary) {
	if len(list) == 0 {
		fmt.Fprintln(w, "No build records.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED\tTARGET\tENGINE\tOUTCOME\tTIME\tCACHED\tSIZE\tDOCKERFILE")
	for _, s := range list {
		outcome, took, cached := string(s.Outcome), seconds(s.Duration), fmt.Sprintf("%d/%d", s.StepsCached, s.StepsTotal)
		if s.Migrated {
			outcome, took, cached = "(imported)", "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", history.ShortID(s.ID), localTime(s.Time),
			s.Target, dash(s.Engine), outcome, took, cached, sizeOf(s.Uncompressed), buildgraph.SanitizeLine(s.Dockerfile))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newHistoryShowCmd() *cobra.Command {
	var format string
	var timeline, steps, fromEngine bool
	var ef engineFlags
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one build record: its settings, steps and sizes",
		Long: `Show one build record: when, where and what was built, every step with
its start (from the build's first step), duration, state, stage and
Dockerfile line (and, for a step that ran, why it did), and the image's
layers when it was measured. ID is the
record's id or any unique prefix of it.

With --timeline, the build on a time axis instead: a row per stage (and,
with --steps, per step), cached steps as markers, the critical path (the
chain of steps, following their inputs, that ends last) marked, and for
each stage how much sooner the build would have ended had it taken no
time, computed over the recorded graph of steps. --format json gives the
same (criticalPath, stages; see docs/history-json.md).

With --engine, ID is the reference (or a unique prefix of it) of a build
of the engine's own history (` + "`stagescope history --engine`" + ` lists them): its
steps are read back from the status stream the engine kept, laid out by
the stages their names give; the Dockerfile is not at hand, so they carry
no line. A build still running is shown as far as it got.

Exit code 2 when no record, or more than one, has an id starting with ID;
the sentence names the candidates. With --engine, 1 when the engine keeps
no history, 3 when it does not answer.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes one record id, got %d argument(s)", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usagef("--format %q: want text or json", format)
			}
			if !timeline && steps {
				return usagef("--steps draws the steps on the timeline: give --timeline too")
			}
			if fromEngine {
				return showEngineBuild(cmd, &ef, args[0], format, timeline, steps)
			}
			store, err := historyStore()
			if err != nil {
				return err
			}
			rec, err := store.Get(args[0])
			if err != nil {
				return historyError(err)
			}
			if timeline {
				if format == "json" {
					return writeJSON(cmd.OutOrStdout(), timelineOf(rec))
				}
				printTimeline(cmd.OutOrStdout(), rec, steps)
				return nil
			}
			if format == "json" {
				return writeJSON(cmd.OutOrStdout(), struct {
					SchemaVersion int             `json:"schemaVersion"`
					Record        *history.Record `json:"record"`
				}{history.SchemaVersion, rec})
			}
			printRecord(cmd.OutOrStdout(), rec)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	cmd.Flags().BoolVar(&timeline, "timeline", false, "the build on a time axis, with its critical path")
	cmd.Flags().BoolVar(&steps, "steps", false, "with --timeline, a row for every step under its stage")
	cmd.Flags().BoolVar(&fromEngine, "engine", false, "ID is a build of the engine's own history (history --engine)")
	ef.register(cmd)
	return cmd
}

func printRecord(w io.Writer, r *history.Record) {
	clean := buildgraph.SanitizeLine
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, clean(v)) }
	fmt.Fprintf(tw, "build record %s\n", r.ID)
	row("target", dash(r.Target))
	df := dash(r.Dockerfile)
	if r.DockerfileDigest != "" {
		df += " (" + r.DockerfileDigest + ")"
	}
	row("Dockerfile", df)
	if r.Migrated {
		row("started", localTime(r.Time))
	} else {
		row("started", localTime(r.Time)+", took "+seconds(r.Duration))
	}
	eng := r.Engine.Kind
	if r.Engine.Address != "" {
		eng += " " + r.Engine.Address
	}
	if r.Engine.Version != "" {
		eng += " (" + r.Engine.Version + ")"
	}
	row("engine", dash(eng))
	if r.Platform != "" {
		row("platform", r.Platform)
	}
	outcome := string(r.Outcome)
	if r.Migrated {
		outcome += " (imported from results.json: a size, no steps)"
	}
	if r.Error != "" {
		outcome += ": " + r.Error
	}
	row("outcome", outcome)
	if r.NoCache {
		row("cache", "not used (--no-cache)")
	}
	if len(r.BuildArgs) > 0 {
		row("build args", pairs(r.BuildArgs))
	}
	if len(r.Contexts) > 0 {
		row("contexts", pairs(r.Contexts))
	}
	if len(r.Secrets) > 0 {
		row("secrets", strings.Join(r.Secrets, ", "))
	}
	if len(r.SSH) > 0 {
		row("ssh", strings.Join(r.SSH, ", "))
	}
	if !r.Migrated {
		row("steps", fmt.Sprintf("%d, %d cached", r.StepsTotal, r.StepsCached))
	}
	if r.Image != "" {
		row("image", r.Image)
	}
	if sz := r.Size; sz != nil {
		row("size", fmt.Sprintf("%s uncompressed, %s compressed, %d layers", humanOrDash(sz.Uncompressed), humanOrDash(sz.Compressed), len(sz.Layers)))
	}
	tw.Flush()

	if len(r.Steps) > 0 {
		fmt.Fprintln(w, "\nSteps (start from the build's first step)")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  START\tTIME\tSTATE\tSTAGE\tLINE\tSTEP")
		var first time.Time
		for _, s := range r.Steps {
			if !s.Started.IsZero() && (first.IsZero() || s.Started.Before(first)) {
				first = s.Started
			}
		}
		steps := append([]history.Step(nil), r.Steps...)
		sort.SliceStable(steps, func(i, j int) bool {
			a, b := steps[i].Started, steps[j].Started
			return !a.IsZero() && (b.IsZero() || a.Before(b))
		})
		for _, s := range steps {
			start, took := "-", "-"
			if !s.Started.IsZero() {
				start = "+" + seconds(s.Started.Sub(first))
				if !s.Completed.IsZero() {
					took = seconds(max(s.Completed.Sub(s.Started), 0))
				}
			}
			stage, line := "-", ""
			if s.Stage >= 0 {
				stage = s.StageName
			}
			if s.Line > 0 {
				line = strconv.Itoa(s.Line)
			}
			text := s.Text
			if text == "" {
				text = s.Name
			}
			if s.Error != "" && s.State == string(buildgraph.StepError) {
				text += "  (" + buildgraph.FirstLine(s.Error) + ")"
			}
			if s.Why != nil {
				text += "  · why: " + s.Why.String()
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", start, took, s.State, clean(stage), line, clean(text))
		}
		tw.Flush()
	}
	if r.Size != nil && len(r.Size.Layers) > 0 {
		fmt.Fprintln(w, "\nLayers (oldest first)")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SIZE\tSTAGE\tLINE\tINSTRUCTION")
		for _, l := range r.Size.Layers {
			size := buildgraph.HumanSize(l.Size)
			if l.Empty {
				size = "-"
			}
			stage, line := l.StageName, ""
			if l.Base {
				stage = "(base)"
			}
			if l.Line > 0 {
				line = strconv.Itoa(l.Line)
			}
			what := l.Instruction
			if what == "" {
				what = l.CreatedBy
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", size, clean(dash(stage)), line, clean(what))
		}
		tw.Flush()
	}
}

func humanOrDash(n int64) string {
	if n == buildgraph.Unknown {
		return "-"
	}
	return buildgraph.HumanSize(n)
}

// pairs writes a map as KEY=VALUE, sorted by key.
func pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, " ")
}

func newHistoryPruneCmd() *cobra.Command {
	var p history.Prune
	var olderThan string
	cmd := &cobra.Command{
		Use:   "prune [ID...]",
		Short: "Delete build records",
		Long: `Delete build records: those named by id (or unique id prefix), those
started before --older-than, all but the newest --keep of each Dockerfile
and target, or --all. With --older-than or --all, --keep is a floor: the
newest N of each Dockerfile and target stay. Records named by id go
whatever else is given. --file and --target narrow any of these. At least
one of IDs, --older-than, --keep and --all is required.`,
		Example: `  stagescope history prune --older-than 30d
  stagescope history prune --keep 5 -f Dockerfile
  stagescope history prune 3f2a9c 81b0e4`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if olderThan != "" {
				d, err := parseAge(olderThan)
				if err != nil {
					return usagef("--older-than %q: %v", olderThan, err)
				}
				p.Before = time.Now().Add(-d)
			}
			if p.Keep < 0 {
				return usagef("--keep %d: want 1 or more", p.Keep)
			}
			if len(args) == 0 && olderThan == "" && p.Keep == 0 && !p.All {
				return usagef("history prune needs a selection: record ids, --older-than, --keep or --all")
			}
			store, err := historyStore()
			if err != nil {
				return err
			}
			if len(args) > 0 {
				if p.IDs, err = store.Resolve(args); err != nil {
					return historyError(err)
				}
			}
			p.Dockerfile = dockerfileOf(p.Dockerfile)
			gone, err := store.Prune(p)
			if err != nil {
				return err
			}
			noun := "records"
			if len(gone) == 1 {
				noun = "record"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %d build %s.\n", len(gone), noun)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&p.Dockerfile, "file", "f", "", "only records of this Dockerfile")
	fs.StringVar(&p.Target, "target", "", "only records of this target")
	fs.StringVar(&olderThan, "older-than", "", "records started longer ago than `AGE` (30d, 12h, 90m)")
	fs.IntVar(&p.Keep, "keep", 0, "keep the newest `N` records of each Dockerfile and target")
	fs.BoolVar(&p.All, "all", false, "every record (that --file and --target select)")
	return cmd
}

// dockerfileOf is the Dockerfile a --file filter means: a folder stands
// for the Dockerfile in it.
func dockerfileOf(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, "Dockerfile")
	}
	return path
}

// parseAge reads a duration, with d for days.
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, errors.New("want a number of days (30d) or a duration (12h)")
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want a number of days (30d) or a duration (12h)")
	}
	return d, nil
}
