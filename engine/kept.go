package engine

import (
	"context"

	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// Kept is the image an earlier build stored under ref with digest (its
// Result.Digest), as a Result that Files and Measure read as they read a
// build's; false when the engine no longer holds that image. On a
// buildkitd the manifest must still be in the content store; on Docker an
// image with that ID must be in the image store (under ref when ref still
// names it).
func (e *Engine) Kept(ctx context.Context, ref, digest string) (*Result, bool) {
	if digest == "" {
		return nil, false
	}
	return e.be.kept(ctx, e.bk, ref, digest)
}

func (buildkitd) kept(ctx context.Context, bk *client.Client, ref, dgst string) (*Result, bool) {
	d, err := digest.Parse(dgst)
	if err != nil {
		return nil, false
	}
	if _, err := proxy.NewContentStore(bk.ContentClient()).Info(ctx, d); err != nil {
		return nil, false
	}
	return &Result{Image: ref, Digest: dgst, Exporter: map[string]string{"containerimage.digest": dgst}}, true
}

func (d dockerd) kept(ctx context.Context, _ *client.Client, ref, dgst string) (*Result, bool) {
	if id, ok := d.api.imageID(ctx, ref); ok && id == dgst {
		return &Result{Image: ref, Digest: dgst}, true
	}
	if id, ok := d.api.imageID(ctx, dgst); ok && id == dgst {
		return &Result{Image: dgst, Digest: dgst}, true // the tag moved on; the image is still there
	}
	return nil, false
}
