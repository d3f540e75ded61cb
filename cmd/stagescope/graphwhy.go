package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/why"
	"github.com/stagescope/stagescope/pipeline"
)

// WhyJSONSchemaVersion is the schemaVersion of `graph --why --format json`
// (docs/graph-json.md).
const WhyJSONSchemaVersion = 1

// whyInput is what `graph --why` predicts a build of.
type whyInput struct {
	contextDir, file, target string
	buildArgs, contexts      []string
	noCache                  bool
	format                   buildgraph.Format
	addr                     string
}

type whyJSON struct {
	SchemaVersion int         `json:"schemaVersion"`
	Dockerfile    string      `json:"dockerfile"`
	Target        string      `json:"target"`
	Engine        string      `json:"engine"`
	Record        *whyRecord  `json:"record"`
	Steps         []whyStepJS `json:"steps"`
}

type whyRecord struct {
	ID      string          `json:"id"`
	Time    time.Time       `json:"time"`
	Outcome history.Outcome `json:"outcome"`
	Engine  history.Engine  `json:"engine"`
}

type whyStepJS struct {
	Stage string             `json:"stage"`
	Line  int                `json:"line"`
	Text  string             `json:"text"`
	Why   *buildgraph.Reason `json:"why"`
}

// graphWhy predicts which steps a build of the target will run, and why,
// from the last record of the target on the engine a build would use.
func graphWhy(ctx context.Context, w io.Writer, in whyInput) error {
	if in.file == "-" {
		return usagef("--why reads the build context and the records of the Dockerfile: give its path, not -")
	}
	if in.format != buildgraph.FormatText && in.format != buildgraph.FormatJSON {
		return usagef("--why: want --format text or json")
	}
	proj, err := pipeline.Load(pipeline.Input{ContextDir: in.contextDir, File: in.file, BuildArgs: in.buildArgs, Contexts: in.contexts, NoCache: in.noCache})
	if err != nil {
		return err
	}
	plan, err := proj.Plan(in.target, nil)
	if err != nil {
		return err
	}
	store, err := historyStore()
	if err != nil {
		return err
	}
	eng := predictedEngine(in.addr)
	prev, err := store.Last(proj.Dockerfile, plan.Target, plan.Request.Platform, eng)
	if err != nil {
		return err
	}
	facts, err := why.Facts(ctx, plan.Graph, plan.Request.Target, plan.Request.BuildArgs, plan.Request.ContextDir, proj.Dockerfile)
	if err != nil {
		return err
	}
	why.LoadPrevious(store, prev, facts)
	preds := why.Predict(prev, facts, in.noCache)
	if in.format == buildgraph.FormatJSON {
		abs, err := filepath.Abs(proj.Dockerfile)
		if err != nil {
			abs = proj.Dockerfile
		}
		out := whyJSON{SchemaVersion: WhyJSONSchemaVersion, Dockerfile: abs, Target: plan.Target,
			Engine: eng.Kind + " " + eng.Address, Steps: []whyStepJS{}}
		if prev != nil {
			out.Record = &whyRecord{ID: prev.ID, Time: prev.Time, Outcome: prev.Outcome, Engine: prev.Engine}
		}
		for _, p := range preds {
			out.Steps = append(out.Steps, whyStepJS{Stage: p.Stage, Line: p.Line, Text: p.Text, Why: p.Why})
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if prev == nil {
		fmt.Fprintf(w, "target %s has no record on %s %s: every step will run (first build)\n", plan.Target, eng.Kind, eng.Address)
	} else {
		fmt.Fprintf(w, "target %s, compared with build %s of %s (%s)\n", plan.Target, history.ShortID(prev.ID),
			prev.Time.Local().Format("2006-01-02 15:04:05"), prev.Outcome)
	}
	if len(preds) == 0 {
		fmt.Fprintln(w, "nothing changed: every step should come from the cache, unless the engine no longer has it")
		return nil
	}
	for _, p := range preds {
		verb := "will run"
		if p.Why.Maybe {
			verb = "may run "
		}
		fmt.Fprintf(w, "%s  %s line %d: %s\n    why: %s\n", verb, p.Stage, p.Line, buildgraph.SanitizeLine(firstLineOf(p.Text)), buildgraph.SanitizeLine(p.Why.String()))
	}
	fmt.Fprintln(w, "every other step should come from the cache, unless the engine no longer has it")
	return nil
}

func firstLineOf(s string) string { return buildgraph.FirstLine(s) }

// predictedEngine is the engine a build would use, as its records name it:
// the first place engine.Connect would try.
func predictedEngine(addr string) history.Engine {
	cands := engine.Candidates(engine.Options{Addr: addr})
	if len(cands) == 0 {
		return history.Engine{}
	}
	return history.Engine{Kind: string(cands[0].Kind), Address: history.RedactURL(cands[0].Addr)}
}
