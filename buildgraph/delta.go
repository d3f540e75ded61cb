package buildgraph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Delta is what changed from one build of a target to the next: the
// image's size, layer by layer, the steps that ran and the build time.
type Delta struct {
	Target string
	// Size is the image's uncompressed size now; SizeDelta the change
	// from the previous build's, known when HasSize.
	Size      int64
	SizeDelta int64
	HasSize   bool
	// Layers are the layers whose size changed, in the image's order.
	Layers []LayerDelta
	// Duration is the build's time, DurationDelta its change, known when
	// HasDuration.
	Duration      time.Duration
	DurationDelta time.Duration
	HasDuration   bool
	// Ran are the steps that ran (not from the cache), of Total, in
	// Dockerfile order; Why the reason of each (nil when none is known).
	Ran   []string
	Why   []*Reason
	Total int
	// Platforms are, for an image index (a build for several platforms),
	// each platform's size and change, in place of Size and Layers.
	Platforms []PlatformDelta
}

// PlatformDelta is one platform's image in a Delta: its uncompressed size
// and the change from that platform's last image, known when HasSize.
type PlatformDelta struct {
	Platform  string
	Size      int64
	SizeDelta int64
	HasSize   bool
}

// LayerDelta is one layer whose size changed: Index in the image's
// layers, the instruction that made it, and the change (a layer that is
// new counts in full, one that is gone negative).
type LayerDelta struct {
	Index     int
	CreatedBy string
	Delta     int64
}

// BuildDelta compares the result of a build with the previous build of
// the same target: prev is that build's result (nil when there was none in
// this session), saved its recorded size (nil when none). Steps are the
// steps of the build; those that ran are listed.
func BuildDelta(prev *TargetResult, saved *SavedSize, cur TargetResult, steps []*Step) Delta {
	d := Delta{Target: cur.Target, Duration: cur.Duration}
	if prev != nil && prev.Duration > 0 && cur.Duration > 0 {
		d.DurationDelta, d.HasDuration = cur.Duration-prev.Duration, true
	}
	steps = slices.Clone(steps)
	slices.SortStableFunc(steps, func(a, b *Step) int { return cmp.Or(a.Stage-b.Stage, a.Line-b.Line) })
	for _, s := range steps {
		if s.Stage < 0 || s.Line == 0 {
			continue // BuildKit's own steps: the context, a base's metadata
		}
		d.Total++
		if s.State == StepDone || s.State == StepError {
			d.Ran = append(d.Ran, s.Text)
			d.Why = append(d.Why, s.Why)
		}
	}
	if cur.Size == nil {
		return d
	}
	if len(cur.Size.Platforms) > 1 {
		// Each platform against its own last image: the previous build's
		// index, else the size saved for that platform.
		for _, ps := range cur.Size.Platforms {
			pd := PlatformDelta{Platform: ps.Platform, Size: ps.Uncompressed}
			if old := prev.platformSize(ps.Platform); old != nil {
				pd.SizeDelta, pd.HasSize = ps.Uncompressed-old.Uncompressed, true
			} else if s, ok := cur.PlatformPrevious[ps.Platform]; ok {
				pd.SizeDelta, pd.HasSize = ps.Uncompressed-s.Uncompressed, true
			}
			d.Platforms = append(d.Platforms, pd)
		}
		return d
	}
	d.Size = cur.Size.Uncompressed
	switch {
	case prev != nil && prev.Size != nil && len(prev.Size.Platforms) <= 1:
		// (An index before is several platforms' images: the saved size
		// is this platform's, when one was saved.)
		d.SizeDelta, d.HasSize = cur.Size.Uncompressed-prev.Size.Uncompressed, true
		d.Layers = layerDeltas(prev.Size.Layers, cur.Size.Layers)
	case saved != nil:
		d.SizeDelta, d.HasSize = cur.Size.Uncompressed-saved.Uncompressed, true
	}
	return d
}

// platformSize is the image of platform p in r's measurement when it is an
// index that has one, nil otherwise.
func (r *TargetResult) platformSize(p string) *ImageSize {
	if r == nil || r.Size == nil || len(r.Size.Platforms) == 0 {
		return nil
	}
	return r.Size.ForPlatform(p)
}

// layerDeltas pairs layers by position, the layers that are the same
// instruction at the same place compared by size.
func layerDeltas(prev, cur []Layer) []LayerDelta {
	var out []LayerDelta
	for i := range max(len(prev), len(cur)) {
		switch {
		case i >= len(prev):
			if cur[i].Size != 0 {
				out = append(out, LayerDelta{Index: i, CreatedBy: cur[i].CreatedBy, Delta: cur[i].Size})
			}
		case i >= len(cur):
			if prev[i].Size != 0 {
				out = append(out, LayerDelta{Index: i, CreatedBy: prev[i].CreatedBy, Delta: -prev[i].Size})
			}
		case cur[i].Size != prev[i].Size:
			out = append(out, LayerDelta{Index: i, CreatedBy: cur[i].CreatedBy, Delta: cur[i].Size - prev[i].Size})
		}
	}
	return out
}

// SignedSize is a size change: "+1.2kB", "−340B", "±0B".
func SignedSize(n int64) string {
	switch {
	case n > 0:
		return "+" + HumanSize(n)
	case n < 0:
		return "−" + HumanSize(-n)
	}
	return "±0B"
}

// signedDuration is a change of time to a tenth of a second: "+1.2s",
// "−0.3s", "±0s".
func signedDuration(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	switch {
	case d > 0:
		return fmt.Sprintf("+%.1fs", d.Seconds())
	case d < 0:
		return fmt.Sprintf("−%.1fs", -d.Seconds())
	}
	return "±0s"
}

// LayerText is a layer's instruction, shortened: BuildKit's history entry
// without "/bin/sh -c" and the "# buildkit" comment.
func LayerText(createdBy string) string {
	s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(createdBy), "# buildkit"))
	s = strings.Replace(s, "/bin/sh -c ", "", 1)
	if s == "" {
		return "a layer"
	}
	return s
}

// Parts are the delta's pieces, most telling first: the size and its
// change, the layers that changed (at most maxLayers), the time and its
// change, the steps that ran, each with its reason when known:
// "ran 2 of 5 steps: COPY src/ . (files-changed: src/a.go), RUN go build
// (parent-ran)".
func (d Delta) Parts(maxLayers int) []string {
	var parts []string
	for _, pd := range d.Platforms {
		p := pd.Platform + " " + HumanSize(pd.Size)
		if pd.HasSize {
			p = pd.Platform + " " + SignedSize(pd.SizeDelta) + " (" + HumanSize(pd.Size) + ")"
		}
		parts = append(parts, p)
	}
	if d.Size > 0 || d.HasSize {
		p := HumanSize(d.Size)
		if d.HasSize {
			p = SignedSize(d.SizeDelta) + " (" + p + ")"
		}
		parts = append(parts, p)
	}
	for i, l := range d.Layers {
		if i == maxLayers {
			parts = append(parts, fmt.Sprintf("%d more layers", len(d.Layers)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s", LayerText(l.CreatedBy), SignedSize(l.Delta)))
	}
	if d.Duration > 0 {
		p := fmt.Sprintf("%.1fs", d.Duration.Seconds())
		if d.HasDuration {
			p += " (" + signedDuration(d.DurationDelta) + ")"
		}
		parts = append(parts, p)
	}
	if d.Total > 0 {
		p := fmt.Sprintf("ran %d of %d steps", len(d.Ran), d.Total)
		for i, text := range d.Ran {
			if i == 0 {
				p += ": "
			} else {
				p += ", "
			}
			p += text
			if i < len(d.Why) && d.Why[i] != nil {
				p += " (" + d.Why[i].Brief() + ")"
			}
		}
		parts = append(parts, p)
	}
	return parts
}

// Brief is the reason's kind with the one detail that names what
// changed, for a list of steps: "files-changed: src/a.go +2 more",
// "build-arg-changed: VERSION", "source-stage-ran: builder".
func (r *Reason) Brief() string {
	if r == nil {
		return ""
	}
	s := string(r.Kind)
	switch r.Kind {
	case ReasonFilesChanged:
		if len(r.Files) > 0 {
			s += ": " + r.Files[0].Path
			if more := max(r.FilesChanged, len(r.Files)) - 1; more > 0 {
				s += fmt.Sprintf(" +%d more", more)
			}
		}
	case ReasonBuildArgChanged:
		var names []string
		for _, a := range r.Args {
			names = append(names, a.Name)
		}
		if len(names) > 0 {
			s += ": " + strings.Join(names, ", ")
		}
	case ReasonSourceStageRan, ReasonBaseChanged:
		if r.Stage != "" {
			s += ": " + r.Stage
		}
	}
	return s
}
