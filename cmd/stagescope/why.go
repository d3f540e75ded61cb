package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"

	"github.com/stagescope/stagescope/buildgraph"
)

// printWhy writes one "why:" line for every step of p that ran and has a
// reason, in the Dockerfile's order (stage, then line; BuildKit announces
// the steps of a build in no such order): after BuildKit's display, which
// ends with the build, since reasons are known once the build ended.
func printWhy(w io.Writer, p *buildgraph.Progress) {
	steps := p.Steps()
	slices.SortStableFunc(steps, func(a, b *buildgraph.Step) int {
		return cmp.Or(cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Index, b.Index))
	})
	for _, st := range steps {
		if st.Why == nil {
			continue
		}
		fmt.Fprintln(w, buildgraph.SanitizeLine(fmt.Sprintf("why: %s: %s", st.Name, st.Why)))
	}
}
