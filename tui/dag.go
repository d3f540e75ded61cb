package tui

import (
	"slices"

	"github.com/stagescope/stagescope/buildgraph"
)

// The stage graph is drawn top to bottom in Dockerfile order (a stage only
// depends on earlier ones), each external image just above its first user.
// Edges run in lanes to the left of the nodes: a lane leaves its source at
// the source's last row, runs down and enters each user at its first row
// with an arrow. Lanes are assigned like intervals: a lane is reused once
// its source's last user is above. Where lines meet, the glyph is chosen from
// the directions that meet in the cell, so crossings and branches draw
// themselves.

// Directions a line leaves a lane cell in.
const (
	dirUp = 1 << iota
	dirDown
	dirLeft
	dirRight
	dirArrow // the last cell before a node: an arrowhead
)

var laneGlyphs = map[uint8]string{
	dirUp | dirDown:                      "│",
	dirLeft | dirRight:                   "─",
	dirLeft:                              "─",
	dirRight:                             "─",
	dirDown | dirRight:                   "╭",
	dirUp | dirRight:                     "╰",
	dirDown | dirLeft:                    "╮",
	dirUp | dirLeft:                      "╯",
	dirUp | dirDown | dirRight:           "├",
	dirUp | dirDown | dirLeft:            "┤",
	dirLeft | dirRight | dirDown:         "┬",
	dirLeft | dirRight | dirUp:           "┴",
	dirUp | dirDown | dirLeft | dirRight: "┼",
	dirUp:                                "│",
	dirDown:                              "│",
}

// Heights of the node kinds, in rows. The compact layout draws a stage in
// one row and no image nodes (a stage's row names its base).
const (
	stageRows = 3
	imageRows = 1
)

// dagNode is one node of the drawing: a stage or an external image.
type dagNode struct {
	Kind  buildgraph.NodeKind
	Index int // in Graph.Stages or Graph.Images
	Top   int // first row
	Rows  int
}

// in and out are the rows edges enter and leave a node at.
func (n dagNode) in() int  { return n.Top }
func (n dagNode) out() int { return n.Top + n.Rows - 1 }

// laneCell is one cell of the lane area.
type laneCell struct {
	dirs uint8
	// active: the cell belongs to an edge of the target's closure; copy: to
	// a COPY --from or RUN --mount edge.
	active, copy bool
}

// Glyph returns the cell's character.
func (c laneCell) Glyph() string {
	if c.dirs&dirArrow != 0 {
		return "▸"
	}
	if g, ok := laneGlyphs[c.dirs]; ok {
		return g
	}
	return " "
}

// dagLayout is the stage graph laid out in rows.
type dagLayout struct {
	Nodes []dagNode
	Rows  int
	// Width is the width of the lane area in cells; Lanes[row][col].
	Width int
	Lanes [][]laneCell
	// Hidden counts edges that did not fit in maxLanes lanes; hidden holds
	// their indexes in Graph.Edges.
	Hidden int
	hidden map[int]bool
	// Compact: one row per stage, images not drawn.
	Compact bool
	// nodeAt maps a row to its node, stageNode a stage index to its node.
	nodeAt    []int
	stageNode map[int]int
}

// layoutDAG lays out the stages in show (ascending indexes) and the images
// they use. closure marks edges (indexes in g.Edges) of the target's
// closure. At most maxLanes lanes are drawn. Compact lays every stage out in
// one row and leaves the images out.
func layoutDAG(g *buildgraph.Graph, show []int, closureEdges map[int]bool, maxLanes int, compact bool) dagLayout {
	l := dagLayout{stageNode: map[int]int{}, hidden: map[int]bool{}, Compact: compact}
	rowsOfStage := stageRows
	if compact {
		rowsOfStage = 1
	}
	visible := map[int]bool{}
	for _, s := range show {
		visible[s] = true
	}
	imageNode := map[int]int{}
	row := 0
	add := func(kind buildgraph.NodeKind, idx, rows int) int {
		l.Nodes = append(l.Nodes, dagNode{Kind: kind, Index: idx, Top: row, Rows: rows})
		row += rows
		return len(l.Nodes) - 1
	}
	for _, s := range show {
		for _, e := range g.Edges {
			if compact || e.To != s || e.From.Kind != buildgraph.NodeImage {
				continue
			}
			if e.From.Index < 0 || e.From.Index >= len(g.Images) || g.Images[e.From.Index].Scratch() {
				continue
			}
			if _, ok := imageNode[e.From.Index]; !ok {
				imageNode[e.From.Index] = add(buildgraph.NodeImage, e.From.Index, imageRows)
			}
		}
		l.stageNode[s] = add(buildgraph.NodeStage, s, rowsOfStage)
	}
	l.Rows = row
	l.nodeAt = make([]int, row)
	for i, n := range l.Nodes {
		for r := n.Top; r < n.Top+n.Rows; r++ {
			l.nodeAt[r] = i
		}
	}

	// Edges grouped by source node; one lane per source.
	type target struct {
		node         int
		active, copy bool
		edges        []int
	}
	type source struct {
		node    int
		targets []target
	}
	var sources []*source
	bySource := map[int]*source{}
	for ei, e := range g.Edges {
		if !visible[e.To] {
			continue
		}
		var from int
		var ok bool
		if e.From.Kind == buildgraph.NodeStage {
			from, ok = l.stageNode[e.From.Index]
		} else {
			from, ok = imageNode[e.From.Index]
		}
		to := l.stageNode[e.To]
		if !ok || from >= to {
			continue
		}
		src := bySource[from]
		if src == nil {
			src = &source{node: from}
			bySource[from] = src
			sources = append(sources, src)
		}
		cp := e.Kind == buildgraph.EdgeCopyFrom || e.Kind == buildgraph.EdgeMountFrom
		if i := slices.IndexFunc(src.targets, func(t target) bool { return t.node == to }); i >= 0 {
			src.targets[i].active = src.targets[i].active || closureEdges[ei]
			src.targets[i].copy = src.targets[i].copy && cp
			src.targets[i].edges = append(src.targets[i].edges, ei)
			continue
		}
		src.targets = append(src.targets, target{node: to, active: closureEdges[ei], copy: cp, edges: []int{ei}})
	}
	slices.SortFunc(sources, func(a, b *source) int { return a.node - b.node })

	// Interval allocation: laneEnd[k] is the last row lane k is busy.
	var laneEnd []int
	laneOf := make([]int, len(sources))
	for i, src := range sources {
		start := l.Nodes[src.node].out()
		end := start
		for _, t := range src.targets {
			end = max(end, l.Nodes[t.node].in())
		}
		lane := -1
		for k, e := range laneEnd {
			if e < start {
				lane = k
				break
			}
		}
		if lane < 0 {
			if len(laneEnd) >= maxLanes {
				laneOf[i] = -1
				l.Hidden += len(src.targets)
				for _, t := range src.targets {
					for _, ei := range t.edges {
						l.hidden[ei] = true
					}
				}
				continue
			}
			laneEnd = append(laneEnd, 0)
			lane = len(laneEnd) - 1
		}
		laneEnd[lane] = end
		laneOf[i] = lane
	}
	n := len(laneEnd)
	if n == 0 {
		return l
	}
	l.Width = 2*n + 1
	l.Lanes = make([][]laneCell, row)
	for r := range l.Lanes {
		l.Lanes[r] = make([]laneCell, l.Width)
	}
	set := func(r, c int, d uint8, active, cp bool) {
		cell := &l.Lanes[r][c]
		cell.dirs |= d
		if active {
			cell.active = true
		}
		if cp && (active || !cell.active) {
			cell.copy = true
		}
	}
	// Lane 0 is nearest to the nodes: short edges cross fewer lines.
	for i, src := range sources {
		lane := laneOf[i]
		if lane < 0 {
			continue
		}
		col := l.Width - 2 - 2*lane
		out := l.Nodes[src.node].out()
		anyActive := false
		for _, t := range src.targets {
			anyActive = anyActive || t.active
		}
		// The horizontal from the source to the lane.
		set(out, col, dirRight|dirDown, anyActive, false)
		for c := col + 1; c < l.Width; c++ {
			set(out, c, dirLeft|dirRight, anyActive, false)
		}
		last := 0
		for _, t := range src.targets {
			last = max(last, l.Nodes[t.node].in())
		}
		for _, t := range src.targets {
			in := l.Nodes[t.node].in()
			d := uint8(dirUp | dirRight)
			if in < last {
				d |= dirDown
			}
			set(in, col, d, t.active, t.copy)
			for c := col + 1; c < l.Width-1; c++ {
				set(in, c, dirLeft|dirRight, t.active, t.copy)
			}
			set(in, l.Width-1, dirArrow, t.active, t.copy)
			// The vertical from the source down to this target.
			for r := out + 1; r < in; r++ {
				set(r, col, dirUp|dirDown, t.active, t.copy)
			}
		}
	}
	return l
}
