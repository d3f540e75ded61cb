package buildgraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// checkJSONLines checks that every line is one JSON object with the schema
// version and a type, and that no terminal control byte appears raw.
func checkJSONLines(t testing.TB, out []byte) []map[string]any {
	t.Helper()
	var events []map[string]any
	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		if len(out) == 0 {
			break
		}
		for j := 0; j < len(line); j++ {
			c := line[j]
			if c < 0x20 || c == 0x7f || c == 0xc2 && j+1 < len(line) && line[j+1] >= 0x80 && line[j+1] <= 0x9f {
				t.Fatalf("line %d: raw control byte %#x at %d", i+1, c, j)
			}
		}
		var ev map[string]any
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("line %d: %v: %.200s", i+1, err, line)
		}
		if ev["schemaVersion"] != float64(1) || ev["type"] == nil {
			t.Fatalf("line %d: no schemaVersion 1 or type: %.200s", i+1, line)
		}
		events = append(events, ev)
	}
	return events
}

// jsonReplay runs a recorded build through Progress and JSONProgress.
func jsonReplay(t *testing.T, r recorded, buildErr error) []map[string]any {
	t.Helper()
	g, ss := load(t, r)
	p := NewProgress(g)
	var out bytes.Buffer
	j := NewJSONProgress(&out)
	for _, s := range ss {
		p.Apply(s)
		if err := j.Update(p, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Finish(p, buildErr, time.Now()); err != nil {
		t.Fatal(err)
	}
	return checkJSONLines(t, out.Bytes())
}

func TestJSONProgressFailing(t *testing.T) {
	events := jsonReplay(t, recorded{"failing", "test", "busybox"}, errors.New("failed to solve: exit code: 3"))
	var states []string
	var logs []string
	for _, ev := range events {
		switch ev["type"] {
		case "step":
			if ev["line"] == float64(6) {
				states = append(states, ev["state"].(string))
				if ev["stage"] != "test" || ev["stageIndex"] != float64(1) || ev["index"] != float64(2) || ev["count"] != float64(3) {
					t.Errorf("step event %v", ev)
				}
				if ev["state"] == "error" && (ev["durationMs"] != float64(127) || !strings.Contains(ev["error"].(string), "exit code: 3")) {
					t.Errorf("error event %v", ev)
				}
			}
		case "log":
			if ev["stage"] == "test" {
				logs = append(logs, fmt.Sprint(ev["stream"], ":", ev["data"]))
			}
		}
	}
	if got := strings.Join(states, ","); got != "waiting,running,error" {
		t.Errorf("states %s", got)
	}
	if got := strings.Join(logs, "|"); got != "stdout:about to fail\n|stderr:really failing\n" {
		t.Errorf("logs %q", got)
	}
	sum := events[len(events)-1]
	if sum["type"] != "summary" || sum["result"] != "failed" || sum["error"] != "failed to solve: exit code: 3" {
		t.Fatalf("summary %v", sum)
	}
	failed := sum["failed"].(map[string]any)
	if failed["line"] != float64(6) || failed["stage"] != "test" || fmt.Sprint(failed["log"]) != "[about to fail really failing]" {
		t.Errorf("failed %v", failed)
	}
	if fmt.Sprint(sum["steps"]) != "map[cached:0 done:2 total:4]" {
		t.Errorf("steps %v", sum["steps"])
	}
	stages := sum["stages"].([]any)
	if len(stages) != 2 || stages[1].(map[string]any)["state"] != "error" {
		t.Errorf("stages %v", stages)
	}
}

func TestJSONProgressResults(t *testing.T) {
	for _, tc := range []struct {
		r      recorded
		err    error
		result string
	}{
		{recorded{"cached", "", "busybox"}, nil, "success"},
		{recorded{"canceled", "", "busybox"}, errors.New("Canceled: context canceled"), "canceled"},
		{recorded{"hello-final", "", "golang"}, fmt.Errorf("stopped: %w", context.Canceled), "canceled"},
	} {
		events := jsonReplay(t, tc.r, tc.err)
		sum := events[len(events)-1]
		if sum["result"] != tc.result {
			t.Errorf("%s: result %v, want %s", tc.r.name, sum["result"], tc.result)
		}
		if tc.result == "success" && sum["steps"].(map[string]any)["cached"] != float64(3) {
			t.Errorf("%s: steps %v", tc.r.name, sum["steps"])
		}
	}
}

func TestJSONProgressLogHeavy(t *testing.T) {
	events := jsonReplay(t, recorded{"log-heavy", "", "busybox"}, nil)
	var data strings.Builder
	raw := 0
	for _, ev := range events {
		if ev["type"] != "log" {
			continue
		}
		data.WriteString(ev["data"].(string))
		if ev["raw"] != nil {
			raw++
		}
	}
	if raw != 1 {
		t.Errorf("%d log events carry raw bytes, want the one with invalid UTF-8", raw)
	}
	if !strings.HasPrefix(data.String(), "\x1b[31mred") || !strings.Contains(data.String(), "bad utf-8: \uFFFD \uFFFD end") {
		t.Errorf("data starts %.80q", data.String())
	}
}

func TestJSONProgressEscapes(t *testing.T) {
	p := NewProgress(nil)
	var out bytes.Buffer
	j := NewJSONProgress(&out)
	s := &client.SolveStatus{
		Vertexes: []*client.Vertex{{Digest: "sha256:a", Name: "RUN <x> & \x1b[2J"}},
		Logs:     []*client.VertexLog{{Vertex: "sha256:a", Stream: 2, Data: []byte("del\x7f c1\u009b esc\x1b]0;t\x07 \xff")}},
		Warnings: []*client.VertexWarning{{Vertex: "sha256:a", Short: []byte("warn\u009b"), Detail: [][]byte{[]byte("d")}, URL: "https://x"}},
	}
	p.Apply(s)
	if err := j.Update(p, s); err != nil {
		t.Fatal(err)
	}
	events := checkJSONLines(t, out.Bytes())
	if len(events) != 3 || events[0]["name"] != "RUN <x> & \x1b[2J" || events[2]["message"] != "warn\u009b" {
		t.Fatalf("events %v", events)
	}
	if !bytes.Contains(out.Bytes(), []byte("del\\u007f c1\\u009b esc\\u001b]0;t\\u0007 \uFFFD")) {
		t.Errorf("escapes: %s", out.Bytes())
	}
	if events[1]["raw"] != "ZGVsfyBjMcKbIGVzYxtdMDt0ByD/" {
		t.Errorf("raw %v", events[1]["raw"])
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("disk full")
	}
	w.n--
	return len(b), nil
}

func TestJSONProgressWriteError(t *testing.T) {
	p := NewProgress(nil)
	w := &failWriter{n: 1}
	j := NewJSONProgress(w)
	s := &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: "sha256:a", Name: "a"}, {Digest: "sha256:b", Name: "b"}}}
	p.Apply(s)
	if err := j.Update(p, s); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err %v", err)
	}
	if err := j.Finish(p, nil, time.Now()); err == nil {
		t.Fatal("Finish after a write error succeeded")
	}
}

// Measuring has events of its own: "measure" as layer data is read,
// "measured" with each image's sizes or why it has none; File, when set,
// names the Dockerfile in every event.
func TestJSONProgressMeasuring(t *testing.T) {
	var out bytes.Buffer
	j := NewJSONProgress(&out)
	j.File = "java-multistage"
	p := NewProgress(nil)
	s := &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: "sha256:aa", Name: "[internal] load build definition from Dockerfile"}}}
	p.Apply(s)
	if err := j.Update(p, s); err != nil {
		t.Fatal(err)
	}
	for _, ev := range [][2]int64{{0, 182_000_000}, {96_000_000, 182_000_000}, {182_000_000, 182_000_000}} {
		if err := j.Measure("runtime", ev[0], ev[1], 1200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	j.Measured(TargetResult{Target: "runtime", Duration: 23 * time.Second, Size: &ImageSize{Uncompressed: 295_000_000, Compressed: Unknown,
		Layers: []Layer{{Size: 295_000_000}, {Empty: true}}}})
	j.Measured(TargetResult{Target: "builder", Error: "measuring: the engine is gone"})
	if err := j.Finish(p, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	events := checkJSONLines(t, out.Bytes())
	var types []string
	for _, ev := range events {
		types = append(types, ev["type"].(string))
		if ev["file"] != "java-multistage" {
			t.Errorf("%s event without the file: %v", ev["type"], ev)
		}
	}
	if got := strings.Join(types, ","); got != "step,measure,measure,measure,measured,measured,summary" {
		t.Fatalf("events %s", got)
	}
	m := events[2]
	if m["target"] != "runtime" || m["done"] != float64(96_000_000) || m["total"] != float64(182_000_000) || m["elapsedMs"] != float64(1200) {
		t.Errorf("measure event %v", m)
	}
	d := events[4]
	if d["uncompressed"] != float64(295_000_000) || d["compressed"] != float64(-1) || d["layers"] != float64(1) || d["durationMs"] != float64(23000) || d["error"] != nil {
		t.Errorf("measured event %v", d)
	}
	if e := events[5]; e["target"] != "builder" || e["error"] != "measuring: the engine is gone" || e["uncompressed"] != float64(-1) {
		t.Errorf("measured event of a failure %v", e)
	}
	// One Dockerfile: no file field, as before.
	out.Reset()
	j = NewJSONProgress(&out)
	j.Measure("runtime", 0, 0, 0)
	if strings.Contains(out.String(), `"file"`) {
		t.Errorf("file without File: %s", out.String())
	}
}
