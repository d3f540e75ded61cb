package buildgraph

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

const whyDockerfile = `ARG BASE=alpine
FROM ${BASE} AS deps
WORKDIR /src
COPY go.mod ./
RUN fetch

FROM deps AS builder
ARG VERSION=dev
ARG TOKEN
COPY src/ ./src/
ENV CGO=0
RUN build $VERSION

FROM scratch
COPY --from=builder /out /app
`

// whyBuild is one build of a Dockerfile for the comparison: its facts
// with the files each read given, and which steps (by line) ran.
type whyBuild struct {
	src   string
	args  map[string]string
	files map[string][]FileDigest // Reads pattern → files
	ran   map[int]bool            // line → ran (for the recorded build: completed)
	all   bool                    // every step ran
}

func (b whyBuild) steps(t *testing.T) []WhyStep {
	t.Helper()
	g := mustParse(t, b.src, Options{BuildArgs: b.args})
	facts, err := g.Facts("", b.args)
	if err != nil {
		t.Fatal(err)
	}
	var out []WhyStep
	for _, sf := range facts {
		for _, f := range sf.Steps {
			for _, r := range f.Reads {
				f.Files = append(f.Files, b.files[r]...)
			}
			for k, v := range f.Args {
				if strings.Contains(k, "TOKEN") {
					f.Args[k] = Redacted
				} else {
					f.Args[k] = v
				}
			}
			out = append(out, WhyStep{Stage: sf.Name, Text: f.Instruction, Ran: b.all || b.ran[f.Line], Facts: f})
		}
	}
	return out
}

func file(path, digest string) FileDigest {
	return FileDigest{Path: path, Digest: digest, Mode: 0o644, Size: int64(len(digest))}
}

var whyFiles = map[string][]FileDigest{
	"go.mod": {file("go.mod", "m1")},
	"src":    {file("src/a.go", "a1"), file("src/b.go", "b1")},
}

// kinds lists "line kind" of every step with a reason.
func kinds(cur []WhyStep, rs []*Reason) string {
	var out []string
	for i, r := range rs {
		if r != nil {
			out = append(out, strings.TrimSpace(strings.SplitN(cur[i].Facts.Instruction, " ", 2)[0])+"@"+strconv.Itoa(cur[i].Facts.Line)+" "+string(r.Kind))
		}
	}
	return strings.Join(out, ", ")
}

func TestReasons(t *testing.T) {
	base := whyBuild{src: whyDockerfile, files: whyFiles, all: true}
	changedFiles := map[string][]FileDigest{
		"go.mod": whyFiles["go.mod"],
		"src":    {file("src/a.go", "a2"), file("src/b.go", "b1"), file("src/c.go", "c1")},
	}
	tests := []struct {
		name    string
		prev    *whyBuild
		cur     whyBuild
		noCache bool
		want    string
		check   func(t *testing.T, rs map[int]*Reason)
	}{
		{name: "no record", cur: whyBuild{src: whyDockerfile, files: whyFiles, all: true},
			want: "WORKDIR@3 first-build, COPY@4 first-build, RUN@5 first-build, COPY@10 first-build, RUN@12 first-build, COPY@15 first-build"},
		{name: "no-cache", prev: &base, cur: whyBuild{src: whyDockerfile, files: whyFiles, all: true}, noCache: true,
			want: "WORKDIR@3 no-cache, COPY@4 no-cache, RUN@5 no-cache, COPY@10 no-cache, RUN@12 no-cache, COPY@15 no-cache"},
		{name: "files changed", prev: &base,
			cur:  whyBuild{src: whyDockerfile, files: changedFiles, ran: map[int]bool{10: true, 12: true, 15: true}},
			want: "COPY@10 files-changed, RUN@12 parent-ran, COPY@15 source-stage-ran",
			check: func(t *testing.T, rs map[int]*Reason) {
				r := rs[10]
				if r.FilesChanged != 2 || r.Files[0] != (FileChange{Path: "src/a.go", Change: FileModified, Size: 2}) ||
					r.Files[1].Path != "src/c.go" || r.Files[1].Change != FileAdded {
					t.Errorf("files: %+v", r)
				}
				if rs[12].Step == nil || rs[12].Step.Line != 10 {
					t.Errorf("parent-ran points at %+v, want line 10", rs[12].Step)
				}
				if rs[15].Stage != "builder" {
					t.Errorf("source stage %q", rs[15].Stage)
				}
				if got := rs[10].String(); got != "files-changed: src/a.go modified, src/c.go added" {
					t.Errorf("String: %q", got)
				}
			}},
		{name: "build arg", prev: &base,
			cur:  whyBuild{src: whyDockerfile, files: whyFiles, args: map[string]string{"VERSION": "1.2"}, ran: map[int]bool{12: true, 15: true}},
			want: "RUN@12 build-arg-changed, COPY@15 source-stage-ran",
			check: func(t *testing.T, rs map[int]*Reason) {
				a := rs[12].Args
				if len(a) != 1 || a[0].Name != "VERSION" || *a[0].Old != "dev" || *a[0].New != "1.2" {
					t.Errorf("args %+v", a)
				}
			}},
		{name: "instruction edited", prev: &base,
			cur:  whyBuild{src: strings.Replace(whyDockerfile, "RUN build", "RUN build -v", 1), files: whyFiles, ran: map[int]bool{12: true, 15: true}},
			want: "RUN@12 instruction-changed, COPY@15 source-stage-ran",
			check: func(t *testing.T, rs map[int]*Reason) {
				if r := rs[12]; r.Old != "RUN build $VERSION" || r.New != "RUN build -v $VERSION" || r.Line != 12 {
					t.Errorf("%+v", r)
				}
			}},
		{name: "env before a run", prev: &base,
			cur:  whyBuild{src: strings.Replace(whyDockerfile, "CGO=0", "CGO=1", 1), files: whyFiles, ran: map[int]bool{12: true, 15: true}},
			want: "RUN@12 instruction-changed, COPY@15 source-stage-ran",
			check: func(t *testing.T, rs map[int]*Reason) {
				if r := rs[12]; r.Line != 11 || r.Old != "ENV CGO=0" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "base changed", prev: &base,
			cur:  whyBuild{src: whyDockerfile, files: whyFiles, args: map[string]string{"BASE": "debian"}, all: true},
			want: "WORKDIR@3 base-changed, COPY@4 parent-ran, RUN@5 parent-ran, COPY@10 base-changed, RUN@12 parent-ran, COPY@15 source-stage-ran",
			check: func(t *testing.T, rs map[int]*Reason) {
				if b := rs[3].Base; b == nil || b.Old != "image:docker.io/library/alpine:latest" || b.New != "image:docker.io/library/debian:latest" {
					t.Errorf("%+v", rs[3])
				}
				if rs[10].Stage != "deps" {
					t.Errorf("%+v", rs[10])
				}
			}},
		{name: "evicted", prev: &base, cur: whyBuild{src: whyDockerfile, files: whyFiles, all: true},
			want: "WORKDIR@3 cache-evicted, COPY@4 parent-ran, RUN@5 parent-ran, COPY@10 base-changed, RUN@12 parent-ran, COPY@15 source-stage-ran"},
		{name: "secret-like arg hides", prev: &base, cur: whyBuild{src: whyDockerfile, files: whyFiles, args: map[string]string{"TOKEN": "x"}, ran: map[int]bool{12: true}},
			want: "RUN@12 unknown",
			check: func(t *testing.T, rs map[int]*Reason) {
				if !strings.Contains(rs[12].Note, "TOKEN") || strings.Contains(rs[12].String(), "\"x\"") {
					t.Errorf("%+v", rs[12])
				}
			}},
		{name: "failed last time", prev: &whyBuild{src: whyDockerfile, files: whyFiles, ran: map[int]bool{3: true, 4: true, 5: true, 10: true}},
			cur:  whyBuild{src: whyDockerfile, files: whyFiles, ran: map[int]bool{12: true, 15: true}},
			want: "RUN@12 first-build, COPY@15 source-stage-ran"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prev []WhyStep
			if tt.prev != nil {
				prev = tt.prev.steps(t)
			}
			cur := tt.cur.steps(t)
			rs := Reasons(prev, tt.prev != nil, cur, tt.noCache)
			if got := kinds(cur, rs); got != tt.want {
				t.Errorf("reasons\n got %s\nwant %s", got, tt.want)
			}
			byLine := map[int]*Reason{}
			for i, r := range rs {
				byLine[cur[i].Facts.Line] = r
			}
			if tt.check != nil {
				tt.check(t, byLine)
			}
			// Predicting the same build gives the same reasons, but for an
			// eviction, which cannot be foreseen.
			if tt.name == "evicted" || tt.name == "secret-like arg hides" {
				if p := kinds(cur, Predict(prev, tt.prev != nil, cur, tt.noCache)); p != "" {
					t.Errorf("prediction claims %s", p)
				}
				return
			}
			if p := kinds(cur, Predict(prev, tt.prev != nil, cur, tt.noCache)); p != tt.want {
				t.Errorf("prediction\n got %s\nwant %s", p, tt.want)
			}
		})
	}
}

func TestFactsReads(t *testing.T) {
	g := mustParse(t, `FROM alpine
COPY a.txt /x
COPY --from=alpine /etc/passwd /p
ADD https://example.com/f /f
ADD dir/ ./d/
RUN --mount=type=bind,source=ctx,target=/c --mount=type=cache,target=/root/.cache true
RUN --mount=type=bind,target=/all true
COPY . .
`, Options{})
	facts, err := g.Facts("", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range facts[0].Steps {
		got = append(got, strings.Join(f.Reads, "+")+"|"+strings.Join(f.Sources, "+"))
	}
	want := "a.txt|,|image:docker.io/library/alpine:latest,|,dir|,ctx|,.|,.|"
	if strings.Join(got, ",") != want {
		t.Errorf("reads\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}

func TestFactsArgsAndConfig(t *testing.T) {
	g := mustParse(t, `ARG GLOBAL=g
FROM alpine
ARG GLOBAL
ARG A=1
ENV E=1
USER app
COPY $A /a
COPY x /x
RUN true
`, Options{})
	facts, err := g.Facts("", map[string]string{"A": "2"})
	if err != nil {
		t.Fatal(err)
	}
	s := facts[0].Steps
	if len(s[0].Args) != 1 || s[0].Args["A"] != "2" || len(s[0].Config) != 0 {
		t.Errorf("COPY $A: %+v", s[0])
	}
	if len(s[1].Args) != 0 {
		t.Errorf("COPY x sees %v", s[1].Args)
	}
	if s[2].Args["GLOBAL"] != "g" || s[2].Args["A"] != "2" || len(s[2].Config) != 2 {
		t.Errorf("RUN: %+v", s[2])
	}
}

// A step that downloads, or copies from a folder given as a named context,
// ran with nothing else changed: unknown, not evicted.
func TestReasonsUnseenInputs(t *testing.T) {
	src := "FROM alpine\nADD https://example.com/f /f\nCOPY --from=vendor / /v\n"
	opts := Options{Contexts: map[string]string{"vendor": "/src/vendor"}}
	g := mustParse(t, src, opts)
	facts, err := g.Facts("", nil)
	if err != nil {
		t.Fatal(err)
	}
	var steps []WhyStep
	for _, f := range facts[0].Steps {
		steps = append(steps, WhyStep{Stage: facts[0].Name, Text: f.Instruction, Ran: true, Facts: f})
	}
	cur := []WhyStep{steps[0], {Stage: steps[1].Stage, Text: steps[1].Text, Ran: true, Facts: steps[1].Facts}}
	cur[0].Ran = true
	rs := Reasons(steps, true, []WhyStep{cur[0]}, false)
	if rs[0].Kind != ReasonUnknown || !strings.Contains(rs[0].Note, "https://example.com/f") {
		t.Errorf("ADD: %+v", rs[0])
	}
	rs = Reasons(steps, true, []WhyStep{cur[1]}, false)
	if rs[0].Kind != ReasonUnknown || !strings.Contains(rs[0].Note, "/src/vendor") {
		t.Errorf("COPY --from a folder: %+v (facts %+v)", rs[0], cur[1].Facts)
	}
}

// An ENV at the end of a base stage runs none of its steps, but changes
// what a RUN of a stage built FROM it runs with.
func TestReasonsInheritedConfig(t *testing.T) {
	src := "FROM alpine AS base\nRUN true\nENV MODE=a\nFROM base\nRUN make\n"
	build := func(src string, ran bool) []WhyStep {
		g := mustParse(t, src, Options{})
		facts, err := g.Facts("", nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []WhyStep
		for _, sf := range facts {
			for _, f := range sf.Steps {
				out = append(out, WhyStep{Stage: sf.Name, Text: f.Instruction, Ran: ran && f.Instruction == "RUN make", Facts: f})
			}
		}
		return out
	}
	prev := build(src, false)
	for i := range prev {
		prev[i].Ran = true
	}
	cur := build(strings.Replace(src, "MODE=a", "MODE=b", 1), true)
	rs := Reasons(prev, true, cur, false)
	if r := rs[1]; r == nil || r.Kind != ReasonInstructionChanged || r.Line != 3 || r.New != "ENV MODE=b" {
		t.Errorf("RUN make: %+v", r)
	}
}

func TestMentions(t *testing.T) {
	for _, tt := range []struct {
		text, name string
		want       bool
	}{
		{"COPY $A /a", "A", true}, {"COPY ${A} /a", "A", true}, {"COPY ${A:-x} /a", "A", true},
		{"COPY $AB /a", "A", false}, {"COPY A /a", "A", false}, {"COPY $B$A", "A", true}, {"COPY $", "A", false},
	} {
		if got := mentions(tt.text, tt.name); got != tt.want {
			t.Errorf("mentions(%q, %q) = %v", tt.text, tt.name, got)
		}
	}
}

// FuzzWhy checks that no Dockerfile makes Facts, Reasons or Predict panic,
// that a build compared with itself where every step ran says each ran
// because the cache lost it (first step of a stage) or an earlier step ran,
// and that nothing is predicted for it. The seeds are FuzzParse's.
func FuzzWhy(f *testing.F) {
	f.Add([]byte(whyDockerfile), "V=1")
	f.Add([]byte("FROM scratch AS a\nFROM a\nCOPY --from=a /x /x\n"), "")
	f.Add([]byte("FROM alpine\nARG A\nENV B=$A\nWORKDIR /w\nRUN --mount=type=bind,source=x,target=/x true\nADD https://e/f /f\n"), "A=2")
	f.Fuzz(func(t *testing.T, dockerfile []byte, buildArg string) {
		opts := Options{Platform: "linux/amd64", BuildPlatform: "linux/amd64", BuildArgs: map[string]string{},
			Contexts: map[string]string{"a": "local:a", "alpine": "docker-image://alpine"}}
		if k, v, ok := strings.Cut(buildArg, "="); ok {
			opts.BuildArgs[k] = v
		}
		g, err := Parse(dockerfile, opts)
		if err != nil {
			return
		}
		facts, err := g.Facts("", opts.BuildArgs)
		if err != nil {
			return
		}
		var steps []WhyStep
		for _, sf := range facts {
			for _, f := range sf.Steps {
				steps = append(steps, WhyStep{Stage: sf.Name, Text: f.Instruction, Ran: true, Facts: f})
			}
		}
		for i, r := range Reasons(steps, true, steps, false) {
			if r == nil {
				t.Fatalf("step %d ran without a reason", i)
			}
			switch r.Kind {
			case ReasonCacheEvicted, ReasonParentRan, ReasonBaseChanged, ReasonSourceStageRan, ReasonUnknown:
			default:
				t.Fatalf("step %d (%s) compared with itself: %s", i, steps[i].Text, r)
			}
			_ = r.String()
			_ = r.Short()
		}
		for i, r := range Predict(steps, true, steps, false) {
			if r != nil && r.Kind != ReasonBaseChanged {
				t.Fatalf("predicted for step %d compared with itself: %s", i, r)
			}
		}
	})
}

// The reasons, once known, are written as step events again, each with
// its "why", after the build's own events; steps without one are not.
func TestJSONProgressWhy(t *testing.T) {
	g, ss := load(t, recorded{"hello-builder", "builder", "golang"})
	p := NewProgress(g)
	var out bytes.Buffer
	j := NewJSONProgress(&out)
	for _, s := range ss {
		p.Apply(s)
		if err := j.Update(p, s); err != nil {
			t.Fatal(err)
		}
	}
	var run *Step
	for _, s := range p.Steps() {
		if strings.HasPrefix(s.Text, "RUN ") {
			run = s
		}
	}
	if run == nil {
		t.Fatal("no RUN step")
	}
	r := &Reason{Kind: ReasonInstructionChanged, Line: 5, Old: "RUN go build", New: run.Text}
	if !p.SetWhy(run.Vertex, r) || p.SetWhy("sha256:unknown", r) {
		t.Fatal("SetWhy")
	}
	before := out.Len()
	if err := j.Why(p, map[digest.Digest]*Reason{run.Vertex: r}); err != nil {
		t.Fatal(err)
	}
	events := checkJSONLines(t, out.Bytes()[before:])
	if len(events) != 1 {
		t.Fatalf("%d events, want 1:\n%s", len(events), out.Bytes()[before:])
	}
	why, _ := events[0]["why"].(map[string]any)
	if events[0]["type"] != "step" || events[0]["vertex"] != run.Vertex.String() || why["kind"] != "instruction-changed" || why["old"] != "RUN go build" {
		t.Errorf("event %v", events[0])
	}
}
