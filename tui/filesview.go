package tui

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/filetree"
	"github.com/stagescope/stagescope/pipeline"
)

// filesTitle names the files screen.
const filesTitle = "Files"

// FilesKeyMap is the files screen's keys.
type FilesKeyMap struct {
	Up, Down, PageUp, PageDown key.Binding
	Toggle, Expand, Collapse   key.Binding
	Sort, Layer, Stage, Diff   key.Binding
	Hidden                     key.Binding
	Filter, Clear, Accept      key.Binding
}

// DefaultFilesKeyMap returns the files screen's keys.
func DefaultFilesKeyMap() FilesKeyMap {
	return FilesKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Toggle:   key.NewBinding(key.WithKeys("enter", "space"), key.WithHelp("enter", "open/close")),
		Expand:   key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "open")),
		Collapse: key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "close")),
		Sort:     key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Layer:    key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "layer")),
		Stage:    key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "stage")),
		Diff:     key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff")),
		Hidden:   key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hidden by later layers")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Clear:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter"), key.WithDisabled()),
		Accept:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter"), key.WithDisabled()),
	}
}

// Messages of the files screen.
type (
	// openFilesMsg brings the files screen forward on target's image;
	// platform names the image of an index it is (a compare row of a
	// build for several platforms), "" for the image built; with oneLayer,
	// on what its layer (numbered as the screen numbers them: the layers
	// with data, from the bottom) added.
	openFilesMsg struct {
		target, platform string
		layer            int
		oneLayer         bool
	}
	// filesRequestMsg asks the root to read the files of built images
	// with its engine session (readFiles).
	filesRequestMsg struct {
		id   int
		reqs []filesReq
	}
	// filesLoadedMsg carries what readFiles read, for request id.
	filesLoadedMsg struct {
		id    int
		trees []*filetree.Tree
		err   error
	}
	// filesProgressMsg says how far readFiles is with request id: of the
	// image of target, done bytes of layer data read of total, after
	// elapsed. Its channel brings the next one (waitFilesProgress).
	filesProgressMsg struct {
		id          int
		target      string
		done, total int64
		elapsed     time.Duration
		next        <-chan filesProgressMsg
	}
)

// filesProgressEvery is how often at most the screen takes readFiles'
// latest figure.
const filesProgressEvery = 100 * time.Millisecond

// waitFilesProgress waits for readFiles' latest progress after a pause
// (the figures of the pause are replaced by the last one), nil once the
// reading is done.
func waitFilesProgress(ch <-chan filesProgressMsg, pause time.Duration) tea.Cmd {
	return func() tea.Msg {
		time.Sleep(pause)
		p, ok := <-ch
		if !ok {
			return nil
		}
		p.next = ch
		return p
	}
}

func (openFilesMsg) focusScreen() string { return filesTitle }

// filesReq is one built image to read.
type filesReq struct {
	plan *pipeline.Plan
	res  *engine.Result
}

// readFiles reads the images of a request off the UI loop, with the
// session of the moment, captured by value, telling how far it is (a
// newer figure replaces one not yet taken).
func readFiles(ctx context.Context, s pipeline.Session, msg filesRequestMsg) tea.Cmd {
	ch := make(chan filesProgressMsg, 1)
	read := func() tea.Msg {
		defer close(ch)
		if s == nil {
			return filesLoadedMsg{id: msg.id, err: fmt.Errorf("no engine: the files of an image are read from the engine that built it")}
		}
		out := filesLoadedMsg{id: msg.id}
		start := time.Now()
		for _, r := range msg.reqs {
			// The engine calls it from one goroutine at a time.
			progress := func(done, total int64) {
				p := filesProgressMsg{id: msg.id, target: r.plan.Target, done: done, total: total, elapsed: time.Since(start)}
				select {
				case <-ch: // not taken yet: the newer figure replaces it
				default:
				}
				ch <- p
			}
			t, err := pipeline.Files(ctx, s, r.plan, r.res, progress)
			if err != nil {
				out.err = fmt.Errorf("reading the files of %s: %w", r.plan.Target, err)
				return out
			}
			out.trees = append(out.trees, t)
		}
		return out
	}
	return tea.Batch(read, waitFilesProgress(ch, 0))
}

// builtImage is a target built in this session and where its image is.
type builtImage struct {
	plan *pipeline.Plan
	res  *engine.Result
}

// FilesView shows the file system of a built target's image: a tree with
// the layer, instruction and stage that wrote each path, what later layers
// hid, totals per stage; limited to a layer, a stage or paths; or what
// another target's image holds that this one does not.
type FilesView struct {
	baseScreen
	keys   FilesKeyMap
	styles Styles

	width, height int
	built         map[string]builtImage // by target, the last build of each
	order         []string              // targets in the order they were built

	target, diffWith string
	platform         string // the platform of the index's image read, "" for the image
	req              int
	loading          bool
	progress         filesProgressMsg // how far the reading is
	err              string
	tree, other      *filetree.Tree

	expanded  map[string]bool
	cursor    int
	off       int
	bySize    bool
	layer     int    // -1: every layer
	stage     string // "": every stage
	filter    filterInput
	filtering bool
	// hidden shows what later layers deleted or overwrote instead of
	// the tree.
	hidden bool

	// cached is root's last answer and what it was computed from: the
	// diff and the filters walk the whole tree.
	cached    *filetree.Node
	cachedFor rootKey
	diff      *filetree.Node
	diffOf    [2]*filetree.Tree
}

// rootKey is what root depends on.
type rootKey struct {
	tree, other *filetree.Tree
	diff        bool
	layer       int
	stage, path string
}

func newFilesScreen(_ Options, s Styles) Screen {
	return &FilesView{keys: DefaultFilesKeyMap(), styles: s, built: map[string]builtImage{}, expanded: map[string]bool{}, bySize: true, layer: -1}
}

// Title names the screen.
func (v *FilesView) Title() string { return filesTitle }

// Help lists the screen's keys: the filter's alone while it is typed in.
func (v *FilesView) Help(GlobalKeyMap) (short []key.Binding, full [][]key.Binding) {
	k := v.keys
	if v.filtering {
		return []key.Binding{k.Accept, k.Clear}, [][]key.Binding{{k.Accept, k.Clear}}
	}
	short = []key.Binding{k.Toggle, k.Filter, k.Layer, k.Stage, k.Diff, k.Sort}
	full = [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Toggle, k.Expand, k.Collapse, k.Sort}, {k.Filter, k.Clear, k.Layer, k.Stage, k.Diff, k.Hidden}}
	return short, full
}

// Captures: the filter input takes every key while it is typed in.
func (v *FilesView) Captures() bool { return v.filtering }

// Back clears a kept filter, then a layer or stage limit, then the diff.
func (v *FilesView) Back() bool {
	switch {
	case v.filtering:
		return false
	case v.hidden:
		v.hidden = false
	case v.filter.Value() != "":
		v.filter.SetValue("")
		v.keys.Clear.SetEnabled(false)
	case v.layer >= 0 || v.stage != "":
		v.layer, v.stage = -1, ""
	case v.diffWith != "":
		v.diffWith, v.other = "", nil
	default:
		return false
	}
	v.cursor, v.off = 0, 0
	return true
}

// SetStyles switches the styles.
func (v *FilesView) SetStyles(s Styles) { v.styles = s }

// SetSize sets the size of the body.
func (v *FilesView) SetSize(w, h int) { v.width, v.height = w, h }

// Update takes the screen's keys, the builds that finish (their images
// can be read) and what was read.
func (v *FilesView) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case buildStateMsg:
		v.collect(msg.run)
		return v, nil
	case openFilesMsg:
		v.diffWith, v.other = "", nil
		v.platform = msg.platform
		v.layer, v.stage, v.hidden = -1, "", false
		if msg.oneLayer {
			v.layer = msg.layer
		}
		v.cursor, v.off = 0, 0
		return v, v.open(msg.target)
	case filesProgressMsg:
		if msg.id == v.req {
			v.progress = msg
		}
		return v, nil
	case filesLoadedMsg:
		if msg.id != v.req {
			return v, nil // a later request replaced it
		}
		v.loading = false
		if msg.err != nil {
			v.err = buildgraph.FirstLine(msg.err.Error())
			return v, nil
		}
		v.err = ""
		v.tree = msg.trees[0]
		v.other = nil
		if len(msg.trees) > 1 {
			v.other = msg.trees[1]
		}
		if v.layer >= len(v.shownTree().Layers) {
			v.layer = -1 // a history that does not line up with the layers
		}
		v.cursor, v.off = 0, 0
		return v, nil
	case tea.KeyPressMsg:
		return v, v.key(msg)
	}
	return v, nil
}

// collect keeps the targets a finished build built.
func (v *FilesView) collect(r *buildRun) {
	if r == nil || r.Phase != pipeline.Finished || r.Outcome == nil {
		return
	}
	for i, p := range r.Plans {
		if i >= len(r.Outcome.Built) || r.Outcome.Built[i] == nil {
			continue
		}
		if _, ok := v.built[p.Target]; !ok {
			v.order = append(v.order, p.Target)
		}
		v.built[p.Target] = builtImage{plan: p, res: r.Outcome.Built[i]}
	}
}

// open reads target's image (and the diff target's).
func (v *FilesView) open(target string) tea.Cmd {
	v.target, v.err = target, ""
	b, ok := v.built[target]
	if !ok {
		v.tree, v.loading = nil, false
		if target == "" {
			v.err = "No target is focused: build one, then press f on the compare screen."
		} else {
			v.err = "The image of " + target + " was not built in this session: build it (enter on the compare screen), then press f."
		}
		return nil
	}
	reqs := []filesReq{{plan: b.plan, res: v.platformImage(b.res)}}
	if d, ok := v.built[v.diffWith]; ok && v.diffWith != "" {
		reqs = append(reqs, filesReq{plan: d.plan, res: v.platformImage(d.res)})
	}
	v.req++
	v.loading, v.progress = true, filesProgressMsg{}
	id := v.req
	return func() tea.Msg { return filesRequestMsg{id: id, reqs: reqs} }
}

// scrolled is the cursor kept among n rows and the first row shown, so
// that the cursor is on the screen.
func (v *FilesView) scrolled(n int) (cursor, off int) {
	h := v.listHeight()
	cursor, off = min(v.cursor, max(n-1, 0)), v.off
	if cursor < off {
		off = cursor
	}
	if cursor >= off+h {
		off = cursor - h + 1
	}
	return cursor, off
}

func (v *FilesView) key(k tea.KeyPressMsg) tea.Cmd {
	cmd := v.handleKey(k)
	v.cursor, v.off = v.scrolled(v.rowCount())
	return cmd
}

func (v *FilesView) handleKey(k tea.KeyPressMsg) tea.Cmd {
	if v.filtering {
		switch {
		case key.Matches(k, v.keys.Clear):
			v.filter.SetValue("")
			v.stopFilter()
		case key.Matches(k, v.keys.Accept):
			v.stopFilter()
			v.keys.Clear.SetEnabled(v.filter.Value() != "")
		default:
			if v.filter.Update(k) {
				v.cursor, v.off = 0, 0
			}
		}
		return nil
	}
	n := v.rowCount()
	switch {
	case key.Matches(k, v.keys.Up):
		v.cursor = max(v.cursor-1, 0)
	case key.Matches(k, v.keys.Down):
		v.cursor = min(v.cursor+1, max(n-1, 0))
	case key.Matches(k, v.keys.PageUp):
		v.cursor = max(v.cursor-v.page(), 0)
	case key.Matches(k, v.keys.PageDown):
		v.cursor = min(v.cursor+v.page(), max(n-1, 0))
	case key.Matches(k, v.keys.Toggle), key.Matches(k, v.keys.Expand), key.Matches(k, v.keys.Collapse):
		if rows := v.rows(); !v.hidden && v.cursor < len(rows) && rows[v.cursor].node.Kind == filetree.Dir {
			p := rows[v.cursor].node.Path
			switch {
			case key.Matches(k, v.keys.Expand):
				v.expanded[p] = true
			case key.Matches(k, v.keys.Collapse):
				delete(v.expanded, p)
			default:
				v.expanded[p] = !v.expanded[p]
			}
		}
	case key.Matches(k, v.keys.Sort):
		v.bySize = !v.bySize
	case key.Matches(k, v.keys.Hidden):
		v.hidden = !v.hidden
		v.cursor, v.off = 0, 0
	case key.Matches(k, v.keys.Filter):
		v.filtering = true
		v.keys.Clear.SetEnabled(true)
		v.keys.Accept.SetEnabled(true)
	case key.Matches(k, v.keys.Layer):
		if t := v.shownTree(); t != nil {
			v.layer++
			if v.layer >= len(t.Layers) {
				v.layer = -1
			}
			v.cursor, v.off = 0, 0
		}
	case key.Matches(k, v.keys.Stage):
		if t := v.shownTree(); t != nil {
			labels := stageLabels(t)
			i := 0
			for j, l := range labels {
				if l == v.stage {
					i = j + 1
				}
			}
			v.stage = ""
			if i < len(labels) {
				v.stage = labels[i]
			}
			v.cursor, v.off = 0, 0
		}
	case key.Matches(k, v.keys.Diff):
		// The next other target built, then none.
		var others []string
		for _, t := range v.order {
			if t != v.target {
				others = append(others, t)
			}
		}
		if len(others) == 0 {
			return func() tea.Msg {
				return noticeMsg{text: "Build another target to compare files with (enter on the graph or compare screen)."}
			}
		}
		next := others[0]
		for i, t := range others {
			if t == v.diffWith && i+1 < len(others) {
				next = others[i+1]
			} else if t == v.diffWith {
				next = ""
			}
		}
		v.diffWith, v.layer, v.stage = next, -1, ""
		if next == "" {
			v.other = nil
			return nil
		}
		return v.open(v.target)
	}
	return nil
}

func (v *FilesView) stopFilter() {
	v.filtering = false
	v.keys.Accept.SetEnabled(false)
	v.cursor, v.off = 0, 0
}

func (v *FilesView) page() int { return max(v.listHeight()-1, 1) }

// shownTree is the tree whose layers the rows refer to: the other
// target's in diff mode.
func (v *FilesView) shownTree() *filetree.Tree {
	if v.diffWith != "" && v.other != nil {
		return v.other
	}
	return v.tree
}

func stageLabels(t *filetree.Tree) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range t.Layers {
		if lb := l.Label(); !seen[lb] {
			seen[lb] = true
			out = append(out, lb)
		}
	}
	return out
}

// root is what the rows show: the tree, or the diff, limited to a layer,
// a stage and the paths that match the filter.
func (v *FilesView) root() *filetree.Node {
	t := v.shownTree()
	if t == nil {
		return nil
	}
	k := rootKey{tree: v.tree, other: v.other, diff: v.diffWith != "", layer: v.layer, stage: v.stage, path: v.filter.Value()}
	if v.cached != nil && k == v.cachedFor {
		return v.cached
	}
	v.cached, v.cachedFor = v.computeRoot(t), k
	return v.cached
}

func (v *FilesView) computeRoot(t *filetree.Tree) *filetree.Node {
	n := t.Root
	if v.diffWith != "" && v.other != nil {
		n = v.diffRoot()
	}
	q := strings.ToLower(v.filter.Value())
	if v.layer < 0 && v.stage == "" && q == "" {
		return n
	}
	return n.Filter(func(c *filetree.Node) bool {
		if v.layer >= 0 && c.Layer != v.layer {
			return false
		}
		if v.stage != "" && (c.Layer < 0 || c.Layer >= len(t.Layers) || t.Layers[c.Layer].Label() != v.stage) {
			return false
		}
		return q == "" || strings.Contains(strings.ToLower(c.Path), q)
	})
}

// diffRoot is what the other target's image holds that this one does
// not, computed once per pair of trees.
func (v *FilesView) diffRoot() *filetree.Node {
	if v.diffOf != [2]*filetree.Tree{v.tree, v.other} {
		v.diff, v.diffOf = filetree.Diff(v.other, v.tree), [2]*filetree.Tree{v.tree, v.other}
	}
	return v.diff
}

// rowCount is the rows the cursor moves among.
func (v *FilesView) rowCount() int {
	if v.hidden {
		if t := v.shownTree(); t != nil {
			return max(len(t.Hidden), 1)
		}
		return 0
	}
	return len(v.rows())
}

// hiddenLines draws what later layers hid, largest first.
func (v *FilesView) hiddenLines(cursor, off, h, layerW int) []string {
	s := v.styles
	t := v.shownTree()
	list := append([]filetree.Hidden(nil), t.Hidden...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Size > list[j].Size })
	if len(list) == 0 {
		return []string{s.Muted.Render("  no layer deletes or overwrites what a layer below it wrote")}
	}
	var out []string
	for i := off; i < min(len(list), off+h); i++ {
		hd := list[i]
		p := "/" + filetree.Printable(hd.Path)
		if hd.Kind == filetree.Dir {
			p += "/ (" + plural(hd.Files, "file") + ")"
		}
		line := " " + padLeft(buildgraph.HumanSize(hd.Size), 8) + "  " + pad(layerRef(t.Layers, hd.Layer), layerW) + "  " +
			pad(hd.How+" by "+layerRef(t.Layers, hd.By), layerW+15) + "  " + clean(p)
		if i == cursor {
			line = highlight(s.Selected, pad(line, v.width))
		}
		out = append(out, line)
	}
	return out
}

// layerRef names a layer in a row: "L3 builder:5".
func layerRef(layers []filetree.Origin, i int) string {
	if i < 0 || i >= len(layers) {
		return "-"
	}
	l := layers[i]
	ref := "L" + strconv.Itoa(i) + " " + clean(l.Label())
	if l.Line > 0 {
		ref += ":" + strconv.Itoa(l.Line)
	}
	return ref
}

// fileRow is one row of the tree.
type fileRow struct {
	node  *filetree.Node
	depth int
	last  []bool // for each level, whether the node there is the last child
}

// rows are the visible rows: the root's children, and the children of
// the folders opened (all of them while a path filter is kept).
func (v *FilesView) rows() []fileRow {
	root := v.root()
	if root == nil {
		return nil
	}
	order := filetree.ByName
	if v.bySize {
		order = filetree.BySize
	}
	all := v.filter.Value() != ""
	var out []fileRow
	var walk func(n *filetree.Node, depth int, last []bool)
	walk = func(n *filetree.Node, depth int, last []bool) {
		kids := n.Sorted(order)
		for i, c := range kids {
			l := append(append([]bool(nil), last...), i == len(kids)-1)
			out = append(out, fileRow{node: c, depth: depth, last: l})
			if c.Kind == filetree.Dir && (all || v.expanded[c.Path]) {
				walk(c, depth+1, l)
			}
		}
	}
	walk(root, 0, nil)
	return out
}

// platformImage is res with the platform whose image of the index is
// read.
func (v *FilesView) platformImage(res *engine.Result) *engine.Result {
	if res == nil || v.platform == "" {
		return res
	}
	c := *res
	c.Platform = v.platform
	return &c
}

// shownTarget names the image read: the target, and its platform.
func (v *FilesView) shownTarget() string {
	if v.platform == "" {
		return v.target
	}
	return v.target + " (" + v.platform + ")"
}

// head is the lines above the tree.
func (v *FilesView) head() []string {
	s := v.styles
	t := v.tree
	title := s.Bold.Render(" Files of "+clean(v.shownTarget())) + s.Muted.Render(" · "+plural(t.Root.Files, "file")+", "+buildgraph.HumanSize(t.Root.Total)+
		" · "+buildgraph.HumanSize(t.Wasted)+" hidden · "+strconv.FormatFloat(t.Efficiency*100, 'f', 1, 64)+"% efficient")
	var stages []string
	for _, st := range t.StageTotals() {
		part := clean(st.Stage) + " " + buildgraph.HumanSize(st.Bytes)
		if st.Wasted > 0 {
			part += " (" + buildgraph.HumanSize(st.Wasted) + " hidden)"
		}
		stages = append(stages, part)
	}
	lines := []string{title, s.Muted.Render(" by stage: ") + strings.Join(stages, s.Muted.Render(" · "))}
	shown := []string{}
	st := v.shownTree()
	if v.diffWith != "" {
		if v.other == nil {
			shown = append(shown, s.Running.Render("reading "+clean(v.diffWith)+"…"))
		} else if root := v.diffRoot(); root != nil {
			shown = append(shown, s.Accent.Render("in "+clean(v.diffWith)+", not in "+clean(v.target)+": "+plural(root.Files, "file")+", "+buildgraph.HumanSize(root.Total)))
		}
	}
	switch {
	case v.layer >= 0 && st != nil && v.layer < len(st.Layers):
		l := st.Layers[v.layer]
		shown = append(shown, s.Accent.Render(fmt.Sprintf("layer %d: %s", v.layer, clean(layerLine(l)))))
	case v.stage != "":
		shown = append(shown, s.Accent.Render("stage "+clean(v.stage)))
	}
	if v.hidden {
		shown = []string{s.Accent.Render("deleted or overwritten by a later layer: " + buildgraph.HumanSize(st.Wasted) + " (h: the tree)")}
	}
	if len(shown) == 0 {
		shown = append(shown, s.Muted.Render("every layer"))
	}
	order := "size"
	if !v.bySize {
		order = "name"
	}
	line := " " + strings.Join(shown, s.Muted.Render(" · ")) + s.Muted.Render(" · by "+order)
	if v.filtering || v.filter.Value() != "" {
		line = " " + v.filterView() + s.Muted.Render(" · ") + strings.Join(shown, s.Muted.Render(" · "))
	}
	return append(lines, line)
}

func (v *FilesView) filterView() string {
	s := v.styles
	text := clean(v.filter.Value())
	if v.filtering {
		return s.Accent.Render("/") + text + s.Accent.Render("▏") + s.Faint.Render(" part of a path, enter keeps, esc clears")
	}
	return s.Muted.Render("paths with: " + text + " (esc clears)")
}

func layerLine(l filetree.Origin) string {
	text := l.Instruction
	if text == "" {
		text = l.CreatedBy
	}
	text = strings.Join(strings.Fields(text), " ")
	where := l.Label()
	if l.Line > 0 {
		where += ":" + strconv.Itoa(l.Line)
	}
	if text == "" {
		return where
	}
	return where + " " + text
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// listHeight is the rows the tree has: the body less the three head
// lines and the column titles.
func (v *FilesView) listHeight() int { return max(v.height-4, 1) }

// View draws the body.
func (v *FilesView) View() string {
	s := v.styles
	switch {
	case v.loading && v.tree == nil:
		return fit([]string{"", s.Running.Render(" Reading the layers of " + clean(v.shownTarget()) + "…" + v.progressText())}, v.width, v.height)
	case v.err != "":
		return fit(append([]string{""}, wrapLines(clean(v.err), v.width-2, " ")...), v.width, v.height)
	case v.tree == nil:
		return fit(append([]string{""}, wrapLines("Build a target, then press f on the compare screen: its image's files show here, with the layer, instruction and stage that wrote each.", v.width-2, " ")...), v.width, v.height)
	}
	lines := v.head()
	const sizeW = 8
	layerW := min(22, max(v.width/5, 12))
	h := v.listHeight()
	if v.hidden {
		cursor, off := v.scrolled(v.rowCount())
		lines = append(lines, s.Muted.Render(" "+padLeft("SIZE", sizeW)+"  "+pad("WRITTEN BY", layerW)+"  "+pad("HIDDEN", layerW+15)+"  PATH"))
		return fit(append(lines, v.hiddenLines(cursor, off, h, layerW)...), v.width, v.height)
	}
	lines = append(lines, s.Muted.Render(" "+padLeft("SIZE", sizeW)+"  "+pad("LAYER", layerW)+"  PATH"))
	rows := v.rows()
	cursor, off := v.scrolled(len(rows))
	layers := v.shownTree().Layers
	if len(rows) == 0 {
		lines = append(lines, s.Muted.Render("  nothing here"))
	}
	for i := off; i < min(len(rows), off+h); i++ {
		r := rows[i]
		n := r.node
		var tree strings.Builder
		for d := 0; d < r.depth; d++ {
			if r.last[d] {
				tree.WriteString("  ")
			} else {
				tree.WriteString("│ ")
			}
		}
		mark := "  "
		if n.Kind == filetree.Dir {
			mark = "▸ "
			if v.expanded[n.Path] || v.filter.Value() != "" {
				mark = "▾ "
			}
		}
		name := filetree.Printable(n.Name)
		switch n.Kind {
		case filetree.Dir:
			name += "/"
		case filetree.Symlink:
			name += " → " + filetree.Printable(n.Link)
		case filetree.Hardlink:
			name += " ⇒ /" + filetree.Printable(n.Link)
		}
		ref := layerRef(layers, n.Layer)
		line := " " + padLeft(buildgraph.HumanSize(n.Weight()), sizeW) + "  " + pad(ref, layerW) + "  " + s.Faint.Render(tree.String()) + mark + clean(name)
		if i == cursor {
			line = highlight(s.Selected, pad(line, v.width))
		}
		lines = append(lines, line)
	}
	return fit(lines, v.width, v.height)
}

// progressText is how far the reading is, as the compare screen's
// measuring says it: " 12MB of 300MB 1.2s (builder)", "" before the first
// figure.
func (v *FilesView) progressText() string {
	p := v.progress
	if p.total <= 0 {
		return ""
	}
	out := fmt.Sprintf(" %s of %s %s", buildgraph.HumanSize(p.done), buildgraph.HumanSize(p.total), duration(p.elapsed))
	if p.target != v.target {
		out += " (" + p.target + ")"
	}
	return out
}

// Status says what the focused row's layer did, or the build's summary.
func (v *FilesView) Status(build func() string) string {
	rows := v.rows()
	t := v.shownTree()
	if t == nil || v.cursor >= len(rows) {
		return build()
	}
	n := rows[v.cursor].node
	if n.Layer < 0 || n.Layer >= len(t.Layers) {
		return build()
	}
	l := t.Layers[n.Layer]
	st := "/" + filetree.Printable(n.Path) + ": " + layerLine(l)
	if l.From != "" {
		st += " (from " + l.From + ")"
	}
	return clean(st)
}
