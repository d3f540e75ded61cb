package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/klauspost/compress/gzip"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// FileSizeInContent finds path in the layers of the image a standalone
// buildkitd kept for res (the topmost layer that has it) and returns the
// file's size from its tar header: a figure that does not depend on how the
// history lines up with the layers.
func FileSizeInContent(ctx context.Context, e *Engine, res *Result, path string) (int64, error) {
	store := proxy.NewContentStore(e.bk.ContentClient())
	var mf ocispecs.Manifest
	if err := readJSON(ctx, store, ocispecs.Descriptor{Digest: digest.Digest(res.Exporter["containerimage.digest"])}, &mf); err != nil {
		return 0, err
	}
	path = strings.TrimPrefix(path, "/")
	for i := len(mf.Layers) - 1; i >= 0; i-- {
		n, err := fileInLayer(ctx, store, mf.Layers[i], path)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, errNoFile) {
			return 0, err
		}
	}
	return 0, fmt.Errorf("%s is in no layer", path)
}

var errNoFile = errors.New("no such file")

func fileInLayer(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, path string) (int64, error) {
	ra, err := store.ReaderAt(ctx, desc)
	if err != nil {
		return 0, err
	}
	defer ra.Close()
	zr, err := gzip.NewReader(content.NewReader(ra))
	if err != nil {
		return 0, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return 0, errNoFile
		}
		if err != nil {
			return 0, err
		}
		if strings.TrimPrefix(h.Name, "./") == path {
			return h.Size, nil
		}
	}
}
