package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerfile/builder"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/crash"
)

// backend is what one kind of engine does its own way. Everything else an
// Engine does goes through the BuildKit client both kinds speak. A new kind
// of engine is a new implementation of backend, made where ConnectTo
// connects to it; an address scheme reached through another dialer
// (docker-container://, ssh://, kube-pod://) is still a buildkitd.
type backend interface {
	// solve runs the Dockerfile frontend on opt and solves the result,
	// sending status to status and closing it. frontendErr is the error of
	// a frontend that ran in this process, nil when the daemon ran it.
	solve(ctx context.Context, bk *client.Client, opt client.SolveOpt, status chan *client.SolveStatus) (resp *client.SolveResponse, frontendErr, err error)
	// imageExports are the exports that keep the image of req, named name
	// ("" when untagged), where measure reads it. wait, when not nil, is
	// called with the solve's error once the solve returned, and waits
	// for the exports to complete.
	imageExports(ctx context.Context, req BuildRequest, name string) (entries []client.ExportEntry, wait func(solveErr error) error, err error)
	// measure reads the size of the image a build kept, telling progress
	// (never nil) of the layer data it reads.
	measure(ctx context.Context, bk *client.Client, layers *layerReader, res *Result, progress func(done, total int64)) (*buildgraph.ImageSize, error)
	// files reads the entries of every layer of the image a build kept,
	// telling progress (never nil) of the layer data it reads.
	files(ctx context.Context, bk *client.Client, layers *layerReader, res *Result, progress func(done, total int64)) (*ImageFiles, error)
	// kept is the image an earlier build stored as ref with digest (the
	// exporter's containerimage.digest), to read as that build's Result;
	// false when the engine no longer holds it.
	kept(ctx context.Context, bk *client.Client, ref, digest string) (*Result, bool)
	// describe adds what the daemon says of itself beyond BuildKit.
	describe(ctx context.Context, d *Description) error
	close() error
}

// buildkitd is a standalone buildkitd: its own Dockerfile frontend runs the
// build, as with buildctl, and images are measured in its content store.
type buildkitd struct{}

func (buildkitd) solve(ctx context.Context, bk *client.Client, opt client.SolveOpt, status chan *client.SolveStatus) (*client.SolveResponse, error, error) {
	opt.Frontend = "dockerfile.v0"
	resp, err := bk.Solve(ctx, nil, opt, status)
	return resp, nil, err
}

// imageExports keeps a tagged image in the content store (Keep), or sends
// it to a Docker daemon with the docker exporter piped into `docker load`
// (Load).
func (buildkitd) imageExports(ctx context.Context, req BuildRequest, name string) ([]client.ExportEntry, func(error) error, error) {
	switch {
	case req.Keep && !req.Load && name != "":
		return []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": name}}}, nil, nil
	case !req.Load:
		return nil, nil, nil
	case MultiPlatform(req.Platform):
		return nil, nil, &InputError{Msg: loadOnePlatform}
	}
	d, err := newDockerAPI(req.LoadDockerHost)
	if err != nil {
		return nil, nil, &AddressError{Addr: req.LoadDockerHost, Msg: rootCause(err)}
	}
	if _, err := d.ping(ctx); err != nil {
		d.close()
		return nil, nil, &UnreachableError{Kind: KindDocker, Addr: d.host, Err: fmt.Errorf("--load needs a Docker daemon: %w", err)}
	}
	pr, pw := io.Pipe()
	loaded := make(chan error, 1)
	go func() {
		err := d.load(ctx, pr)
		pr.CloseWithError(err)
		d.close()
		loaded <- err
	}()
	wait := func(solveErr error) error {
		if solveErr != nil {
			pw.CloseWithError(solveErr) // the exporter never ran
		}
		if err := <-loaded; err != nil && solveErr == nil {
			return fmt.Errorf("loading the image into Docker: %w", err)
		}
		return nil
	}
	return []client.ExportEntry{{
		Type:   client.ExporterDocker,
		Attrs:  map[string]string{"name": name},
		Output: func(map[string]string) (io.WriteCloser, error) { return pw, nil },
	}}, wait, nil
}

// measure reads the manifest, config and layers of the exported image
// through the content API.
func (buildkitd) measure(ctx context.Context, bk *client.Client, layers *layerReader, res *Result, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	manifest := res.Exporter["containerimage.digest"]
	if manifest == "" {
		return nil, errors.New("the build exported no image to measure (build with an image export)")
	}
	size, err := layers.measureContent(ctx, proxy.NewContentStore(bk.ContentClient()), res.Image, digest.Digest(manifest), progress)
	if err == nil {
		_ = layers.memo.Flush() // a memo that cannot be saved only costs time later
	}
	return size, err
}

func (buildkitd) describe(context.Context, *Description) error { return nil }

func (buildkitd) close() error { return nil }

// dockerd is the BuildKit inside a Docker daemon. The Dockerfile frontend
// of stagescope's own BuildKit version runs in this process and the daemon
// solves its LLB; images go to, and are measured in, Docker's image store.
type dockerd struct {
	api     *dockerAPI
	version string // the Docker engine's version
}

func (dockerd) solve(ctx context.Context, bk *client.Client, opt client.SolveOpt, status chan *client.SolveStatus) (*client.SolveResponse, error, error) {
	var frontendErr error
	frontend := func(ctx context.Context, c gwclient.Client) (r *gwclient.Result, err error) {
		defer func() { frontendErr = err }()
		defer crash.Recover(&err) // the frontend runs in this process
		return builder.Build(ctx, c)
	}
	resp, err := bk.Build(ctx, opt, "stagescope", frontend, status)
	return resp, frontendErr, err
}

// imageExports stores a tagged image in Docker's image store (the moby
// exporter) unless other outputs were asked for without --load.
func (d dockerd) imageExports(ctx context.Context, req BuildRequest, name string) ([]client.ExportEntry, func(error) error, error) {
	if (len(req.Outputs) == 0 || req.Load) && name != "" {
		if err := d.holdsIndex(ctx, req); err != nil {
			return nil, nil, err
		}
		return []client.ExportEntry{{Type: "moby", Attrs: map[string]string{"name": name}}}, nil, nil
	}
	return nil, nil, nil
}

func (d dockerd) measure(ctx context.Context, _ *client.Client, _ *layerReader, res *Result, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	progress(0, 0) // inspect and history: no layer data to read
	if res.Image == "" {
		return nil, errors.New("the build stored no image to measure")
	}
	return d.api.measure(ctx, res.Image)
}

func (d dockerd) describe(ctx context.Context, desc *Description) error {
	desc.DockerVersion = d.version
	var err error
	desc.ImageStore, desc.StorageDriver, err = d.api.storeInfo(ctx)
	return err
}

func (d dockerd) close() error { return d.api.close() }
