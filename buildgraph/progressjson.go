package buildgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// ProgressJSONSchemaVersion is the "schemaVersion" of every event
// JSONProgress writes. docs/progress-json.md documents the schema.
const ProgressJSONSchemaVersion = 1

// JSONProgress writes a build's progress as JSON lines, one event per line:
// "step" when a step appears or changes state, "log" for each chunk of
// output, "warning" for each warning, when the images are measured
// (compare) "measure" as layer data is read and "measured" with each
// image's sizes, and a final "summary". Strings are
// escaped so that no terminal control character (C0, DEL, C1) appears raw
// in the output. It is the machine-readable face of `stagescope build
// --progress json`.
type JSONProgress struct {
	// File, when set, is the name of the Dockerfile the events are of
	// (one of several compared), given in every event as "file".
	File string

	w    io.Writer
	err  error
	sent map[digest.Digest]peStepKey // what the last step event said
	buf  bytes.Buffer
	enc  *json.Encoder
}

// peStepKey is what makes a new step event worth writing.
type peStepKey struct {
	name  string
	stage int
	state StepState
}

// NewJSONProgress returns a JSONProgress writing to w.
func NewJSONProgress(w io.Writer) *JSONProgress {
	j := &JSONProgress{w: w, sent: map[digest.Digest]peStepKey{}}
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false)
	return j
}

// peTime is a time that encodes as RFC 3339 with nanoseconds, or is
// omitted when zero (through a nil pointer).
func peTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

type peHeader struct {
	SchemaVersion int    `json:"schemaVersion"`
	Type          string `json:"type"`
}

func peHeaderOf(typ string) peHeader {
	return peHeader{SchemaVersion: ProgressJSONSchemaVersion, Type: typ}
}

// peStepRef names the step an event is about.
type peStepRef struct {
	File       string        `json:"file,omitempty"`
	Vertex     digest.Digest `json:"vertex"`
	Stage      string        `json:"stage,omitempty"`
	StageIndex int           `json:"stageIndex"`
}

type peStep struct {
	peHeader
	peStepRef
	Platform   string     `json:"platform,omitempty"`
	Index      int        `json:"index"`
	Count      int        `json:"count"`
	Name       string     `json:"name"`
	Text       string     `json:"text"`
	Line       int        `json:"line"`
	State      StepState  `json:"state"`
	Cached     bool       `json:"cached"`
	Started    *time.Time `json:"started,omitempty"`
	Completed  *time.Time `json:"completed,omitempty"`
	DurationMs *int64     `json:"durationMs,omitempty"`
	Error      string     `json:"error,omitempty"`
	Why        *Reason    `json:"why,omitempty"`
}

type peLog struct {
	peHeader
	peStepRef
	Stream string     `json:"stream"`
	Time   *time.Time `json:"time,omitempty"`
	Data   string     `json:"data"`
	// Raw holds the exact bytes, base64-encoded, when Data had to replace
	// invalid UTF-8.
	Raw []byte `json:"raw,omitempty"`
}

type peWarning struct {
	peHeader
	peStepRef
	Level   int      `json:"level"`
	Message string   `json:"message"`
	Detail  []string `json:"detail,omitempty"`
	URL     string   `json:"url,omitempty"`
	File    string   `json:"file,omitempty"`
	Line    int      `json:"line,omitempty"`
}

type peCounts struct {
	Total  int `json:"total"`
	Done   int `json:"done"`
	Cached int `json:"cached"`
}

type peStageSummary struct {
	Index      int        `json:"index"`
	Name       string     `json:"name"`
	State      StepState  `json:"state"`
	Started    *time.Time `json:"started,omitempty"`
	Completed  *time.Time `json:"completed,omitempty"`
	DurationMs int64      `json:"durationMs"`
	Steps      peCounts   `json:"steps"`
}

type peFailed struct {
	peStepRef
	Name  string `json:"name"`
	Text  string `json:"text"`
	Line  int    `json:"line"`
	Error string `json:"error"`
	// Log is the last lines of the step's output.
	Log []string `json:"log,omitempty"`
}

type peSummary struct {
	peHeader
	File       string           `json:"file,omitempty"`
	Result     string           `json:"result"`
	Error      string           `json:"error,omitempty"`
	DurationMs int64            `json:"durationMs"`
	Steps      peCounts         `json:"steps"`
	Stages     []peStageSummary `json:"stages"`
	Failed     *peFailed        `json:"failed,omitempty"`
	Warnings   int              `json:"warnings"`
}

type peMeasure struct {
	peHeader
	File      string `json:"file,omitempty"`
	Target    string `json:"target"`
	Done      int64  `json:"done"`
	Total     int64  `json:"total"`
	ElapsedMs int64  `json:"elapsedMs"`
}

type peMeasured struct {
	peHeader
	File         string `json:"file,omitempty"`
	Target       string `json:"target"`
	Uncompressed int64  `json:"uncompressed"`
	Compressed   int64  `json:"compressed"`
	Layers       int    `json:"layers"`
	DurationMs   int64  `json:"durationMs"`
	Error        string `json:"error,omitempty"`
}

// peFailedLogLines is how many output lines of the failed step the summary
// carries.
const peFailedLogLines = 20

func (j *JSONProgress) peRef(p *Progress, s *Step) peStepRef {
	r := peStepRef{File: j.File, Vertex: s.Vertex, StageIndex: s.Stage}
	if s.Stage >= 0 && s.Stage < len(p.Stages) {
		r.Stage = p.Stages[s.Stage].Name
	}
	return r
}

// Update writes the events of status s, which p has already applied: a
// step event for every vertex of s whose name, stage or state changed since
// the last step event about it, then its logs and warnings. It returns the
// first write error, and writes nothing after one.
func (j *JSONProgress) Update(p *Progress, s *client.SolveStatus) error {
	if j.err != nil || s == nil || p == nil {
		return j.err
	}
	for _, v := range s.Vertexes {
		if v == nil {
			continue
		}
		st := p.Step(v.Digest)
		if st == nil || st.Name == "" {
			continue
		}
		key := peStepKey{name: st.Name, stage: st.Stage, state: st.State}
		if old, ok := j.sent[st.Vertex]; ok && old == key {
			continue
		}
		j.sent[st.Vertex] = key
		j.step(p, st)
	}
	for _, l := range s.Logs {
		if l == nil || len(l.Data) == 0 {
			continue
		}
		st := p.Step(l.Vertex)
		if st == nil {
			continue
		}
		ev := peLog{peHeader: peHeaderOf("log"), peStepRef: j.peRef(p, st),
			Stream: peStreamName(l.Stream), Time: peTime(l.Timestamp)}
		if utf8.Valid(l.Data) {
			ev.Data = string(l.Data)
		} else {
			ev.Data = string(bytes.ToValidUTF8(l.Data, []byte("\uFFFD")))
			ev.Raw = l.Data
		}
		j.write(ev)
	}
	for _, w := range s.Warnings {
		if w == nil {
			continue
		}
		ev := peWarning{peHeader: peHeaderOf("warning"), peStepRef: peStepRef{File: j.File, StageIndex: -1},
			Level: w.Level, Message: string(bytes.TrimSpace(w.Short)), URL: w.URL}
		if st := p.Step(w.Vertex); st != nil {
			ev.peStepRef = j.peRef(p, st)
		}
		for _, d := range w.Detail {
			ev.Detail = append(ev.Detail, string(d))
		}
		if w.SourceInfo != nil {
			ev.File = w.SourceInfo.Filename
		}
		if len(w.Range) > 0 && w.Range[0] != nil && w.Range[0].Start != nil {
			ev.Line = int(w.Range[0].Start.Line)
		}
		j.write(ev)
	}
	return j.err
}

func peStreamName(s int) string {
	switch s {
	case StreamStdout:
		return "stdout"
	case StreamStderr:
		return "stderr"
	}
	return fmt.Sprintf("stream%d", s)
}

// Finish writes the summary event of the build: its result ("success",
// "failed" or "canceled", from buildErr and the steps' states), the
// duration up to now, step counts, each stage, and the failed step with the
// end of its output.
func (j *JSONProgress) Finish(p *Progress, buildErr error, now time.Time) error {
	if j.err != nil || p == nil {
		return j.err
	}
	ev := peSummary{peHeader: peHeaderOf("summary"), File: j.File, Result: "success",
		DurationMs: p.Elapsed(now).Milliseconds(), Stages: []peStageSummary{}}
	failed := p.Failed()
	switch {
	case buildErr == nil:
	case errors.Is(buildErr, context.Canceled) || failed == nil && p.Canceled():
		ev.Result = "canceled"
	default:
		ev.Result = "failed"
	}
	if buildErr != nil {
		ev.Error = buildErr.Error()
	}
	ev.Steps.Cached, ev.Steps.Done, ev.Steps.Total = p.Counts()
	for _, sp := range p.Stages {
		ss := peStageSummary{Index: sp.Index, Name: sp.Name, State: sp.State,
			Started: peTime(sp.Started), Completed: peTime(sp.Completed),
			DurationMs: sp.Duration(now).Milliseconds()}
		ss.Steps.Cached, ss.Steps.Done, ss.Steps.Total = p.StageCounts(sp.Index)
		ev.Stages = append(ev.Stages, ss)
	}
	if failed != nil {
		ev.Failed = &peFailed{peStepRef: j.peRef(p, failed), Name: failed.Name, Text: failed.Text,
			Line: failed.Line, Error: failed.Error, Log: failed.Logs.Lines(peFailedLogLines)}
	}
	ev.Warnings = len(p.Warnings)
	for _, s := range p.steps {
		ev.Warnings += len(s.Warnings)
	}
	j.write(ev)
	return j.err
}

// Measure writes a "measure" event: the image of target is being
// measured, done bytes of its layer data read of total (0 of 0 when
// nothing needs reading), elapsed since measuring began.
func (j *JSONProgress) Measure(target string, done, total int64, elapsed time.Duration) error {
	j.write(peMeasure{peHeader: peHeaderOf("measure"), File: j.File, Target: target,
		Done: done, Total: total, ElapsedMs: elapsed.Milliseconds()})
	return j.err
}

// Measured writes a "measured" event: the sizes of r's image (-1 when
// unknown), its layers that are not empty, its build time, or why it has
// no size.
func (j *JSONProgress) Measured(r TargetResult) error {
	ev := peMeasured{peHeader: peHeaderOf("measured"), File: j.File, Target: r.Target,
		Uncompressed: r.size(MeasureUncompressed), Compressed: r.size(MeasureCompressed),
		DurationMs: r.Duration.Milliseconds(), Error: r.Error}
	if r.Size != nil {
		ev.Layers = nonEmpty(r.Size.Layers)
	}
	j.write(ev)
	return j.err
}

// write encodes one event as a line, escaping DEL and C1 controls (which
// encoding/json leaves raw) so the line never carries terminal control.
func (j *JSONProgress) write(ev any) {
	if j.err != nil {
		return
	}
	j.buf.Reset()
	if err := j.enc.Encode(ev); err != nil {
		j.err = fmt.Errorf("progress json: %w", err)
		return
	}
	out := peEscapeControls(j.buf.Bytes())
	if _, err := j.w.Write(out); err != nil {
		j.err = fmt.Errorf("progress json: %w", err)
	}
}

// peEscapeControls rewrites DEL (0x7f) and the UTF-8 encodings of U+0080 to
// U+009F as \u escapes. In encoding/json output both only occur inside
// strings, so the result is equivalent JSON.
func peEscapeControls(b []byte) []byte {
	if bytes.IndexByte(b, 0x7f) < 0 && bytes.IndexByte(b, 0xc2) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == 0x7f:
			out = append(out, `\u007f`...)
		case b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			out = fmt.Appendf(out, `\u%04x`, b[i+1])
			i++
		default:
			out = append(out, b[i])
		}
	}
	return out
}
