package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
)

// historyTitle names the history screen.
const historyTitle = "History"

// HistoryKeyMap is the history screen's keys.
type HistoryKeyMap struct {
	Show, Up, Down, Open, Close key.Binding
}

// DefaultHistoryKeyMap returns the history screen's default keys.
func DefaultHistoryKeyMap() HistoryKeyMap {
	return HistoryKeyMap{
		Show:  key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "history")),
		Up:    key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:  key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Open:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "its timeline")),
		Close: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the list")),
	}
}

// RecordStore is a History that lists its records and reads one back
// (internal/history.Store is one).
type RecordStore interface {
	List(f history.Filter) ([]history.Summary, error)
	Get(id string) (*history.Record, error)
}

// shownMsg tells a screen that its key brought it forward: a screen that
// shows what is kept on disk reads it again then, off the UI loop.
type shownMsg struct{}

// Messages of the history screen: what a read of the store gave.
type (
	recordsListedMsg struct {
		gen  int
		list []history.Summary
		err  error
	}
	recordOpenedMsg struct {
		gen int
		rec *history.Record
		err error
	}
)

// HistoryView lists the build records of the Dockerfile, newest first;
// enter opens one on the timeline (the Timeline screen's drawing, fed with
// the record), esc goes back to the list.
type HistoryView struct {
	baseScreen
	keys   HistoryKeyMap
	styles Styles

	store      RecordStore // nil: builds are not recorded
	dockerfile string
	now        func() time.Time

	width, height int
	list          []history.Summary
	loaded        bool
	err           string
	cursor, off   int
	gen           int // the latest read asked for; older answers are dropped

	open *history.Record
	tl   *TimelineView
}

func newHistoryScreen(opts Options, s Styles) Screen {
	v := &HistoryView{keys: DefaultHistoryKeyMap(), styles: s, now: opts.Now}
	if rs, ok := opts.History.(RecordStore); ok {
		v.store = rs
	}
	if opts.Project != nil {
		v.dockerfile = opts.Project.Dockerfile
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// Title names the screen.
func (v *HistoryView) Title() string { return historyTitle }

// ShowKey is H, which brings the history forward (and reads it again).
func (v *HistoryView) ShowKey() key.Binding { return v.keys.Show }

// Help lists the history's keys, the timeline's while a record is open.
func (v *HistoryView) Help(g GlobalKeyMap) (short []key.Binding, full [][]key.Binding) {
	k := v.keys
	if v.tl != nil {
		ts, _ := v.tl.Help(g)
		keys := append([]key.Binding{k.Close}, ts...)
		return keys, [][]key.Binding{keys}
	}
	keys := []key.Binding{k.Open, k.Up, k.Down}
	return keys, [][]key.Binding{keys}
}

// SetStyles switches the styles.
func (v *HistoryView) SetStyles(s Styles) {
	v.styles = s
	if v.tl != nil {
		v.tl.SetStyles(s)
	}
}

// SetSize sets the size of the body.
func (v *HistoryView) SetSize(w, h int) {
	v.width, v.height = w, h
	if v.tl != nil {
		v.tl.SetSize(w, max(h-1, 1))
	}
}

// Back closes an open record: esc goes back to the list.
func (v *HistoryView) Back() bool {
	if v.tl == nil {
		return false
	}
	v.open, v.tl = nil, nil
	return true
}

// Update takes the history's keys and the answers of the store.
func (v *HistoryView) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case shownMsg:
		return v, v.listCmd()
	case frameMsg:
		if v.tl != nil {
			v.tl.Update(msg)
		}
	case recordsListedMsg:
		if msg.gen != v.gen {
			return v, nil
		}
		v.loaded, v.list, v.err = true, msg.list, ""
		if msg.err != nil {
			v.err = buildgraph.FirstLine(msg.err.Error())
		}
		v.cursor = min(v.cursor, max(len(v.list)-1, 0))
	case recordOpenedMsg:
		if msg.gen != v.gen {
			return v, nil
		}
		if msg.err != nil {
			return v, notice("The record cannot be read: "+buildgraph.FirstLine(msg.err.Error()), true)
		}
		v.open = msg.rec
		v.tl = &TimelineView{keys: DefaultTimelineKeyMap(), styles: v.styles, record: msg.rec}
		v.tl.SetSize(v.width, max(v.height-1, 1))
	case tea.KeyPressMsg:
		if v.tl != nil {
			v.tl.Update(msg)
			return v, nil
		}
		switch {
		case key.Matches(msg, v.keys.Up):
			v.cursor = max(v.cursor-1, 0)
		case key.Matches(msg, v.keys.Down):
			v.cursor = min(v.cursor+1, max(len(v.list)-1, 0))
		case key.Matches(msg, v.keys.Open):
			if v.cursor < len(v.list) {
				return v, v.openCmd(v.list[v.cursor])
			}
		}
	}
	return v, nil
}

func notice(text string, alert bool) tea.Cmd {
	return func() tea.Msg { return noticeMsg{text: text, alert: alert} }
}

// listCmd reads the Dockerfile's records off the UI loop.
func (v *HistoryView) listCmd() tea.Cmd {
	if v.store == nil {
		v.loaded = true
		return nil
	}
	v.gen++
	gen, store, file := v.gen, v.store, v.dockerfile
	return func() tea.Msg {
		list, err := store.List(history.Filter{Dockerfile: file})
		return recordsListedMsg{gen: gen, list: list, err: err}
	}
}

// openCmd reads a record off the UI loop.
func (v *HistoryView) openCmd(s history.Summary) tea.Cmd {
	if s.Migrated {
		return notice("An imported record holds a size, no steps: there is no timeline to draw.", false)
	}
	v.gen++
	gen, store, id := v.gen, v.store, s.ID
	return func() tea.Msg {
		rec, err := store.Get(id)
		return recordOpenedMsg{gen: gen, rec: rec, err: err}
	}
}

// View draws the body.
func (v *HistoryView) View() string {
	var lines []string
	if v.tl != nil {
		lines = append([]string{truncate(v.recordLine(), v.width)}, strings.Split(v.tl.View(), "\n")...)
	} else {
		lines = v.listLines()
	}
	return fit(lines, v.width, v.height)
}

// recordLine names the open record above its timeline.
func (v *HistoryView) recordLine() string {
	s, r := v.styles, v.open
	parts := []string{s.Bold.Render("Build record " + history.ShortID(r.ID)), clean(r.Target), buildgraph.Ago(v.now().Sub(r.Time))}
	outcome := string(r.Outcome)
	if r.Duration > 0 {
		outcome += " in " + duration(r.Duration)
	}
	parts = append(parts, v.outcomeStyle(r.Outcome).Render(outcome))
	if r.Engine.Kind != "" {
		parts = append(parts, clean(r.Engine.Kind))
	}
	return " " + strings.Join(parts, s.Muted.Render(" · ")) + s.Muted.Render("  (esc: the list)")
}

func (v *HistoryView) outcomeStyle(o history.Outcome) interface{ Render(...string) string } {
	switch o {
	case history.Succeeded:
		return v.styles.Done
	case history.Failed:
		return v.styles.Failed
	}
	return v.styles.Canceled
}

// Columns of the list: widths of ID, started, engine, outcome, time,
// cached and size; the target takes what is left.
const (
	histIDW      = 12
	histAgoW     = 14
	histEngineW  = 9
	histOutcomeW = 9
	histTimeW    = 6
	histCachedW  = 6
	histSizeW    = 6
)

func (v *HistoryView) listLines() []string {
	s := v.styles
	switch {
	case v.store == nil:
		return []string{"", s.Muted.Render(" Builds are not recorded in this session: there is no history to show.")}
	case v.err != "":
		return []string{"", s.Warn.Render(" The build records cannot be read: " + clean(v.err))}
	case !v.loaded:
		return []string{"", s.Muted.Render(" Reading the build records…")}
	case len(v.list) == 0:
		return []string{"", s.Muted.Render(" No build of this Dockerfile is recorded yet: every build is, and shows here.")}
	}
	fixed := 2 + histIDW + 1 + histAgoW + 1 + histEngineW + 1 + histOutcomeW + 1 + histTimeW + 1 + histCachedW + 1 + histSizeW
	targetW := min(max(v.width-fixed-1, 6), 30)
	row := func(id, ago, target, eng, outcome, took, cached, size string) string {
		return pad(id, histIDW) + " " + pad(ago, histAgoW) + " " + pad(target, targetW) + " " + pad(eng, histEngineW) + " " +
			pad(outcome, histOutcomeW) + " " + padLeft(took, histTimeW) + " " + padLeft(cached, histCachedW) + " " + padLeft(size, histSizeW)
	}
	n := len(v.list)
	noun := "builds"
	if n == 1 {
		noun = "build"
	}
	out := []string{
		truncate(fmt.Sprintf(" %d recorded %s of this Dockerfile, newest first · enter: its timeline", n, noun), v.width),
		s.Muted.Render(truncate("  "+row("ID", "STARTED", "TARGET", "ENGINE", "OUTCOME", "TIME", "CACHED", "SIZE"), v.width)),
	}
	body := max(v.height-len(out), 1)
	if v.cursor < v.off {
		v.off = v.cursor
	}
	if v.cursor >= v.off+body {
		v.off = v.cursor - body + 1
	}
	now := v.now()
	for i := v.off; i < n && i < v.off+body; i++ {
		r := v.list[i]
		outcome, took, cached := string(r.Outcome), duration(r.Duration), fmt.Sprintf("%d/%d", r.StepsCached, r.StepsTotal)
		if r.Migrated {
			outcome, took, cached = "imported", "-", "-"
		}
		size := "-"
		if r.Uncompressed != nil && *r.Uncompressed != buildgraph.Unknown {
			size = buildgraph.HumanSize(*r.Uncompressed)
		}
		eng := r.Engine
		if eng == "" {
			eng = "-"
		}
		line := row(history.ShortID(r.ID), buildgraph.Ago(now.Sub(r.Time)), clean(r.Target), clean(eng),
			outcome, took, cached, size)
		if i == v.cursor {
			out = append(out, truncate(s.Selected.Render("▶ "+line), v.width))
		} else {
			out = append(out, truncate("  "+line, v.width))
		}
	}
	if n > v.off+body {
		out[len(out)-1] = s.Muted.Render(fmt.Sprintf("  … %d more (↓)", n-(v.off+body)+1))
	}
	return out
}
