package tui

import (
	"context"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/stagescope/stagescope/buildgraph"
)

// The platform picker: p chooses the platforms the next build targets,
// among those given with --platform and those the engine builds for. Its
// choice makes the project one for those platforms (Project.WithPlatforms),
// which every screen is handed as when the Dockerfile changes.

// PickerKeyMap is the keys of the platform picker.
type PickerKeyMap struct {
	Up     key.Binding
	Down   key.Binding
	Toggle key.Binding
	All    key.Binding
	Apply  key.Binding
	Close  key.Binding
}

// DefaultPickerKeyMap returns the picker's keys.
func DefaultPickerKeyMap() PickerKeyMap {
	return PickerKeyMap{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Toggle: key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "choose")),
		All:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "all/none")),
		Apply:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "use these")),
		Close:  key.NewBinding(key.WithKeys("esc", "p"), key.WithHelp("esc", "cancel")),
	}
}

// platformPicker is the open picker.
type platformPicker struct {
	keys    PickerKeyMap
	choices []string
	given   map[string]bool // given with --platform (the others are the engine's)
	chosen  map[string]bool
	cursor  int
}

// enginePlatformsMsg carries the platforms the engine builds for.
type enginePlatformsMsg struct{ platforms []string }

// platformLister is a session that can say which platforms its engine
// builds for (pipeline's engine sessions).
type platformLister interface {
	Platforms(ctx context.Context) ([]string, error)
}

// enginePlatformsCmd asks the session for its platforms, off the UI loop.
func (m *Model) enginePlatformsCmd() tea.Cmd {
	l, ok := m.session.(platformLister)
	if !ok || m.opts.several() {
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		plats, err := l.Platforms(ctx)
		if err != nil {
			return nil
		}
		return enginePlatformsMsg{platforms: plats}
	}
}

// projectPlatforms are the platforms a project builds for: none for the
// engine's default.
func projectPlatforms(platform string) []string {
	if platform == "" {
		return nil
	}
	if plats, err := buildgraph.ParsePlatformList(platform); err == nil {
		return plats
	}
	return []string{platform}
}

// platformChoices are the platforms the picker offers: the given ones,
// then the engine's.
func (m *Model) platformChoices() []string {
	out := slices.Clone(m.givenPlatforms)
	for _, p := range projectPlatforms(m.opts.Project.Base.Platform) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range m.enginePlatforms {
		if n, err := buildgraph.ParsePlatformList(p); err == nil && !slices.Contains(out, n[0]) {
			out = append(out, n[0])
		}
	}
	return out
}

// syncPlatformKey enables p when there is a platform to choose: several
// Dockerfiles build for one platform each, and the picker needs two
// platforms or one given.
func (m *Model) syncPlatformKey() {
	n := len(m.platformChoices())
	m.keys.Platforms.SetEnabled(!m.opts.several() && (n >= 2 || n == 1 && len(m.givenPlatforms) == 1))
}

// openPicker opens the picker, the platforms of the next build chosen.
func (m *Model) openPicker() {
	p := &platformPicker{keys: DefaultPickerKeyMap(), choices: m.platformChoices(), given: map[string]bool{}, chosen: map[string]bool{}}
	for _, g := range m.givenPlatforms {
		p.given[g] = true
	}
	for _, c := range projectPlatforms(m.opts.Project.Base.Platform) {
		p.chosen[c] = true
	}
	m.picker = p
}

// pickerKey handles a key while the picker is open.
func (m *Model) pickerKey(k tea.KeyPressMsg) tea.Cmd {
	p := m.picker
	switch {
	case key.Matches(k, p.keys.Close):
		m.picker = nil
	case key.Matches(k, p.keys.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(k, p.keys.Down):
		p.cursor = min(p.cursor+1, len(p.choices)-1)
	case key.Matches(k, p.keys.Toggle):
		if p.cursor < len(p.choices) {
			c := p.choices[p.cursor]
			p.chosen[c] = !p.chosen[c]
		}
	case key.Matches(k, p.keys.All):
		all := true
		for _, c := range p.choices {
			all = all && p.chosen[c]
		}
		for _, c := range p.choices {
			p.chosen[c] = !all
		}
	case key.Matches(k, p.keys.Apply):
		var plats []string
		for _, c := range p.choices {
			if p.chosen[c] {
				plats = append(plats, c)
			}
		}
		m.picker = nil
		q, err := m.opts.Project.WithPlatforms(plats)
		if err != nil {
			m.setNotice(buildgraph.FirstLine(err.Error()), true)
			return nil
		}
		cmd := m.setProject(q)
		if len(plats) == 0 {
			m.setNotice("The next build is for the engine's default platform.", false)
		} else {
			m.setNotice("The next build is for "+strings.Join(plats, ", ")+".", false)
		}
		return cmd
	case key.Matches(k, m.keys.Quit):
		m.picker = nil
		_, cmd := m.quit()
		return cmd
	}
	return nil
}

// view draws the picker in a box centred in the body.
func (p *platformPicker) view(s Styles, width, height int) string {
	inner := min(width-8, 60)
	lines := []string{s.Bold.Render("Platforms of the next build"), ""}
	// As many platforms as the body holds beside the box's other lines,
	// the cursor's in view.
	room := max(height-12, 1)
	off := windowStart(0, p.cursor, room, len(p.choices))
	for i, c := range p.choices {
		if i < off || i >= off+room {
			continue
		}
		box := "[ ]"
		if p.chosen[c] {
			box = "[x]"
		}
		from := "engine"
		if p.given[c] {
			from = "given"
		}
		line := box + " " + pad(c, 20) + " " + s.Muted.Render(from)
		if i == p.cursor {
			line = s.NodeFocus.Render("▶ ") + line
		} else {
			line = "  " + line
		}
		lines = append(lines, truncate(line, inner))
	}
	n := 0
	for _, c := range p.choices {
		if p.chosen[c] {
			n++
		}
	}
	lines = append(lines, "")
	switch n {
	case 0:
		lines = append(lines, wrapLines("None chosen: the engine's default platform.", inner, "")...)
	case 1:
		lines = append(lines, wrapLines("One platform: one image, as today.", inner, "")...)
	default:
		lines = append(lines, wrapLines("Several platforms: one build, an image index; compare shows a row per target and platform.", inner, "")...)
	}
	lines = append(lines, "", s.Bold.Render("space")+s.Muted.Render(" choose  ")+s.Bold.Render("a")+s.Muted.Render(" all/none  ")+
		s.Bold.Render("enter")+s.Muted.Render(" use these  ")+s.Bold.Render("esc")+s.Muted.Render(" cancel"))
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(s.Accent.GetForeground()).Padding(0, 2).
		Render(strings.Join(lines, "\n"))
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, box)
}

// resultKey names a row of the comparison: the target, and its platform
// in a build for several.
func resultKey(r buildgraph.TargetResult) string {
	if r.Platform == "" {
		return r.Label()
	}
	return r.Label() + " (" + r.Platform + ")"
}

// platformRows are the rows of a finished build: one per target and
// platform for a build for several platforms, its results otherwise.
func platformRows(r *buildRun) []buildgraph.TargetResult {
	o := r.Outcome
	if o == nil {
		return nil
	}
	if r.project == nil || len(r.project.Platforms) < 2 {
		return o.Results
	}
	rows := r.project.PlatformResults(r.Plans, o.Results)
	// Target by target, its platforms side by side.
	first := map[string]int{}
	for i, row := range rows {
		if _, ok := first[row.Label()]; !ok {
			first[row.Label()] = i
		}
	}
	slices.SortStableFunc(rows, func(a, b buildgraph.TargetResult) int { return first[a.Label()] - first[b.Label()] })
	return rows
}

// addResults puts the rows of a build in place of the rows of the same
// targets: a target built again for other platforms has the rows of its
// last build only.
func (m *Model) addResults(rows []buildgraph.TargetResult) {
	for i := 0; i < len(rows); {
		label := rows[i].Label()
		j := i
		for j < len(rows) && rows[j].Label() == label {
			j++
		}
		at := -1
		kept := m.results[:0:0]
		for _, old := range m.results {
			if old.Label() == label {
				if at < 0 {
					at = len(kept)
				}
				continue
			}
			kept = append(kept, old)
		}
		if at < 0 {
			at = len(kept)
		}
		m.results = slices.Concat(kept[:at], rows[i:j], kept[at:])
		i = j
	}
}
