package tui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/pipeline"
)

// failingHistory cannot record.
type failingHistory struct{}

func (failingHistory) Load(string) (map[string]buildgraph.SavedSize, error) { return nil, nil }
func (failingHistory) Record([]*history.Record) error {
	return errors.New("builds.db: not a stagescope records file")
}

// The records are written behind the outcome: the build's notice comes
// first, and says when they could not be written.
func TestRecordFailureNotice(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t), history: failingHistory{}}, 120, 30)
	press(t, m, "enter")
	r := m.run
	var cmd tea.Cmd
	for ev := range r.Events() {
		_, cmd = m.Update(eventsMsg{id: r.id, events: []pipeline.Event{ev}})
	}
	if !strings.HasPrefix(m.notice, "Built stage-1") || cmd == nil {
		t.Fatalf("notice %q at the outcome, command %v", m.notice, cmd)
	}
	m.Update(cmd())
	if !strings.Contains(m.notice, "Built stage-1") || !strings.Contains(m.notice, "could not save results: builds.db: not a stagescope records file") || !m.alert {
		t.Errorf("notice %q", m.notice)
	}
}
