package filetree

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/stagescope/stagescope/buildgraph"
)

// SchemaVersion is the version of the JSON `stagescope files` writes
// (docs/files-json.md).
const SchemaVersion = 1

// View is what `stagescope files` shows of one image: the tree (perhaps
// filtered to a layer or a stage) and, with a diff, what another target's
// image holds that this one does not.
type View struct {
	Image  string
	Target string
	Tree   *Tree
	// Shown is the part of Tree.Root shown (Tree.Root when not filtered).
	Shown *Node
	// Filter says what Shown is limited to ("" when whole).
	Filter string
	// Diff, when set, is the tree of what DiffTarget's image (DiffImage)
	// holds that this one does not; its nodes' layers are DiffLayers.
	Diff       *Node
	DiffLayers []Origin
	DiffTarget string
	DiffImage  string
}

// Sort orders a directory's children.
type Sort int

const (
	ByName Sort = iota
	BySize      // largest first, then by name
)

// Sorted are n's children in order s.
func (n *Node) Sorted(s Sort) []*Node {
	if s == ByName {
		return n.Children
	}
	out := append([]*Node(nil), n.Children...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Weight() > out[j].Weight() })
	return out
}

// TextOptions shape the tree text.
type TextOptions struct {
	Sort Sort
	// Depth limits the directories drawn below the root (0: all): deeper
	// contents are counted in their directory's size.
	Depth int
}

// WriteText writes the view as text: a summary, the layers with their
// instructions, the totals per stage, the tree, what later layers hid,
// and the diff.
func (v *View) WriteText(w io.Writer, o TextOptions) error {
	t := v.Tree
	fmt.Fprintf(w, "%s (target %s): %s, %s in %d layers; %s wasted by later layers; efficiency %.1f%% (dive's score)\n",
		Printable(v.Image), Printable(v.Target), plural(t.Root.Files, "file"), buildgraph.HumanSize(t.Root.Total), len(t.Layers),
		buildgraph.HumanSize(t.Wasted), t.Efficiency*100)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nLAYER\tSIZE\tSTAGE\tLINE\tINSTRUCTION")
	for i, l := range t.Layers {
		line := "-"
		if l.Line > 0 {
			line = strconv.Itoa(l.Line)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i, buildgraph.HumanSize(l.Size), Printable(l.Label()), line, layerText(l))
	}
	fmt.Fprintln(tw, "\nSTAGE\tLAYERS\tFILES\tSIZE\tWASTED")
	for _, s := range t.StageTotals() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", Printable(s.Stage), s.Layers, s.Files, buildgraph.HumanSize(s.Bytes), buildgraph.HumanSize(s.Wasted))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	shown := v.Shown
	if shown == nil {
		shown = t.Root
	}
	title := "files"
	if v.Filter != "" {
		title = "files of " + v.Filter
	}
	fmt.Fprintf(w, "\n%s: %d, %s\n", title, shown.Files, buildgraph.HumanSize(shown.Total))
	writeTree(w, shown, t.Layers, o)
	if len(t.Hidden) > 0 {
		fmt.Fprintf(w, "\ndeleted or overwritten by a later layer: %s\n", buildgraph.HumanSize(t.Wasted))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIZE\tWRITTEN BY\tHIDDEN BY\tHOW\tPATH")
		for _, h := range hiddenBySize(t.Hidden) {
			p := "/" + Printable(h.Path)
			if h.Kind == Dir {
				p += "/ (" + plural(h.Files, "file") + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", buildgraph.HumanSize(h.Size), layerRef(t.Layers, h.Layer), layerRef(t.Layers, h.By), h.How, p)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if v.Diff != nil {
		fmt.Fprintf(w, "\nin %s (%s), not in %s: %d files, %s\n", Printable(v.DiffTarget), Printable(v.DiffImage), Printable(v.Target),
			v.Diff.Files, buildgraph.HumanSize(v.Diff.Total))
		writeTree(w, v.Diff, v.DiffLayers, TextOptions{Sort: BySize, Depth: o.Depth})
	}
	return nil
}

// layerRef names a layer of layers in a line: "L3 builder:7".
func layerRef(layers []Origin, i int) string {
	if i < 0 || i >= len(layers) {
		return "-"
	}
	l := layers[i]
	s := fmt.Sprintf("L%d %s", i, Printable(l.Label()))
	if l.Line > 0 {
		s += ":" + strconv.Itoa(l.Line)
	}
	return s
}

func layerText(l Origin) string {
	s := l.Instruction
	if s == "" {
		s = l.CreatedBy
	}
	s = strings.Join(strings.Fields(buildgraph.SanitizeLine(s)), " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	if l.From != "" {
		s += " (from " + Printable(l.From) + ")"
	}
	return s
}

func hiddenBySize(h []Hidden) []Hidden {
	out := append([]Hidden(nil), h...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Size > out[j].Size })
	return out
}

// writeTree draws a tree: size, layer and origin columns, then the path
// drawn as a tree.
func writeTree(w io.Writer, root *Node, layers []Origin, o TextOptions) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SIZE\tLAYER\tPATH")
	fmt.Fprintf(tw, "%s\t\t/\n", buildgraph.HumanSize(root.Weight()))
	var walk func(n *Node, prefix string, depth int)
	walk = func(n *Node, prefix string, depth int) {
		kids := n.Sorted(o.Sort)
		for i, c := range kids {
			branch, next := "├── ", "│   "
			if i == len(kids)-1 {
				branch, next = "└── ", "    "
			}
			name := Printable(c.Name)
			switch c.Kind {
			case Dir:
				name += "/"
			case Symlink:
				name += " -> " + Printable(c.Link)
			case Hardlink:
				name += " => /" + Printable(c.Link)
			case Other:
				name += " (device, fifo or socket)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s%s%s\n", buildgraph.HumanSize(c.Weight()), layerRef(layers, c.Layer), prefix, branch, name)
			if c.Kind == Dir && (o.Depth == 0 || depth < o.Depth) {
				walk(c, prefix+next, depth+1)
			}
		}
	}
	walk(root, "", 1)
	_ = tw.Flush()
}

// WriteJSON writes the view as JSON (docs/files-json.md).
func (v *View) WriteJSON(w io.Writer) error {
	t := v.Tree
	shown := v.Shown
	if shown == nil {
		shown = t.Root
	}
	type jsonLayer struct {
		Index int `json:"index"`
		Origin
	}
	type jsonFile struct {
		Path    string `json:"path"`
		RawPath []byte `json:"rawPath,omitempty"`
		Kind    Kind   `json:"kind"`
		Size    int64  `json:"size"`
		Mode    string `json:"mode"`
		Link    string `json:"link,omitempty"`
		RawLink []byte `json:"rawLink,omitempty"`
		UID     int    `json:"uid"`
		GID     int    `json:"gid"`
		Layer   int    `json:"layer"`
	}
	type jsonHidden struct {
		Hidden
		RawPath []byte `json:"rawPath,omitempty"`
	}
	type jsonDiff struct {
		Target string      `json:"target"`
		Image  string      `json:"image"`
		Files  int         `json:"files"`
		Bytes  int64       `json:"bytes"`
		Layers []jsonLayer `json:"layers"`
		List   []jsonFile  `json:"list"`
	}
	raw := func(s string) []byte {
		if utf8.ValidString(s) {
			return nil
		}
		return []byte(s)
	}
	files := func(root *Node) []jsonFile {
		out := []jsonFile{}
		root.Walk(func(n *Node) bool {
			out = append(out, jsonFile{
				Path: "/" + n.Path, RawPath: raw(n.Path), Kind: n.Kind, Size: n.Weight(), Mode: fmt.Sprintf("%04o", n.Mode),
				Link: n.Link, RawLink: raw(n.Link), UID: n.UID, GID: n.GID, Layer: n.Layer,
			})
			return true
		})
		return out
	}
	out := struct {
		SchemaVersion int    `json:"schemaVersion"`
		Image         string `json:"image"`
		Target        string `json:"target"`
		Filter        string `json:"filter,omitempty"`
		Totals        struct {
			Files           int     `json:"files"`
			Bytes           int64   `json:"bytes"`
			ShownFiles      int     `json:"shownFiles"`
			ShownBytes      int64   `json:"shownBytes"`
			Wasted          int64   `json:"wasted"`
			Efficiency      float64 `json:"efficiency"`
			DiveWastedBytes int64   `json:"diveWastedBytes"`
		} `json:"totals"`
		Layers []jsonLayer  `json:"layers"`
		Stages []StageTotal `json:"stages"`
		Files  []jsonFile   `json:"files"`
		Hidden []jsonHidden `json:"hidden"`
		Diff   *jsonDiff    `json:"diff,omitempty"`
	}{SchemaVersion: SchemaVersion, Image: v.Image, Target: v.Target, Filter: v.Filter}
	out.Totals.Files, out.Totals.Bytes = t.Root.Files, t.Root.Total
	out.Totals.ShownFiles, out.Totals.ShownBytes = shown.Files, shown.Total
	out.Totals.Wasted, out.Totals.Efficiency, out.Totals.DiveWastedBytes = t.Wasted, t.Efficiency, t.DiveWasted
	layers := func(ls []Origin) []jsonLayer {
		out := []jsonLayer{}
		for i, l := range ls {
			out = append(out, jsonLayer{Index: i, Origin: l})
		}
		return out
	}
	out.Layers = layers(t.Layers)
	out.Stages = t.StageTotals()
	out.Files = files(shown)
	out.Hidden = []jsonHidden{}
	for _, h := range t.Hidden {
		jh := jsonHidden{Hidden: h, RawPath: raw(h.Path)}
		jh.Path = "/" + h.Path
		out.Hidden = append(out.Hidden, jh)
	}
	if v.Diff != nil {
		out.Diff = &jsonDiff{Target: v.DiffTarget, Image: v.DiffImage, Files: v.Diff.Files, Bytes: v.Diff.Total, Layers: layers(v.DiffLayers), List: files(v.Diff)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
