package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// A build run with buildctl on the buildkitd appears in `history
// --engine`, and its timeline opens from the status stream the engine
// kept: two stages sleeping 3 s and 1 s side by side, the critical path
// through the 3-second one.
func TestEngineHistoryOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	addr := testengine.BuildKit(t)
	env := map[string]string{"BUILDKIT_HOST": addr, "XDG_STATE_HOME": t.TempDir()}
	busybox := testengine.Bases(t)["busybox"]
	dir := t.TempDir()
	df := "FROM busybox AS slow\nRUN sleep 3 && echo slow > /slow\n\n" +
		"FROM busybox AS fast\nRUN sleep 1 && echo fast > /fast\n\n" +
		"FROM busybox\nCOPY --from=slow /slow /\nCOPY --from=fast /fast /\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	refFile := filepath.Join(dir, "ref")
	cmd := exec.Command(testengine.Buildctl(t), "--addr", addr, "build", "--frontend", "dockerfile.v0",
		"--local", "context="+dir, "--local", "dockerfile="+dir, "--local", "busybox="+busybox,
		"--opt", "context:busybox=local:busybox", "--opt", "target=", "--no-cache",
		"--opt", "build-arg:API_TOKEN=never-shown", "--opt", "build-arg:NONCE="+strconv.FormatInt(time.Now().UnixNano(), 10),
		"--ref-file", refFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("buildctl: %v\n%s", err, out)
	}
	data, err := os.ReadFile(refFile)
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimSpace(string(data))

	code, stdout, stderr := stagescope(t, env, "history", "--engine", "--format", "json")
	var list struct {
		SchemaVersion int               `json:"schemaVersion"`
		Engine        map[string]string `json:"engine"`
		Builds        []engineBuildJSON `json:"builds"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != exitOK || err != nil {
		t.Fatalf("history --engine: exit %d %v %s", code, err, stderr)
	}
	var found *engineBuildJSON
	for i, b := range list.Builds {
		if b.Ref == ref {
			found = &list.Builds[i]
		}
	}
	if found == nil || list.Engine["kind"] != "buildkitd" {
		t.Fatalf("build %s not in the engine's history (%d builds, engine %v)", ref, len(list.Builds), list.Engine)
	}
	if found.Outcome != "succeeded" || found.Duration < 3*time.Second || found.StepsTotal == 0 {
		t.Errorf("build %+v", *found)
	}
	code, stdout, _ = stagescope(t, env, "history", "--engine", "--limit", "3")
	if code != exitOK || !strings.Contains(stdout, "REF") || strings.Count(stdout, "\n") != 5 {
		t.Errorf("table: exit %d\n%s", code, stdout)
	}

	code, stdout, stderr = stagescope(t, env, "history", "show", ref[:10], "--engine", "--timeline", "--format", "json")
	var tl timelineJSON
	if err := json.Unmarshal([]byte(stdout), &tl); code != exitOK || err != nil {
		t.Fatalf("show --engine --timeline: exit %d %v %s", code, err, stderr)
	}
	slowRun := false
	for _, s := range tl.CriticalPath {
		slowRun = slowRun || (s.StageName == "slow" && strings.HasPrefix(s.Text, "RUN sleep 3"))
		if strings.HasPrefix(s.Text, "RUN sleep 1") {
			t.Errorf("the 1-second step is on the critical path: %+v", s)
		}
	}
	if !slowRun || tl.ID != ref {
		t.Errorf("the critical path of %s does not run through RUN sleep 3: %+v", tl.ID, tl.CriticalPath)
	}
	for _, st := range tl.Stages {
		if want := slowSaving(t, tl); st.Name == "slow" && (!st.OnPath || math.Abs(st.SavesSeconds-want) > 0.3 || st.SavesSeconds < 1.3) {
			t.Errorf("the 3-second stage: %+v, want on the path, saving %.1f s (±0.3 s; 2 s on a quiet machine)", st, want)
		}
	}
	code, stdout, _ = stagescope(t, env, "history", "show", ref, "--engine", "--timeline", "--steps")
	if code != exitOK || !strings.Contains(stdout, "* slow") || !strings.Contains(stdout, "  fast") {
		t.Errorf("text timeline: exit %d\n%s", code, stdout)
	}
	t.Logf("\n%s", stdout)
	code, stdout, _ = stagescope(t, env, "history", "show", ref, "--engine")
	if code != exitOK || !strings.Contains(stdout, "RUN sleep 3") || strings.Contains(stdout, "never-shown") ||
		!strings.Contains(stdout, "API_TOKEN=<redacted>") {
		t.Errorf("show --engine: exit %d\n%s", code, stdout)
	}

	// An unknown reference and a misused flag: one sentence, exit 2.
	for _, args := range [][]string{
		{"history", "show", "zzzz-no-such-build", "--engine"},
		{"history", "--engine", "-f", dir},
	} {
		code, stdout, stderr = stagescope(t, env, args...)
		if code != exitBadInput || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q %q", args, code, stdout, stderr)
		}
	}
}

// Docker 20.10 keeps no build history: one sentence, exit 1.
func TestEngineHistoryOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	env := map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": testengine.Docker(t), "XDG_STATE_HOME": t.TempDir()}
	for _, args := range [][]string{{"history", "--engine"}, {"history", "show", "abc", "--engine", "--timeline"}} {
		code, stdout, stderr := stagescope(t, env, args...)
		if code == exitOK {
			t.Skipf("this Docker keeps a build history: %s", stdout)
		}
		if code != exitFailed || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "keeps no history of its builds") {
			t.Errorf("%v: exit %d, %q %q", args, code, stdout, stderr)
		}
		t.Logf("%s", stderr)
	}
}
