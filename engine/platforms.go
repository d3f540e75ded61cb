package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/platforms"
	"github.com/moby/buildkit/util/attestation"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stagescope/stagescope/buildgraph"
)

// MultiPlatform reports whether a --platform value names several platforms
// ("linux/amd64,linux/arm64"): one solve then builds an image index.
func MultiPlatform(platform string) bool {
	n := 0
	for _, c := range platform {
		if c == ',' {
			n++
		}
	}
	return n > 0
}

// measureIndex measures every platform's image of an image index, one
// after the other, and lists its attestation manifests (provenance, SBOM:
// unknown/unknown in the index) with their size. The result is the first
// platform's measurement with Platforms and Attestations set.
func (lr *layerReader) measureIndex(ctx context.Context, store content.Provider, ref string, manifests []ocispecs.Descriptor, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	var (
		images       []*buildgraph.ImageSize
		attestations []buildgraph.Attestation
		byDigest     = map[string]string{} // image manifest digest → platform
		baseDone     int64
		baseTotal    int64
	)
	progress(0, 0)
	for _, m := range manifests {
		if m.Annotations[attestation.DockerAnnotationReferenceType] == attestation.DockerAnnotationReferenceTypeDefault {
			a, err := readAttestation(ctx, store, m)
			if err != nil {
				return nil, err
			}
			attestations = append(attestations, a)
			continue
		}
		var last [2]int64
		size, err := lr.measureContent(ctx, store, ref, m.Digest, func(done, total int64) {
			last = [2]int64{done, total}
			progress(baseDone+done, baseTotal+total)
		})
		if err != nil {
			return nil, err
		}
		baseDone, baseTotal = baseDone+last[0], baseTotal+last[1]
		if m.Platform != nil {
			size.Platform = platforms.FormatAll(platforms.Normalize(*m.Platform))
		}
		byDigest[m.Digest.String()] = size.Platform
		images = append(images, size)
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("the image index %s holds no image, only %d attestations", ref, len(attestations))
	}
	for i := range attestations {
		attestations[i].For = byDigest[attestations[i].ForDigest]
	}
	first := *images[0]
	first.Platforms, first.Attestations = images, attestations
	return &first, nil
}

// readAttestation sizes an attestation manifest: the manifest, its config
// and its layers (in-toto statements) as stored.
func readAttestation(ctx context.Context, store content.Provider, desc ocispecs.Descriptor) (buildgraph.Attestation, error) {
	a := buildgraph.Attestation{
		Digest:         desc.Digest.String(),
		ForDigest:      desc.Annotations[attestation.DockerAnnotationReferenceDigest],
		PredicateTypes: []string{},
		Size:           desc.Size,
	}
	var mf ocispecs.Manifest
	if err := readJSON(ctx, store, desc, &mf); err != nil {
		return a, fmt.Errorf("reading attestation manifest %s: %w", desc.Digest, err)
	}
	a.Size += mf.Config.Size
	for _, l := range mf.Layers {
		a.Size += l.Size
		if t := l.Annotations["in-toto.io/predicate-type"]; t != "" {
			a.PredicateTypes = append(a.PredicateTypes, t)
		}
	}
	a.Kind = buildgraph.AttestationKind(a.PredicateTypes)
	return a, nil
}

// loadOnePlatform is why --load refuses several platforms: it goes through
// the docker exporter, whose tarball holds one image.
const loadOnePlatform = "--load stores one image in Docker, and a build for several platforms makes an image index: build with --load once per --platform, or export the index with --output type=oci,dest=FILE"

// holdsIndex refuses a build for several platforms whose image would go to
// Docker's classic image store, which holds one platform per tag (the
// containerd image store holds the index).
func (d dockerd) holdsIndex(ctx context.Context, req BuildRequest) error {
	if !MultiPlatform(req.Platform) {
		return nil
	}
	kind, _, err := d.api.storeInfo(ctx)
	if err != nil || kind == "containerd" {
		return nil // the daemon says so itself if it cannot
	}
	return &InputError{Msg: fmt.Sprintf("Docker's classic image store holds one platform per tag, and --platform %s makes an image index: build once per platform (--platform %s), export the index with --output type=oci,dest=FILE, or build on a buildkitd, whose image store holds the index", req.Platform, firstPlatform(req.Platform))}
}

func firstPlatform(list string) string {
	for i, c := range list {
		if c == ',' {
			return list[:i]
		}
	}
	return list
}

// foreignCPUHint is what to do when a step's program could not start
// because it is for another CPU (the kernel says "exec format error"):
// the engine's machine has no emulator registered for it.
func foreignCPUHint(logs []string) string {
	for _, l := range logs {
		if strings.Contains(l, "exec format error") {
			return "the step runs programs for another CPU than the engine's, which has no emulator for them (exec format error); register one with binfmt_misc (scripts/binfmt start here), or compile for the target in a FROM --platform=$BUILDPLATFORM stage, which needs none"
		}
	}
	return ""
}
