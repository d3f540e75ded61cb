package buildgraph

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/internal/recorder"
)

// recorded is a build recorded by internal/recorder's TestRecord into
// testdata/status/<name>.
type recorded struct {
	name   string
	target string
	base   string // the named context standing in for the base image
}

// load parses a recorded build's Dockerfile and replays its status stream.
func load(t testing.TB, r recorded) (*Graph, []*client.SolveStatus) {
	t.Helper()
	dir := filepath.Join("testdata", "status", r.name)
	src, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(src, Options{Target: r.target, Contexts: map[string]string{r.base: "local:" + r.base}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "status.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ss, err := recorder.Replay(f)
	if err != nil {
		t.Fatal(err)
	}
	return g, ss
}

func replay(t testing.TB, r recorded) *Progress {
	t.Helper()
	g, ss := load(t, r)
	p := NewProgress(g)
	for _, s := range ss {
		p.Apply(s)
	}
	return p
}

// dump describes the model in a compact, stable text form.
func dump(p *Progress) string {
	var b strings.Builder
	for _, sp := range p.Stages {
		fmt.Fprintf(&b, "stage %d %s %s\n", sp.Index, sp.Name, sp.State)
		for _, s := range sp.Steps {
			text := s.Text
			if len(text) > 40 {
				text = text[:40] + "..."
			}
			fmt.Fprintf(&b, "  %d/%d line=%d %s %q\n", s.Index, s.Count, s.Line, s.State, text)
		}
	}
	for _, s := range p.Other {
		fmt.Fprintf(&b, "other %s %q\n", s.State, s.Name)
	}
	c, d, n := p.Counts()
	fmt.Fprintf(&b, "counts cached=%d done=%d total=%d\n", c, d, n)
	if f := p.Failed(); f != nil {
		fmt.Fprintf(&b, "failed %q line=%d\n", f.Text, f.Line)
	}
	return b.String()
}

const (
	otherGolang = `other done "[internal] load build definition from Dockerfile"
other done "[context golang] load .dockerignore"
other done "[internal] load .dockerignore"
other done "[internal] load build context"
other done "[context golang] load from client"
`
	otherBusybox = `other done "[internal] load build definition from Dockerfile"
other done "[context busybox] load .dockerignore"
other done "[internal] load .dockerignore"
other done "[context busybox] load from client"
`
)

var replays = []struct {
	recorded
	want string
}{
	// A base replaced by a named context emits no FROM step: WORKDIR is 1/4.
	{recorded{"hello-builder", "builder", "golang"}, `stage 0 builder done
  1/4 line=3 done "WORKDIR /app"
  2/4 line=4 done "COPY hellodocker.go ."
  3/4 line=5 done "RUN go build -o hello hellodocker.go"
stage 1 stage-1 waiting
` + otherGolang + `counts cached=0 done=3 total=3
`},
	// Counts count instructions: stage-1's ENTRYPOINT is a step.
	{recorded{"hello-final", "", "golang"}, `stage 0 builder done
  1/4 line=3 done "WORKDIR /app"
  2/4 line=4 done "COPY hellodocker.go ."
  3/4 line=5 done "RUN go build -o hello hellodocker.go"
stage 1 stage-1 done
  1/2 line=9 done "WORKDIR /app"
  2/2 line=10 cached "COPY --from=builder /app/hello ."
` + otherGolang + `counts cached=1 done=6 total=6
`},
	{recorded{"cached", "", "busybox"}, `stage 0 base cached
  1/2 line=2 cached "COPY --from=busybox / /"
  2/2 line=3 cached "RUN echo cache me > /cached"
stage 1 stage-1 cached
  1/1 line=6 cached "RUN cat /cached"
` + otherBusybox + `counts cached=3 done=3 total=3
`},
	{recorded{"failing", "test", "busybox"}, `stage 0 base done
  1/2 line=2 done "RUN echo preparing"
stage 1 test error
  1/3 line=5 done "WORKDIR /src"
  2/3 line=6 error "RUN echo \"about to fail\" && echo \"really..."
  3/3 line=7 waiting "RUN echo never"
` + otherBusybox + `counts cached=0 done=2 total=4
failed "RUN echo \"about to fail\" && echo \"really failing\" >&2 && exit 3" line=6
`},
	// Single source: "[2/5] RUN ..." without a stage name.
	{recorded{"single-stage", "", "busybox"}, `stage 0 stage-0 done
  1/5 line=2 done "WORKDIR /work"
  2/5 line=3 done "RUN echo hello > a.txt"
  3/5 line=4 done "COPY f.txt ."
  4/5 line=5 done "RUN cat a.txt f.txt"
` + strings.Replace(otherBusybox, "other done \"[context busybox] load from", "other done \"[internal] load build context\"\nother done \"[context busybox] load from", 1) + `counts cached=0 done=4 total=4
`},
	// "WORKDIR /" counts in N but emits no step; COPY --link is a progress group.
	// Counts count instructions: b's "WORKDIR /" is a step though it runs nothing.
	{recorded{"parallel", "", "busybox"}, `stage 0 a done
  1/2 line=2 done "RUN sleep 1 && echo a > /a"
stage 1 b done
  1/3 line=6 done "RUN sleep 1 && echo b > /b"
stage 2 stage-2 done
  1/2 line=9 done "COPY --link --from=a /a /"
  2/2 line=10 done "COPY --from=b /b /"
` + otherBusybox + `counts cached=0 done=5 total=5
`},
	{recorded{"log-heavy", "", "busybox"}, `stage 0 stage-0 done
  1/2 line=2 done "RUN printf '\\033[31mred\\033[0m \\033]0;ti..."
` + otherBusybox + `counts cached=0 done=1 total=1
`},
	{recorded{"canceled", "", "busybox"}, `stage 0 base done
  1/2 line=2 done "RUN echo before"
stage 1 stage-1 canceled
  1/1 line=5 canceled "RUN echo start && sleep 60"
` + otherBusybox + `counts cached=0 done=1 total=2
`},
}

func TestProgressReplay(t *testing.T) {
	for _, tc := range replays {
		t.Run(tc.name, func(t *testing.T) {
			g, ss := load(t, tc.recorded)
			p := NewProgress(g)
			for _, s := range ss {
				p.Apply(s)
			}
			if got := dump(p); got != tc.want {
				t.Errorf("model:\n%s\nwant:\n%s", got, tc.want)
			}
			checkInvariants(t, p)

			// Vertex updates are idempotent: every status applied twice in
			// a row, or the whole stream's vertices again, change nothing.
			twice := NewProgress(g)
			for _, s := range ss {
				twice.Apply(s)
				twice.Apply(&client.SolveStatus{Vertexes: s.Vertexes, Statuses: s.Statuses})
			}
			for _, s := range ss {
				twice.Apply(&client.SolveStatus{Vertexes: s.Vertexes})
			}
			if got := dump(twice); got != tc.want {
				t.Errorf("after repeated updates:\n%s\nwant:\n%s", got, tc.want)
			}
			for _, s := range p.Steps() {
				s2 := twice.Step(s.Vertex)
				if s2.Started != s.Started || s2.Completed != s.Completed || s2.Current != s.Current || s2.Total != s.Total {
					t.Errorf("%s: repeated updates changed times or transfers", s.Name)
				}
			}
		})
	}
}

// checkInvariants checks what must hold of any model.
func checkInvariants(t testing.TB, p *Progress) {
	t.Helper()
	seen := map[*Step]int{}
	for i, sp := range p.Stages {
		if sp.Index != i {
			t.Fatalf("stage %d has Index %d", i, sp.Index)
		}
		for j, s := range sp.Steps {
			seen[s]++
			if s.Stage != i {
				t.Fatalf("step %q listed in stage %d has Stage %d", s.Name, i, s.Stage)
			}
			if j > 0 && sp.Steps[j-1].Index > s.Index {
				t.Fatalf("stage %d steps out of order", i)
			}
		}
	}
	for _, s := range p.Other {
		seen[s]++
		if s.Stage != -1 {
			t.Fatalf("other step %q has Stage %d", s.Name, s.Stage)
		}
	}
	steps := p.Steps()
	if len(seen) != len(steps) {
		t.Fatalf("%d steps, %d listed", len(steps), len(seen))
	}
	for _, s := range steps {
		if seen[s] != 1 {
			t.Fatalf("step %q listed %d times", s.Name, seen[s])
		}
		if p.Step(s.Vertex) != s {
			t.Fatalf("Step(%s) is not the listed step", s.Vertex)
		}
		if s.Logs == nil || s.Logs.Len() > MaxLogBytes {
			t.Fatalf("step %q log: %v", s.Name, s.Logs)
		}
		if s.Duration(time.Now()) < 0 {
			t.Fatalf("step %q has a negative duration", s.Name)
		}
	}
	cached, done, total := p.Counts()
	if cached < 0 || cached > done || done > total {
		t.Fatalf("counts cached=%d done=%d total=%d", cached, done, total)
	}
	if f := p.Failed(); f != nil && f.State != StepError {
		t.Fatalf("Failed() is %s", f.State)
	}
}

func TestProgressRecordedDetails(t *testing.T) {
	t.Run("failing", func(t *testing.T) {
		p := replay(t, recorded{"failing", "test", "busybox"})
		f := p.Failed()
		if f == nil {
			t.Fatal("no failed step")
		}
		if !strings.HasSuffix(f.Error, "did not complete successfully: exit code: 3") {
			t.Errorf("error %q", f.Error)
		}
		if got := f.Logs.Lines(10); !slices.Equal(got, []string{"about to fail", "really failing"}) {
			t.Errorf("lines %q", got)
		}
		var streams []int
		for _, s := range f.Logs.Segments() {
			streams = append(streams, s.Stream)
		}
		if !slices.Equal(streams, []int{StreamStdout, StreamStderr}) {
			t.Errorf("streams %v", streams)
		}
		if p.Canceled() {
			t.Error("a failed build reports canceled steps")
		}
		if got := f.Duration(time.Time{}); got != f.Completed.Sub(f.Started) || got < 100*time.Millisecond {
			t.Errorf("duration %v", got)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		p := replay(t, recorded{"canceled", "", "busybox"})
		if p.Failed() != nil || !p.Canceled() {
			t.Errorf("failed=%v canceled=%v", p.Failed(), p.Canceled())
		}
		if got := p.Stages[1].Steps[0].Logs.Lines(5); !slices.Equal(got, []string{"start"}) {
			t.Errorf("lines %q", got)
		}
	})
	t.Run("hello-builder", func(t *testing.T) {
		p := replay(t, recorded{"hello-builder", "builder", "golang"})
		b := p.Stages[0]
		if b.Started != b.Steps[0].Started || b.Completed != b.Steps[2].Completed {
			t.Errorf("stage times %v..%v", b.Started, b.Completed)
		}
		first, last := p.Steps()[0].Started, b.Completed
		if got, want := p.Elapsed(last.Add(time.Hour)), last.Sub(first); got != want {
			t.Errorf("elapsed %v, want %v (no step runs)", got, want)
		}
		// The transfer of the golang context is summed into its step.
		var ctx *Step
		for _, s := range p.Other {
			if s.Name == "[context golang] load from client" {
				ctx = s
			}
		}
		if ctx == nil || ctx.Current == 0 {
			t.Errorf("context transfer not counted: %+v", ctx)
		}
	})
	t.Run("log-heavy", func(t *testing.T) {
		p := replay(t, recorded{"log-heavy", "", "busybox"})
		l := p.Stages[0].Steps[0].Logs
		if !l.Clipped() || l.Dropped() != 0 {
			t.Errorf("clipped=%v dropped=%d", l.Clipped(), l.Dropped())
		}
		lines := l.Lines(1 << 20)
		want := []string{
			"\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J cleared",
			"bad utf-8: \uFFFD \uFFFD end", // a run of invalid bytes is one U+FFFD
			"downloading 100%",
		}
		if len(lines) < len(want) || !slices.Equal(lines[:len(want)], want) {
			t.Errorf("first lines %.200q", lines[:min(len(lines), len(want))])
		}
		if got := lines[len(lines)-1]; got != "[output clipped, log limit 200KiB/s reached]" {
			t.Errorf("last line %q", got)
		}
		if got := SanitizeLine(lines[0]); got != "red   cleared" {
			t.Errorf("sanitized %q", got)
		}
		// The streams interleave in Bytes and Lines (stderr arrived in the
		// middle of the long stdout line); Segments tell them apart.
		var stdout, stderr []byte
		for _, s := range l.Segments() {
			if s.Stream == StreamStdout {
				stdout = append(stdout, s.Data...)
			} else {
				stderr = append(stderr, s.Data...)
			}
		}
		if !bytes.Contains(stdout, []byte("\n"+strings.Repeat("x", 100000)+"\nline 0 of")) {
			t.Error("stdout lacks the long line")
		}
		if !bytes.HasPrefix(stderr, []byte("\x1b[1mbold on stderr\x1b[0m\n"+strings.Repeat("e", 100000))) {
			t.Errorf("stderr %.40q", stderr)
		}
		// The same output through a small log: the oldest bytes go.
		var total int
		small := NewLog(64 << 10)
		for _, s := range l.Segments() {
			small.Write(s.Stream, s.Data)
			total += len(s.Data)
		}
		if total != l.Len() || small.Len() != 64<<10 || small.Dropped() != int64(total-64<<10) {
			t.Errorf("total %d, small log len %d dropped %d", total, small.Len(), small.Dropped())
		}
		if !bytes.Equal(small.Bytes(), l.Bytes()[total-64<<10:]) {
			t.Error("small log does not keep the tail")
		}
	})
}

// name builds a vertex update.
func vtx(d, name string, started, completed int, opts ...func(*client.Vertex)) *client.Vertex {
	v := &client.Vertex{Digest: digest.Digest(d), Name: name}
	if started > 0 {
		t := time.Unix(int64(started), 0)
		v.Started = &t
	}
	if completed > 0 {
		t := time.Unix(int64(completed), 0)
		v.Completed = &t
	}
	for _, o := range opts {
		o(v)
	}
	return v
}

func status(vs ...*client.Vertex) *client.SolveStatus { return &client.SolveStatus{Vertexes: vs} }

func mustParse(t testing.TB, src string, opts Options) *Graph {
	t.Helper()
	g, err := Parse([]byte(src), opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestProgressLines(t *testing.T) {
	// A registry base emits FROM as step 1; "WORKDIR /" emits nothing.
	g := mustParse(t, `FROM alpine AS b
WORKDIR /
RUN make
COPY a b

FROM b AS c
ONBUILD RUN echo later
RUN test

FROM c
ADD x y
`, Options{})
	p := NewProgress(g)
	p.Apply(status(
		vtx("sha256:1", "[b 1/4] FROM docker.io/library/alpine:latest@sha256:abc", 1, 2),
		vtx("sha256:2", "[b 2/4] RUN make", 2, 3),
		vtx("sha256:3", "[b 3/4] COPY a b", 3, 0),
		vtx("sha256:4", "[c 1/1] RUN test", 0, 0),
		vtx("sha256:5", "[stage-2 1/2] ONBUILD RUN echo later", 0, 0),
		vtx("sha256:6", "[stage-2 2/2] ADD x y", 0, 0),
		vtx("sha256:7", "[b 4/4] RUN wrong", 0, 0),
	))
	want := map[string]int{"sha256:1": 1, "sha256:2": 3, "sha256:3": 4, "sha256:4": 8, "sha256:5": 10, "sha256:6": 11, "sha256:7": 0}
	for d, line := range want {
		if s := p.Step(digest.Digest(d)); s.Line != line {
			t.Errorf("%s: line %d, want %d", s.Name, s.Line, line)
		}
	}
	if got := p.Stages[0].State; got != StepRunning {
		t.Errorf("stage b %s", got)
	}
	checkInvariants(t, p)
}

func TestProgressMapping(t *testing.T) {
	g := mustParse(t, "FROM busybox AS Builder\nRUN a\n\nFROM busybox\nCOPY --from=builder / /\n", Options{})
	p := NewProgress(g)
	p.Apply(status(
		// Multi-platform and cross-compilation prefixes, padded numbers.
		vtx("sha256:a", "[linux/amd64 builder 2/2] RUN a", 1, 2),
		vtx("sha256:b", "[linux/arm64->amd64 BUILDER  2/2] RUN a", 1, 0),
		vtx("sha256:c", "[linux/amd64 stage-1 2/2] COPY --from=builder / /", 0, 0),
		vtx("sha256:d", "[linux/amd64 internal] load metadata for docker.io/library/busybox:latest", 1, 2),
		vtx("sha256:e", "[context busybox] load from client", 1, 2),
		vtx("sha256:f", "exporting to image", 0, 0),
		// Named after no stage of this file, and no step of it
		// (TestProgressStepOfAnotherFile has one that is).
		vtx("sha256:g", "[nosuchstage 1/2] RUN b", 0, 0),
		vtx("sha256:h", "[1/2] RUN b", 0, 0), // single-source form; this file has two stages
	))
	type want struct {
		stage, index, count int
		platform, text      string
	}
	for d, w := range map[string]want{
		"sha256:a": {0, 2, 2, "linux/amd64", "RUN a"},
		"sha256:b": {0, 2, 2, "linux/arm64->amd64", "RUN a"},
		"sha256:c": {1, 2, 2, "linux/amd64", "COPY --from=builder / /"},
		"sha256:d": {-1, 0, 0, "linux/amd64", "load metadata for docker.io/library/busybox:latest"},
		"sha256:e": {-1, 0, 0, "", "load from client"},
		"sha256:f": {-1, 0, 0, "", "exporting to image"},
		"sha256:g": {-1, 1, 2, "", "RUN b"},
		"sha256:h": {-1, 1, 2, "", "RUN b"},
	} {
		s := p.Step(digest.Digest(d))
		if got := (want{s.Stage, s.Index, s.Count, s.Platform, s.Text}); got != w {
			t.Errorf("%s: %+v, want %+v", s.Name, got, w)
		}
	}
	if s := p.Step("sha256:a"); s.Line != 2 {
		t.Errorf("line %d", s.Line)
	}
	// Other keeps arrival order; a stage sorts by step number.
	var names []string
	for _, s := range p.Other {
		names = append(names, string(s.Vertex))
	}
	if !slices.Equal(names, []string{"sha256:d", "sha256:e", "sha256:f", "sha256:g", "sha256:h"}) {
		t.Errorf("other %v", names)
	}
	checkInvariants(t, p)
}

func TestProgressNoGraph(t *testing.T) {
	p := NewProgress(nil)
	p.Apply(status(vtx("sha256:a", "[builder 1/2] RUN a", 1, 2)))
	if s := p.Step("sha256:a"); s.Stage != -1 || s.Index != 1 || s.State != StepDone || len(p.Other) != 1 {
		t.Errorf("%+v", s)
	}
	checkInvariants(t, p)
}

func TestProgressOutOfOrder(t *testing.T) {
	g := mustParse(t, "FROM scratch AS a\nCOPY x /\nRUN b\n", Options{})
	p := NewProgress(g)
	ts := time.Unix(5, 0)
	// Logs, a status and a warning arrive before their vertex.
	p.Apply(&client.SolveStatus{
		Logs:     []*client.VertexLog{{Vertex: "sha256:r", Stream: 1, Data: []byte("early\n"), Timestamp: ts}},
		Statuses: []*client.VertexStatus{{ID: "x", Vertex: "sha256:r", Current: 10, Total: 20}},
		Warnings: []*client.VertexWarning{{Vertex: "sha256:r", Short: []byte("careful")}, {Short: []byte("global")}},
	})
	s := p.Step("sha256:r")
	if s == nil || s.Stage != -1 || s.State != StepWaiting || len(p.Other) != 1 {
		t.Fatalf("placeholder %+v", s)
	}
	p.Apply(status(vtx("sha256:r", "[a 2/2] RUN b", 6, 0)))
	if s.Stage != 0 || s.Line != 3 || s.State != StepRunning || len(p.Other) != 0 || len(p.Stages[0].Steps) != 1 {
		t.Fatalf("placed %+v", s)
	}
	// A duplicate initial vertex (no times) does not reset it; a status
	// update with the same ID replaces the old one.
	p.Apply(status(vtx("sha256:r", "[a 2/2] RUN b", 0, 0)))
	p.Apply(&client.SolveStatus{Statuses: []*client.VertexStatus{{ID: "x", Vertex: "sha256:r", Current: 20, Total: 20}, {ID: "y", Vertex: "sha256:r", Current: 1}}})
	if s.State != StepRunning || s.Current != 21 || s.Total != 20 {
		t.Fatalf("after duplicate: %s %d/%d", s.State, s.Current, s.Total)
	}
	// Completed, reopened (BuildKit sends the run again without Completed),
	// completed again: the latest update of a run wins.
	p.Apply(status(vtx("sha256:r", "", 6, 7)))
	if s.State != StepDone || s.Duration(time.Unix(100, 0)) != time.Second {
		t.Fatalf("done: %s %v", s.State, s.Duration(time.Unix(100, 0)))
	}
	p.Apply(status(vtx("sha256:r", "", 6, 0)))
	if s.State != StepRunning || s.Duration(time.Unix(10, 0)) != 4*time.Second || p.Stages[0].State != StepRunning {
		t.Fatalf("reopened: %s", s.State)
	}
	// An older run arriving late changes nothing but the first start.
	p.Apply(status(vtx("sha256:r", "", 3, 4)))
	if s.State != StepRunning || s.Started != time.Unix(3, 0) {
		t.Fatalf("late run: %s %v", s.State, s.Started)
	}
	p.Apply(status(vtx("sha256:r", "", 6, 9)))
	if s.State != StepDone || !s.Completed.Equal(time.Unix(9, 0)) || p.Stages[0].State != StepDone {
		t.Fatalf("final: %s %v %s", s.State, s.Completed, p.Stages[0].State)
	}
	if got := p.Elapsed(time.Unix(100, 0)); got != 6*time.Second {
		t.Errorf("elapsed %v", got)
	}
	if !slices.Equal(s.Warnings, []string{"careful"}) || !slices.Equal(p.Warnings, []string{"global"}) {
		t.Errorf("warnings %q %q", s.Warnings, p.Warnings)
	}
	if got := s.Logs.Lines(5); !slices.Equal(got, []string{"early"}) {
		t.Errorf("logs %q", got)
	}
	// Malformed pieces are ignored.
	p.Apply(nil)
	p.Apply(&client.SolveStatus{Vertexes: []*client.Vertex{nil, {}}, Statuses: []*client.VertexStatus{nil, {}}, Logs: []*client.VertexLog{nil, {}}, Warnings: []*client.VertexWarning{nil}})
	checkInvariants(t, p)
}

func TestProgressStageState(t *testing.T) {
	errored := func(v *client.Vertex) { v.Error = "exit code: 1" }
	cancel := func(v *client.Vertex) { v.Error = "process did not complete successfully: context canceled" }
	cached := func(v *client.Vertex) { v.Cached = true }
	for _, tc := range []struct {
		name string
		vs   []*client.Vertex
		want StepState
	}{
		{"empty", nil, StepWaiting},
		{"waiting", []*client.Vertex{vtx("sha256:1", "[a 1/2] COPY x /", 0, 0)}, StepWaiting},
		{"partly done", []*client.Vertex{vtx("sha256:1", "[a 1/2] COPY x /", 1, 2), vtx("sha256:2", "[a 2/2] RUN b", 0, 0)}, StepWaiting},
		{"running", []*client.Vertex{vtx("sha256:1", "[a 1/2] COPY x /", 1, 2, cached), vtx("sha256:2", "[a 2/2] RUN b", 2, 0)}, StepRunning},
		{"cached", []*client.Vertex{vtx("sha256:1", "[a 1/2] COPY x /", 1, 1, cached), vtx("sha256:2", "[a 2/2] RUN b", 1, 1, cached)}, StepCached},
		{"done", []*client.Vertex{vtx("sha256:1", "[a 1/2] COPY x /", 1, 1, cached), vtx("sha256:2", "[a 2/2] RUN b", 1, 3)}, StepDone},
		{"error", []*client.Vertex{vtx("sha256:1", "[a 1/2] COPY x /", 1, 2, errored), vtx("sha256:2", "[a 2/2] RUN b", 1, 0)}, StepError},
		{"canceled", []*client.Vertex{vtx("sha256:1", "[a 1/2] COPY x /", 1, 2), vtx("sha256:2", "[a 2/2] RUN b", 2, 3, cancel)}, StepCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProgress(mustParse(t, "FROM scratch AS a\nCOPY x /\nRUN b\n", Options{}))
			p.Apply(status(tc.vs...))
			sp := p.Stages[0]
			if sp.State != tc.want {
				t.Errorf("state %s, want %s", sp.State, tc.want)
			}
			if sp.State.Finished() != !sp.Completed.IsZero() {
				t.Errorf("state %s with Completed %v", sp.State, sp.Completed)
			}
		})
	}
}

// Steps still running when the stream ends without saying so (the engine
// was lost) are canceled, and so is their stage; finished steps keep their
// state.
func TestProgressAbandon(t *testing.T) {
	p := NewProgress(mustParse(t, "FROM scratch AS a\nCOPY x /\nRUN b\n", Options{}))
	p.Apply(status(vtx("sha256:1", "[a 1/2] COPY x /", 1, 2), vtx("sha256:2", "[a 2/2] RUN b", 2, 0)))
	at := time.Unix(100, 0)
	p.Abandon(at, "the engine was lost")
	copyStep, run := p.Step("sha256:1"), p.Step("sha256:2")
	if copyStep.State != StepDone || copyStep.Error != "" {
		t.Errorf("finished step changed: %s %q", copyStep.State, copyStep.Error)
	}
	if run.State != StepCanceled || !run.Completed.Equal(at) || run.Error != "the engine was lost" {
		t.Errorf("running step: %s at %v, %q", run.State, run.Completed, run.Error)
	}
	if sp := p.Stages[0]; sp.State != StepCanceled || sp.Completed.IsZero() {
		t.Errorf("stage: %s, completed %v", sp.State, sp.Completed)
	}
}

// A vertex two stages share (identical FROM and RUN: one digest) belongs
// to the stage BuildKit names it after; the other stage lists only its own.
func TestProgressSharedVertex(t *testing.T) {
	g := mustParse(t, "FROM scratch AS a\nCOPY x /\n\nFROM scratch AS b\nCOPY x /\nRUN more\n", Options{})
	p := NewProgress(g)
	p.Apply(status(vtx("sha256:copy", "[a 1/1] COPY x /", 1, 2), vtx("sha256:more", "[b 2/2] RUN more", 2, 3)))
	if len(p.Stages[0].Steps) != 1 || len(p.Stages[1].Steps) != 1 || p.Step("sha256:copy").Stage != 0 {
		t.Errorf("a=%d b=%d", len(p.Stages[0].Steps), len(p.Stages[1].Steps))
	}
	// b counts its COPY, which BuildKit ran once for both stages.
	if _, _, total := p.Counts(); total != 3 {
		t.Errorf("total %d", total)
	}
}

// Two Dockerfiles built in one session share a step when BuildKit finds
// the same work in both: it reports the step once, named after the stage
// of the file that asked first ("[stage-0 1/2] WORKDIR /app" in a file
// whose stage is runtime). The step goes to the one stage of this file
// whose instruction at that position is the same, else among BuildKit's.
func TestProgressStepOfAnotherFile(t *testing.T) {
	g := mustParse(t, "FROM scratch AS build\nCOPY x /x\n\nFROM scratch AS runtime\nWORKDIR /app\nCOPY --from=build /x .\n\nFROM scratch AS twin\nWORKDIR /srv\nCOPY y .\n\nFROM scratch AS twin2\nWORKDIR /srv\nCOPY z .\n", Options{})
	p := NewProgress(g)
	p.Apply(status(
		vtx("sha256:w", "[stage-0 1/2] WORKDIR /app", 1, 2, func(v *client.Vertex) { v.Cached = true }),
		vtx("sha256:n", "[other 1/2] WORKDIR /elsewhere", 1, 2),
		vtx("sha256:t", "[other 1/2] WORKDIR /srv", 1, 2),
		vtx("sha256:c", "[runtime 2/2] COPY --from=build /x .", 2, 3),
	))
	if s := p.Step("sha256:w"); s.Stage != 1 || s.Line != 5 {
		t.Errorf("the shared WORKDIR: stage %d line %d, want runtime's line 5", s.Stage, s.Line)
	}
	in, ok := p.Instruction(p.Step("sha256:w"))
	if !ok || len(in.Steps) != 1 || in.State != StepCached {
		t.Errorf("runtime's WORKDIR instruction: %+v", in)
	}
	for _, d := range []string{"sha256:n", "sha256:t"} { // no such step; two such stages
		if s := p.Step(digest.Digest(d)); s.Stage != -1 {
			t.Errorf("%s went to stage %d", s.Name, s.Stage)
		}
	}
	checkInvariants(t, p)
}

func TestParseVertexName(t *testing.T) {
	for name, want := range map[string]vertexName{
		"[builder 2/4] COPY . .":             {label: "builder", index: 2, count: 4, text: "COPY . ."},
		"[builder  2/10] RUN x":              {label: "builder", index: 2, count: 10, text: "RUN x"},
		"[1/3] FROM busybox":                 {index: 1, count: 3, text: "FROM busybox"},
		"[linux/arm/v7 s 1/1] RUN x":         {platform: "linux/arm/v7", label: "s", index: 1, count: 1, text: "RUN x"},
		"[linux/amd64->arm64 s 1/1] RUN x":   {platform: "linux/amd64->arm64", label: "s", index: 1, count: 1, text: "RUN x"},
		"[internal] load .dockerignore":      {label: "internal", text: "load .dockerignore"},
		"[context golang] load from client":  {label: "context golang", text: "load from client"},
		"exporting to image":                 {text: "exporting to image"},
		"[unterminated":                      {text: "[unterminated"},
		"[] x":                               {text: "[] x"},
		"[s 0/3] x":                          {label: "s 0/3", text: "x"},
		"[s 4/3] x":                          {label: "s 4/3", text: "x"},
		"[s 1/99999999999999999999] x":       {label: "s 1/99999999999999999999", text: "x"},
		"[s 2/4]":                            {label: "s", index: 2, count: 4},
		"[stage-1 3/3] LINK COPY --link a b": {label: "stage-1", index: 3, count: 3, text: "LINK COPY --link a b"},
	} {
		if got := parseVertexName(name); got != want {
			t.Errorf("%q: %+v, want %+v", name, got, want)
		}
	}
}

func TestLog(t *testing.T) {
	var nilLog *Log
	if nilLog.Len() != 0 || nilLog.Lines(3) != nil || nilLog.Bytes() != nil || nilLog.Dropped() != 0 || nilLog.Clipped() || nilLog.Segments() != nil {
		t.Error("nil log is not empty")
	}
	nilLog.Write(1, []byte("ignored"))

	l := NewLog(20)
	l.Write(StreamStdout, []byte("one\r\ntwo\n"))
	l.Write(StreamStderr, []byte("10%\r50%\r"))
	l.Write(StreamStderr, []byte("100%\nthr"))
	// 25 bytes written, 20 kept.
	if l.Len() != 20 || l.Dropped() != 5 || string(l.Bytes()) != "two\n10%\r50%\r100%\nthr" {
		t.Fatalf("len %d dropped %d bytes %q", l.Len(), l.Dropped(), l.Bytes())
	}
	if got := l.Lines(10); !slices.Equal(got, []string{"two", "100%", "thr"}) {
		t.Errorf("lines %q", got)
	}
	if got := l.Lines(2); !slices.Equal(got, []string{"100%", "thr"}) {
		t.Errorf("last 2 lines %q", got)
	}
	segs := l.Segments()
	if len(segs) != 2 || segs[0].Stream != 1 || string(segs[0].Data) != "two\n" || segs[0].Offset != 5 ||
		segs[1].Stream != 2 || string(segs[1].Data) != "10%\r50%\r100%\nthr" || segs[1].Offset != 9 {
		t.Errorf("segments %+v", segs)
	}
	// A write as large as the limit replaces everything.
	l.Write(StreamStdout, []byte("0123456789abcdefXYZ\n"))
	if string(l.Bytes()) != "0123456789abcdefXYZ\n" || l.Dropped() != 25 || len(l.Segments()) != 1 {
		t.Errorf("bytes %q dropped %d segments %d", l.Bytes(), l.Dropped(), len(l.Segments()))
	}
	if got := l.Lines(1); !slices.Equal(got, []string{"0123456789abcdefXYZ"}) {
		t.Errorf("lines %q", got)
	}
	// A larger one keeps its tail.
	l.Write(StreamStderr, []byte("0123456789abcdefXYZ\r\n"))
	if string(l.Bytes()) != "123456789abcdefXYZ\r\n" || l.Dropped() != 46 || l.Segments()[0].Stream != 2 {
		t.Errorf("bytes %q dropped %d segments %+v", l.Bytes(), l.Dropped(), l.Segments())
	}
	// Many small writes keep the buffer within about twice the limit.
	for i := range 1000 {
		l.Write(1+i%2, []byte("ab\n"))
	}
	if l.Len() != 20 || cap(l.buf) > 96 || len(l.segs) > 21 || l.Dropped() != 46+3000 {
		t.Errorf("len %d cap %d segs %d dropped %d", l.Len(), cap(l.buf), len(l.segs), l.Dropped())
	}
	big := NewLog(100)
	big.Write(StreamStderr, []byte("\xff\xfe\n[output clipped, log limit 2MiB reached]\n"))
	if !big.Clipped() || big.Lines(2)[0] != "\uFFFD" || l.Clipped() {
		t.Errorf("clipped %v lines %q", big.Clipped(), big.Lines(2))
	}
	if got := NewLog(0).max; got != 1 {
		t.Errorf("NewLog(0) keeps %d", got)
	}
}

func TestSanitizeLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttext":                 "plain\ttext",
		"\x1b[1;31mred\x1b[0m":        "red",
		"a\x1b]0;title\x07b":          "ab",
		"a\x1b]8;;http://x\x1b\\b":    "ab",
		"a\x1bPdcs\x1b\\b":            "ab",
		"bell\x07 bs\x08 del\x7f":     "bell bs del",
		"c1 \u009b31m csi":            "c1 31m csi",
		"bad \xff utf8":               "bad \uFFFD utf8",
		"unterminated \x1b[12":        "unterminated ",
		"unterminated osc \x1b]0;abc": "unterminated osc ",
		"trailing esc \x1b":           "trailing esc ",
		"esc c\x1bcreset":             "esc creset",
		"wide ✓ ok":                   "wide ✓ ok",
	} {
		if got := SanitizeLine(in); got != want {
			t.Errorf("SanitizeLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// fuzzNames are vertex names the fuzzer picks from, beside raw bytes.
var fuzzNames = []string{
	"[a 1/3] FROM docker.io/library/alpine", "[a 2/3] RUN x", "[a 3/3] COPY y z", "[b 1/1] RUN x",
	"[linux/arm64 a 2/3] RUN x", "[internal] load build context", "[2/2] RUN q", "exporting to image",
	"[stage-2 1/2] LINK COPY --link a b", "[a 9/3] RUN bad", "[", "",
}

// fuzzStatuses turns bytes into a sequence of status updates over a few
// digests: every field comes from the bytes, so the fuzzer can reach
// orderings and combinations real streams rarely show.
func fuzzStatuses(data []byte) []*client.SolveStatus {
	next := func(n int) []byte {
		if len(data) < n {
			data = append(data, make([]byte, n-len(data))...)
		}
		b := data[:n]
		data = data[n:]
		return b
	}
	digests := []digest.Digest{"sha256:0", "sha256:1", "sha256:2", "sha256:3", "sha256:4", ""}
	var out []*client.SolveStatus
	for len(data) > 0 && len(out) < 64 {
		op := next(4)
		s := &client.SolveStatus{}
		d := digests[int(op[1])%len(digests)]
		tm := func() *time.Time {
			if b := next(1)[0]; b%3 != 0 {
				t := time.Unix(int64(b), int64(next(1)[0])*1e6)
				return &t
			}
			return nil
		}
		switch op[0] % 5 {
		case 0:
			v := &client.Vertex{Digest: d, Cached: op[2]%2 == 1, Started: tm(), Completed: tm()}
			if op[3]%4 == 0 {
				n := int(next(1)[0]) % 24
				v.Name = string(next(n))
			} else {
				v.Name = fuzzNames[int(op[3])%len(fuzzNames)]
			}
			switch op[2] % 7 {
			case 2:
				v.Error = "exit code: 1"
			case 4:
				v.Error = "context canceled"
			}
			s.Vertexes = append(s.Vertexes, v)
		case 1:
			n := int(binary.BigEndian.Uint16(next(2))) % 300
			s.Logs = append(s.Logs, &client.VertexLog{Vertex: d, Stream: int(op[2]%3) + 1, Data: next(n), Timestamp: time.Unix(int64(op[3]), 0)})
		case 2:
			s.Statuses = append(s.Statuses, &client.VertexStatus{Vertex: d, ID: string(rune('a' + op[2]%4)), Current: int64(op[3]), Total: int64(next(1)[0])})
		case 3:
			s.Warnings = append(s.Warnings, &client.VertexWarning{Vertex: d, Short: next(int(op[2] % 16)), Level: int(op[3])})
		case 4:
			s.Vertexes = append(s.Vertexes, nil)
			s.Logs = append(s.Logs, nil)
		}
		out = append(out, s)
	}
	return out
}

func FuzzProgressApply(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x00\x01\x05\x05\x05\x07"))
	f.Add([]byte("\x00\x01\x02\x01\x05\x05\x05\x07\x01\x01\x01\x00\x00\x10hello\nworld\r\n!!\x00\x01\x02\x03\x08\x01\x09\x02"))
	f.Add([]byte("\x03\x00\x05\x00careful!\x02\x04\x01\x07\x09\x00\x02\x00\x04\x01\x02"))
	g, err := Parse([]byte("FROM alpine AS a\nRUN x\nCOPY y z\n\nFROM a AS b\nRUN x\n\nFROM scratch\nCOPY --link --from=b a b\nRUN q\n"), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewProgress(g)
		var out bytes.Buffer
		j := NewJSONProgress(&out)
		for _, s := range fuzzStatuses(data) {
			p.Apply(s)
			if err := j.Update(p, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Finish(p, nil, time.Unix(300, 0)); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, p)
		for _, s := range p.Steps() {
			for _, l := range s.Logs.Lines(5) {
				SanitizeLine(l)
			}
			s.Logs.Segments()
		}
		p.Elapsed(time.Unix(300, 0))
		checkJSONLines(t, out.Bytes())
	})
}

// BenchmarkProgressApply folds the recorded log-heavy build; the bytes per
// operation are the log bytes of the stream.
func BenchmarkProgressApply(b *testing.B) {
	g, ss := load(b, recorded{"log-heavy", "", "busybox"})
	var n int64
	for _, s := range ss {
		for _, l := range s.Logs {
			n += int64(len(l.Data))
		}
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		p := NewProgress(g)
		for _, s := range ss {
			p.Apply(s)
		}
	}
}

func TestLogLinesCut(t *testing.T) {
	l := NewLog(1 << 20)
	l.Write(1, []byte("short\n"+strings.Repeat("a", 100)+"hello\nééééé\nprogress 1%\rprogress 2%"))
	// "ééééé" is 10 bytes: its last 7 begin inside an "é", so the cut line
	// starts at the next whole character.
	got := l.LinesCut(4, 7)
	want := []string{"short", "…aahello", "…ééé", "…ress 2%"}
	if !slices.Equal(got, want) {
		t.Errorf("LinesCut = %q, want %q", got, want)
	}
	if full := l.LinesCut(4, 0); !slices.Equal(full, l.Lines(4)) || len(full[1]) != 105 {
		t.Errorf("LinesCut(n, 0) cuts: %q", full)
	}
}

// Each step keeps the digests of its input vertices: the edges of the
// build's graph, which a record of the build stores.
func TestProgressInputs(t *testing.T) {
	p := replay(t, recorded{"parallel", "", "busybox"})
	byText := map[string]*Step{}
	for _, s := range p.Steps() {
		byText[s.Text] = s
	}
	a, b := byText["RUN sleep 1 && echo a > /a"], byText["RUN sleep 1 && echo b > /b"]
	copyB := byText["COPY --from=b /b /"]
	if a == nil || b == nil || copyB == nil {
		t.Fatalf("steps missing: %v", byText)
	}
	if len(a.Inputs) != 1 || len(b.Inputs) != 1 || a.Inputs[0] != b.Inputs[0] {
		t.Errorf("the two RUNs start from the same base: %v %v", a.Inputs, b.Inputs)
	}
	if !slices.Contains(copyB.Inputs, b.Vertex) {
		t.Errorf("COPY --from=b does not take b's RUN as input: %v (b is %s)", copyB.Inputs, b.Vertex)
	}
	// An update without inputs keeps them.
	p.Apply(status(&client.Vertex{Digest: copyB.Vertex, Name: copyB.Name}))
	if len(copyB.Inputs) != 2 {
		t.Errorf("inputs after an update without them: %v", copyB.Inputs)
	}
}

// A stage's time is that of its own steps: the final stage of hello-final
// starts with WORKDIR at once, then waits 28s for builder before its COPY
// is cached; it took well under a second, not 28s.
func TestStageDurationOwnSteps(t *testing.T) {
	p := replay(t, recorded{"hello-final", "", "golang"})
	final := p.Stages[1]
	if span := final.Completed.Sub(final.Started); span < 20*time.Second {
		t.Fatalf("the recording no longer waits: span %v", span)
	}
	if d := final.Duration(final.Completed); d > 10*time.Millisecond {
		t.Errorf("stage-1 took %v, its steps far less", d)
	}
	// builder's steps run one after another: its time is their sum.
	b := p.Stages[0]
	var sum time.Duration
	for _, s := range b.Steps {
		sum += s.Duration(b.Completed)
	}
	if d := b.Duration(b.Completed); d != sum {
		t.Errorf("builder %v, its steps %v", d, sum)
	}
	// Overlapping steps count once: parallel's final stage.
	p = replay(t, recorded{"parallel", "", "busybox"})
	f := p.Stages[len(p.Stages)-1]
	if d := f.Duration(f.Completed); d <= 0 || d > f.Completed.Sub(f.Started) {
		t.Errorf("%s %v, span %v", f.Name, d, f.Completed.Sub(f.Started))
	}
}
