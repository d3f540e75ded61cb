package engine

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stagescope/stagescope/buildgraph"
)

// Measure reads the size of the image a build stored, without exporting it:
// from Docker's image store (inspect and history) on Docker, or from the
// engine's content store (manifest and config) on a standalone buildkitd.
func (e *Engine) Measure(ctx context.Context, res *Result) (*buildgraph.ImageSize, error) {
	return e.be.measure(ctx, e.bk, e.layerSizes, res)
}

// measureContent reads a manifest and its config from a content store. The
// compressed sizes are the manifest's; the uncompressed ones need the layer
// data, which is read and decompressed (streamed, never written anywhere).
//
// Layer blobs are addressed by content, so their unpacked sizes are
// remembered in known and a rebuilt image whose layers did
// not change is measured without reading them again.
func measureContent(ctx context.Context, store content.Provider, ref string, manifest digest.Digest, known SizeMemo) (*buildgraph.ImageSize, error) {
	var mf struct {
		ocispecs.Manifest
		Manifests []ocispecs.Descriptor `json:"manifests"` // when it is an index
	}
	if err := readJSON(ctx, store, ocispecs.Descriptor{Digest: manifest}, &mf); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", manifest, err)
	}
	if len(mf.Layers) == 0 && len(mf.Manifests) > 0 { // an index: measure the first image
		return measureContent(ctx, store, ref, mf.Manifests[0].Digest, known)
	}
	var cfg ocispecs.Image
	if err := readJSON(ctx, store, mf.Config, &cfg); err != nil {
		return nil, fmt.Errorf("reading image config %s: %w", mf.Config.Digest, err)
	}
	out := &buildgraph.ImageSize{
		Ref: ref, Store: "buildkitd content store",
		UncompressedNote: "file contents of the layers, read from the layer data",
		CompressedNote:   "layer blobs as stored (what a pull downloads)",
	}
	sizes := make([]int64, len(mf.Layers))
	for i, l := range mf.Layers {
		if v, ok := known.Get(l.Digest.String()); ok {
			sizes[i] = v
			out.Uncompressed += sizes[i]
			out.Compressed += l.Size
			continue
		}
		n, err := unpackedSize(ctx, store, l)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s: %w", l.Digest, err)
		}
		known.Put(l.Digest.String(), n)
		sizes[i] = n
		out.Uncompressed += n
		out.Compressed += l.Size
	}
	out.Compressed += mf.Config.Size
	li := 0
	for _, h := range cfg.History {
		l := buildgraph.Layer{CreatedBy: h.CreatedBy, Comment: h.Comment, Empty: h.EmptyLayer}
		if h.Created != nil {
			l.Created = *h.Created
		}
		if !h.EmptyLayer && li < len(mf.Layers) {
			l.Size, l.Compressed = sizes[li], mf.Layers[li].Size
			li++
		}
		out.Layers = append(out.Layers, l)
	}
	for ; li < len(mf.Layers); li++ { // layers without history entries
		out.Layers = append(out.Layers, buildgraph.Layer{Size: sizes[li], Compressed: mf.Layers[li].Size})
	}
	return out, nil
}

func readJSON(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, v any) error {
	data, err := content.ReadBlob(ctx, store, desc)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// unpackedSize streams a layer blob through its decompressor and adds up the
// sizes of the files in it.
func unpackedSize(ctx context.Context, store content.Provider, desc ocispecs.Descriptor) (int64, error) {
	ra, err := store.ReaderAt(ctx, desc)
	if err != nil {
		return 0, err
	}
	defer ra.Close()
	r := io.Reader(content.NewReader(ra))
	switch {
	case strings.HasSuffix(desc.MediaType, "gzip"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(desc.MediaType, "zstd"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	}
	// Count file contents as Docker's classic store does (the sum of the
	// files' sizes), not the tar stream with its headers and padding.
	var n int64
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if h.Typeflag == tar.TypeReg {
			n += h.Size
		}
	}
}
