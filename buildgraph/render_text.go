package buildgraph

import (
	"fmt"
	"io"
	"strings"
)

// ANSI styles of the text renderer, used only with RenderOptions.Color.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiRed    = "\x1b[31m"
)

// Markers of the text renderer.
const (
	markBuilt    = "●" // built for the target
	markSkipped  = "○" // not built
	markReplaced = "◆" // a named context stands in for the stage
)

// WriteText writes g as readable text: the images, then every stage with
// what it depends on, stages the target builds marked ● and skipped ones
// marked ○ and "(skipped)", then the build order in levels, then the lint
// findings.
func WriteText(w io.Writer, g *Graph, opts RenderOptions) error {
	v, err := newView(g, opts)
	if err != nil {
		return err
	}
	g = v.g
	out := &errWriter{w: w}
	style := func(code, s string) string {
		if !opts.Color || s == "" {
			return s
		}
		return code + s + ansiReset
	}

	replaced := ""
	if n := len(v.c.Replaced); n > 0 {
		replaced = fmt.Sprintf(", %d replaced by a named context", n)
		if n > 1 {
			replaced = fmt.Sprintf(", %d replaced by named contexts", n)
		}
	}
	out.printf("%s  target %s · platform %s · %d of %d stages build%s\n",
		style(ansiBold, g.File), style(ansiBold, v.targetName()), g.Platform, v.c.Built(), len(g.Stages), replaced)

	if len(g.Images) > 0 {
		out.printf("\nimages\n")
		for _, im := range g.Images {
			line := im.Ref
			if im.Normalized != im.Ref && !im.Scratch() {
				line += " (" + im.Normalized + ")"
			}
			if im.Context != nil {
				line += " ← named context " + im.Context.Key + "=" + im.Context.Value
			}
			if v.usedImg[im.Index] {
				out.printf("  %s %s\n", style(ansiGreen, markBuilt), style(ansiCyan, line))
			} else {
				out.printf("  %s %s\n", markSkipped, style(ansiDim, line+" (unused)"))
			}
		}
	}

	out.printf("\nstages\n")
	nameWidth := 0
	for _, s := range g.Stages {
		nameWidth = max(nameWidth, len(s.Name))
	}
	for _, s := range g.Stages {
		built := v.built[s.Index]
		mark, code := markBuilt, ansiGreen
		switch {
		case s.Context != nil && built:
			mark, code = markReplaced, ansiCyan
		case !built:
			mark, code = markSkipped, ansiDim
		}
		head := fmt.Sprintf("%2d %-*s  %s", s.Index, nameWidth, s.Name, fromLine(s))
		var notes []string
		notes = append(notes, lineRange(s.StartLine, s.EndLine))
		if s.Platform != g.Platform {
			notes = append(notes, s.Platform)
		}
		if s.Index == v.c.Target {
			notes = append(notes, "target")
		}
		if !built {
			notes = append(notes, "skipped")
		}
		head += "  (" + strings.Join(notes, ", ") + ")"
		if built {
			out.printf("  %s %s\n", style(code, mark), style(ansiBold, head))
		} else {
			out.printf("  %s %s\n", mark, style(ansiDim, head))
		}
		indent := "       "
		if s.Doc != "" {
			out.printf("%s%s\n", indent, style(ansiDim, "# "+s.Name+" "+s.Doc))
		}
		if s.Context != nil {
			out.printf("%s%s\n", indent, style(ansiCyan, "replaced by named context "+s.Context.Key+"="+s.Context.Value))
		}
		for _, ei := range v.incoming[s.Index] {
			e := g.Edges[ei]
			desc := "← " + string(e.Kind) + " " + g.nodeLabel(e.From)
			var details []string
			if e.Ref != "" && e.Ref != g.nodeLabel(e.From) {
				details = append(details, "as "+e.Ref)
			}
			if e.MountType != "" {
				details = append(details, "type="+e.MountType)
			}
			if e.Kind != EdgeBase {
				details = append(details, fmt.Sprintf("line %d", e.Line))
			}
			if built && !v.usedEdge[ei] {
				details = append(details, "not used")
			}
			if len(details) > 0 {
				desc += " (" + strings.Join(details, ", ") + ")"
			}
			if built && v.usedEdge[ei] {
				out.printf("%s%s\n", indent, desc)
			} else {
				out.printf("%s%s\n", indent, style(ansiDim, desc))
			}
		}
		if opts.Instructions {
			for _, in := range s.Instructions {
				text := strings.ReplaceAll(in.Text, "\n", "\n"+indent+"     ")
				out.printf("%s%s %s\n", indent, style(ansiDim, fmt.Sprintf("%4d", in.StartLine)), text)
			}
		}
	}

	out.printf("\nbuild order for %s\n", v.targetName())
	for i, level := range v.c.Levels() {
		names := make([]string, len(level))
		for j, s := range level {
			names[j] = g.Stages[s].Name
			if v.c.IsReplaced(s) {
				names[j] += " (named context, not built)"
			}
		}
		out.printf("  %d. %s\n", i+1, strings.Join(names, ", "))
	}

	if len(g.Warnings) > 0 || g.LintError != nil {
		out.printf("\nlint\n")
	}
	for _, wr := range g.Warnings {
		loc := g.File
		if wr.Line > 0 {
			loc += fmt.Sprintf(":%d", wr.Line)
		}
		if wr.Stage >= 0 {
			loc += " [" + g.Stages[wr.Stage].Name + "]"
		}
		out.printf("  %s %s: %s\n", loc, style(ansiYellow, wr.Rule), wr.Message)
		if wr.URL != "" {
			out.printf("      %s\n", style(ansiDim, wr.URL))
		}
	}
	if g.LintError != nil {
		out.printf("  %s %s\n", style(ansiRed, "error:"), g.LintError.Error())
	}
	return out.err
}

// lineRange formats a line span: "line 3" or "lines 3-7".
func lineRange(start, end int) string {
	if end <= start {
		return fmt.Sprintf("line %d", start)
	}
	return fmt.Sprintf("lines %d-%d", start, end)
}
