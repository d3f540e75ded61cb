package pipeline

import (
	"context"
	"errors"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/filetree"
)

// FilesReader is a Session that reads the files of the images it built
// (a Session of Connect does).
type FilesReader interface {
	Files(ctx context.Context, res *engine.Result, progress func(done, total int64)) (*engine.ImageFiles, error)
}

// Files reads the file system of the image plan's build produced (res),
// layer by layer, and lines its layers up with the Dockerfile as the size
// breakdown does (buildgraph.Attribute): every path has the instruction,
// line and stage that wrote it. progress (nil: no one) is told of the
// layer data read, as Session.Measure tells it.
func Files(ctx context.Context, s Session, plan *Plan, res *engine.Result, progress func(done, total int64)) (*filetree.Tree, error) {
	fr, ok := s.(FilesReader)
	if !ok {
		return nil, errors.New("this engine session cannot read the files of images")
	}
	if res == nil {
		return nil, errors.New("the build produced no image")
	}
	f, err := fr.Files(ctx, res, progress)
	if err != nil {
		return nil, err
	}
	buildgraph.Attribute(plan.Graph, plan.Target, f.Size)
	return Stack(f), nil
}

// Stack stacks an image's layers with the origins of its (attributed)
// history: the non-empty history entries are the layers, in order.
func Stack(f *engine.ImageFiles) *filetree.Tree {
	var in []filetree.Input
	li := 0
	for _, l := range f.Size.Layers {
		if l.Empty || li >= len(f.Layers) {
			continue
		}
		in = append(in, filetree.Input{Origin: OriginOf(l, f.Layers[li].DiffID), Layer: f.Layers[li].Files})
		li++
	}
	for ; li < len(f.Layers); li++ { // layers the history does not account for
		in = append(in, filetree.Input{Origin: filetree.Origin{Stage: -1, Digest: f.Layers[li].DiffID}, Layer: f.Layers[li].Files})
	}
	return filetree.Build(in)
}

// OriginOf is where an attributed history entry puts its layer.
func OriginOf(l buildgraph.Layer, diffID string) filetree.Origin {
	return filetree.Origin{
		Digest: diffID, Size: l.Size, Base: l.Base, Stage: l.Stage, StageName: l.StageName,
		Line: l.Line, Instruction: l.Instruction, From: l.From, CreatedBy: l.CreatedBy,
	}
}
