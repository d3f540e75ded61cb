package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/testengine"
)

// twoStagesRecord is a build of two independent stages, sleeping 3 s and
// 1 s, and a final stage copying from both.
func twoStagesRecord() *history.Record {
	at := func(s float64) time.Time { return h0.Add(time.Duration(s * float64(time.Second))) }
	step := func(d string, stage int, name string, line int, text string, start, end float64, inputs ...string) history.Step {
		s := history.Step{Vertex: d, Inputs: inputs, Stage: stage, StageName: name, Line: line, Name: text, Text: text,
			Started: at(start), Completed: at(end), State: "done"}
		if stage >= 0 {
			s.Name = "[" + name + "] " + text
		}
		if end == start {
			s.Cached, s.State = true, "cached"
		}
		return s
	}
	return &history.Record{
		ID: "5c0ffee00000000000000000000000aa", Time: h0, Finished: at(3.6),
		Engine:     history.Engine{Kind: "buildkitd", Address: "unix:///run/buildkit/buildkitd.sock"},
		Dockerfile: "/src/two/Dockerfile", Target: "stage-2", Outcome: history.Succeeded, Duration: 3600 * time.Millisecond,
		StepsCached: 1, StepsTotal: 4,
		Steps: []history.Step{
			step("sha256:d001", -1, "", 0, "[internal] load build definition from Dockerfile", 0, 0.1),
			step("sha256:d002", -1, "", 0, "[internal] load .dockerignore", 0.1, 0.15),
			step("sha256:b0b0", 0, "slow", 1, "FROM busybox", 0.2, 0.2),
			step("sha256:a001", 0, "slow", 2, "RUN sleep 3 && echo slow > /slow", 0.2, 3.2, "sha256:b0b0"),
			step("sha256:a002", 1, "fast", 4, "RUN sleep 1 && echo fast > /fast", 0.2, 1.2, "sha256:b0b0"),
			step("sha256:a003", 2, "stage-2", 6, "COPY --from=slow /slow /", 3.2, 3.3, "sha256:b0b0", "sha256:a001"),
			step("sha256:a004", 2, "stage-2", 7, "COPY --from=fast /fast /", 3.3, 3.4, "sha256:a003", "sha256:a002"),
			step("sha256:e001", -1, "", 0, "exporting to image", 3.4, 3.5),
		},
	}
}

func TestHistoryTimelineGolden(t *testing.T) {
	env := historyFixture(t)
	store := history.Open(filepath.Join(env["XDG_STATE_HOME"], "stagescope", history.FileName))
	if err := store.Record([]*history.Record{twoStagesRecord()}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"timeline", []string{"history", "show", "5c0f", "--timeline"}},
		{"timeline-steps", []string{"history", "show", "5c0f", "--timeline", "--steps"}},
		{"timeline-json", []string{"history", "show", "5c0f", "--timeline", "--format", "json"}},
		{"timeline-builder", []string{"history", "show", "3f2a9", "--timeline", "--steps"}},
		{"timeline-migrated", []string{"history", "show", "81b0e4", "--timeline"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := stagescope(t, env, tt.args...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			golden(t, tt.name, stdout)
		})
	}
	_, stdout, _ := stagescope(t, env, "history", "show", "5c0f", "--timeline", "--format", "json")
	var tl timelineJSON
	if err := json.Unmarshal([]byte(stdout), &tl); err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, s := range tl.CriticalPath {
		path = append(path, s.Vertex)
	}
	if !strings.Contains(strings.Join(path, " "), "sha256:a001 sha256:a003 sha256:a004") {
		t.Errorf("critical path %v does not run through the 3-second stage", path)
	}
	for _, st := range tl.Stages {
		if st.Name == "slow" && (st.SavesSeconds < 1.9 || st.SavesSeconds > 2.2 || !st.OnPath) {
			t.Errorf("the 3-second stage: %+v, want on the path, saving about 2 s", st)
		}
		if st.Name == "fast" && (st.SavesSeconds != 0 || st.OnPath) {
			t.Errorf("the 1-second stage: %+v, want off the path, saving nothing", st)
		}
	}
}

func TestHistoryTimelineUsage(t *testing.T) {
	env := historyFixture(t)
	code, stdout, stderr := stagescope(t, env, "history", "show", "3f2a9", "--steps")
	if code != exitBadInput || stdout != "" || !strings.Contains(stderr, "--timeline") {
		t.Errorf("exit %d, %q %q", code, stdout, stderr)
	}
	// The misused flag is named first, whatever the id.
	code, stdout, stderr = stagescope(t, env, "history", "show", "ffff", "--steps")
	if code != exitBadInput || stdout != "" || !strings.Contains(stderr, "--timeline") {
		t.Errorf("unknown id: exit %d, %q %q", code, stdout, stderr)
	}
}

// On a real buildkitd: two independent stages sleeping 3 s and 1 s and a
// final stage copying from both. The critical path runs through the
// 3-second stage, and had it taken no time the build would have ended
// about 2 s sooner: the 1-second stage then bounds it.
func TestTimelineOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	env := map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t), "XDG_STATE_HOME": t.TempDir()}
	busybox := "busybox=" + testengine.Bases(t)["busybox"]
	dir := t.TempDir()
	df := "FROM scratch AS slow\nCOPY --from=busybox / /\nRUN sleep 3 && echo slow > /slow\n\n" +
		"FROM scratch AS fast\nCOPY --from=busybox / /\nRUN sleep 1 && echo fast > /fast\n\n" +
		"FROM scratch\nCOPY --from=slow /slow /\nCOPY --from=fast /fast /\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := stagescope(t, env, "build", dir, "--build-context", busybox, "--no-cache", "--progress", "quiet")
	if code != exitOK || strings.Contains(stderr, "not recorded") {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := stagescope(t, env, "history", "--format", "json", "--limit", "1")
	var list struct {
		Records []history.Summary `json:"records"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != exitOK || err != nil || len(list.Records) != 1 {
		t.Fatalf("history: exit %d %v %s", code, err, stderr)
	}
	code, stdout, stderr = stagescope(t, env, "history", "show", list.Records[0].ID[:8], "--timeline", "--format", "json")
	var tl timelineJSON
	if err := json.Unmarshal([]byte(stdout), &tl); code != exitOK || err != nil {
		t.Fatalf("show --timeline: exit %d %v %s", code, err, stderr)
	}
	t.Logf("%s", stdout)
	slowRun := false
	for _, s := range tl.CriticalPath {
		slowRun = slowRun || (s.StageName == "slow" && strings.HasPrefix(s.Text, "RUN sleep 3"))
		if strings.HasPrefix(s.Text, "RUN sleep 1") {
			t.Errorf("the 1-second step is on the critical path: %+v", s)
		}
	}
	if !slowRun {
		t.Errorf("the critical path does not run through RUN sleep 3: %+v", tl.CriticalPath)
	}
	found := 0
	for _, st := range tl.Stages {
		switch st.Name {
		case "slow":
			found++
			if want := slowSaving(t, tl); !st.OnPath || math.Abs(st.SavesSeconds-want) > 0.3 || st.SavesSeconds < 1.3 {
				t.Errorf("the 3-second stage: %+v, want on the path, saving %.1f s (±0.3 s; 2 s on a quiet machine)", st, want)
			}
		case "fast":
			found++
			// Its COPY --from=busybox is the same vertex as the slow
			// stage's, which BuildKit runs once: that may be on the path.
			if st.SavesSeconds > 0.3 {
				t.Errorf("the 1-second stage: %+v, want it to save next to nothing", st)
			}
		}
	}
	if found != 2 {
		t.Errorf("stages %+v: want slow and fast", tl.Stages)
	}
	code, stdout, _ = stagescope(t, env, "history", "show", list.Records[0].ID[:8], "--timeline", "--steps")
	if code != exitOK || !strings.Contains(stdout, "* slow") || !strings.Contains(stdout, "  fast") {
		t.Errorf("text timeline: exit %d\n%s", code, stdout)
	}
	t.Logf("\n%s", stdout)
}

// A step that ran but took no time is drawn as run, not with the cached
// mark: cached is what BuildKit said, not a duration.
func TestTimelineInstantStepIsNotCached(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	rec := &history.Record{ID: "aa", Time: at, Finished: at.Add(2 * time.Second), Steps: []history.Step{
		{Vertex: "sha256:01", Stage: 0, StageName: "a", Name: "[a 1/2] RUN true", Text: "RUN true", Started: at, Completed: at, State: "done"},
		{Vertex: "sha256:02", Stage: 0, StageName: "a", Name: "[a 2/2] RUN sleep 2", Text: "RUN sleep 2", Inputs: []string{"sha256:01"}, Started: at, Completed: at.Add(2 * time.Second), State: "done"},
	}}
	var b strings.Builder
	printTimeline(&b, rec, true)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "RUN true") && strings.ContainsRune(line, markCached) {
			t.Errorf("an instant step that ran is drawn as cached:\n%s", b.String())
		}
	}
}

// slowSaving is what the 3-second stage of the slow/fast/final Dockerfile
// of the tests above saves, from the times the build took: had RUN sleep 3
// taken no time, COPY --from=slow would have run from where it started,
// COPY --from=fast after it and after the fast stage ended. On a quiet
// machine that is about 2 s (the 1-second stage bounds it); on a busy one
// the copies take longer and it is more.
func slowSaving(t *testing.T, tl timelineJSON) float64 {
	t.Helper()
	var slow, fast *stageTimeJSON
	for i, st := range tl.Stages {
		switch st.Name {
		case "slow":
			slow = &tl.Stages[i]
		case "fast":
			fast = &tl.Stages[i]
		}
	}
	k := slices.IndexFunc(tl.CriticalPath, func(s pathStepJSON) bool { return strings.HasPrefix(s.Text, "RUN sleep 3") })
	if slow == nil || fast == nil || k < 0 || k+2 >= len(tl.CriticalPath) {
		t.Fatalf("timeline without the slow stage, the fast stage or the copies after RUN sleep 3: %+v", tl)
	}
	run, copySlow, copyFast := tl.CriticalPath[k], tl.CriticalPath[k+1], tl.CriticalPath[k+2]
	end := max(run.Start+copySlow.Seconds, fast.Start+fast.Seconds) + copyFast.Seconds
	return tl.Seconds - end
}
