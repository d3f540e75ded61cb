package buildgraph

import (
	"fmt"
	"io"
	"strings"
)

// Colours of the DOT and Mermaid renderers.
const (
	colorBuilt     = "#2e7d32" // stages, images and edges the build uses
	fillBuilt      = "#e8f5e9"
	colorSkipped   = "#9e9e9e"
	fillSkipped    = "#f5f5f5"
	colorReplaced  = "#0277bd" // named contexts
	fillReplaced   = "#e1f5fe"
	fillImage      = "#fff8e1"
	colorImageLine = "#f9a825"
)

// nodeID is the identifier of a node in DOT and Mermaid output.
func nodeID(n Node) string {
	if n.Kind == NodeStage {
		return fmt.Sprintf("s%d", n.Index)
	}
	return fmt.Sprintf("i%d", n.Index)
}

// stageLabel is the two-line label of a stage node.
func stageLabel(s *Stage) string {
	return s.Name + "\n" + fromLine(s)
}

// imageLabel is the label of an image node.
func imageLabel(im *Image) string {
	if im.Context != nil {
		return im.Ref + "\n← " + im.Context.Value
	}
	return im.Ref
}

// WriteDOT writes g as a Graphviz digraph. Edges point from a dependency to
// the stage that uses it and are labelled with their kind; what the target
// builds is green and solid, the rest grey and dashed, the target doubly
// outlined, named contexts blue.
func WriteDOT(w io.Writer, g *Graph, opts RenderOptions) error {
	v, err := newView(g, opts)
	if err != nil {
		return err
	}
	g = v.g
	out := &errWriter{w: w}
	out.printf("digraph %s {\n", dotQuote(g.File))
	out.printf("  rankdir=LR;\n")
	out.printf("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n")
	out.printf("  edge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, im := range g.Images {
		attrs := fmt.Sprintf("label=%s, shape=ellipse, style=filled", dotQuote(imageLabel(im)))
		switch {
		case !v.usedImg[im.Index]:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q, fontcolor=%q, style=\"filled,dashed\"", colorSkipped, fillSkipped, colorSkipped)
		case im.Context != nil:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q", colorReplaced, fillReplaced)
		default:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q", colorImageLine, fillImage)
		}
		out.printf("  %s [%s];\n", nodeID(Node{NodeImage, im.Index}), attrs)
	}
	for _, s := range g.Stages {
		label := stageLabel(s)
		if s.Context != nil {
			label += "\nreplaced by " + s.Context.Value
		}
		attrs := "label=" + dotQuote(label)
		switch {
		case !v.built[s.Index]:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q, fontcolor=%q, style=\"rounded,filled,dashed\"", colorSkipped, fillSkipped, colorSkipped)
		case s.Context != nil:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q", colorReplaced, fillReplaced)
		default:
			attrs += fmt.Sprintf(", color=%q, fillcolor=%q", colorBuilt, fillBuilt)
		}
		if s.Index == v.c.Target {
			attrs += ", peripheries=2, penwidth=2"
		}
		out.printf("  %s [%s];\n", nodeID(Node{NodeStage, s.Index}), attrs)
	}
	for i, e := range g.Edges {
		attrs := "label=" + dotQuote(edgeLabel(e))
		if v.usedEdge[i] {
			attrs += fmt.Sprintf(", color=%q, penwidth=2", colorBuilt)
		} else {
			attrs += fmt.Sprintf(", color=%q, fontcolor=%q, style=dashed", colorSkipped, colorSkipped)
		}
		out.printf("  %s -> %s [%s];\n", nodeID(e.From), nodeID(Node{NodeStage, e.To}), attrs)
	}
	out.printf("}\n")
	return out.err
}

// edgeLabel is an edge's kind, with the mount type for mounts.
func edgeLabel(e Edge) string {
	if e.MountType != "" {
		return string(e.Kind) + " (" + e.MountType + ")"
	}
	return string(e.Kind)
}

// dotEscaper escapes DOT string contents; newlines become centred breaks.
var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	return `"` + dotEscaper.Replace(s) + `"`
}

// WriteMermaid writes g as a Mermaid flowchart, with the same conventions as
// WriteDOT: classes built, skipped, context and target, edges the build
// follows drawn thick.
func WriteMermaid(w io.Writer, g *Graph, opts RenderOptions) error {
	v, err := newView(g, opts)
	if err != nil {
		return err
	}
	g = v.g
	out := &errWriter{w: w}
	out.printf("flowchart LR\n")
	var built, skipped, context, images []string
	for _, im := range g.Images {
		id := nodeID(Node{NodeImage, im.Index})
		out.printf("  %s([%s])\n", id, mermaidQuote(imageLabel(im)))
		switch {
		case !v.usedImg[im.Index]:
			skipped = append(skipped, id)
		case im.Context != nil:
			context = append(context, id)
		default:
			images = append(images, id)
		}
	}
	for _, s := range g.Stages {
		id := nodeID(Node{NodeStage, s.Index})
		label := stageLabel(s)
		if s.Context != nil {
			label += "\nreplaced by " + s.Context.Value
		}
		out.printf("  %s[%s]\n", id, mermaidQuote(label))
		switch {
		case !v.built[s.Index]:
			skipped = append(skipped, id)
		case s.Context != nil:
			context = append(context, id)
		default:
			built = append(built, id)
		}
	}
	var thick, thin []string
	for i, e := range g.Edges {
		arrow := "-.->"
		if v.usedEdge[i] {
			arrow = "==>"
			thick = append(thick, fmt.Sprint(i))
		} else {
			thin = append(thin, fmt.Sprint(i))
		}
		out.printf("  %s %s|%s| %s\n", nodeID(e.From), arrow, mermaidQuote(edgeLabel(e)), nodeID(Node{NodeStage, e.To}))
	}
	out.printf("  classDef built fill:%s,stroke:%s,color:#000\n", fillBuilt, colorBuilt)
	out.printf("  classDef skipped fill:%s,stroke:%s,color:%s,stroke-dasharray:5 5\n", fillSkipped, colorSkipped, colorSkipped)
	out.printf("  classDef context fill:%s,stroke:%s,color:#000\n", fillReplaced, colorReplaced)
	out.printf("  classDef image fill:%s,stroke:%s,color:#000\n", fillImage, colorImageLine)
	out.printf("  classDef target stroke-width:4px\n")
	for _, c := range []struct {
		name string
		ids  []string
	}{{"built", built}, {"skipped", skipped}, {"context", context}, {"image", images}} {
		if len(c.ids) > 0 {
			out.printf("  class %s %s\n", strings.Join(c.ids, ","), c.name)
		}
	}
	out.printf("  class %s target\n", nodeID(Node{NodeStage, v.c.Target}))
	if len(thick) > 0 {
		out.printf("  linkStyle %s stroke:%s,stroke-width:2px\n", strings.Join(thick, ","), colorBuilt)
	}
	if len(thin) > 0 {
		out.printf("  linkStyle %s stroke:%s\n", strings.Join(thin, ","), colorSkipped)
	}
	return out.err
}

// mermaidEscaper turns double quotes and characters Mermaid would read as
// markup into entity codes, and newlines into <br/>.
var mermaidEscaper = strings.NewReplacer(
	`"`, "#quot;",
	"#", "#35;",
	"<", "#lt;",
	">", "#gt;",
	"`", "#96;",
	"|", "#124;",
	"\r", "",
	"\n", "<br/>",
)

// mermaidQuote quotes s as a Mermaid label.
func mermaidQuote(s string) string {
	return `"` + mermaidEscaper.Replace(s) + `"`
}
