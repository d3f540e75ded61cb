package tui

import (
	"fmt"

	"github.com/stagescope/stagescope/buildgraph"
)

// whyLines are what the log pane says first of a step that ran: why it did,
// then its details (old and new text, build arguments, files), each line
// cleaned of terminal control.
func whyLines(s Styles, r *buildgraph.Reason) []string {
	if r == nil {
		return nil
	}
	out := []string{s.Accent.Render("why: ") + clean(string(r.Kind))}
	add := func(format string, args ...any) {
		out = append(out, s.Faint.Render("  "+clean(fmt.Sprintf(format, args...))))
	}
	switch r.Kind {
	case buildgraph.ReasonParentRan:
		if r.Step != nil {
			add("the first step of the stage that ran: line %d, %s", r.Step.Line, firstLine(r.Step.Text))
		}
	case buildgraph.ReasonInstructionChanged:
		if r.Line > 0 {
			add("line %d", r.Line)
		}
		if r.Old != "" {
			add("was: %s", firstLine(r.Old))
		}
		if r.New != "" {
			add("now: %s", firstLine(r.New))
		}
	case buildgraph.ReasonBuildArgChanged:
		for _, a := range r.Args {
			add("%s: %s → %s", a.Name, argText(a.Old), argText(a.New))
		}
	case buildgraph.ReasonBaseChanged:
		switch {
		case r.Stage != "":
			add("its base stage %s ran", r.Stage)
		case r.Base != nil && r.Base.Old != r.Base.New:
			add("was: %s", r.Base.Old)
			add("now: %s", r.Base.New)
		}
	case buildgraph.ReasonSourceStageRan:
		add("stage %s, which it copies or mounts from, ran", r.Stage)
	case buildgraph.ReasonFilesChanged:
		for _, f := range r.Files {
			add("%-8s %s (%s)", f.Change, f.Path, buildgraph.HumanSize(f.Size))
		}
		if more := r.FilesChanged - len(r.Files); more > 0 {
			add("and %d more", more)
		}
	case buildgraph.ReasonCacheEvicted:
		add("its inputs are those of the recorded build, but the engine no longer had it in its cache")
	}
	if r.Note != "" {
		add("%s", r.Note)
	}
	return out
}

func argText(v *string) string {
	if v == nil {
		return "(unset)"
	}
	return fmt.Sprintf("%q", *v)
}

func firstLine(s string) string { return buildgraph.FirstLine(s) }
