package buildgraph

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// RenderPlatforms writes set to w in format f: the target's build on every
// platform side by side, the stages that differ marked.
func RenderPlatforms(w io.Writer, set *PlatformSet, f Format, opts RenderOptions) error {
	switch f {
	case FormatText:
		return WritePlatformsText(w, set, opts)
	case FormatJSON:
		return WritePlatformsJSON(w, set, opts)
	case FormatDOT:
		return WritePlatformsDOT(w, set, opts)
	case FormatMermaid:
		return WritePlatformsMermaid(w, set, opts)
	}
	_, err := ParseFormat(string(f))
	return err
}

// markDiffers marks a stage that does not build alike on every platform.
const markDiffers = "≠"

// cell is what the text renderer shows of a stage on one platform.
func (o StageOnPlatform) cell() (mark, text string) {
	switch {
	case o.Replaced:
		return markReplaced, "named context"
	case !o.Builds:
		return markSkipped, "skipped"
	}
	text = "from " + o.From
	if o.RunsOn != o.Platform {
		text += ", runs on " + o.RunsOn
	}
	return markBuilt, text
}

// note is the last column of a stage in the text renderer: how it
// differs, or where it runs when that is one platform for every target.
func (s PlatformStage) note() string {
	if s.Differs() {
		return strings.Join(s.Differences, "; ")
	}
	runsOn, elsewhere := "", false
	for _, o := range s.On {
		if !o.Builds {
			continue
		}
		if runsOn != "" && o.RunsOn != runsOn {
			return ""
		}
		runsOn = o.RunsOn
		elsewhere = elsewhere || o.RunsOn != o.Platform
	}
	if elsewhere && len(s.On) > 1 {
		return "runs on " + runsOn + " for every platform"
	}
	return ""
}

// WritePlatformsText writes set as a table: one row per stage, one column
// per platform (● built, from what; ○ skipped; ◆ named context), the
// stages that differ marked ≠ with how, then each platform's build order
// and the lint findings of every platform.
func WritePlatformsText(w io.Writer, set *PlatformSet, opts RenderOptions) error {
	out := &errWriter{w: w}
	style := func(code, s string) string {
		if !opts.Color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
	g0 := set.Graphs[0]
	out.printf("%s  target %s · platforms %s · build platform %s · %d of %d stages differ\n",
		style(ansiBold, g0.File), style(ansiBold, set.Target()), strings.Join(set.Platforms, ", "),
		set.BuildPlatform(), len(set.Differing()), len(set.Stages))

	nameWidth := len("stages") - 3
	for _, s := range set.Stages {
		nameWidth = max(nameWidth, len(s.Name))
	}
	widths := make([]int, len(set.Platforms))
	for i, p := range set.Platforms {
		widths[i] = len(p)
		for _, s := range set.Stages {
			_, text := s.On[i].cell()
			widths[i] = max(widths[i], len(text)+2)
		}
	}
	head := fmt.Sprintf("  %-*s", nameWidth+3, "stages")
	for i, p := range set.Platforms {
		head += "  " + fmt.Sprintf("%-*s", widths[i], p)
	}
	out.printf("\n%s\n", strings.TrimRight(head, " "))
	for _, s := range set.Stages {
		mark := " "
		if s.Differs() {
			mark = style(ansiYellow, markDiffers)
		}
		line := fmt.Sprintf("%s %2d %-*s", mark, s.Index, nameWidth, s.Name)
		for i := range set.Platforms {
			m, text := s.On[i].cell()
			pad := strings.Repeat(" ", widths[i]-len(text)-2)
			switch {
			case s.On[i].Replaced:
				line += "  " + style(ansiCyan, m+" "+text) + pad
			case s.On[i].Builds:
				line += "  " + style(ansiGreen, m) + " " + text + pad
			default:
				line += "  " + style(ansiDim, m+" "+text) + pad
			}
		}
		if n := s.note(); n != "" {
			if s.Differs() {
				n = style(ansiYellow, n)
			} else {
				n = style(ansiDim, n)
			}
			line += "  " + n
		}
		if s.Index == set.TargetIndex() {
			line += style(ansiDim, "  (target)")
		}
		out.printf("%s\n", strings.TrimRight(line, " "))
	}

	out.printf("\nbuild order for %s\n", set.Target())
	pw := 0
	for _, p := range set.Platforms {
		pw = max(pw, len(p))
	}
	for i, c := range set.Closures {
		var levels []string
		for _, level := range c.Levels() {
			names := make([]string, len(level))
			for j, st := range level {
				names[j] = c.Graph.Stages[st].Name
				if c.IsReplaced(st) {
					names[j] += " (named context)"
				}
			}
			levels = append(levels, strings.Join(names, ", "))
		}
		out.printf("  %-*s  %s\n", pw, set.Platforms[i], strings.Join(levels, " → "))
	}

	type finding struct {
		loc, rule, msg, url string
	}
	var lint []finding
	var lintErrs []string
	for _, g := range set.Graphs {
		for _, wr := range g.Warnings {
			loc := g.File
			if wr.Line > 0 {
				loc += fmt.Sprintf(":%d", wr.Line)
			}
			if wr.Stage >= 0 {
				loc += " [" + g.Stages[wr.Stage].Name + "]"
			}
			f := finding{loc, wr.Rule, wr.Message, wr.URL}
			if !slices.Contains(lint, f) {
				lint = append(lint, f)
			}
		}
		if g.LintError != nil && !slices.Contains(lintErrs, g.LintError.Error()) {
			lintErrs = append(lintErrs, g.LintError.Error())
		}
	}
	if len(lint) > 0 || len(lintErrs) > 0 {
		out.printf("\nlint\n")
	}
	for _, f := range lint {
		out.printf("  %s %s: %s\n", f.loc, style(ansiYellow, f.rule), f.msg)
		if f.url != "" {
			out.printf("      %s\n", style(ansiDim, f.url))
		}
	}
	for _, e := range lintErrs {
		out.printf("  %s %s\n", style(ansiRed, "error:"), e)
	}
	return out.err
}

// The JSON document's additions for several platforms; see
// docs/graph-json.md.
type (
	jsonPlatform struct {
		Platform string        `json:"platform"`
		Stages   []jsonStageOn `json:"stages"`
		Images   []jsonImage   `json:"images"`
		Edges    []jsonEdge    `json:"edges"`
		Closure  jsonClosure   `json:"closure"`
		Levels   [][]int       `json:"levels"`
		Warnings []jsonWarning `json:"warnings"`
		Lint     *jsonError    `json:"lintError,omitempty"`
	}
	jsonStageOn struct {
		Index    int          `json:"index"`
		Platform string       `json:"platform"`
		Base     jsonBase     `json:"base"`
		Context  *jsonContext `json:"context,omitempty"`
		Builds   bool         `json:"builds"`
		Replaced bool         `json:"replaced"`
	}
	jsonPlatformStage struct {
		Index       int      `json:"index"`
		Name        string   `json:"name"`
		BuiltFor    []string `json:"builtFor"`
		RunsOn      []string `json:"runsOn"`
		Differs     bool     `json:"differs"`
		Differences []string `json:"differences"`
	}
)

// WritePlatformsJSON writes set as the document WriteJSON writes for the
// first platform, with "platforms" (every platform's stages, images,
// edges, closure and build order) and "platformStages" (each stage across
// the platforms) added.
func WritePlatformsJSON(w io.Writer, set *PlatformSet, opts RenderOptions) error {
	opts.Target = set.Target()
	doc, err := jsonDocument(set.Graphs[0], opts)
	if err != nil {
		return err
	}
	for i, g := range set.Graphs {
		d, err := jsonDocument(g, opts)
		if err != nil {
			return err
		}
		c := set.Closures[i]
		jp := jsonPlatform{
			Platform: set.Platforms[i],
			Stages:   []jsonStageOn{},
			Images:   d.Images,
			Edges:    d.Edges,
			Closure:  d.Closure,
			Levels:   d.Levels,
			Warnings: d.Warnings,
			Lint:     d.LintError,
		}
		for _, s := range d.Stages {
			jp.Stages = append(jp.Stages, jsonStageOn{
				Index:    s.Index,
				Platform: s.Platform,
				Base:     s.Base,
				Context:  s.Context,
				Builds:   c.Contains(s.Index) && !c.IsReplaced(s.Index),
				Replaced: c.IsReplaced(s.Index),
			})
		}
		doc.Platforms = append(doc.Platforms, jp)
	}
	for _, s := range set.Stages {
		js := jsonPlatformStage{Index: s.Index, Name: s.Name, BuiltFor: []string{}, RunsOn: []string{}, Differs: s.Differs(), Differences: []string{}}
		for _, o := range s.On {
			if o.Used() {
				js.BuiltFor = append(js.BuiltFor, o.Platform)
			}
			if o.Builds && !slices.Contains(js.RunsOn, o.RunsOn) {
				js.RunsOn = append(js.RunsOn, o.RunsOn)
			}
		}
		js.Differences = append(js.Differences, s.Differences...)
		doc.PlatformStages = append(doc.PlatformStages, js)
	}
	return encodeJSON(w, doc)
}

// label is a stage's label in DOT and Mermaid: name, and what
// differs or where it runs.
func (s PlatformStage) label() string {
	label := s.Name
	var from []string
	for _, o := range s.On {
		if o.Used() && !slices.Contains(from, o.From) {
			from = append(from, o.From)
		}
	}
	if len(from) > 0 {
		label += "\nFROM " + strings.Join(from, " | ")
	}
	// The FROM line above says how FROM differs already.
	var notes []string
	for _, d := range s.Differences {
		if !strings.HasPrefix(d, "FROM ") {
			notes = append(notes, d)
		}
	}
	if !s.Differs() {
		if n := s.note(); n != "" {
			notes = append(notes, n)
		}
	}
	for _, n := range notes {
		label += "\n" + n
	}
	return label
}

// platformEdge is an edge of the union of the platforms' graphs.
type platformEdge struct {
	from, to, label string
	on              []string // platforms whose build follows it
	everywhere      bool
}

// unionEdges are the edges of every platform's graph, merged by what they
// connect, each with the platforms whose build follows it; the nodes are
// stages by index ("s0") and images by reference.
func (set *PlatformSet) unionEdges() (edges []*platformEdge, images []string) {
	byKey := map[string]*platformEdge{}
	for i, c := range set.Closures {
		g := c.Graph
		used := map[int]bool{}
		for _, e := range c.Edges {
			used[e] = true
		}
		for ei, e := range g.Edges {
			from := nodeID(e.From)
			if e.From.Kind == NodeImage {
				ref := g.Images[e.From.Index].Ref
				idx := slices.Index(images, ref)
				if idx < 0 {
					idx = len(images)
					images = append(images, ref)
				}
				from = fmt.Sprintf("i%d", idx)
			}
			to := nodeID(Node{NodeStage, e.To})
			label := edgeLabel(e)
			k := from + ">" + to + ">" + label
			pe := byKey[k]
			if pe == nil {
				pe = &platformEdge{from: from, to: to, label: label}
				byKey[k] = pe
				edges = append(edges, pe)
			}
			if used[ei] {
				pe.on = append(pe.on, set.Platforms[i])
			}
		}
	}
	for _, e := range edges {
		e.everywhere = len(e.on) == len(set.Platforms)
		if len(e.on) > 0 && !e.everywhere {
			e.label += "\n" + strings.Join(e.on, ", ")
		}
	}
	return edges, images
}

// Colours of stages that differ between platforms.
const (
	colorDiffers = "#ef6c00"
	fillDiffers  = "#fff3e0"
)

// WritePlatformsDOT writes the union of the platforms' graphs: a stage
// every platform builds alike green, one that differs orange (labelled with
// how), one no platform builds grey; an edge only some platforms follow is
// labelled with them.
func WritePlatformsDOT(w io.Writer, set *PlatformSet, opts RenderOptions) error {
	edges, images := set.unionEdges()
	out := &errWriter{w: w}
	out.printf("digraph %s {\n", dotQuote(set.Graphs[0].File))
	out.printf("  rankdir=LR;\n")
	out.printf("  label=%s;\n", dotQuote("platforms "+strings.Join(set.Platforms, ", ")))
	out.printf("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n")
	out.printf("  edge [fontname=\"Helvetica\", fontsize=10];\n")
	for i, ref := range images {
		out.printf("  i%d [label=%s, shape=ellipse, style=filled, color=%q, fillcolor=%q];\n", i, dotQuote(ref), colorImageLine, fillImage)
	}
	for _, s := range set.Stages {
		attrs := "label=" + dotQuote(s.label())
		used := false
		for _, o := range s.On {
			used = used || o.Used()
		}
		switch {
		case !used:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q, fontcolor=%q, style=\"rounded,filled,dashed\"", colorSkipped, fillSkipped, colorSkipped)
		case s.Differs():
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q", colorDiffers, fillDiffers)
		default:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q", colorBuilt, fillBuilt)
		}
		if s.Index == set.TargetIndex() {
			attrs += ", peripheries=2, penwidth=2"
		}
		out.printf("  s%d [%s];\n", s.Index, attrs)
	}
	for _, e := range edges {
		attrs := "label=" + dotQuote(e.label)
		switch {
		case e.everywhere:
			attrs += fmt.Sprintf(", color=%q, penwidth=2", colorBuilt)
		case len(e.on) > 0:
			attrs += fmt.Sprintf(", color=%q, fontcolor=%q, penwidth=2", colorDiffers, colorDiffers)
		default:
			attrs += fmt.Sprintf(", color=%q, fontcolor=%q, style=dashed", colorSkipped, colorSkipped)
		}
		out.printf("  %s -> %s [%s];\n", e.from, e.to, attrs)
	}
	out.printf("}\n")
	return out.err
}

// WritePlatformsMermaid writes the same union graph as WritePlatformsDOT as
// a Mermaid flowchart.
func WritePlatformsMermaid(w io.Writer, set *PlatformSet, opts RenderOptions) error {
	edges, images := set.unionEdges()
	out := &errWriter{w: w}
	out.printf("flowchart LR\n")
	var built, differs, skipped, imgs []string
	for i, ref := range images {
		id := fmt.Sprintf("i%d", i)
		out.printf("  %s([%s])\n", id, mermaidQuote(ref))
		imgs = append(imgs, id)
	}
	for _, s := range set.Stages {
		id := fmt.Sprintf("s%d", s.Index)
		out.printf("  %s[%s]\n", id, mermaidQuote(s.label()))
		used := false
		for _, o := range s.On {
			used = used || o.Used()
		}
		switch {
		case !used:
			skipped = append(skipped, id)
		case s.Differs():
			differs = append(differs, id)
		default:
			built = append(built, id)
		}
	}
	var thick, partial, thin []string
	for i, e := range edges {
		arrow := "-.->"
		switch {
		case e.everywhere:
			arrow = "==>"
			thick = append(thick, fmt.Sprint(i))
		case len(e.on) > 0:
			arrow = "==>"
			partial = append(partial, fmt.Sprint(i))
		default:
			thin = append(thin, fmt.Sprint(i))
		}
		out.printf("  %s %s|%s| %s\n", e.from, arrow, mermaidQuote(e.label), e.to)
	}
	out.printf("  classDef built fill:%s,stroke:%s,color:#000\n", fillBuilt, colorBuilt)
	out.printf("  classDef differs fill:%s,stroke:%s,color:#000\n", fillDiffers, colorDiffers)
	out.printf("  classDef skipped fill:%s,stroke:%s,color:%s,stroke-dasharray:5 5\n", fillSkipped, colorSkipped, colorSkipped)
	out.printf("  classDef image fill:%s,stroke:%s,color:#000\n", fillImage, colorImageLine)
	out.printf("  classDef target stroke-width:4px\n")
	for _, c := range []struct {
		name string
		ids  []string
	}{{"built", built}, {"differs", differs}, {"skipped", skipped}, {"image", imgs}} {
		if len(c.ids) > 0 {
			out.printf("  class %s %s\n", strings.Join(c.ids, ","), c.name)
		}
	}
	out.printf("  class s%d target\n", set.TargetIndex())
	if len(thick) > 0 {
		out.printf("  linkStyle %s stroke:%s,stroke-width:2px\n", strings.Join(thick, ","), colorBuilt)
	}
	if len(partial) > 0 {
		out.printf("  linkStyle %s stroke:%s,stroke-width:2px\n", strings.Join(partial, ","), colorDiffers)
	}
	if len(thin) > 0 {
		out.printf("  linkStyle %s stroke:%s\n", strings.Join(thin, ","), colorSkipped)
	}
	return out.err
}
