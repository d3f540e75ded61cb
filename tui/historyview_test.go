package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
)

// pressRecords sends keys and runs the commands of the history screen
// (reading the store) as the program would, and the intents press runs.
func pressRecords(t testing.TB, m *Model, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		runRecordCmds(m, cmd)
	}
}

func runRecordCmds(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case recordsListedMsg, recordOpenedMsg, noticeMsg:
		_, next := m.Update(msg)
		runRecordCmds(m, next)
	}
}

// seededRecords are three builds of the Dockerfile, newest first: two
// independent stages sleeping 3 s and 1 s and a final stage copying from
// both; a failed build; a size imported from results.json.
func seededRecords(dockerfile string) []*history.Record {
	start := t0.Add(-3 * time.Hour)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	step := func(d string, stage int, name, text string, from, to float64, inputs ...string) history.Step {
		s := history.Step{Vertex: d, Inputs: inputs, Stage: stage, StageName: name, Name: text, Text: text,
			Started: at(from), Completed: at(to), State: "done"}
		if stage >= 0 {
			s.Name = "[" + name + "] " + text
		}
		if from == to {
			s.Cached, s.State = true, "cached"
		}
		return s
	}
	two := &history.Record{
		ID: "5c0ffee00000000000000000000000aa", Time: start, Finished: at(3.6),
		Engine:     history.Engine{Kind: "buildkitd", Address: "unix:///run/buildkit/buildkitd.sock"},
		Dockerfile: dockerfile, Target: "stage-1", Outcome: history.Succeeded, Duration: 3600 * time.Millisecond,
		StepsCached: 1, StepsTotal: 4,
		Steps: []history.Step{
			step("sha256:d001", -1, "", "[internal] load build definition from Dockerfile", 0, 0.1),
			step("sha256:b0b0", 0, "slow", "FROM busybox", 0.2, 0.2),
			step("sha256:a001", 0, "slow", "RUN sleep 3 && echo slow > /slow", 0.2, 3.2, "sha256:b0b0"),
			step("sha256:a002", 1, "fast", "RUN sleep 1 && echo fast > /fast", 0.2, 1.2, "sha256:b0b0"),
			step("sha256:a003", 2, "stage-1", "COPY --from=slow /slow /", 3.2, 3.3, "sha256:b0b0", "sha256:a001"),
			step("sha256:a004", 2, "stage-1", "COPY --from=fast /fast /", 3.3, 3.4, "sha256:a003", "sha256:a002"),
			step("sha256:e001", -1, "", "exporting to image", 3.4, 3.5),
		},
		Size: &buildgraph.ImageSize{Ref: "stagescope/hello:stage-1", Uncompressed: 2_400_000, Compressed: 1_430_000},
	}
	failed := &history.Record{
		ID: "3f2a9c0000000000000000000000000b", Time: t0.Add(-26 * time.Hour), Finished: t0.Add(-26*time.Hour + 5*time.Second),
		Engine: history.Engine{Kind: "docker"}, Dockerfile: dockerfile, Target: "builder", Outcome: history.Failed,
		Error: "process did not complete successfully: exit code 2", Duration: 5 * time.Second, StepsTotal: 3,
	}
	migrated := &history.Record{
		ID: "81b0e40000000000000000000000000c", Time: t0.Add(-72 * time.Hour), Engine: history.Engine{Kind: "buildkitd"},
		Dockerfile: dockerfile, Target: "stage-1", Outcome: history.Succeeded, Migrated: true,
	}
	return []*history.Record{two, failed, migrated}
}

// recordStore is a store in a temporary folder holding recs.
func recordStore(t testing.TB, recs []*history.Record) *history.Store {
	t.Helper()
	s := history.Open(filepath.Join(t.TempDir(), history.FileName))
	if len(recs) > 0 {
		if err := s.Record(recs); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestHistoryScreens draws the history screen: the records of the
// Dockerfile, one opened on the timeline (with its steps), none yet.
func TestHistoryScreens(t *testing.T) {
	withRecords := func(t *testing.T) modelOpts {
		o := modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}
		o.history = recordStore(t, seededRecords(o.proj.Dockerfile))
		return o
	}
	tests := []struct {
		name string
		opts func(t *testing.T) modelOpts
		do   func(t *testing.T, m *Model)
	}{
		{"history", withRecords, func(t *testing.T, m *Model) { pressRecords(t, m, "H", "j") }},
		// From the build screen: H, then enter on the newest record.
		{"history-timeline", withRecords, func(t *testing.T, m *Model) {
			pressRecords(t, m, "l", "H", "enter")
		}},
		// From the compare screen, with the steps.
		{"history-timeline-steps", withRecords, func(t *testing.T, m *Model) {
			pressRecords(t, m, "c", "H", "enter", "s")
		}},
		{"history-empty", func(t *testing.T) modelOpts {
			o := modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}
			o.history = recordStore(t, nil)
			return o
		}, func(t *testing.T, m *Model) { pressRecords(t, m, "H") }},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newModel(t, tt.opts(t), size[0], size[1])
				tt.do(t, m)
				out := screenText(m)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// Keys of the history screen: esc closes an open record before leaving
// the screen, an imported record has no timeline, H reads the records
// again (a build just recorded shows).
func TestHistoryScreenFlow(t *testing.T) {
	proj := project(t, "hello-final", "golang")
	store := recordStore(t, seededRecords(proj.Dockerfile))
	m, _ := newModel(t, modelOpts{proj: proj, session: helloSession(t), history: store}, 120, 30)
	pressRecords(t, m, "H", "enter")
	if v := m.focused().(*HistoryView); v.open == nil || v.open.ID != "5c0ffee00000000000000000000000aa" {
		t.Fatalf("enter did not open the newest record: %+v", v.open)
	}
	if s := screenText(m); !strings.Contains(s, "Critical path 3.5s: slow (saves 2.1s)") {
		t.Errorf("the record's timeline:\n%s", s)
	}
	pressRecords(t, m, "esc")
	if v, ok := m.focused().(*HistoryView); !ok || v.open != nil {
		t.Fatalf("esc did not go back to the list")
	}
	// A failed build whose steps never ran.
	pressRecords(t, m, "j", "enter")
	if s := screenText(m); !strings.Contains(s, "No step of this build ran") {
		t.Errorf("a record without steps:\n%s", s)
	}
	pressRecords(t, m, "esc", "j", "enter")
	if !strings.Contains(m.notice, "no timeline") {
		t.Errorf("an imported record: notice %q", m.notice)
	}
	pressRecords(t, m, "esc")
	if _, ok := m.focused().(*HistoryView); ok {
		t.Fatal("esc on the list did not leave the screen")
	}

	// A build recorded while the screen is away shows when H brings it
	// back.
	press(t, m, "enter")
	drain(t, m, -1)
	if err := m.run.Outcome.Recorded(); err != nil { // written behind the outcome
		t.Fatal(err)
	}
	pressRecords(t, m, "H")
	v := m.focused().(*HistoryView)
	if len(v.list) != 4 || v.list[0].Target != "stage-1" || v.list[0].Migrated || !v.list[0].Time.Equal(t0) {
		t.Errorf("after a build: %+v", v.list)
	}
}

// Without a store (the records file unusable at start), the screen says
// builds are not recorded.
func TestHistoryScreenWithoutStore(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 100, 20)
	pressRecords(t, m, "H")
	if s := screenText(m); !strings.Contains(s, "not recorded") {
		t.Errorf("%s", s)
	}
}
