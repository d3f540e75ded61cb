package buildgraph

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// ts is a step from start to end seconds after t0 (end < 0: still running).
func ts(v string, stage int, start, end float64, inputs ...string) TimedStep {
	s := TimedStep{Vertex: v, Stage: stage, Inputs: inputs, Started: t0.Add(secs(start))}
	if end >= 0 {
		s.Completed = t0.Add(secs(end))
	}
	return s
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func pathOf(cp CriticalPath) []string {
	var out []string
	for _, s := range cp.Steps {
		out = append(out, s.Vertex)
	}
	return out
}

func savesOf(cp CriticalPath) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, s := range cp.Stages {
		out[s.Stage] = s.Saves
	}
	return out
}

func near(a, b time.Duration) bool { return a-b < time.Millisecond && b-a < time.Millisecond }

func TestCritical(t *testing.T) {
	for _, tt := range []struct {
		name  string
		steps []TimedStep
		now   float64
		path  []string
		end   float64
		saves map[int]float64
	}{
		{
			name: "two independent stages and a final stage copying from both",
			steps: []TimedStep{
				ts("def", -1, 0, 0.1),
				ts("busybox", -1, 0.1, 0.2),
				ts("slow", 0, 0.2, 3.2, "busybox"),
				ts("fast", 1, 0.2, 1.2, "busybox"),
				ts("copy-slow", 2, 3.2, 3.3, "busybox", "slow"),
				ts("copy-fast", 2, 3.3, 3.4, "copy-slow", "fast"),
				ts("export", -1, 3.4, 3.5),
			},
			path:  []string{"def", "busybox", "slow", "copy-slow", "copy-fast", "export"},
			end:   3.5,
			saves: map[int]float64{0: 2.1, 1: 0, 2: 0.2},
		},
		{
			name: "a chain: every stage saves its own time",
			steps: []TimedStep{
				ts("a", 0, 0, 1),
				ts("b", 1, 1, 3, "a"),
				ts("c", 2, 3, 3.5, "b"),
			},
			path:  []string{"a", "b", "c"},
			end:   3.5,
			saves: map[int]float64{0: 1, 1: 2, 2: 0.5},
		},
		{
			name: "a wait between an input's end and the step's start is kept",
			steps: []TimedStep{
				ts("a", 0, 0, 1),
				ts("b", 1, 1.5, 2, "a"),
			},
			path:  []string{"a", "b"},
			end:   2,
			saves: map[int]float64{0: 1, 1: 0.5},
		},
		{
			name: "cached steps take no time and save nothing",
			steps: []TimedStep{
				{Vertex: "a", Stage: 0, Started: t0, Completed: t0, Cached: true},
				ts("b", 0, 0, 2, "a"),
			},
			path:  []string{"a", "b"},
			end:   2,
			saves: map[int]float64{0: 2},
		},
		{
			name: "a running step ends now; steps that never ran are left out",
			steps: []TimedStep{
				ts("a", 0, 0, 1),
				ts("b", 0, 1, -1, "a"),
				{Vertex: "c", Stage: 1, Inputs: []string{"b"}},
			},
			now:   4,
			path:  []string{"a", "b"},
			end:   4,
			saves: map[int]float64{0: 4},
		},
		{
			name: "unknown inputs are ignored, the same vertex twice is one run",
			steps: []TimedStep{
				ts("a", 0, 0, 1, "sha256:elsewhere"),
				ts("a", 0, 0.5, 2),
				ts("b", 1, 2, 3, "a"),
			},
			path:  []string{"a", "b"},
			end:   3,
			saves: map[int]float64{0: 2, 1: 1},
		},
		{name: "no steps"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var now time.Time
			if tt.now > 0 {
				now = t0.Add(secs(tt.now))
			}
			cp := Critical(tt.steps, now)
			if got := pathOf(cp); fmt.Sprint(got) != fmt.Sprint(tt.path) {
				t.Errorf("path %v, want %v", got, tt.path)
			}
			if !near(cp.End, secs(tt.end)) {
				t.Errorf("end %v, want %vs", cp.End, tt.end)
			}
			got := savesOf(cp)
			if len(got) != len(tt.saves) {
				t.Errorf("savings for stages %v, want %v", got, tt.saves)
			}
			for st, want := range tt.saves {
				if !near(got[st], secs(want)) {
					t.Errorf("stage %d saves %v, want %vs", st, got[st], want)
				}
			}
			for _, s := range cp.Stages {
				on := false
				for _, p := range cp.Steps {
					on = on || p.Stage == s.Stage
				}
				if on != s.OnPath {
					t.Errorf("stage %d OnPath %v, want %v", s.Stage, s.OnPath, on)
				}
			}
		})
	}
}

// stepsFrom makes a build of acyclic steps out of fuzz bytes: each step
// takes inputs among the steps before it, starts at or after its inputs'
// ends (or a little before, as BuildKit sometimes reports) and runs a while.
func stepsFrom(data []byte) []TimedStep {
	var steps []TimedStep
	var ends []float64
	for i := 0; len(data) >= 4 && i < 64; i++ {
		mask, wait, took, stage := data[0], data[1], data[2], data[3]
		data = data[4:]
		s := TimedStep{Vertex: fmt.Sprintf("v%d", i), Stage: int(stage%5) - 1}
		ready := 0.0
		for j := range min(i, 8) {
			if mask&(1<<j) != 0 {
				k := i - 1 - j
				s.Inputs = append(s.Inputs, steps[k].Vertex)
				ready = max(ready, ends[k])
			}
		}
		start := max(ready+float64(int(wait)-16)/20, 0)
		end := start + float64(took)/20
		s.Started, s.Completed = t0.Add(secs(start)), t0.Add(secs(end))
		s.Cached = took == 0
		steps = append(steps, s)
		ends = append(ends, end)
	}
	return steps
}

func FuzzCritical(f *testing.F) {
	f.Add([]byte{0, 20, 60, 1, 1, 20, 20, 2, 3, 20, 2, 3})
	f.Add([]byte{0, 16, 0, 0, 0, 200, 5, 0, 255, 0, 255, 4, 7, 16, 9, 2})
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 0x0123456789abcdef)
	f.Add(b[:])
	f.Fuzz(func(t *testing.T, data []byte) {
		steps := stepsFrom(data)
		cp := Critical(steps, time.Time{})
		if len(steps) == 0 {
			if len(cp.Steps) != 0 {
				t.Fatalf("a path %v without steps", pathOf(cp))
			}
			return
		}
		var last time.Time
		for _, s := range steps {
			if s.Completed.After(last) {
				last = s.Completed
			}
		}
		if got := cp.Start.Add(cp.End); !got.Equal(last) {
			t.Fatalf("end %v, want the last completion %v", got, last)
		}
		p := cp.Steps
		if len(p) == 0 || !cp.Start.Add(p[len(p)-1].End).Equal(last) {
			t.Fatalf("path %v does not end with the last completion", pathOf(cp))
		}
		byVertex := map[string]TimedStep{}
		for _, s := range steps {
			byVertex[s.Vertex] = s
		}
		for i := 1; i < len(p); i++ {
			if !contains2(byVertex[p[i].Vertex].Inputs, p[i-1].Vertex) && p[i].Stage >= 0 {
				t.Fatalf("path %v: %s is not an input of %s", pathOf(cp), p[i-1].Vertex, p[i].Vertex)
			}
		}
		for _, s := range cp.Stages {
			if s.Saves < 0 || s.Saves > cp.End {
				t.Fatalf("stage %d saves %v of %v", s.Stage, s.Saves, cp.End)
			}
			if s.Saves > 0 && !s.OnPath {
				t.Fatalf("stage %d off the path saves %v", s.Stage, s.Saves)
			}
		}
	})
}

func contains2(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
