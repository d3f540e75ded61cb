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
	// The step model follows the first Dockerfile: hello-final's steps
	// (its builder's RUN go build) are not folded into single-stage's
	// stages.
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
	if len(hist.loaded) != 2 {
		t.Errorf("saved sizes loaded for %v, want each Dockerfile once", hist.loaded)
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
