package filetree

import "path"

// efficiency computes dive's image efficiency score the way dive does
// (dive's filetree.Efficiency):
//
//   - every layer is seen as its own tree, and only its leaves count: the
//     entries with nothing of the same layer below them;
//   - each occurrence of a path counts the entry's size, except a whiteout,
//     which counts what it deletes when that is a directory (the sizes of
//     the files below it in the layers beneath) and 0 when it is a file;
//   - per path, dive keeps the sum of its occurrences (cumulative) and the
//     smallest one;
//   - the score is the sum of the smallest over the sum of the cumulative
//     (1 when both are 0): an image whose paths are each written once
//     scores 1;
//   - dive's "potential wasted space" is the sum of the cumulative sizes
//     of the paths that occur in more than one layer, the version the
//     image keeps included.
//
// dive's way has a blind spot: a directory deleted whole is the
// whiteout's only occurrence of its path (the directory was no leaf of
// the layer that wrote it), so it lowers neither the score nor dive's
// wasted space.
//
// Tree.Wasted counts only the versions no one can see any longer: a 10 MB
// file written, then deleted, wastes 10 MB for both; written, then
// overwritten by another 10 MB, wastes 10 MB in Tree.Wasted and 20 MB in
// dive's figure. An opaque directory's marker counts for nothing in the
// score; what it hides is in Tree.Wasted.
type efficiency struct {
	paths map[string]*occurrences
	// pending whiteout sizes of the current layer, by path
	pending map[string]int64
}

type occurrences struct {
	cumulative, smallest int64
	count                int
}

func newEfficiency() *efficiency {
	return &efficiency{paths: map[string]*occurrences{}, pending: map[string]int64{}}
}

// whiteout notes, before it is applied, what a whiteout of the current
// layer deletes (n, nil when nothing).
func (e *efficiency) whiteout(p string, n *Node) {
	var size int64
	if n != nil && n.Kind == Dir {
		size, _ = subtree(n)
	}
	e.pending[p] = size
}

// layer adds the leaves of one layer.
func (e *efficiency) layer(entries []Entry) {
	parents := map[string]bool{}
	for _, en := range entries {
		for d := path.Dir(en.Path); d != "." && d != "/" && !parents[d]; d = path.Dir(d) {
			parents[d] = true
		}
	}
	for _, en := range entries {
		if en.Kind == Opaque || parents[en.Path] {
			continue
		}
		size := en.Size
		if en.Kind == Whiteout {
			size = e.pending[en.Path]
		}
		o := e.paths[en.Path]
		if o == nil {
			o = &occurrences{smallest: size}
			e.paths[en.Path] = o
		}
		o.count++
		o.cumulative += size
		o.smallest = min(o.smallest, size)
	}
	clear(e.pending)
}

// score is dive's efficiency score and potential wasted space.
func (e *efficiency) score() (float64, int64) {
	var smallest, cumulative, wasted int64
	for _, o := range e.paths {
		smallest += o.smallest
		cumulative += o.cumulative
		if o.count > 1 {
			wasted += o.cumulative
		}
	}
	if cumulative == 0 {
		return 1, wasted
	}
	return float64(smallest) / float64(cumulative), wasted
}
