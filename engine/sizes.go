package engine

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/stagescope/stagescope/buildgraph"
)

// Measure reads the size of the image a build stored, without exporting it:
// from Docker's image store (inspect and history) on Docker, or from the
// engine's content store (manifest and config) on a standalone buildkitd.
func (e *Engine) Measure(ctx context.Context, res *Result) (*buildgraph.ImageSize, error) {
	return e.MeasureProgress(ctx, res, nil)
}

// MeasureProgress is Measure telling progress, when not nil, how many bytes
// of layer data it has read of how many it has to read: called once at the
// start (0 of total; total is 0 when nothing needs reading, as on Docker or
// when every layer's size is remembered), then as data arrives, from
// goroutines of its own, never concurrently. Several measurements may run
// at once: they share the reading of a layer they have in common.
func (e *Engine) MeasureProgress(ctx context.Context, res *Result, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	return e.be.measure(ctx, e.bk, e.layers, res, progress)
}

// layerReader measures layer blobs for an Engine: a few at a time, each
// blob once however many measurements want it at the same moment, and
// remembered by digest afterwards (blobs are addressed by content, so a
// size once read is right forever).
type layerReader struct {
	memo SizeMemo
	// files remembers layers' entries and images' configs (Files); nil:
	// nothing is remembered.
	files FileMemo
	// slots bounds the blobs being decompressed at once: one per core,
	// at least two so that reading and decompressing overlap.
	slots chan struct{}

	mu       sync.Mutex
	inflight map[digest.Digest]*layerRead
}

// layerRead is one blob being read; done closes when size and err are set.
type layerRead struct {
	done chan struct{}
	size int64
	err  error
}

func newLayerReader(memo SizeMemo, files FileMemo) *layerReader {
	return &layerReader{
		memo:     memo,
		files:    files,
		slots:    make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		inflight: map[digest.Digest]*layerRead{},
	}
}

// measureContent reads a manifest and its config from a content store. The
// compressed sizes are the manifest's; the uncompressed ones need the layer
// data, which is read and decompressed (streamed, never written anywhere),
// except for layers whose size is remembered.
func (lr *layerReader) measureContent(ctx context.Context, store content.Provider, ref string, manifest digest.Digest, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	var mf struct {
		ocispecs.Manifest
		Manifests []ocispecs.Descriptor `json:"manifests"` // when it is an index
	}
	if err := readJSON(ctx, store, ocispecs.Descriptor{Digest: manifest}, &mf); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", manifest, err)
	}
	if len(mf.Layers) == 0 && len(mf.Manifests) > 0 { // an index: every platform's image (platforms.go)
		return lr.measureIndex(ctx, store, ref, mf.Manifests, progress)
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
	sizes, err := lr.unpackedSizes(ctx, store, mf.Layers, progress)
	if err != nil {
		return nil, err
	}
	for i, l := range mf.Layers {
		out.Uncompressed += sizes[i]
		out.Compressed += l.Size
	}
	out.Compressed += mf.Config.Size
	compressed := make([]int64, len(mf.Layers))
	for i, l := range mf.Layers {
		compressed[i] = l.Size
	}
	out.Layers = historyLayers(cfg, sizes, compressed)
	return out, nil
}

// unpackedSizes are the unpacked sizes of layers, remembered or read
// concurrently, with progress in bytes of blob read.
func (lr *layerReader) unpackedSizes(ctx context.Context, store content.Provider, layers []ocispecs.Descriptor, progress func(done, total int64)) ([]int64, error) {
	sizes := make([]int64, len(layers))
	var total int64
	var todo []int
	for i, l := range layers {
		if v, ok := lr.memo.Get(l.Digest.String()); ok {
			sizes[i] = v
			continue
		}
		todo = append(todo, i)
		total += l.Size
	}
	var (
		mu   sync.Mutex // progress is never called concurrently
		done atomic.Int64
	)
	report := func(n int64) {
		// The count is taken under the lock, so the calls see it grow.
		mu.Lock()
		progress(done.Add(n), total)
		mu.Unlock()
	}
	report(0)
	g, ctx := errgroup.WithContext(ctx)
	for _, i := range todo {
		g.Go(func() error {
			n, err := lr.unpackedSize(ctx, store, layers[i], report)
			if err != nil {
				return fmt.Errorf("reading layer %s: %w", layers[i].Digest, err)
			}
			sizes[i] = n
			return nil
		})
	}
	return sizes, g.Wait()
}

// unpackedSize is one layer's unpacked size: remembered, read by another
// measurement at the same time, or read here. read is told of the bytes of
// the blob as they are read (all of them at once when another measurement
// read it).
func (lr *layerReader) unpackedSize(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, read func(int64)) (int64, error) {
	lr.mu.Lock()
	if f, ok := lr.inflight[desc.Digest]; ok {
		lr.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
		if f.err == nil {
			read(desc.Size)
			return f.size, nil
		}
		// The other reading failed (perhaps canceled with its own build):
		// read it here.
		return lr.unpackedSize(ctx, store, desc, read)
	}
	if v, ok := lr.memo.Get(desc.Digest.String()); ok { // read meanwhile
		lr.mu.Unlock()
		read(desc.Size)
		return v, nil
	}
	f := &layerRead{done: make(chan struct{})}
	lr.inflight[desc.Digest] = f
	lr.mu.Unlock()

	f.size, f.err = lr.read(ctx, store, desc, read)
	if f.err == nil {
		lr.memo.Put(desc.Digest.String(), f.size)
	}
	lr.mu.Lock()
	delete(lr.inflight, desc.Digest)
	lr.mu.Unlock()
	close(f.done)
	return f.size, f.err
}

// read streams a layer blob through its decompressor and adds up the sizes
// of the files in it.
func (lr *layerReader) read(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, read func(int64)) (int64, error) {
	var n int64
	err := lr.stream(ctx, store, desc, read, func(r io.Reader) (err error) {
		n, err = tarFileBytes(r)
		return err
	})
	return n, err
}

// stream hands use a layer blob's uncompressed tar stream, read in
// chunks, when one of the reader's slots is free; read is told of the
// bytes of the blob as they are read.
func (lr *layerReader) stream(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, read func(int64), use func(io.Reader) error) error {
	select {
	case lr.slots <- struct{}{}:
		defer func() { <-lr.slots }()
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	br, err := openBlob(ctx, store, desc, read)
	if err != nil {
		return err
	}
	defer br.Close()
	r := io.Reader(br)
	switch {
	case strings.HasSuffix(desc.MediaType, "gzip"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(desc.MediaType, "zstd"):
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return err
		}
		defer zr.Close()
		r = zr
	}
	return use(r)
}

// tarFileBytes counts file contents as Docker's classic store does (the sum
// of the files' sizes), not the tar stream with its headers and padding.
func tarFileBytes(r io.Reader) (int64, error) {
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

// historyLayers pairs an image config's history with its layers (sizes and
// compressed sizes, bottom first): non-empty entries take the layers in
// order, and layers without an entry are added at the end.
func historyLayers(cfg ocispecs.Image, sizes, compressed []int64) []buildgraph.Layer {
	var out []buildgraph.Layer
	li := 0
	for _, h := range cfg.History {
		l := buildgraph.Layer{CreatedBy: h.CreatedBy, Comment: h.Comment, Empty: h.EmptyLayer}
		if h.Created != nil {
			l.Created = *h.Created
		}
		if !h.EmptyLayer && li < len(sizes) {
			l.Size, l.Compressed = sizes[li], compressed[li]
			li++
		}
		out = append(out, l)
	}
	for ; li < len(sizes); li++ { // layers without history entries
		out = append(out, buildgraph.Layer{Size: sizes[li], Compressed: compressed[li]})
	}
	return out
}

func readJSON(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, v any) error {
	data, err := content.ReadBlob(ctx, store, desc)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
