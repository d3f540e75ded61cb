package engine

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/attestation"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/filetree"
)

// ImageFiles is what the layers of a built image hold.
type ImageFiles struct {
	Ref string
	// Size is the image's history with each layer's size, as Measure
	// returns it (for buildgraph.Attribute): its non-empty entries are
	// Layers, in order.
	Size *buildgraph.ImageSize
	// Layers are the image's layers, bottom first.
	Layers []LayerFiles
}

// LayerFiles is one layer: its DiffID and its entries.
type LayerFiles struct {
	DiffID string
	Files  *filetree.Layer
}

// FileMemo keeps what reading an image's files found, by content digest:
// the entries of a layer by its DiffID, and an image's config by its
// digest. Both are addressed by content, so an entry never goes stale.
type FileMemo interface {
	Get(key string) ([]byte, bool)
	Put(key string, data []byte)
}

// Files reads the files of the image a build stored, layer by layer,
// telling progress (nil: no one) how many bytes of layer data it has read
// of how many, as MeasureProgress does. On a standalone buildkitd the
// layer blobs are read from its content store, as Measure reads them; on
// Docker the image store streams the image (`docker save`), which is read
// as it comes and never written anywhere. Layers read once are remembered
// by DiffID (Options.LayerFiles): an image whose layers are all remembered
// is not read at all.
func (e *Engine) Files(ctx context.Context, res *Result, progress func(done, total int64)) (*ImageFiles, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	return e.be.files(ctx, e.bk, e.layers, res, progress)
}

// memoKey names what a FileMemo keeps.
func layerKey(diffID string) string  { return "layer-" + diffID }
func configKey(digest string) string { return "config-" + digest }

// encodeLayer is how a layer's entries are remembered: JSON, gzipped.
func encodeLayer(l *filetree.Layer) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(l); err != nil {
		return nil
	}
	if zw.Close() != nil {
		return nil
	}
	return buf.Bytes()
}

func decodeLayer(data []byte) (*filetree.Layer, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, false
	}
	var l filetree.Layer
	if err := json.NewDecoder(zr).Decode(&l); err != nil {
		return nil, false
	}
	return &l, true
}

// rememberedLayer is a layer's entries from the memo.
func (lr *layerReader) rememberedLayer(diffID string) (*filetree.Layer, bool) {
	if lr.files == nil {
		return nil, false
	}
	data, ok := lr.files.Get(layerKey(diffID))
	if !ok {
		return nil, false
	}
	return decodeLayer(data)
}

func (lr *layerReader) rememberLayer(diffID string, l *filetree.Layer) {
	if lr.files == nil || diffID == "" {
		return
	}
	if data := encodeLayer(l); data != nil {
		lr.files.Put(layerKey(diffID), data)
	}
}

// imageFiles pairs a config's history with the layers' entries.
func imageFiles(ref, store string, cfg ocispecs.Image, layers []LayerFiles, compressed []int64) *ImageFiles {
	sizes := make([]int64, len(layers))
	var total int64
	for i, l := range layers {
		sizes[i] = l.Files.Size
		total += l.Files.Size
	}
	if compressed == nil {
		compressed = make([]int64, len(layers))
		for i := range compressed {
			compressed[i] = buildgraph.Unknown
		}
	}
	size := &buildgraph.ImageSize{Ref: ref, Store: store, Uncompressed: total, Compressed: buildgraph.Unknown, Layers: historyLayers(cfg, sizes, compressed)}
	return &ImageFiles{Ref: ref, Size: size, Layers: layers}
}

// files on a buildkitd reads the exported image's manifest, config and
// layer blobs through the content API, a few layers at a time.
func (buildkitd) files(ctx context.Context, bk *client.Client, lr *layerReader, res *Result, progress func(done, total int64)) (*ImageFiles, error) {
	manifest := res.Exporter["containerimage.digest"]
	if manifest == "" {
		return nil, errors.New("the build exported no image to read (build with an image export)")
	}
	defer func() { _ = lr.memo.Flush() }()
	store := proxy.NewContentStore(bk.ContentClient())
	d := digest.Digest(manifest)
	if res.Platform != "" {
		var err error
		if d, err = platformManifest(ctx, store, d, res.Platform); err != nil {
			return nil, err
		}
	}
	return lr.contentFiles(ctx, store, res.Image, d, progress)
}

// platformManifest is the manifest of platform's image in the image index
// manifest ("linux/arm64", as measureIndex names them); manifest itself
// when it is an image's.
func platformManifest(ctx context.Context, store content.Provider, manifest digest.Digest, platform string) (digest.Digest, error) {
	var idx ocispecs.Index
	if err := readJSON(ctx, store, ocispecs.Descriptor{Digest: manifest}, &idx); err != nil {
		return "", fmt.Errorf("reading manifest %s: %w", manifest, err)
	}
	if len(idx.Manifests) == 0 {
		return manifest, nil
	}
	for _, m := range idx.Manifests {
		if m.Platform != nil && platforms.FormatAll(platforms.Normalize(*m.Platform)) == platform &&
			m.Annotations[attestation.DockerAnnotationReferenceType] != attestation.DockerAnnotationReferenceTypeDefault {
			return m.Digest, nil
		}
	}
	return "", fmt.Errorf("the image index %s holds no %s image", manifest, platform)
}

func (lr *layerReader) contentFiles(ctx context.Context, store content.Provider, ref string, manifest digest.Digest, progress func(done, total int64)) (*ImageFiles, error) {
	var mf struct {
		ocispecs.Manifest
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	if err := readJSON(ctx, store, ocispecs.Descriptor{Digest: manifest}, &mf); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", manifest, err)
	}
	if len(mf.Layers) == 0 && len(mf.Manifests) > 0 {
		return lr.contentFiles(ctx, store, ref, mf.Manifests[0].Digest, progress)
	}
	var cfg ocispecs.Image
	if err := readJSON(ctx, store, mf.Config, &cfg); err != nil {
		return nil, fmt.Errorf("reading image config %s: %w", mf.Config.Digest, err)
	}
	layers := make([]LayerFiles, len(mf.Layers))
	compressed := make([]int64, len(mf.Layers))
	var total int64
	var todo []int
	for i, desc := range mf.Layers {
		compressed[i] = desc.Size
		if i < len(cfg.RootFS.DiffIDs) {
			layers[i].DiffID = cfg.RootFS.DiffIDs[i].String()
		}
		if l, ok := lr.rememberedLayer(layers[i].DiffID); ok {
			layers[i].Files = l
			continue
		}
		todo = append(todo, i)
		total += desc.Size
	}
	var (
		mu   sync.Mutex
		done int64
	)
	report := func(n int64) {
		mu.Lock()
		done += n
		progress(done, total)
		mu.Unlock()
	}
	report(0)
	g, gctx := errgroup.WithContext(ctx)
	for _, i := range todo {
		g.Go(func() error {
			err := lr.stream(gctx, store, mf.Layers[i], report, func(r io.Reader) error {
				l, err := filetree.Read(r)
				layers[i].Files = l
				return err
			})
			if err != nil {
				return fmt.Errorf("reading layer %s: %w", mf.Layers[i].Digest, err)
			}
			lr.rememberLayer(layers[i].DiffID, layers[i].Files)
			lr.memo.Put(mf.Layers[i].Digest.String(), layers[i].Files.Size)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return imageFiles(ref, "buildkitd content store", cfg, layers, compressed), nil
}

// files on Docker: the config and layers are remembered, or the image
// store streams the image and its layers are read as they pass.
func (d dockerd) files(ctx context.Context, _ *client.Client, lr *layerReader, res *Result, progress func(done, total int64)) (*ImageFiles, error) {
	if res.Image == "" {
		return nil, errors.New("the build stored no image to read")
	}
	id, diffIDs, size, err := d.api.imageLayers(ctx, res.Image)
	if err != nil {
		return nil, err
	}
	if f, ok := lr.rememberedImage(res.Image, id, diffIDs); ok {
		progress(0, 0)
		return f, nil
	}
	progress(0, size)
	rc, err := d.api.save(ctx, res.Image)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	cr := &countingReader{r: rc, read: func(n int64) { progress(n, size) }}
	return lr.savedFiles(res.Image, id, cr)
}

// rememberedImage is an image whose config and every layer are in the
// memo.
func (lr *layerReader) rememberedImage(ref, id string, diffIDs []string) (*ImageFiles, bool) {
	if lr.files == nil {
		return nil, false
	}
	data, ok := lr.files.Get(configKey(id))
	if !ok {
		return nil, false
	}
	var cfg ocispecs.Image
	if json.Unmarshal(data, &cfg) != nil {
		return nil, false
	}
	layers := make([]LayerFiles, len(diffIDs))
	for i, d := range diffIDs {
		l, ok := lr.rememberedLayer(d)
		if !ok {
			return nil, false
		}
		layers[i] = LayerFiles{DiffID: d, Files: l}
	}
	return imageFiles(ref, "docker image store", cfg, layers, nil), true
}

// countingReader tells read of the bytes read so far.
type countingReader struct {
	r    io.Reader
	n    int64
	read func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.read(c.n)
	return n, err
}

// smallBlob is the size below which an entry of a saved image is read
// into memory before it is known to be a layer: configs and manifests are
// small, and what is not a layer is kept until the manifest says what it
// is.
const smallBlob = 4 << 20

// savedFiles reads an image as `docker save` streams it: the layers'
// tar streams (<id>/layer.tar in Docker's format, blobs/sha256/<digest>
// in the OCI layout of newer daemons) are read as they come, and
// manifest.json, which comes after them, says which is which. id is the
// image's config digest (Docker's image ID).
func (lr *layerReader) savedFiles(ref, id string, r io.Reader) (*ImageFiles, error) {
	tr := tar.NewReader(r)
	layers := map[string]*filetree.Layer{}
	small := map[string][]byte{}
	links := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the image Docker saved: %w", err)
		}
		name := filetree.Clean(h.Name)
		switch h.Typeflag {
		case tar.TypeSymlink: // a layer shared by two entries
			links[name] = filetree.Clean(path.Join(path.Dir(name), h.Linkname))
			continue
		case tar.TypeReg:
		default:
			continue
		}
		if h.Size < smallBlob {
			// Kept in memory only when it is no layer: a config or a
			// manifest, which the manifest names later.
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("reading the image Docker saved: %w", err)
			}
			if l, err := filetree.Read(bytes.NewReader(data)); err == nil && len(data) > 0 {
				layers[name] = l
			} else {
				small[name] = data
			}
			continue
		}
		l, err := filetree.Read(tr) // streamed: never the whole layer in memory
		if err != nil {
			continue // not a layer (no other blob is this large)
		}
		layers[name] = l
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(small["manifest.json"], &manifest); err != nil || len(manifest) == 0 {
		return nil, errors.New("the image Docker saved has no manifest.json")
	}
	m := manifest[0]
	for _, c := range manifest {
		for _, t := range c.RepoTags {
			if t == ref {
				m = c
			}
		}
	}
	cfgData := small[filetree.Clean(m.Config)]
	var cfg ocispecs.Image
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		return nil, fmt.Errorf("the image Docker saved has no readable config %s", m.Config)
	}
	out := make([]LayerFiles, len(m.Layers))
	for i, p := range m.Layers {
		p = filetree.Clean(p)
		for range 8 { // a link to a link, at most a few
			if to, ok := links[p]; ok {
				p = to
			}
		}
		l := layers[p]
		if l == nil {
			return nil, fmt.Errorf("the image Docker saved lacks its layer %s", p)
		}
		out[i].Files = l
		if i < len(cfg.RootFS.DiffIDs) {
			out[i].DiffID = cfg.RootFS.DiffIDs[i].String()
		}
		lr.rememberLayer(out[i].DiffID, l)
	}
	if lr.files != nil && strings.HasPrefix(id, "sha256:") {
		lr.files.Put(configKey(id), cfgData)
	}
	_ = lr.memo.Flush()
	return imageFiles(ref, "docker image store", cfg, out, nil), nil
}
