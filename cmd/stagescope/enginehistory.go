package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/pipeline"
)

// engineBuildJSON is one build of `history --engine --format json`.
type engineBuildJSON struct {
	Ref        string    `json:"ref"`
	Frontend   string    `json:"frontend,omitempty"`
	Target     string    `json:"target,omitempty"`
	Dockerfile string    `json:"dockerfile,omitempty"`
	Started    time.Time `json:"started"`
	Completed  time.Time `json:"completed,omitzero"`
	// Outcome is running, succeeded, failed or canceled.
	Outcome        history.Outcome `json:"outcome"`
	Error          string          `json:"error,omitempty"`
	Duration       time.Duration   `json:"durationNs"`
	StepsCached    int             `json:"stepsCached"`
	StepsCompleted int             `json:"stepsCompleted"`
	StepsTotal     int             `json:"stepsTotal"`
	Warnings       int             `json:"warnings,omitempty"`
	Pinned         bool            `json:"pinned,omitempty"`
}

// connectEngine connects to the engine of the flags, for its history.
func connectEngine(ctx context.Context, f *engineFlags) (*engine.Engine, error) {
	return engine.Connect(ctx, f.options())
}

func recordedEngine(e *engine.Engine) history.Engine {
	return history.Engine{Kind: string(e.Kind), Address: history.RedactURL(e.Addr), Version: e.Version}
}

// engineHistoryError maps an unknown or ambiguous build reference to bad
// input (exit 2); an engine without history stays exit 1.
func engineHistoryError(err error) error {
	var unknown *engine.UnknownBuildError
	if errors.As(err, &unknown) {
		return usagef("%s", err)
	}
	return err
}

func outcomeOf(b engine.EngineBuild) history.Outcome {
	switch {
	case b.Running():
		return pipeline.StillRunning
	case b.Canceled():
		return history.Canceled
	case b.Error != "":
		return history.Failed
	}
	return history.Succeeded
}

func durationOf(b engine.EngineBuild, now time.Time) time.Duration {
	end := b.Completed
	if b.Running() {
		end = now
	}
	return max(end.Sub(b.Started), 0)
}

// listEngineHistory is `history --engine`: the builds the engine keeps.
func listEngineHistory(cmd *cobra.Command, f *engineFlags, target, format string, limit int) error {
	ctx := cmd.Context()
	e, err := connectEngine(ctx, f)
	if err != nil {
		return err
	}
	defer e.Close()
	builds, err := e.Builds(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	var out []engineBuildJSON
	for _, b := range builds {
		if target != "" && !strings.EqualFold(b.Attrs["target"], target) {
			continue
		}
		out = append(out, engineBuildJSON{
			Ref: b.Ref, Frontend: b.Frontend, Target: b.Attrs["target"], Dockerfile: b.Attrs["filename"],
			Started: b.Started, Completed: b.Completed, Outcome: outcomeOf(b), Error: b.Error,
			Duration: durationOf(b, now), StepsCached: b.StepsCached, StepsCompleted: b.StepsCompleted,
			StepsTotal: b.StepsTotal, Warnings: b.Warnings, Pinned: b.Pinned,
		})
		if limit > 0 && len(out) == limit {
			break
		}
	}
	if format == "json" {
		if out == nil {
			out = []engineBuildJSON{}
		}
		return writeJSON(cmd.OutOrStdout(), struct {
			SchemaVersion int               `json:"schemaVersion"`
			Engine        history.Engine    `json:"engine"`
			Builds        []engineBuildJSON `json:"builds"`
		}{history.SchemaVersion, recordedEngine(e), out})
	}
	printEngineHistory(cmd.OutOrStdout(), e, out)
	return nil
}

func printEngineHistory(w io.Writer, e *engine.Engine, list []engineBuildJSON) {
	clean := buildgraph.SanitizeLine
	where := string(e.Kind) + " " + history.RedactURL(e.Addr)
	if len(list) == 0 {
		fmt.Fprintf(w, "No builds in the history of %s.\n", where)
		return
	}
	fmt.Fprintf(w, "Builds in the history of %s (`stagescope history show REF --engine` opens one)\n", where)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tSTARTED\tTARGET\tFRONTEND\tOUTCOME\tTIME\tCACHED\tDOCKERFILE")
	for _, b := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", b.Ref, localTime(b.Started), clean(dash(b.Target)),
			clean(dash(b.Frontend)), b.Outcome, seconds(b.Duration), b.StepsCached, b.StepsTotal, clean(dash(b.Dockerfile)))
	}
	tw.Flush()
}

// showEngineBuild is `history show REF --engine`: one build of the
// engine's history, read back from the status stream the engine kept.
func showEngineBuild(cmd *cobra.Command, f *engineFlags, ref, format string, timeline, steps bool) error {
	ctx := cmd.Context()
	e, err := connectEngine(ctx, f)
	if err != nil {
		return err
	}
	defer e.Close()
	b, err := e.FindBuild(ctx, ref)
	if err != nil {
		return engineHistoryError(err)
	}
	rec, err := pipeline.EngineRecord(ctx, e, recordedEngine(e), b)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if timeline {
		if format == "json" {
			return writeJSON(w, timelineOf(rec))
		}
		if !b.HasProgress && !b.Running() {
			fmt.Fprintf(w, "The engine kept no progress of build %s: there is no timeline to draw.\n", b.Ref)
			return nil
		}
		printTimeline(w, rec, steps)
		return nil
	}
	if format == "json" {
		return writeJSON(w, struct {
			SchemaVersion int             `json:"schemaVersion"`
			Record        *history.Record `json:"record"`
		}{history.SchemaVersion, rec})
	}
	printRecord(w, rec)
	return nil
}
