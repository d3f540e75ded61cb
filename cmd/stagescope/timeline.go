package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
)

// The time axis takes what is left of 80 columns, at least minAxis.
const (
	lineWidth = 80
	minAxis   = 40
)

// Timeline marks: a step on the critical path, a step that ran, a cached
// step (a point, not a span).
const (
	markPath   = '█'
	markRan    = '━'
	markCached = '◆'
)

// timelineJSON is `history show ID --timeline --format json`.
type timelineJSON struct {
	SchemaVersion int     `json:"schemaVersion"`
	ID            string  `json:"id"`
	Seconds       float64 `json:"seconds"`
	// CriticalPath runs from the first vertex of the chain to the one
	// that completed last.
	CriticalPath []pathStepJSON  `json:"criticalPath"`
	Stages       []stageTimeJSON `json:"stages"`
}

type pathStepJSON struct {
	Vertex    string  `json:"vertex"`
	Stage     int     `json:"stage"`
	StageName string  `json:"stageName,omitempty"`
	Text      string  `json:"text"`
	Start     float64 `json:"start"`
	Seconds   float64 `json:"seconds"`
	Cached    bool    `json:"cached,omitempty"`
}

type stageTimeJSON struct {
	Stage        int     `json:"stage"`
	Name         string  `json:"name"`
	Start        float64 `json:"start"`
	Seconds      float64 `json:"seconds"`
	OnPath       bool    `json:"onPath"`
	SavesSeconds float64 `json:"savesSeconds"`
}

func secs3(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// timelineOf is the record's timeline as JSON.
func timelineOf(r *history.Record) timelineJSON {
	cp := r.CriticalPath()
	names, texts := stageNames(r), stepTexts(r)
	out := timelineJSON{SchemaVersion: history.SchemaVersion, ID: r.ID, Seconds: secs3(cp.End),
		CriticalPath: []pathStepJSON{}, Stages: []stageTimeJSON{}}
	for _, s := range cp.Steps {
		out.CriticalPath = append(out.CriticalPath, pathStepJSON{Vertex: s.Vertex, Stage: s.Stage, StageName: names[s.Stage],
			Text: texts[s.Vertex], Start: secs3(s.Start), Seconds: secs3(s.Duration()), Cached: s.Cached})
	}
	starts := stageStarts(r, cp.Start)
	for _, st := range cp.Stages {
		out.Stages = append(out.Stages, stageTimeJSON{Stage: st.Stage, Name: names[st.Stage], Start: secs3(starts[st.Stage]),
			Seconds: secs3(st.Duration), OnPath: st.OnPath, SavesSeconds: secs3(st.Saves)})
	}
	return out
}

func stageNames(r *history.Record) map[int]string {
	names := map[int]string{}
	for _, s := range r.Steps {
		if s.Stage >= 0 && names[s.Stage] == "" {
			names[s.Stage] = s.StageName
		}
	}
	return names
}

func stepTexts(r *history.Record) map[string]string {
	texts := map[string]string{}
	for _, s := range r.Steps {
		if _, ok := texts[s.Vertex]; !ok {
			texts[s.Vertex] = stepText(s)
		}
	}
	return texts
}

func stepText(s history.Step) string {
	if s.Text != "" {
		if s.Stage < 0 && s.Name != "" {
			return s.Name
		}
		return s.Text
	}
	return s.Name
}

// stageStarts is each stage's first start, from the build's.
func stageStarts(r *history.Record, start time.Time) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, s := range r.Steps {
		if s.Started.IsZero() || s.Stage < 0 {
			continue
		}
		d := s.Started.Sub(start)
		if old, ok := out[s.Stage]; !ok || d < old {
			out[s.Stage] = d
		}
	}
	return out
}

// timelineRow is one line of the text timeline: a stage, or a step of one.
type timelineRow struct {
	label  string
	took   time.Duration
	onPath bool
	saves  string
	steps  []history.Step
}

// printTimeline draws the record on a time axis: a row per stage (and, with
// steps, per step), the critical path and what each stage costs the build.
func printTimeline(w io.Writer, r *history.Record, withSteps bool) {
	clean := buildgraph.SanitizeLine
	cp := r.CriticalPath()
	if len(cp.Steps) == 0 {
		fmt.Fprintf(w, "Build record %s has no steps that ran: there is no timeline to draw.\n", r.ID)
		return
	}
	names := stageNames(r)
	onPath := map[string]bool{}
	for _, s := range cp.Steps {
		onPath[s.Vertex] = true
	}
	byStage := map[int][]history.Step{}
	for _, s := range r.Steps {
		if !s.Started.IsZero() {
			byStage[s.Stage] = append(byStage[s.Stage], s)
		}
	}
	for _, steps := range byStage {
		sort.SliceStable(steps, func(i, j int) bool { return steps[i].Started.Before(steps[j].Started) })
	}
	var rows []timelineRow
	addStage := func(idx int, label, saves string, took time.Duration, on bool) {
		rows = append(rows, timelineRow{label: label, took: took, onPath: on, saves: saves, steps: byStage[idx]})
		if !withSteps {
			return
		}
		for _, s := range byStage[idx] {
			rows = append(rows, timelineRow{label: "  " + stepText(s), took: stepTook(s, cp.Start.Add(cp.End)),
				onPath: onPath[s.Vertex], steps: []history.Step{s}})
		}
	}
	if len(byStage[-1]) > 0 {
		on := false
		for _, s := range byStage[-1] {
			on = on || onPath[s.Vertex]
		}
		addStage(-1, "(no stage)", "", spanOf(byStage[-1], cp.Start.Add(cp.End)), on)
	}
	for _, st := range cp.Stages {
		name := names[st.Stage]
		if name == "" {
			name = fmt.Sprintf("stage %d", st.Stage)
		}
		addStage(st.Stage, name, seconds(st.Saves), st.Duration, st.OnPath)
	}

	labelW := len("STAGE")
	for _, row := range rows {
		labelW = max(labelW, len([]rune(clean(row.label))))
	}
	labelW = min(labelW, 28)
	timelineWidth := max(minAxis, lineWidth-1-(2+labelW+2+6+2+2+5))
	scale := max(cp.End, time.Millisecond) // the axis spans [0, scale]
	col := func(d time.Duration) int {
		return min(int(int64(d)*int64(timelineWidth)/int64(scale)), timelineWidth-1)
	}

	fmt.Fprintf(w, "Timeline of build record %s, %s from its first step\n", history.ShortID(r.ID), seconds(cp.End))
	fmt.Fprintf(w, "%c on the critical path (rows marked *)  %c ran  %c cached\n", markPath, markRan, markCached)
	fmt.Fprintf(w, "SAVES: how much sooner the build would have ended had the stage taken no time\n\n")
	// The axis: a label every tick columns.
	tick := niceTick(cp.End)
	axis := []rune(strings.Repeat(" ", timelineWidth+8))
	marks := []rune(strings.Repeat("-", timelineWidth))
	for t := time.Duration(0); t <= cp.End; t += tick {
		c := col(t)
		if t == cp.End && t > 0 {
			c = timelineWidth
		}
		if c < timelineWidth {
			marks[c] = '+'
		}
		label := []rune(axisLabel(t))
		if c+len(label) <= len(axis) {
			copy(axis[c:], label)
		}
	}
	pad := strings.Repeat(" ", 2+labelW+2+6+2)
	fmt.Fprintf(w, "%s%s\n", pad, strings.TrimRight(string(axis), " "))
	fmt.Fprintf(w, "  %-*s  %6s  %s  %s\n", labelW, "STAGE", "TIME", string(marks), "SAVES")
	for _, row := range rows {
		bar := []rune(strings.Repeat(" ", timelineWidth))
		for _, s := range row.steps {
			start := s.Started.Sub(cp.Start)
			end := cp.End
			if !s.Completed.IsZero() {
				end = s.Completed.Sub(cp.Start)
			}
			if s.Cached {
				if c := col(start); bar[c] == ' ' {
					bar[c] = markCached
				}
				continue
			}
			// A step that ran takes at least its one column, cached or not
			// being BuildKit's word, not its duration's.
			mark := markRan
			if onPath[s.Vertex] {
				mark = markPath
			}
			for c := col(start); c <= max(col(start), col(end-1)); c++ {
				if bar[c] != markPath {
					bar[c] = mark
				}
			}
		}
		star := " "
		if row.onPath {
			star = "*"
		}
		label := truncRunes(clean(row.label), labelW)
		line := fmt.Sprintf("%s %-*s  %6s  %s  %s", star, labelW, label, seconds(row.took), string(bar), row.saves)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}

	fmt.Fprintf(w, "\nCritical path (%s)\n", seconds(cp.End))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  START\tTIME\t  STAGE  STEP")
	texts := stepTexts(r)
	for _, s := range cp.Steps {
		stage := "-"
		if s.Stage >= 0 {
			stage = names[s.Stage]
		}
		took := seconds(s.Duration())
		if s.Cached {
			took = "cached"
		}
		fmt.Fprintf(tw, "  +%s\t%s\t  %s\n", seconds(s.Start), took, clean(stage)+"  "+clean(texts[s.Vertex]))
	}
	tw.Flush()
}

func stepTook(s history.Step, end time.Time) time.Duration {
	if !s.Completed.IsZero() {
		end = s.Completed
	}
	return max(end.Sub(s.Started), 0)
}

// spanOf is from the steps' first start to their last end.
func spanOf(steps []history.Step, now time.Time) time.Duration {
	var first, last time.Time
	for _, s := range steps {
		end := s.Completed
		if end.IsZero() {
			end = now
		}
		if first.IsZero() || s.Started.Before(first) {
			first = s.Started
		}
		if end.After(last) {
			last = end
		}
	}
	return max(last.Sub(first), 0)
}

// niceTick is a step of 1, 2 or 5 times a power of ten giving at most six
// labels on an axis of length d.
func niceTick(d time.Duration) time.Duration {
	for _, base := range []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second, 10 * time.Second, 100 * time.Second, 1000 * time.Second, 10000 * time.Second} {
		for _, m := range []time.Duration{1, 2, 5} {
			if d/(base*m) <= 5 {
				return base * m
			}
		}
	}
	return 100000 * time.Second
}

func axisLabel(d time.Duration) string {
	if d < time.Second && d > 0 {
		return fmt.Sprintf("%gs", math.Round(d.Seconds()*1000)/1000)
	}
	return fmt.Sprintf("%gs", d.Seconds())
}

func truncRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
