package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

// lastHistory is an in-memory History that finds the last record of a
// target, so that builds say why their steps ran.
type lastHistory struct{ fakes.History }

func (h *lastHistory) Last(dockerfile, target, platform string, eng history.Engine) (*history.Record, error) {
	recs := h.All()
	for i := len(recs) - 1; i >= 0; i-- {
		if r := recs[i]; r.Dockerfile == dockerfile && r.Target == target {
			return r, nil
		}
	}
	return nil, nil
}

// A step that ran says why in a word on its row, and in full at the top
// of the focused step's pane.
func TestBuildScreenSaysWhy(t *testing.T) {
	hist := &lastHistory{}
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t), history: hist}, 120, 40)
	press(t, m, "k", "enter") // builder
	drain(t, m, 0)
	_ = m.run.Outcome.Recorded() // the records are written behind the build's end
	out := screenText(m)
	if !strings.Contains(out, "RUN go build -o hello hellodocker.go · first build") {
		t.Errorf("first build: no reason on the row:\n%s", out)
	}
	press(t, m, "r") // the same build again: the base is a folder
	drain(t, m, 0)
	out = screenText(m)
	for _, want := range []string{"WORKDIR /app · base changed", "COPY hellodocker.go . · parent ran", "why: "} {
		if !strings.Contains(out, want) {
			t.Errorf("second build lacks %q:\n%s", want, out)
		}
	}
}

// The graph's details pane says what the next build of the focused target
// will run: builder starts from a folder, new to BuildKit in every build.
func TestGraphPredictsNextBuild(t *testing.T) {
	hist := &lastHistory{}
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t), history: hist}, 160, 48)
	press(t, m, "k", "enter") // builder
	drain(t, m, 0)
	_ = m.run.Outcome.Recorded() // the records are written behind the build's end
	cmd := m.predictCmd()
	if cmd == nil {
		t.Fatal("no prediction asked for")
	}
	m.Update(cmd())
	p := m.graph().predictions["builder"]
	if p == nil || p.Record == nil || len(p.Steps) != 3 || p.Steps[0].Why.Kind != "base-changed" {
		t.Fatalf("prediction of builder: %+v", p)
	}
	press(t, m, "esc")
	out := screenText(m)
	for _, want := range []string{"Next build", "3 steps will run", "WORKDIR /app · builder · runs · base-changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("graph screen lacks %q:\n%s", want, out)
		}
	}
	if m.graph().predictions["stage-1"] == nil || m.graph().predictions["stage-1"].Record != nil {
		t.Errorf("stage-1, never built, should have a prediction without a record: %+v", m.graph().predictions["stage-1"])
	}
}

// After a rebuild, the delta line gives each step that ran its reason.
func TestDeltaLineSaysWhy(t *testing.T) {
	hist := &lastHistory{}
	proj, session, wd := autoProject(t)
	defer t.Chdir(wd)
	m, _ := newModel(t, modelOpts{proj: proj, session: session, history: hist}, 400, 48)
	d := newDriver(t, m)
	for n, key := range []string{"enter", "r"} {
		_, cmd := m.Update(keyMsg(key))
		d.run(cmd)
		if !d.until(5*time.Second, func() bool { return m.nextID == n+1 && !m.run.running() }) {
			t.Fatalf("build %d did not end:\n%s", n+1, screenText(m))
		}
	}
	d.settle(200 * time.Millisecond)
	out := screenText(m)
	if !strings.Contains(out, "Δ stage-1 ") || !strings.Contains(out, "COPY hellodocker.go . (parent-ran)") {
		t.Errorf("the delta line does not say why the steps ran:\n%s", out)
	}
}
