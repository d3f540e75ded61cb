package main

import (
	"fmt"
	"io"

	"github.com/stagescope/stagescope/buildgraph"
)

// printWhy writes one "why:" line for every step of p that ran and has a
// reason, in the order the steps appeared: after BuildKit's display, which
// ends with the build, since reasons are known once the build ended.
func printWhy(w io.Writer, p *buildgraph.Progress) {
	for _, st := range p.Steps() {
		if st.Why == nil {
			continue
		}
		fmt.Fprintln(w, buildgraph.SanitizeLine(fmt.Sprintf("why: %s: %s", st.Name, st.Why)))
	}
}
