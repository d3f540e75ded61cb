package buildgraph

import (
	"fmt"
	"io"
	"strings"
)

// Format is an output format of the renderers.
type Format string

// The output formats.
const (
	FormatText    Format = "text"
	FormatJSON    Format = "json"
	FormatDOT     Format = "dot"
	FormatMermaid Format = "mermaid"
)

// Formats lists the output formats.
var Formats = []Format{FormatText, FormatJSON, FormatDOT, FormatMermaid}

// ParseFormat returns the Format named s ("text", "json", "dot",
// "mermaid"), case-insensitively.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (valid: %s)", s, strings.Join(names, ", "))
}

// RenderOptions tune the renderers.
type RenderOptions struct {
	// Target selects the closure to highlight; "" means Graph.Target, and
	// when that is empty too, the last stage.
	Target string
	// Color adds ANSI colours to text output. The renderers never look at
	// the terminal: callers decide (NO_COLOR, plain mode, not a TTY).
	Color bool
	// Instructions lists every stage's instructions in text output.
	Instructions bool
}

// Render writes g to w in format f.
func Render(w io.Writer, g *Graph, f Format, opts RenderOptions) error {
	switch f {
	case FormatText:
		return WriteText(w, g, opts)
	case FormatJSON:
		return WriteJSON(w, g, opts)
	case FormatDOT:
		return WriteDOT(w, g, opts)
	case FormatMermaid:
		return WriteMermaid(w, g, opts)
	}
	_, err := ParseFormat(string(f))
	return err
}

// view is what every renderer shows: the graph for the target and the
// target's closure, with lookups the renderers share.
type view struct {
	g        *Graph
	c        Closure
	built    []bool  // per stage: in the closure
	usedEdge []bool  // per edge: followed by the build
	usedImg  []bool  // per image: used by the build
	incoming [][]int // per stage: indexes of the edges leading to it
}

func newView(g *Graph, opts RenderOptions) (*view, error) {
	target := opts.Target
	if target == "" {
		target = g.Target
	}
	c, err := g.Closure(target)
	if err != nil {
		return nil, err
	}
	g = c.Graph
	v := &view{
		g:        g,
		c:        c,
		built:    make([]bool, len(g.Stages)),
		usedEdge: make([]bool, len(g.Edges)),
		usedImg:  make([]bool, len(g.Images)),
		incoming: make([][]int, len(g.Stages)),
	}
	for i, e := range g.Edges {
		v.incoming[e.To] = append(v.incoming[e.To], i)
	}
	for _, i := range c.Stages {
		v.built[i] = true
	}
	for _, i := range c.Edges {
		v.usedEdge[i] = true
	}
	for _, i := range c.Images {
		v.usedImg[i] = true
	}
	return v, nil
}

// targetName is how the renderers name the closure's target.
func (v *view) targetName() string {
	return v.g.Stages[v.c.Target].Name
}

// fromLine is a stage's FROM instruction, on one line.
func fromLine(s *Stage) string {
	return strings.Join(strings.Fields(s.stage.SourceCode), " ")
}

// errWriter remembers the first write error so renderers can write freely
// and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
