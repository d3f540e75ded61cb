package engine

// This file is the only one that uses the Docker Engine API client module.
// Everything Docker-specific the engine needs goes through dockerAPI, so that
// moving to another client module is a change to this file alone.

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"time"

	dockerclient "github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/stagescope/stagescope/buildgraph"
)

// dockerAPI is the small part of the Docker Engine API that stagescope uses.
type dockerAPI struct {
	c    *dockerclient.Client
	host string
}

// defaultDockerHost is the daemon's socket when nothing names another.
const defaultDockerHost = dockerclient.DefaultDockerHost

// dockerHostFromEnv is the address Docker's own CLI would use when no
// context is configured: DOCKER_HOST, else the default socket.
func dockerHostFromEnv() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return defaultDockerHost
}

// newDockerAPI makes a client for host ("" means DOCKER_HOST or the default
// socket). It does not connect; ping does.
func newDockerAPI(host string) (*dockerAPI, error) {
	if host == "" {
		host = dockerHostFromEnv()
	}
	c, err := dockerclient.NewClientWithOpts(
		dockerclient.WithHost(host),
		dockerclient.WithTLSClientConfigFromEnv(),
		dockerclient.WithAPIVersionNegotiation(),
	)
	if err != nil {
		return nil, err
	}
	return &dockerAPI{c: c, host: host}, nil
}

// ping checks that the daemon answers and returns its engine version.
func (d *dockerAPI) ping(ctx context.Context) (string, error) {
	if _, err := d.c.Ping(ctx); err != nil {
		return "", err
	}
	v, err := d.c.ServerVersion(ctx)
	if err != nil {
		return "", err
	}
	return v.Version, nil
}

// dialGRPC opens the daemon's BuildKit control API, as the docker CLI's
// buildx docker driver does: an HTTP upgrade of /grpc to h2c.
func (d *dockerAPI) dialGRPC(ctx context.Context) (net.Conn, error) {
	return d.c.DialHijack(ctx, "/grpc", "h2c", nil)
}

// dialSession opens a BuildKit session (file sync, secrets, auth) through the
// daemon's /session endpoint.
func (d *dockerAPI) dialSession(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
	return d.c.DialHijack(ctx, "/session", proto, meta)
}

func (d *dockerAPI) close() error { return d.c.Close() }

// storeInfo says which image store the daemon uses: "containerd" when the
// containerd snapshotter backs images, else "classic", and the storage
// driver or snapshotter name.
func (d *dockerAPI) storeInfo(ctx context.Context) (kind, driver string, err error) {
	info, err := d.c.Info(ctx)
	if err != nil {
		return "", "", err
	}
	kind = "classic"
	for _, kv := range info.DriverStatus {
		if kv[0] == "driver-type" && kv[1] == "io.containerd.snapshotter.v1" {
			kind = "containerd"
		}
	}
	return kind, info.Driver, nil
}

// load streams an image tarball (docker exporter format) into the image store.
func (d *dockerAPI) load(ctx context.Context, tarball io.Reader) error {
	resp, err := d.c.ImageLoad(ctx, tarball, dockerclient.ImageLoadWithQuiet(true))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The answer is a JSON message stream; an error arrives inside it.
	return jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil)
}

// measure reads an image's size from the image store: inspect for the
// total, history for the layers. Nothing is exported.
func (d *dockerAPI) measure(ctx context.Context, ref string) (*buildgraph.ImageSize, error) {
	insp, err := d.c.ImageInspect(ctx, ref)
	if err != nil {
		return nil, err
	}
	hist, err := d.c.ImageHistory(ctx, ref)
	if err != nil {
		return nil, err
	}
	kind, _, err := d.storeInfo(ctx)
	if err != nil {
		return nil, err
	}
	out := &buildgraph.ImageSize{Ref: ref, Store: "docker " + kind + " image store", Compressed: buildgraph.Unknown}
	if kind == "containerd" {
		// With the containerd snapshotter the API's Size counts the packed
		// content; history sizes are the unpacked layers.
		out.Compressed, out.CompressedNote = insp.Size, "packed content in the containerd image store"
		out.UncompressedNote = "unpacked layers, from the image history"
	} else {
		out.Uncompressed, out.UncompressedNote = insp.Size, "as docker image ls shows it"
		out.CompressedNote = "not known to Docker's classic image store before a push"
	}
	var sum int64
	for i := len(hist) - 1; i >= 0; i-- { // history comes newest first
		h := hist[i]
		l := buildgraph.Layer{CreatedBy: h.CreatedBy, Comment: h.Comment, Size: h.Size, Compressed: buildgraph.Unknown, Created: time.Unix(h.Created, 0)}
		l.Empty = h.Size == 0 && isConfigOnly(h.CreatedBy)
		sum += h.Size
		out.Layers = append(out.Layers, l)
	}
	if kind == "containerd" {
		out.Uncompressed = sum
	}
	return out, nil
}

// imageLayers says what an image is made of: its ID (the config's digest),
// its layers' DiffIDs, bottom first, and its size.
func (d *dockerAPI) imageLayers(ctx context.Context, ref string) (id string, diffIDs []string, size int64, err error) {
	insp, err := d.c.ImageInspect(ctx, ref)
	if err != nil {
		return "", nil, 0, err
	}
	return insp.ID, insp.RootFS.Layers, insp.Size, nil
}

// imageID is the ID of the image ref names; false when there is none.
func (d *dockerAPI) imageID(ctx context.Context, ref string) (string, bool) {
	insp, err := d.c.ImageInspect(ctx, ref)
	if err != nil {
		return "", false
	}
	return insp.ID, true
}

// save streams an image as `docker save` writes it; nothing is written
// to disk.
func (d *dockerAPI) save(ctx context.Context, ref string) (io.ReadCloser, error) {
	return d.c.ImageSave(ctx, []string{ref})
}

// isConfigOnly tells history entries that never make a layer.
func isConfigOnly(createdBy string) bool {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(createdBy), "/bin/sh -c #(nop)"))
	for _, p := range []string{"ENV ", "CMD ", "ENTRYPOINT ", "LABEL ", "EXPOSE ", "USER ", "ARG ", "STOPSIGNAL ", "HEALTHCHECK ", "SHELL ", "VOLUME ", "ONBUILD ", "MAINTAINER "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
