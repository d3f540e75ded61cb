// Package layercheck holds what the attribution tests of engine (on real
// builds) and buildgraph (on the histories recorded from them) check.
package layercheck

import (
	"fmt"
	"strings"

	"github.com/stagescope/stagescope/buildgraph"
)

// Recorded is one measured image of an example, as the engine's end-to-end
// test records it (go test ./engine -run TestAttributionBaseForms
// -record-histories).
type Recorded struct {
	Engine  string `json:"engine"`
	Form    string `json:"form"` // folder, oci-layout, docker-image
	Example string `json:"example"`
	Target  string `json:"target"`
	// Contexts are the named contexts of the build, with the folder of
	// the machine that recorded them replaced by /bases.
	Contexts map[string]string `json:"contexts"`
	// Layers are what Measure returned, before Attribute.
	Layers []buildgraph.Layer `json:"layers"`
	// CopiedBytes is the size of the file COPY --from=builder brought,
	// read from the image apart from its history (0: no such copy).
	CopiedBytes int64 `json:"copiedBytes"`
	// Rows are the keywords of the target chain's own instructions.
	Rows []string `json:"rows"`
}

// Check says what is wrong with an attribution: the layers after the base
// must be the rows, in order, each named by its instruction and by the
// history entry it lines up with, and the copy from builder must weigh
// copied bytes.
func Check(size *buildgraph.ImageSize, b buildgraph.Breakdown, rows []string, copied int64) []string {
	var errs []string
	if !b.Matched {
		return []string{"the history was not lined up with the Dockerfile"}
	}
	var own []buildgraph.Layer
	for i, l := range size.Layers {
		if l.Base {
			if len(own) > 0 {
				errs = append(errs, fmt.Sprintf("layer %d is a base layer after the stage's own", i))
			}
			continue
		}
		own = append(own, l)
	}
	if len(own) != len(rows) {
		errs = append(errs, fmt.Sprintf("%d rows after the base, want %d (%v)", len(own), len(rows), rows))
	}
	for i := 0; i < min(len(own), len(rows)); i++ {
		l := own[i]
		if k := keyword(l.Instruction); k != rows[i] {
			errs = append(errs, fmt.Sprintf("row %d names %q, want a %s", i, l.Instruction, rows[i]))
		}
		if k := keyword(l.CreatedBy); k != rows[i] {
			errs = append(errs, fmt.Sprintf("row %d (%s) lines up with the history entry %q", i, rows[i], l.CreatedBy))
		}
	}
	var from int64 = -1
	for _, c := range b.Copied {
		if c.Source == "builder" {
			from = c.Bytes
		}
	}
	switch {
	case copied > 0 && from != copied:
		errs = append(errs, fmt.Sprintf("copied from builder %d B, the file is %d B", from, copied))
	case copied == 0 && from >= 0:
		errs = append(errs, fmt.Sprintf("copied from builder %d B, but nothing is", from))
	}
	if b.Own > 1<<20 && b.Own > b.Base { // the examples' own steps weigh far less than their bases
		errs = append(errs, fmt.Sprintf("the stage's own layers weigh %d B, its base %d B: the base's layer is counted as its own", b.Own, b.Base))
	}
	return errs
}

func keyword(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "/bin/sh -c #(nop)"))
	k, _, _ := strings.Cut(s, " ")
	return strings.ToUpper(k)
}
