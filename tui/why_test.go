package tui

import (
	"strings"
	"testing"

	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

// lastHistory is an in-memory History that finds the last record of a
// target, so that builds say why their steps ran.
type lastHistory struct{ fakes.History }

func (h *lastHistory) Last(dockerfile, target, platform string, eng history.Engine) (*history.Record, error) {
	for i := len(h.Records) - 1; i >= 0; i-- {
		if r := h.Records[i]; r.Dockerfile == dockerfile && r.Target == target {
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
