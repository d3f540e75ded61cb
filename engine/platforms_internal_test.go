package engine

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/moby/buildkit/util/attestation"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// An image index of two platforms and a provenance attestation of the
// arm64 image: each platform measured, the attestation listed with its
// size under the platform it attests, never as a platform.
func TestMeasureIndex(t *testing.T) {
	s := &memStore{blobs: map[digest.Digest][]byte{}}
	amdData, amdSize := layer(t, 3000)
	armData, armSize := layer(t, 2000, 500)
	amd := image(t, s, s.put(amdData))
	arm := image(t, s, s.put(armData))
	desc := func(d digest.Digest, arch string) ocispecs.Descriptor {
		return ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageManifest, Digest: d, Size: int64(len(s.blobs[d])),
			Platform: &ocispecs.Platform{OS: "linux", Architecture: arch}}
	}
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}`)
	st := s.put(statement)
	st.MediaType = "application/vnd.in-toto+json"
	st.Annotations = map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}
	cfg := s.put([]byte(`{"architecture":"unknown","os":"unknown","rootfs":{"type":"layers","diff_ids":[]}}`))
	data, _ := json.Marshal(ocispecs.Manifest{Config: cfg, Layers: []ocispecs.Descriptor{st}})
	att := s.put(data)
	att.MediaType = ocispecs.MediaTypeImageManifest
	att.Platform = &ocispecs.Platform{OS: "unknown", Architecture: "unknown"}
	att.Annotations = map[string]string{
		attestation.DockerAnnotationReferenceType:   attestation.DockerAnnotationReferenceTypeDefault,
		attestation.DockerAnnotationReferenceDigest: arm.String(),
	}
	data, _ = json.Marshal(ocispecs.Index{Manifests: []ocispecs.Descriptor{desc(amd, "amd64"), desc(arm, "arm64"), att}})
	idx := s.put(data).Digest

	var last [2]int64
	size, err := newLayerReader(&memMemo{}, nil).measureContent(context.Background(), s, "img", idx, func(d, total int64) { last = [2]int64{d, total} })
	if err != nil {
		t.Fatal(err)
	}
	if len(size.Platforms) != 2 || size.Platforms[0].Platform != "linux/amd64" || size.Platforms[1].Platform != "linux/arm64" {
		t.Fatalf("platforms %+v", size.Platforms)
	}
	if size.Uncompressed != amdSize || size.Platforms[1].Uncompressed != armSize {
		t.Errorf("sizes %d and %d, want %d and %d", size.Uncompressed, size.Platforms[1].Uncompressed, amdSize, armSize)
	}
	if last[0] != last[1] || last[1] == 0 {
		t.Errorf("progress ended at %d of %d", last[0], last[1])
	}
	if len(size.Attestations) != 1 {
		t.Fatalf("attestations %+v", size.Attestations)
	}
	a := size.Attestations[0]
	if a.Kind != "provenance" || a.For != "linux/arm64" || a.ForDigest != arm.String() || a.Size != att.Size+cfg.Size+st.Size {
		t.Errorf("attestation %+v, want provenance of linux/arm64, %d B", a, att.Size+cfg.Size+st.Size)
	}
	if got := size.ForPlatform("linux/arm64"); got == nil || got.Uncompressed != armSize {
		t.Errorf("ForPlatform(linux/arm64) = %+v", got)
	}
	if size.ForPlatform("unknown/unknown") != nil {
		t.Error("the attestation is measured as a platform")
	}
	// Files of one platform read that platform's image of the index.
	for platform, want := range map[string]digest.Digest{"linux/arm64": arm, "linux/amd64": amd} {
		if got, err := platformManifest(context.Background(), s, idx, platform); err != nil || got != want {
			t.Errorf("platformManifest(%s) = %s, %v; want %s", platform, got, err, want)
		}
	}
	if _, err := platformManifest(context.Background(), s, idx, "unknown/unknown"); err == nil {
		t.Error("the attestation is read as a platform's image")
	}
	if got, err := platformManifest(context.Background(), s, amd, "linux/arm64"); err != nil || got != amd {
		t.Errorf("an image's manifest: %s, %v", got, err)
	}
}

func TestForeignCPUHint(t *testing.T) {
	if h := foreignCPUHint([]string{"exec /bin/sh: exec format error"}); h == "" {
		t.Error("no hint for exec format error")
	}
	if h := foreignCPUHint([]string{"make: *** [all] Error 2"}); h != "" {
		t.Errorf("hint %q for an ordinary failure", h)
	}
	be := &BuildError{Step: "[linux/arm64 1/2] RUN uname -m", ExitCode: 1, Hint: foreignCPUHint([]string{"exec format error"})}
	if got := be.Error(); got != "build failed at [linux/arm64 1/2] RUN uname -m: exit code 1: "+be.Hint {
		t.Errorf("Error() = %q", got)
	}
}
