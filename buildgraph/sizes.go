package buildgraph

import (
	"strings"
	"time"
)

// Unknown marks a size the image store cannot tell.
const Unknown int64 = -1

// ImageSize is the measured size of a built image and its layers.
type ImageSize struct {
	Ref string `json:"ref"`
	// Uncompressed is the unpacked size (what `docker image ls` shows on
	// Docker's classic store); Compressed is what a pull downloads. Either
	// may be Unknown; the notes say what each figure means where it came from.
	Uncompressed     int64  `json:"uncompressed"`
	Compressed       int64  `json:"compressed"`
	UncompressedNote string `json:"uncompressedNote,omitempty"`
	CompressedNote   string `json:"compressedNote,omitempty"`
	// Store names where the sizes were read.
	Store  string  `json:"store"`
	Layers []Layer `json:"layers"`
	// Platform is the image's platform when it was read from an image
	// index ("linux/arm64"). Platforms are every platform's image of an
	// index (the fields above are the first one's) and Attestations the
	// index's other manifests (platforms.go).
	Platform     string        `json:"platform,omitempty"`
	Platforms    []*ImageSize  `json:"platforms,omitempty"`
	Attestations []Attestation `json:"attestations,omitempty"`
}

// Layer is one entry of an image's history, oldest first, with the place in
// the Dockerfile that made it once Attribute has run.
type Layer struct {
	// CreatedBy is the history entry ("RUN /bin/sh -c go build … # buildkit").
	CreatedBy string `json:"createdBy"`
	// Comment is the history entry's comment: "" for most, the message of
	// docker import for an imported image, where CreatedBy is empty.
	Comment string `json:"comment,omitempty"`
	// Empty is true for entries that changed only the config (ENV, CMD…).
	Empty      bool      `json:"empty"`
	Size       int64     `json:"size"`
	Compressed int64     `json:"compressed"`
	Created    time.Time `json:"created,omitzero"`

	// Base is true for layers of the base image (an external image or a
	// named context); Stage is then -1.
	Base  bool `json:"base"`
	Stage int  `json:"stage"`
	// StageName, Line and Instruction locate the instruction that made the
	// layer; empty when the history could not be matched.
	StageName   string `json:"stageName,omitempty"`
	Line        int    `json:"line,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	// From is the source of a COPY --from or ADD --from layer: a stage name
	// or an image reference.
	From string `json:"from,omitempty"`
}

// Breakdown says where a target image's bytes come from.
type Breakdown struct {
	// Matched is false when the image history could not be lined up with
	// the Dockerfile (then only Base and the totals are meaningful).
	Matched bool `json:"matched"`
	// BaseRef is the base image of the target's FROM chain ("scratch", an
	// image reference or a named context).
	BaseRef string `json:"baseRef"`
	// Base counts the base image's layers; Own the layers the chain's own
	// instructions made other than copies from elsewhere.
	Base int64 `json:"base"`
	Own  int64 `json:"own"`
	// Copied are the bytes each COPY --from source contributed.
	Copied []Contribution `json:"copied"`
	// LeftBehind are the stages the build ran that the image does not
	// contain (builders whose output was copied, or not used at all), with
	// the size of their own image where it was measured (Unknown if not).
	LeftBehind []Contribution `json:"leftBehind,omitempty"`
}

// Contribution is the bytes one source put into an image.
type Contribution struct {
	Source string `json:"source"`
	Bytes  int64  `json:"bytes"`
}

// Attribute lines the image's history up with the target stage's FROM
// chain and fills in each layer's origin. BuildKit records one history
// entry per instruction after FROM (ONBUILD aside), so the last entries
// belong to the chain's instructions, in order, and the ones before them to
// the base image. Each of those entries must start with its instruction's
// keyword; when one does not (a base whose ONBUILD triggers ran, a history
// rewritten elsewhere) the breakdown is not Matched: no row names an
// instruction rather than a wrong one.
func Attribute(g *Graph, target string, size *ImageSize) Breakdown {
	var b Breakdown
	st, ok := g.Stage(target)
	if !ok || size == nil {
		return b
	}
	chain := g.Chain(st.Index)
	root := chain[0]
	switch {
	case root.Context != nil:
		b.BaseRef = "context " + root.Name
	case root.Base.Kind == BaseScratch:
		b.BaseRef = "scratch"
	default:
		b.BaseRef = root.Base.Ref
	}
	type slot struct {
		stage *Stage
		ins   Instruction
	}
	var slots []slot
	for _, s := range chain {
		if s.Context != nil { // replaced: none of its instructions ran
			continue
		}
		for _, ins := range s.Instructions {
			if ins.Keyword == "ONBUILD" { // kept in the config, no history entry
				continue
			}
			slots = append(slots, slot{s, ins})
		}
	}
	size.Layers = alignHistory(size.Layers)
	nBase := len(size.Layers) - len(slots)
	b.Matched = nBase >= 0
	for i := 0; b.Matched && i < len(slots); i++ {
		// Every entry BuildKit writes for an instruction starts with its
		// keyword: a row that would name another instruction is not shown.
		b.Matched = historyKeyword(size.Layers[nBase+i].CreatedBy) == slots[i].ins.Keyword
	}
	copied := map[string]int64{}
	var order []string
	for i := range size.Layers {
		l := &size.Layers[i]
		l.Stage = -1
		if !b.Matched {
			continue
		}
		if i < nBase {
			l.Base = true
			b.Base += max(l.Size, 0)
			continue
		}
		sl := slots[i-nBase]
		l.Stage, l.StageName, l.Line, l.Instruction = sl.stage.Index, sl.stage.Name, sl.ins.StartLine, sl.ins.Text
		if from := g.copySource(sl.stage.Index, sl.ins); from != "" {
			l.From = from
			if _, ok := copied[from]; !ok {
				order = append(order, from)
			}
			copied[from] += max(l.Size, 0)
			continue
		}
		b.Own += max(l.Size, 0)
	}
	if !b.Matched {
		for _, l := range size.Layers {
			b.Base += max(l.Size, 0)
		}
	}
	for _, src := range order {
		b.Copied = append(b.Copied, Contribution{Source: src, Bytes: copied[src]})
	}
	return b
}

// exporterComment marks the history entries BuildKit's image exporter adds
// for layers the build's history does not account for.
const exporterComment = "buildkit.exporter.image.v0"

// alignHistory puts the history entries of layers that had none where
// their layers are. A base given as a folder is one layer that BuildKit
// makes without a history entry; the image exporter then appends an entry
// for it after the Dockerfile's own (the entries and the layers no longer
// correspond in order), and a store that pairs non-empty entries with
// layers in order (the content store's manifest, Docker's image history)
// gives each entry the size of the layer below it. Such layers are the
// base's, at the bottom: the appended entries move to the front and the
// sizes follow the layers' order again.
func alignHistory(layers []Layer) []Layer {
	k := 0
	for k < len(layers) && layers[len(layers)-1-k].Comment == exporterComment && !layers[len(layers)-1-k].Empty {
		k++
	}
	if k == 0 || k == len(layers) {
		return layers
	}
	type sizes struct{ size, compressed int64 }
	var order []sizes
	for _, l := range layers {
		if !l.Empty {
			order = append(order, sizes{l.Size, l.Compressed})
		}
	}
	n := len(layers) - k
	out := append(append(make([]Layer, 0, len(layers)), layers[n:]...), layers[:n]...)
	for i := range k {
		// The exporter describes the entry with the layer it would have
		// had, the topmost: nothing of that text is true of this one.
		out[i].CreatedBy, out[i].Comment = "", "base layer without history (a base given as a folder)"
	}
	j := 0
	for i := range out {
		if out[i].Empty {
			continue
		}
		out[i].Size, out[i].Compressed = order[j].size, order[j].compressed
		j++
	}
	return out
}

// historyKeyword is the instruction keyword a history entry starts with:
// "RUN" for "RUN /bin/sh -c make # buildkit", "" for an imported layer.
func historyKeyword(createdBy string) string {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(createdBy), "/bin/sh -c #(nop)"))
	k, _, _ := strings.Cut(s, " ")
	return strings.ToUpper(k)
}

// copySource names where a COPY/ADD --from instruction copies from: the
// stage name, or the image reference.
func (g *Graph) copySource(stage int, ins Instruction) string {
	if ins.Keyword != "COPY" && ins.Keyword != "ADD" {
		return ""
	}
	for _, e := range g.Edges {
		if e.To != stage || e.Kind != EdgeCopyFrom || e.Line != ins.StartLine {
			continue
		}
		if e.From.Kind == NodeImage && (e.From.Index < 0 || e.From.Index >= len(g.Images)) {
			return strings.TrimSpace(e.Ref)
		}
		return g.nodeLabel(e.From)
	}
	return ""
}

// LeftBehind lists the stages a target's build runs that are not in its
// image: the stages of its closure outside its FROM chain. Sizes come from
// measured, keyed by stage name (Unknown where absent).
func LeftBehind(g *Graph, target string, measured map[string]int64) []Contribution {
	st, ok := g.Stage(target)
	if !ok {
		return nil
	}
	name := target
	if !st.Named { // the unnamed last stage is built without a target
		name = ""
	}
	c, err := g.Closure(name)
	if err != nil {
		return nil
	}
	inChain := map[int]bool{}
	for _, s := range g.Chain(st.Index) {
		inChain[s.Index] = true
	}
	var out []Contribution
	for _, i := range c.Stages {
		if inChain[i] {
			continue
		}
		n := c.Graph.Stages[i].Name
		size, ok := measured[n]
		if !ok {
			size = Unknown
		}
		out = append(out, Contribution{Source: n, Bytes: size})
	}
	return out
}
