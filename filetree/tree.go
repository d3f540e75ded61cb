package filetree

import (
	"path"
	"sort"
	"strings"
)

// Origin is where a layer comes from: its digest and, once the image's
// history is lined up with the Dockerfile (buildgraph.Attribute), the
// instruction that made it.
type Origin struct {
	// Digest is the layer's DiffID (the digest of its uncompressed tar).
	Digest string `json:"digest,omitempty"`
	// Size is the sum of its regular files' sizes.
	Size int64 `json:"size"`
	// Base is true for a layer of the base image (then Stage is -1).
	Base bool `json:"base"`
	// Stage, StageName, Line and Instruction locate the instruction;
	// empty (Stage -1) when the history could not be lined up.
	Stage       int    `json:"stage"`
	StageName   string `json:"stageName,omitempty"`
	Line        int    `json:"line,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	// From is the source of a COPY --from or ADD --from: a stage name or
	// an image reference.
	From string `json:"from,omitempty"`
	// CreatedBy is the image history's entry for the layer.
	CreatedBy string `json:"createdBy,omitempty"`
}

// Label names where a layer comes from in a few words: "base", the stage
// name, or "?" when unknown.
func (o Origin) Label() string {
	switch {
	case o.Base:
		return "base"
	case o.StageName != "":
		return o.StageName
	}
	return "?"
}

// Input is one layer to stack: its entries and where it comes from.
type Input struct {
	Origin Origin
	Layer  *Layer
}

// Node is a path of the stacked file system.
type Node struct {
	// Name is the last element of Path; Path is relative to the root
	// ("" for the root itself).
	Name string `json:"-"`
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Size is a regular file's size; for a directory, Total and Files
	// count the regular files below it.
	Size  int64  `json:"size"`
	Total int64  `json:"-"`
	Files int    `json:"-"`
	Mode  int64  `json:"mode"`
	Link  string `json:"link,omitempty"`
	UID   int    `json:"uid,omitempty"`
	GID   int    `json:"gid,omitempty"`
	// Layer is the index of the layer that wrote the entry (for a
	// directory no layer wrote, the one that first put something in it).
	Layer int `json:"layer"`
	// Children are a directory's entries, by name.
	Children []*Node `json:"-"`

	children map[string]*Node
}

// Weight is the bytes a node holds: a file's size, a directory's total.
func (n *Node) Weight() int64 {
	if n.Kind == Dir {
		return n.Total
	}
	return n.Size
}

// Hidden is what a layer wrote that a later one deleted or overwrote: it
// is still in the image's layers (downloaded, stored) but nothing in the
// image's file system can see it. A directory hidden with its contents is
// one Hidden with their total.
type Hidden struct {
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Size is the file's size, or the total of the files below a
	// directory (Files of them).
	Size  int64 `json:"size"`
	Files int   `json:"files,omitempty"`
	// Layer wrote it; By hid it, How: "deleted" (a whiteout or an opaque
	// directory) or "overwritten".
	Layer int    `json:"layer"`
	By    int    `json:"by"`
	How   string `json:"how"`
}

// Tree is an image's file system, stacked from its layers.
type Tree struct {
	Layers []Origin
	Root   *Node
	Hidden []Hidden
	// Wasted is the sum of Hidden's sizes: bytes of regular files that a
	// later layer deleted or overwrote.
	Wasted int64
	// Efficiency is dive's score (see Efficiency); DiveWasted dive's
	// "potential wasted space".
	Efficiency float64
	DiveWasted int64

	// wastedBy is Wasted by the layer that wrote the bytes (a directory
	// hidden whole holds files of several layers).
	wastedBy map[int]int64
}

// Build stacks layers, oldest first, as a container runtime would: each
// layer's whiteouts and opaque directories remove what the layers below
// put there (a layer's own entries are never hidden by its own whiteouts,
// whatever their order in the stream), then its entries are added,
// replacing what was at their paths.
func Build(layers []Input) *Tree {
	t := &Tree{Root: newDir("", "", -1)}
	eff := newEfficiency()
	for li, in := range layers {
		o := in.Origin
		if in.Layer != nil {
			o.Size = in.Layer.Size
		}
		t.Layers = append(t.Layers, o)
		if in.Layer == nil {
			continue
		}
		for _, e := range in.Layer.Entries {
			switch e.Kind {
			case Whiteout:
				n := t.lookup(e.Path)
				eff.whiteout(e.Path, n)
				if n != nil {
					t.hide(n, li, "deleted")
					t.detach(e.Path)
				}
			case Opaque:
				if n := t.lookup(e.Path); n != nil && n.Kind == Dir {
					for _, c := range n.children {
						t.hide(c, li, "deleted")
					}
					n.children = map[string]*Node{}
				}
			}
		}
		for _, e := range in.Layer.Entries {
			if e.Kind == Whiteout || e.Kind == Opaque {
				continue
			}
			t.add(e, li)
		}
		eff.layer(in.Layer.Entries)
	}
	finish(t.Root)
	t.Efficiency, t.DiveWasted = eff.score()
	return t
}

func newDir(name, p string, layer int) *Node {
	return &Node{Name: name, Path: p, Kind: Dir, Mode: 0o755, Layer: layer, children: map[string]*Node{}}
}

// lookup finds a path in the stacked tree (nil when absent).
func (t *Tree) lookup(p string) *Node {
	n := t.Root
	if p == "" {
		return n
	}
	for _, part := range strings.Split(p, "/") {
		if n.children == nil {
			return nil
		}
		if n = n.children[part]; n == nil {
			return nil
		}
	}
	return n
}

// Lookup finds a path ("usr/bin/go", or "" for the root) in the tree.
func (t *Tree) Lookup(p string) *Node { return t.lookup(Clean(p)) }

func (t *Tree) detach(p string) {
	dir, name := path.Split(p)
	if parent := t.lookup(strings.TrimSuffix(dir, "/")); parent != nil && parent.children != nil {
		delete(parent.children, name)
	}
}

// hide records n, with everything below it, as hidden by layer by.
func (t *Tree) hide(n *Node, by int, how string) {
	size, files := subtree(n)
	t.Hidden = append(t.Hidden, Hidden{Path: n.Path, Kind: n.Kind, Size: size, Files: files, Layer: n.Layer, By: by, How: how})
	t.Wasted += size
	if t.wastedBy == nil {
		t.wastedBy = map[int]int64{}
	}
	var count func(*Node)
	count = func(c *Node) { // each file's bytes to the layer that wrote it
		if c.Kind == File {
			t.wastedBy[c.Layer] += c.Size
		}
		for _, cc := range c.children {
			count(cc)
		}
	}
	count(n)
}

// subtree counts the regular files at and below n.
func subtree(n *Node) (size int64, files int) {
	if n.Kind == File {
		return n.Size, 1
	}
	for _, c := range n.children {
		s, f := subtree(c)
		size += s
		files += f
	}
	return size, files
}

// add puts an entry of layer li into the tree, making the directories
// above it that no layer wrote.
func (t *Tree) add(e Entry, li int) {
	dir, name := path.Split(e.Path)
	parent := t.Root
	if dir != "" {
		for _, part := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
			c := parent.children[part]
			if c == nil || c.Kind != Dir {
				if c != nil { // a file where a directory is now needed
					t.hide(c, li, "overwritten")
				}
				c = newDir(part, path.Join(parent.Path, part), li)
				parent.children[part] = c
			}
			parent = c
		}
	}
	n := &Node{Name: name, Path: e.Path, Kind: e.Kind, Size: e.Size, Mode: e.Mode, Link: e.Link, UID: e.UID, GID: e.GID, Layer: li}
	if old := parent.children[name]; old != nil {
		if old.Kind == Dir && e.Kind == Dir { // new metadata, same contents
			old.Mode, old.UID, old.GID, old.Layer = e.Mode, e.UID, e.GID, li
			return
		}
		t.hide(old, li, "overwritten")
	}
	if n.Kind == Dir {
		n.children = map[string]*Node{}
	}
	parent.children[name] = n
}

// finish sorts the children by name and adds up the directories.
func finish(n *Node) {
	if n.Kind != Dir {
		return
	}
	n.Children = n.Children[:0]
	n.Total, n.Files = 0, 0
	for _, c := range n.children {
		finish(c)
		n.Children = append(n.Children, c)
		switch c.Kind {
		case Dir:
			n.Total += c.Total
			n.Files += c.Files
		case File:
			n.Total += c.Size
			n.Files++
		}
	}
	sort.Slice(n.Children, func(i, j int) bool { return n.Children[i].Name < n.Children[j].Name })
}

// Walk calls fn for every node below the root, depth first, children in
// their order; fn returns false to skip a directory's children.
func (n *Node) Walk(fn func(*Node) bool) {
	for _, c := range n.Children {
		if fn(c) && c.Kind == Dir {
			c.Walk(fn)
		}
	}
}

// Filter is a copy of the tree holding only the entries keep accepts and
// the directories above them (with their totals counting only what is
// kept). A directory is kept whole when keep accepts it and it is empty.
func (n *Node) Filter(keep func(*Node) bool) *Node {
	out := *n
	out.Children, out.children = nil, nil
	for _, c := range n.Children {
		switch {
		case c.Kind == Dir && len(c.Children) > 0:
			if fc := c.Filter(keep); len(fc.Children) > 0 {
				out.Children = append(out.Children, fc)
			}
		case keep(c):
			cc := *c
			cc.children = nil
			out.Children = append(out.Children, &cc)
		}
	}
	out.Total, out.Files = 0, 0
	for _, c := range out.Children {
		switch c.Kind {
		case Dir:
			out.Total += c.Total
			out.Files += c.Files
		case File:
			out.Total += c.Size
			out.Files++
		}
	}
	return &out
}

// Largest are the nodes that are not directories, largest first (then by
// path).
func (n *Node) Largest() []*Node {
	var out []*Node
	n.Walk(func(c *Node) bool {
		if c.Kind != Dir {
			out = append(out, c)
		}
		return true
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Size != out[j].Size {
			return out[i].Size > out[j].Size
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// StageTotal is what the layers of one origin (a stage, or the base) put
// into the image and what of it is hidden.
type StageTotal struct {
	// Stage is the stage name, "base" for the base image, "?" when the
	// history could not be lined up.
	// Wasted counts each hidden file for the layer that wrote it.
	Stage string `json:"stage"`
	// Layers counts the layers; Files and Bytes the regular files of the
	// image's file system they wrote; Wasted what of theirs later layers
	// hid.
	Layers int   `json:"layers"`
	Files  int   `json:"files"`
	Bytes  int64 `json:"bytes"`
	Wasted int64 `json:"wasted"`
}

// StageTotals adds the tree up by origin, in the order the layers first
// name them.
func (t *Tree) StageTotals() []StageTotal {
	idx := map[string]int{}
	var out []StageTotal
	at := func(layer int) *StageTotal {
		label := "?"
		if layer >= 0 && layer < len(t.Layers) {
			label = t.Layers[layer].Label()
		}
		i, ok := idx[label]
		if !ok {
			i = len(out)
			idx[label] = i
			out = append(out, StageTotal{Stage: label})
		}
		return &out[i]
	}
	for i := range t.Layers {
		at(i).Layers++
	}
	t.Root.Walk(func(n *Node) bool {
		if n.Kind == File {
			s := at(n.Layer)
			s.Files++
			s.Bytes += n.Size
		}
		return true
	})
	for layer, n := range t.wastedBy {
		at(layer).Wasted += n
	}
	return out
}

// Diff is what a tree holds that another does not: its files whose path
// is absent from the other, or there with another kind or size. Kept is
// the other tree's view of them.
func Diff(t, other *Tree) *Node {
	return t.Root.Filter(func(n *Node) bool {
		o := other.lookup(n.Path)
		return o == nil || o.Kind != n.Kind || o.Size != n.Size || o.Link != n.Link
	})
}

// Find finds a path below n ("usr/bin/go"; "" is n itself) by its
// Children, in a filtered copy too.
func (n *Node) Find(p string) *Node {
	if p == "" {
		return n
	}
	first, rest, _ := strings.Cut(p, "/")
	for _, c := range n.Children {
		if c.Name == first {
			return c.Find(rest)
		}
	}
	return nil
}
