package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/testengine"
)

var update = flag.Bool("update", false, "rewrite the golden files of the history command")

// TestMain gives the package's tests a state folder of their own: every
// build is recorded, and the tests' builds are not the user's.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stagescope-test-state-")
	if err == nil {
		os.Setenv("XDG_STATE_HOME", dir)
	}
	code := m.Run()
	if err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

var h0 = time.Date(2026, 11, 27, 7, 22, 30, 0, time.UTC)

// historyFixture fills a fresh state folder with three records and
// returns the environment that points stagescope at it.
func historyFixture(t *testing.T) map[string]string {
	t.Helper()
	saved := displayZone
	displayZone = time.UTC
	t.Cleanup(func() { displayZone = saved })
	state := t.TempDir()
	store := history.Open(filepath.Join(state, "stagescope", history.FileName))
	step := func(d, stage string, idx int, line int, text string, start, took float64, state string, inputs ...string) history.Step {
		s := history.Step{Vertex: d, Inputs: inputs, Stage: idx, StageName: stage, Line: line, Name: text, Text: text,
			Started: h0.Add(time.Duration(start * float64(time.Second))), State: state, Cached: state == "cached"}
		if idx >= 0 {
			s.Name = "[" + stage + "] " + text
		}
		s.Completed = s.Started.Add(time.Duration(took * float64(time.Second)))
		return s
	}
	builder := &history.Record{
		ID: "3f2a9c1e0b7d44aa9e0c1d2e3f405162", Time: h0, Finished: h0.Add(9 * time.Second),
		Engine:     history.Engine{Kind: "buildkitd", Address: "unix:///run/buildkit/buildkitd.sock", Version: "v0.34.2"},
		Dockerfile: "/src/app/Dockerfile", DockerfileDigest: "sha256:9b1f0c7e",
		Target: "builder", Platform: "linux/amd64",
		BuildArgs: map[string]string{"GOOS": "linux", "NPM_TOKEN": "never-stored"},
		Contexts:  map[string]string{"golang": "/bases/golang"}, Secrets: []string{"tok"},
		Outcome: history.Succeeded, Image: "stagescope/app:builder", Duration: 8500 * time.Millisecond,
		StepsCached: 1, StepsTotal: 3,
		Steps: []history.Step{
			step("sha256:aa01", "", -1, 0, "[internal] load build definition from Dockerfile", 0, 0.1, "done"),
			step("sha256:aa02", "builder", 0, 3, "WORKDIR /app", 0.2, 0, "cached", "sha256:ff00"),
			step("sha256:aa03", "builder", 0, 4, "COPY hellodocker.go .", 0.3, 0.1, "done", "sha256:aa02", "sha256:cc00"),
			step("sha256:aa04", "builder", 0, 5, "RUN go build -o hello hellodocker.go", 0.5, 7.9, "done", "sha256:aa03"),
		},
		Size: &buildgraph.ImageSize{Uncompressed: 283_400_000, Compressed: 98_200_000, Layers: []buildgraph.Layer{
			{CreatedBy: "golang toolchain", Size: 274_000_000, Base: true, Stage: -1},
			{CreatedBy: "WORKDIR /app # buildkit", Empty: true, Stage: 0, StageName: "builder", Line: 3, Instruction: "WORKDIR /app"},
			{CreatedBy: "COPY hellodocker.go . # buildkit", Size: 1_200, Stage: 0, StageName: "builder", Line: 4, Instruction: "COPY hellodocker.go ."},
			{CreatedBy: "RUN /bin/sh -c go build # buildkit", Size: 9_398_800, Stage: 0, StageName: "builder", Line: 5, Instruction: "RUN go build -o hello hellodocker.go"},
		}},
	}
	failed := &history.Record{
		ID: "3f2b00d4c8e14f0e8a7b6c5d4e3f2a10", Time: h0.Add(time.Hour), Finished: h0.Add(time.Hour + 2*time.Second),
		Engine:     history.Engine{Kind: "docker", Address: "unix:///var/run/docker.sock", Version: "20.10.24"},
		Dockerfile: "/src/app/Dockerfile", Target: "stage-1", Outcome: history.Failed,
		Error: "build failed at [stage-1 2/2] COPY --from=builder /app/hello .", Duration: 2 * time.Second, StepsTotal: 2,
		Steps: []history.Step{
			step("sha256:bb01", "stage-1", 1, 9, "WORKDIR /app", 0, 0.1, "done"),
			func() history.Step {
				s := step("sha256:bb02", "stage-1", 1, 10, "COPY --from=builder /app/hello .", 0.1, 0.2, "error", "sha256:bb01")
				s.Error = "failed to compute cache key: \"/app/hello\": not found"
				return s
			}(),
		},
	}
	other := &history.Record{
		ID: "81b0e4aa00000000000000000000000f", Time: h0.Add(-24 * time.Hour),
		Engine: history.Engine{Kind: "buildkitd"}, Dockerfile: "/src/other/Dockerfile", Target: "final",
		Outcome: history.Succeeded, Migrated: true, Steps: []history.Step{},
		Size: &buildgraph.ImageSize{Uncompressed: 2_400_000, Compressed: 1_150_000, Layers: []buildgraph.Layer{}},
	}
	if err := store.Record([]*history.Record{builder, failed, other}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"XDG_STATE_HOME": state}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "history", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func TestHistoryGolden(t *testing.T) {
	env := historyFixture(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"list", []string{"history"}},
		{"list-filtered", []string{"history", "-f", "/src/app/Dockerfile", "--target", "BUILDER"}},
		{"list-json", []string{"history", "--format", "json"}},
		{"show", []string{"history", "show", "3f2a9"}},
		{"show-failed", []string{"history", "show", "3f2b"}},
		{"show-migrated", []string{"history", "show", "81b0e4aa00000000000000000000000f"}},
		{"show-json", []string{"history", "show", "3f2a9c", "--format", "json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := stagescope(t, env, tt.args...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			golden(t, tt.name, stdout)
			if strings.Contains(stdout, "never-stored") {
				t.Error("a secret-like build argument's value is shown")
			}
			if strings.HasSuffix(tt.name, "json") {
				var v struct {
					SchemaVersion int `json:"schemaVersion"`
				}
				if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.SchemaVersion != history.SchemaVersion {
					t.Errorf("not JSON with a schemaVersion: %v", err)
				}
			}
		})
	}
}

// An unknown or ambiguous id prefix is one sentence, with the candidates
// of an ambiguous one, and exit code 2.
func TestHistoryBadID(t *testing.T) {
	env := historyFixture(t)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"history", "show", "3f2"}, []string{`"3f2" names 2 build records`, "3f2a9c1e0b7d", "3f2b00d4c8e1"}},
		{[]string{"history", "show", "deadbeef"}, []string{`no build record has an id starting with "deadbeef"`}},
		{[]string{"history", "prune", "3f"}, []string{`"3f" names 2 build records`}},
		{[]string{"history", "show"}, []string{"takes one record id"}},
		{[]string{"history", "prune"}, []string{"needs a selection"}},
		{[]string{"history", "prune", "--older-than", "soon"}, []string{"--older-than"}},
		{[]string{"history", "--format", "yaml"}, []string{"--format"}},
		{[]string{"history", "shwo"}, []string{`did you mean "show"`}},
		{[]string{"history", "list"}, []string{"not a history command"}},
	} {
		code, stdout, stderr := stagescope(t, env, tt.args...)
		if code != exitBadInput || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, code, stdout, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not say %q", tt.args, stderr, w)
			}
		}
	}
}

func TestHistoryPrune(t *testing.T) {
	env := historyFixture(t)
	code, stdout, stderr := stagescope(t, env, "history", "prune", "3f2b", "81b0")
	if code != exitOK || stdout != "Deleted 2 build records.\n" {
		t.Fatalf("exit %d, %q %q", code, stdout, stderr)
	}
	_, stdout, _ = stagescope(t, env, "history", "--format", "json")
	var list struct {
		Records []history.Summary `json:"records"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list.Records) != 1 || list.Records[0].Target != "builder" {
		t.Errorf("left %+v (%v)", list.Records, err)
	}
	code, stdout, _ = stagescope(t, env, "history", "prune", "--all", "--target", "builder")
	if code != exitOK || stdout != "Deleted 1 build record.\n" {
		t.Errorf("exit %d, %q", code, stdout)
	}
	_, stdout, _ = stagescope(t, env, "history")
	if stdout != "No build records.\n" {
		t.Errorf("empty list %q", stdout)
	}
}

// A store stagescope cannot use: history says so in one sentence naming
// the file, and leaves it as it was.
func TestHistoryUnusableStore(t *testing.T) {
	state := t.TempDir()
	path := filepath.Join(state, "stagescope", history.FileName)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("garbage ", 2000))
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := stagescope(t, map[string]string{"XDG_STATE_HOME": state}, "history")
	if code != exitFailed || !strings.Contains(stderr, path) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if data, _ := os.ReadFile(path); string(data) != string(garbage) {
		t.Error("the store was changed")
	}
	code, _, stderr = stagescope(t, map[string]string{"XDG_STATE_HOME": state, history.KeepEnv: "none"}, "history")
	if code != exitBadInput || !strings.Contains(stderr, history.KeepEnv) {
		t.Errorf("bad %s: exit %d, %q", history.KeepEnv, code, stderr)
	}
}

// Two builds with stagescope build on a real buildkitd are two records
// that history lists, newest first, with their steps; a store stagescope
// cannot use lets the build run, says so once and is left as it was.
func TestBuildRecordsOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	state := t.TempDir()
	env := map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t), "XDG_STATE_HOME": state}
	golang := "golang=" + testengine.OCIBase(t, "golang")
	for _, target := range []string{"builder", "builder"} {
		code, _, stderr := stagescope(t, env, "build", example("hello-multistage"), "--build-context", golang, "--progress", "quiet", "--target", target,
			"--build-arg", "API_TOKEN=never-stored")
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if strings.Contains(stderr, "not recorded") {
			t.Fatalf("not recorded: %s", stderr)
		}
	}
	code, stdout, stderr := stagescope(t, env, "history", "--format", "json", "-f", example("hello-multistage"))
	if code != exitOK {
		t.Fatalf("history: exit %d %s", code, stderr)
	}
	var list struct {
		Records []history.Summary `json:"records"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Records) != 2 || !list.Records[0].Time.After(list.Records[1].Time) || list.Records[0].Engine != "buildkitd" ||
		list.Records[0].Target != "builder" || list.Records[0].Outcome != history.Succeeded || list.Records[0].StepsTotal == 0 {
		t.Fatalf("records %+v", list.Records)
	}
	code, stdout, _ = stagescope(t, env, "history", "show", list.Records[0].ID[:8], "--format", "json")
	var shown struct {
		Record history.Record `json:"record"`
	}
	if err := json.Unmarshal([]byte(stdout), &shown); code != exitOK || err != nil {
		t.Fatalf("show: exit %d %v", code, err)
	}
	r := shown.Record
	if r.Engine.Address == "" || r.Engine.Version == "" || !strings.HasPrefix(r.DockerfileDigest, "sha256:") || r.BuildArgs["API_TOKEN"] != history.Redacted {
		t.Errorf("record %+v", r)
	}
	withInputs, run := 0, false
	for _, s := range r.Steps {
		if len(s.Inputs) > 0 {
			withInputs++
		}
		if strings.HasPrefix(s.Text, "RUN go build") && s.Line == 5 && s.StageName == "builder" && !s.Started.IsZero() && !s.Completed.IsZero() {
			run = true
		}
	}
	if withInputs == 0 || !run {
		t.Errorf("steps without inputs or without the RUN: %+v", r.Steps)
	}
	data, _ := os.ReadFile(filepath.Join(state, "stagescope", history.FileName))
	if strings.Contains(string(data), "never-stored") {
		t.Error("a secret-like build argument's value is in the store")
	}

	// A store written by something else: the build runs, says once that
	// it was not recorded, and the file is unchanged.
	bad := t.TempDir()
	path := filepath.Join(bad, "stagescope", history.FileName)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("garbage ", 2000))
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	env["XDG_STATE_HOME"] = bad
	code, _, stderr = stagescope(t, env, "build", example("hello-multistage"), "--build-context", golang, "--progress", "quiet", "--target", "builder")
	if code != exitOK {
		t.Fatalf("build with an unusable store: exit %d %s", code, stderr)
	}
	if strings.Count(stderr, "not recorded") != 1 || !strings.Contains(stderr, path) {
		t.Errorf("stderr %q: want one sentence naming %s", stderr, path)
	}
	if data, _ := os.ReadFile(path); string(data) != string(garbage) {
		t.Error("the unusable store was changed")
	}
}
