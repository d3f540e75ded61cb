package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/testengine"
)

// whyDockerfile is built again and again with edits in between; NONCE keeps
// its steps its own.
const whyDockerfile = `FROM busybox AS build
WORKDIR /w
RUN echo NONCE > /nonce
COPY go.mod ./
ARG V=1
COPY src/ ./src/
RUN cat src/* > out && echo $V >> out
RUN --mount=type=secret,id=tok test -s /run/secrets/tok && echo secret-was-there

FROM busybox
COPY --from=build /w/out /out
`

// whyStep is a step event of --progress json, or a step of graph --why.
type whyStep struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	State string          `json:"state"`
	Why   json.RawMessage `json:"why"`
}

type whyReason struct {
	Kind  string `json:"kind"`
	Maybe bool   `json:"maybe"`
	Old   string `json:"old"`
	New   string `json:"new"`
	Args  []struct {
		Name string  `json:"name"`
		Old  *string `json:"old"`
		New  *string `json:"new"`
	} `json:"args"`
	Files []struct {
		Path   string `json:"path"`
		Change string `json:"change"`
	} `json:"files"`
}

func kindsOf(m map[string]whyReason) string {
	var out []string
	for text, r := range m {
		out = append(out, text+" → "+r.Kind)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// whyEngine is a private engine: its cache is pruned without touching
// other tests' builds.
type whyEngine struct {
	env   map[string]string
	base  string // the busybox named context
	prune func(t *testing.T)
}

// A sequence of edits and rebuilds on each engine: every step that ran says
// why, exactly as graph --why predicted before the build (but for the cache
// the engine lost, which cannot be foreseen).
func TestWhyEditsAndRebuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	t.Run("buildkitd", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "buildkitd.sock")
		d := testengine.StartBuildkitd(t, "unix://"+sock)
		buildctl := testengine.Buildctl(t)
		deadline := time.Now().Add(60 * time.Second)
		for exec.Command(buildctl, "--addr", d.Addr, "debug", "workers").Run() != nil {
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(d.Log)
				testengine.Unavailable(t, "private buildkitd did not answer:\n%s", log)
			}
			time.Sleep(200 * time.Millisecond)
		}
		whySequence(t, whyEngine{
			env:  map[string]string{"BUILDKIT_HOST": d.Addr, "DOCKER_HOST": ""},
			base: testengine.OCIBase(t, "busybox"),
			prune: func(t *testing.T) {
				if out, err := exec.Command(buildctl, "--addr", d.Addr, "prune", "--all").CombinedOutput(); err != nil {
					t.Fatalf("prune: %v\n%s", err, out)
				}
			},
		})
	})
	t.Run("docker", func(t *testing.T) {
		if raceDetector {
			// On Docker, BuildKit's Dockerfile frontend runs in this
			// process, and its resolve cache sets CacheError from every
			// goroutine that resolves a base (BuildKit v0.34.2,
			// frontend/dockerfile/builder/resolvecache.go:30): two stages
			// resolving at once stop the race pass, in BuildKit's code.
			// The normal pass runs this sequence on Docker; the race pass
			// runs it on the buildkitd above.
			t.Skip("BuildKit's in-process frontend writes its resolve cache from concurrent goroutines")
		}
		shared := testengine.Docker(t)
		image := testengine.DockerBase(t, "busybox")
		d := testengine.StartDockerd(t, "")
		ref := strings.TrimPrefix(image, "docker-image://")
		load := fmt.Sprintf("docker -H %q save %q | docker -H %q load", shared, ref, d.Addr)
		if out, err := exec.Command("sh", "-c", load).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", load, err, out)
		}
		whySequence(t, whyEngine{
			env:  map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": d.Addr},
			base: image,
			prune: func(t *testing.T) {
				if out, err := exec.Command("docker", "-H", d.Addr, "builder", "prune", "-af").CombinedOutput(); err != nil {
					t.Fatalf("prune: %v\n%s", err, out)
				}
			},
		})
	})
}

func whySequence(t *testing.T, e whyEngine) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nonce := fmt.Sprint(time.Now().UnixNano())
	dockerfile := strings.Replace(whyDockerfile, "NONCE", nonce, 1)
	write("Dockerfile", dockerfile)
	write(".dockerignore", "*.md\n")
	write("go.mod", "module why\n")
	write("src/a.txt", "a\n")
	write("src/b.txt", "b\n")
	write("notes.md", "ignored\n")
	write("other.txt", "read by no step\n")
	state := t.TempDir()
	env := map[string]string{"XDG_STATE_HOME": state, "WHY_TOKEN": "first-secret-1f2e3d"}
	for k, v := range e.env {
		env[k] = v
	}
	secrets := []string{"first-secret-1f2e3d", "second-secret-4c5b6a"}
	var produced strings.Builder

	const (
		workdir = "WORKDIR /w"
		echo    = "RUN echo "
		gomod   = "COPY go.mod ./"
		copySrc = "COPY src/ ./src/"
		cat     = "RUN cat src/* > out && echo $V >> out"
		mount   = "RUN --mount=type=secret,id=tok test -s /run/secrets/tok && echo secret-was-there"
		from    = "COPY --from=build /w/out /out"
	)
	// textOf names a step by the instruction it runs (BuildKit's text
	// expands build arguments in RUN's name; the prediction's does not).
	textOf := func(s string) string {
		for _, p := range []string{workdir, echo, gomod, copySrc, "RUN cat src/*", "RUN --mount", from} {
			if strings.HasPrefix(s, p) {
				return p
			}
		}
		return s
	}
	// graph takes no --secret: a secret's value is no input of a step.
	graphArgs := []string{"--build-context", "busybox=" + e.base}
	args := append(graphArgs[:len(graphArgs):len(graphArgs)], "--secret", "id=tok,env=WHY_TOKEN")
	round := func(name string, extra []string, want map[string]string) (map[string]whyReason, map[string]string) {
		t.Helper()
		// The prediction first.
		code, stdout, stderr := stagescope(t, env, append([]string{"graph", "--why", dir, "--format", "json"}, append(graphArgs, extra...)...)...)
		if code != 0 {
			t.Fatalf("%s: graph --why: exit %d\n%s", name, code, stderr)
		}
		produced.WriteString(stdout + stderr)
		var pred struct {
			Steps []whyStep `json:"steps"`
		}
		if err := json.Unmarshal([]byte(stdout), &pred); err != nil {
			t.Fatalf("%s: graph --why: %v\n%s", name, err, stdout)
		}
		predicted := map[string]whyReason{}
		for _, s := range pred.Steps {
			var r whyReason
			json.Unmarshal(s.Why, &r)
			predicted[textOf(s.Text)] = r
		}
		// Then the build.
		buildArgs := append([]string{"build", dir, "--progress", "json"}, append(args, extra...)...)
		code, stdout, stderr = stagescope(t, env, buildArgs...)
		if code != 0 {
			t.Fatalf("%s: build: exit %d\n%s\n%s", name, code, stderr, stdout)
		}
		produced.WriteString(stdout + stderr)
		got := map[string]whyReason{}
		states := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(stdout))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var s whyStep
			if json.Unmarshal(sc.Bytes(), &s) != nil || s.Type != "step" {
				continue
			}
			states[textOf(s.Text)] = s.State
			if len(s.Why) > 0 {
				var r whyReason
				json.Unmarshal(s.Why, &r)
				got[textOf(s.Text)] = r
			}
		}
		gotKinds := map[string]string{}
		for k, r := range got {
			gotKinds[k] = r.Kind
		}
		if fmt.Sprint(gotKinds) != fmt.Sprint(want) {
			t.Errorf("%s: the build says\n%s\nwant %v", name, kindsOf(got), want)
		}
		// Every reason of the build but an eviction was predicted, and
		// every prediction that is not a maybe came true.
		evicted := false
		for _, r := range got {
			evicted = evicted || r.Kind == "cache-evicted"
		}
		if evicted {
			// What follows an eviction cannot be foreseen either.
			if len(predicted) != 0 {
				t.Errorf("%s: predicted\n%s\nbefore an eviction", name, kindsOf(predicted))
			}
			return got, states
		}
		for text, r := range got {
			p, ok := predicted[text]
			if !ok || p.Kind != r.Kind {
				t.Errorf("%s: %s says %s; predicted %q", name, text, r.Kind, p.Kind)
			}
		}
		for text, p := range predicted {
			if _, ran := got[text]; !ran && !p.Maybe {
				t.Errorf("%s: predicted %s: %s, but it did not run (%s)", name, text, p.Kind, states[text])
			}
		}
		return got, states
	}

	all := func(kind string) map[string]string {
		return map[string]string{workdir: kind, echo: kind, gomod: kind, copySrc: kind, "RUN cat src/*": kind, "RUN --mount": kind, from: kind}
	}
	round("first build", nil, all("first-build"))
	round("nothing changed", nil, map[string]string{})

	write("src/a.txt", "a, edited\n")
	got, states := round("a source file edited", nil, map[string]string{copySrc: "files-changed", "RUN cat src/*": "parent-ran", "RUN --mount": "parent-ran", from: "source-stage-ran"})
	if f := got[copySrc].Files; len(f) != 1 || f[0].Path != "src/a.txt" || f[0].Change != "modified" {
		t.Errorf("files-changed names %+v, want src/a.txt modified", f)
	}
	for _, before := range []string{workdir, echo, gomod} {
		if states[before] != "cached" {
			t.Errorf("%s is %s after a source edit, want cached", before, states[before])
		}
	}

	write("notes.md", "ignored, edited\n")
	write("other.txt", "read by no step, edited\n")
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "src/b.txt"), later, later)
	round("an ignored file, an unread one edited, a source touched", nil, map[string]string{})

	got, _ = round("a build argument", []string{"--build-arg", "V=2"}, map[string]string{"RUN cat src/*": "build-arg-changed", "RUN --mount": "parent-ran", from: "source-stage-ran"})
	if a := got["RUN cat src/*"].Args; len(a) != 1 || a[0].Name != "V" || a[0].Old == nil || *a[0].Old != "1" || a[0].New == nil || *a[0].New != "2" {
		t.Errorf("build-arg-changed says %+v, want V 1 → 2", a)
	}

	env["WHY_TOKEN"] = secrets[1]
	round("a secret's value", []string{"--build-arg", "V=2"}, map[string]string{})

	edited := "RUN cat src/* > out && echo v$V >> out"
	write("Dockerfile", strings.Replace(dockerfile, cat, edited, 1))
	got, _ = round("a RUN line edited", []string{"--build-arg", "V=2"}, map[string]string{"RUN cat src/*": "instruction-changed", "RUN --mount": "parent-ran", from: "source-stage-ran"})
	if r := got["RUN cat src/*"]; r.Old != cat || r.New != edited {
		t.Errorf("instruction-changed says %q → %q", r.Old, r.New)
	}

	// --no-cache: every step that runs says so (Docker's BuildKit still
	// answers WORKDIR's directory from its cache).
	code, stdout, stderr := stagescope(t, env, append([]string{"build", dir, "--progress", "plain", "--no-cache", "--build-arg", "V=2"}, args...)...)
	if code != 0 {
		t.Fatalf("--no-cache: exit %d\n%s", code, stderr)
	}
	produced.WriteString(stdout + stderr)
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "why: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 6 {
		t.Errorf("--no-cache: %d why lines, want a line per step that ran:\n%s", len(lines), stderr)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, ": no-cache") {
			t.Errorf("--no-cache: %s", l)
		}
	}

	e.prune(t)
	round("the engine's cache pruned", []string{"--build-arg", "V=2"}, map[string]string{workdir: "cache-evicted", echo: "parent-ran", gomod: "parent-ran", copySrc: "parent-ran", "RUN cat src/*": "parent-ran", "RUN --mount": "parent-ran", from: "source-stage-ran"})

	// No secret's value anywhere: output, records.
	filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			data, _ := os.ReadFile(path)
			produced.Write(data)
		}
		return nil
	})
	for _, s := range secrets {
		if strings.Contains(produced.String(), s) {
			t.Errorf("the secret %s appears in stagescope's output or records", s)
		}
	}
	if !strings.Contains(produced.String(), "secret-was-there") {
		t.Error("the step never saw its secret")
	}
}

// graph --why with a format it has no form for, or a Dockerfile on
// standard input: one sentence, exit 2. Without a record: every step is a
// first build.
func TestGraphWhyInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY a /a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": "unix:///nonexistent.sock"}
	for _, args := range [][]string{
		{"graph", "--why", dir, "--format", "dot"},
		{"graph", "--why", "-f", "-"},
	} {
		code, stdout, stderr := stagescope(t, env, args...)
		if code != exitBadInput || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "--why") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	code, stdout, stderr := stagescope(t, env, "graph", "--why", dir)
	if code != 0 || !strings.Contains(stdout, "has no record") {
		t.Errorf("no record: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = stagescope(t, env, "graph", "--why", dir, "--format", "json")
	var out struct {
		Record *struct{} `json:"record"`
		Steps  []struct {
			Why whyReason `json:"why"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil || out.Record != nil || len(out.Steps) != 1 || out.Steps[0].Why.Kind != "first-build" {
		t.Errorf("json without a record: exit %d, %v\n%s", code, err, stdout)
	}
}

// BuildKit announces the steps of a build from the target down: the why:
// lines come in the Dockerfile's order all the same.
func TestWhyLinesInDockerfileOrder(t *testing.T) {
	g, err := buildgraph.Parse([]byte("FROM scratch\nCOPY a /a\nCOPY b /b\nCOPY c /c\n"), buildgraph.Options{SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	p := buildgraph.NewProgress(g)
	p.Apply(&client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: "sha256:c", Name: "[3/3] COPY c /c"},
		{Digest: "sha256:b", Name: "[2/3] COPY b /b"},
		{Digest: "sha256:a", Name: "[1/3] COPY a /a"},
	}})
	for _, d := range []string{"sha256:c", "sha256:b", "sha256:a"} {
		p.SetWhy(digest.Digest(d), &buildgraph.Reason{Kind: buildgraph.ReasonFirstBuild})
	}
	var out bytes.Buffer
	printWhy(&out, p)
	want := "why: [1/3] COPY a /a: first-build\nwhy: [2/3] COPY b /b: first-build\nwhy: [3/3] COPY c /c: first-build\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if strings.Count(out.String(), "why:") != 3 {
		t.Fatal("a step has no why: line")
	}
}
