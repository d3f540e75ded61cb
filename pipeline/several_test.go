package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/fakes"
)

// LoadAll: one Dockerfile as Load makes it; a folder of examples in name
// order, each its own context; folders and -f files in the order given;
// names that two files would share are their paths.
func TestLoadAll(t *testing.T) {
	root := t.TempDir()
	for path, df := range map[string]string{
		"ex/b/Dockerfile":       "FROM scratch AS builder\nFROM scratch\n",
		"ex/a/Dockerfile":       "FROM scratch\n",
		"ex/a/Dockerfile.build": "FROM scratch AS build\n",
		"other/a/Dockerfile":    "FROM scratch\n",
		"ex/.hidden/Dockerfile": "FROM scratch\n",
		"ex/notes/README":       "no Dockerfile\n",
		"single/Dockerfile":     "FROM scratch\n",
		"single/sub/Dockerfile": "FROM scratch\n",
		"empty/sub/README":      "none\n",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(df), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	names := func(ps []*Project) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name+"="+strings.TrimPrefix(p.Base.ContextDir, root))
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		name        string
		dirs, files []string
		want        string
	}{
		{"one folder with a Dockerfile", []string{at("single")}, nil, "=/single"},
		{"a folder of examples", []string{at("ex")}, nil, "a=/ex/a b=/ex/b"},
		{"folders in order", []string{at("ex", "b"), at("ex", "a")}, nil, "b=/ex/b a=/ex/a"},
		{"-f in order with one context", []string{at("ex")}, []string{at("ex", "b", "Dockerfile"), at("ex", "a", "Dockerfile.build")}, "b=/ex a/Dockerfile.build=/ex"},
		{"names two share", []string{at("ex", "a"), at("other", "a")}, nil, "" + at("ex", "a", "Dockerfile") + "=/ex/a " + at("other", "a", "Dockerfile") + "=/other/a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := LoadAll(Input{}, tt.dirs, tt.files)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(ps); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		name        string
		dirs, files []string
		want        string
	}{
		{"no Dockerfiles", []string{at("empty")}, nil, "has no Dockerfile, and none of its subfolders has one"},
		{"twice", []string{at("ex", "a"), at("ex", "b", "..", "a")}, nil, "is given twice"},
		{"-f with several folders", []string{at("ex", "a"), at("ex", "b")}, []string{at("ex", "a", "Dockerfile")}, "-f goes with one CONTEXT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadAll(Input{}, tt.dirs, tt.files)
			if _, ok := err.(*InputError); !ok || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v, want an input error with %q", err, tt.want)
			}
		})
	}
}

// A run of plans of several Dockerfiles: each result and record names its
// own Dockerfile, previous sizes are looked up per Dockerfile, and what a
// target leaves behind is counted within its own Dockerfile.
func TestRunSeveralDockerfiles(t *testing.T) {
	single, hello := recorded(t, "single-stage", "busybox"), recorded(t, "hello-final", "golang")
	single.Name, hello.Name = "single-stage", "hello-final"
	sess := helloSession(t)
	sess.Streams["single-stage:"] = fakes.Stream(t, "single-stage")
	sess.Sizes["stagescope/single-stage:stage-0"] = &buildgraph.ImageSize{Uncompressed: 5_000_000, Layers: []buildgraph.Layer{{CreatedBy: "busybox", Size: 5_000_000}}}
	hist := &perFile{saved: map[string]map[string]buildgraph.SavedSize{
		hello.Dockerfile: {"buildkitd/builder": {Uncompressed: 1}},
	}}
	ps := append(plans(t, single, ""), plans(t, hello, "builder", "")...)
	if ps[0].Request.Tags[0] != "stagescope/single-stage:stage-0" || ps[1].Label() != "hello-final:builder" {
		t.Fatalf("tag %q, label %q", ps[0].Request.Tags[0], ps[1].Label())
	}
	r := Start(context.Background(), sess, single, ps, Options{Measure: true, History: hist, Now: func() time.Time { return t0 }})
	follow(t, r)
	if err := r.Outcome.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, res := range r.Outcome.Results {
		got = append(got, res.Label()+"@"+filepath.Base(filepath.Dir(res.File)))
	}
	if strings.Join(got, " ") != "single-stage:stage-0@single-stage hello-final:builder@hello-final hello-final:stage-1@hello-final" {
		t.Errorf("results %v", got)
	}
	res := r.Outcome.Results
	if res[0].Previous != nil || res[1].Previous == nil || res[1].Previous.Uncompressed != 1 {
		t.Errorf("previous sizes are per Dockerfile: %+v, %+v", res[0].Previous, res[1].Previous)
	}
	if lb := res[2].Breakdown.LeftBehind; len(lb) != 1 || lb[0].Bytes != 283_400_000 {
		t.Errorf("hello-final:stage-1 leaves behind %+v", lb)
	}
	for i, rec := range r.Outcome.Records {
		want := []string{single.Dockerfile, hello.Dockerfile, hello.Dockerfile}[i]
		if rec.Dockerfile != want || !strings.HasPrefix(rec.DockerfileDigest, "sha256:") {
			t.Errorf("record %d: %s, want %s", i, rec.Dockerfile, want)
		}
	}
	// Progress is the first Dockerfile's model: hello-final's steps (its
	// builder's RUN go build) are not folded into single-stage's stages;
	// they are in hello-final's own.
	if r.Project != single || !r.Follows(0) || r.Follows(1) {
		t.Errorf("the run follows %v", r.Project)
	}
	for _, st := range r.Progress.Steps() {
		if strings.Contains(st.Text, "go build") {
			t.Errorf("a step of hello-final in the first file's model: %q in stage %d", st.Text, st.Stage)
		}
	}
	if n := len(r.Progress.Stages); n != len(single.Graph.Stages) {
		t.Errorf("%d stages in the model", n)
	}
	if len(r.Progresses) != 2 || r.Progresses[0] != r.Progress || r.ProgressOf(hello) != r.Progresses[1] || r.ProgressOfPlan(2) != r.Progresses[1] {
		t.Fatalf("%d step models", len(r.Progresses))
	}
	if n := len(r.ProgressOf(hello).Stages); n != len(hello.Graph.Stages) {
		t.Errorf("%d stages in hello-final's model", n)
	}
	if len(hist.loaded) != 2 {
		t.Errorf("saved sizes loaded for %v, want each Dockerfile once", hist.loaded)
	}
}

// Two Dockerfiles that both have a stage named builder, built in one run:
// each keeps a step model of its own, with only the steps of its own
// status streams, placed in its own stages; Progress stays the first's.
func TestRunSeveralDockerfilesKeepsEachModel(t *testing.T) {
	cross, hello := recorded(t, "crossplatform", "golang"), recorded(t, "hello-final", "golang")
	cross.Name, hello.Name = "crossplatform", "hello-final"
	sess := helloSession(t)
	sess.Streams["crossplatform:"] = fakes.Stream(t, "crossplatform")
	ps := append(plans(t, hello, "builder"), plans(t, cross, "")...)
	r := Start(context.Background(), sess, hello, ps, Options{Now: func() time.Time { return t0 }})
	follow(t, r)
	if err := r.Outcome.Err(); err != nil {
		t.Fatal(err)
	}
	if len(r.Projects) != 2 || r.Projects[0] != hello || r.Projects[1] != cross || r.Progress != r.ProgressOf(hello) {
		t.Fatalf("projects %v", r.Projects)
	}
	if !r.Follows(0) || r.Follows(1) || r.ProgressOfPlan(1) != r.ProgressOf(cross) {
		t.Errorf("plan 1 is folded into the wrong model")
	}
	// The steps of each model's builder, by text.
	builder := func(p *buildgraph.Progress) []string {
		var out []string
		for _, st := range p.Steps() {
			if st.Stage == 0 {
				out = append(out, st.Text)
			}
		}
		return out
	}
	own := map[*Project]string{hello: "hellodocker.go", cross: "-trimpath"}
	other := map[*Project]string{hello: "hello.go .", cross: "hellodocker.go"}
	for _, p := range []*Project{hello, cross} {
		m := r.ProgressOf(p)
		if len(m.Stages) != len(p.Graph.Stages) || m.Stages[0].Name != "builder" {
			t.Fatalf("%s: stages %d", p.Name, len(m.Stages))
		}
		steps := strings.Join(builder(m), " | ")
		if !strings.Contains(steps, own[p]) || strings.Contains(steps, other[p]) {
			t.Errorf("%s's builder has %s", p.Name, steps)
		}
		for _, st := range m.Steps() {
			if strings.Contains(st.Text, other[p]) {
				t.Errorf("%s's model has %q of the other Dockerfile", p.Name, st.Text)
			}
		}
	}
	if _, done, total := r.ProgressOf(cross).Counts(); total == 0 || done != total {
		t.Errorf("crossplatform: %d of %d steps", done, total)
	}
}

// perFile is a History that keeps saved sizes per Dockerfile.
type perFile struct {
	fakes.History
	saved  map[string]map[string]buildgraph.SavedSize
	loaded []string
}

func (h *perFile) Load(file string) (map[string]buildgraph.SavedSize, error) {
	h.loaded = append(h.loaded, file)
	return h.saved[file], nil
}
