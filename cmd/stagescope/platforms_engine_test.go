package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stagescope/stagescope/internal/testengine"
)

const twoPlatforms = "linux/amd64,linux/arm64"

// The cross-compiling example on the buildkitd, for two platforms in one
// solve: a size per target and platform, the provenance attestations
// listed as attestations, and the arm64 binary an aarch64 program, read
// from the image's layer.
func TestComparePlatformsCrossCompiled(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": testengine.BuildKit(t), "DOCKER_HOST": ""}
	golang := "golang=" + testengine.OCIBase(t, "golang")
	code, stdout, stderr := stagescope(t, env, "compare", example("hello-crossplatform"), "--all", "--platform", twoPlatforms,
		"--provenance", "min", "--build-context", golang, "--progress", "quiet", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var c struct {
		Results []struct {
			Target   string `json:"target"`
			Platform string `json:"platform"`
			Size     struct {
				Uncompressed int64 `json:"uncompressed"`
				Compressed   int64 `json:"compressed"`
				Layers       []struct {
					Empty bool `json:"empty"`
				} `json:"layers"`
			} `json:"size"`
			Attestations []struct {
				Kind string `json:"kind"`
				For  string `json:"for"`
				Size int64  `json:"size"`
			} `json:"attestations"`
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var rows []string
	for _, r := range c.Results {
		rows = append(rows, r.Target+" "+r.Platform)
		t.Logf("%s %s: %d B uncompressed, %d B compressed, %d attestations", r.Target, r.Platform, r.Size.Uncompressed, r.Size.Compressed, len(r.Attestations))
		if r.Error != "" || r.Size.Uncompressed <= 0 || r.Size.Compressed <= 0 {
			t.Errorf("%s %s: size %+v, error %q", r.Target, r.Platform, r.Size, r.Error)
		}
		if len(r.Attestations) != 1 || r.Attestations[0].Kind != "provenance" || r.Attestations[0].For != r.Platform || r.Attestations[0].Size <= 0 {
			t.Errorf("%s %s: attestations %+v, want one provenance attestation of this image", r.Target, r.Platform, r.Attestations)
		}
	}
	want := []string{"builder linux/amd64", "stage-1 linux/amd64", "builder linux/arm64", "stage-1 linux/arm64"}
	if !slices.Equal(rows, want) {
		t.Fatalf("rows %q, want %q (no unknown/unknown row)", rows, want)
	}
	// The final images are one layer, the binary; the builder is the
	// toolchain on linux/amd64 for both.
	for _, r := range c.Results {
		layers := 0
		for _, l := range r.Size.Layers {
			if !l.Empty {
				layers++
			}
		}
		if r.Target == "stage-1" && (layers != 1 || r.Size.Uncompressed > 5_000_000) {
			t.Errorf("stage-1 %s: %d layers, %d B", r.Platform, layers, r.Size.Uncompressed)
		}
	}

	// Again: each row's LAST TIME is its own platform's image of the
	// first build. Then arm64 alone, and both again: the arm64 rows
	// compare with the build for arm64 alone, which measured the same
	// bytes as the index's arm64 image (the same layers, from the cache).
	first := map[string][2]int64{}
	for _, r := range c.Results {
		first[r.Target+" "+r.Platform] = [2]int64{r.Size.Uncompressed, r.Size.Compressed}
	}
	previous := func(args ...string) map[string]previousRow {
		t.Helper()
		code, stdout, stderr := stagescope(t, env, append([]string{"compare", example("hello-crossplatform"), "--all",
			"--build-context", golang, "--progress", "quiet", "--format", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var c struct {
			Results []previousRow `json:"results"`
		}
		if err := json.Unmarshal([]byte(stdout), &c); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		out := map[string]previousRow{}
		for _, r := range c.Results {
			out[r.Target+" "+r.Platform] = r
		}
		return out
	}
	second := previous("--platform", twoPlatforms, "--provenance", "min")
	for row, size := range first {
		r := second[row]
		t.Logf("%s: last time %+v", row, r.Previous)
		if r.Previous == nil || r.Previous.Uncompressed != size[0] || r.Previous.Compressed != size[1] {
			t.Errorf("%s: previous %+v, want its own first size %v", row, r.Previous, size)
		}
	}
	before := time.Now()
	arm := previous("--platform", "linux/arm64")
	third := previous("--platform", twoPlatforms, "--provenance", "min")
	for _, target := range []string{"builder", "stage-1"} {
		alone, both := arm[target+" "], third[target+" linux/arm64"]
		t.Logf("%s: linux/arm64 alone %d B, %d B; in the index %d B, %d B", target, alone.Size.Uncompressed, alone.Size.Compressed, both.Size.Uncompressed, both.Size.Compressed)
		if both.Previous == nil || alone.Size != both.Size || both.Previous.Uncompressed != alone.Size.Uncompressed ||
			both.Previous.Compressed != alone.Size.Compressed || both.Previous.At.Before(before) {
			t.Errorf("%s linux/arm64: previous %+v, want the build for arm64 alone's %+v", target, both.Previous, alone.Size)
		}
		// The build for arm64 alone compared with the index's arm64 image.
		if idx := second[target+" linux/arm64"].Size; alone.Previous == nil || alone.Previous.Uncompressed != idx.Uncompressed || alone.Previous.Compressed != idx.Compressed {
			t.Errorf("%s for linux/arm64 alone: previous %+v, want the index's arm64 image %+v", target, alone.Previous, idx)
		}
	}

	// The image index exported as an OCI layout: each platform's binary
	// read from its layer.
	dir := filepath.Join(t.TempDir(), "oci")
	code, _, stderr = stagescope(t, env, "build", example("hello-crossplatform"), "--platform", twoPlatforms,
		"--build-context", golang, "--progress", "quiet", "--output", "type=oci,dest="+dir+",tar=false")
	if code != exitOK {
		t.Fatalf("build --output: exit %d\n%s", code, stderr)
	}
	for plat, machine := range map[string]uint16{"linux/arm64": 0xb7, "linux/amd64": 0x3e} {
		bin := fileInImage(t, dir, plat, "hello")
		if len(bin) < 20 || !bytes.HasPrefix(bin, []byte("\x7fELF")) {
			t.Fatalf("%s: /hello is not an ELF program", plat)
		}
		if got := uint16(bin[18]) | uint16(bin[19])<<8; got != machine {
			t.Errorf("%s: /hello is for ELF machine %#x, want %#x", plat, got, machine)
		}
	}
}

// previousRow is a compare row's platform, size and LAST TIME.
type previousRow struct {
	Target   string `json:"target"`
	Platform string `json:"platform"`
	Size     struct {
		Uncompressed int64 `json:"uncompressed"`
		Compressed   int64 `json:"compressed"`
	} `json:"size"`
	Previous *struct {
		Uncompressed int64     `json:"uncompressed"`
		Compressed   int64     `json:"compressed"`
		At           time.Time `json:"at"`
	} `json:"previous"`
}

// fileInImage reads file name from the layers of platform's image in the
// OCI layout dir (the last layer that has it).
func fileInImage(t *testing.T, dir, platform, name string) []byte {
	t.Helper()
	blob := func(d ocispecs.Descriptor) []byte {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var idx ocispecs.Index
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	for len(idx.Manifests) == 1 && idx.Manifests[0].MediaType == ocispecs.MediaTypeImageIndex {
		if err := json.Unmarshal(blob(idx.Manifests[0]), &idx); err != nil {
			t.Fatal(err)
		}
	}
	var found []byte
	for _, m := range idx.Manifests {
		if m.Platform == nil || m.Platform.OS+"/"+m.Platform.Architecture != platform {
			continue
		}
		var mf ocispecs.Manifest
		if err := json.Unmarshal(blob(m), &mf); err != nil {
			t.Fatal(err)
		}
		for _, l := range mf.Layers {
			var r io.Reader = bytes.NewReader(blob(l))
			if strings.HasSuffix(l.MediaType, "gzip") {
				zr, err := gzip.NewReader(r)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			}
			tr := tar.NewReader(r)
			for {
				h, err := tr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if strings.TrimPrefix(h.Name, "./") == name || strings.TrimPrefix(h.Name, "/") == name {
					if found, err = io.ReadAll(tr); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		return found
	}
	t.Fatalf("no %s image in %s", platform, dir)
	return nil
}

const baseArchDockerfile = `ARG TARGETARCH
FROM busybox AS base-amd64
RUN echo amd64 > /flavour
FROM busybox AS base-arm64
RUN echo arm64 > /flavour
FROM base-${TARGETARCH} AS final
ARG NONCE
RUN echo "$NONCE" >/nonce && uname -m
`

// FROM base-${TARGETARCH}: the graph says each platform builds its own
// base stage, and the build's progress agrees. The arm64 stage's RUN
// prints aarch64 where emulation is registered, and fails with one
// sentence saying why where it is not.
func TestGraphAndBuildAgreePerPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(baseArchDockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": testengine.BuildKit(t), "DOCKER_HOST": ""}
	emulated, why := testengine.Emulation(t)
	busybox := "busybox=" + testengine.MultiPlatformBase(t)

	code, stdout, stderr := stagescope(t, env, "graph", dir, "--platform", twoPlatforms, "--format", "json")
	if code != exitOK {
		t.Fatalf("graph: exit %d\n%s", code, stderr)
	}
	var g struct {
		Stages []struct {
			Name string `json:"name"`
		} `json:"stages"`
		Platforms []struct {
			Platform string `json:"platform"`
			Closure  struct {
				Stages []int `json:"stages"`
			} `json:"closure"`
		} `json:"platforms"`
	}
	if err := json.Unmarshal([]byte(stdout), &g); err != nil {
		t.Fatal(err)
	}
	fromGraph := map[string][]string{}
	for _, p := range g.Platforms {
		for _, i := range p.Closure.Stages {
			fromGraph[p.Platform] = append(fromGraph[p.Platform], g.Stages[i].Name)
		}
		sort.Strings(fromGraph[p.Platform])
	}
	if want := []string{"base-arm64", "final"}; !slices.Equal(fromGraph["linux/arm64"], want) {
		t.Fatalf("graph: linux/arm64 builds %q, want %q", fromGraph["linux/arm64"], want)
	}

	nonce := fmt.Sprint(os.Getpid(), "-", t.Name())
	code, _, stderr = stagescope(t, env, "build", dir, "--platform", twoPlatforms, "--build-context", busybox,
		"--build-arg", "NONCE="+nonce, "--progress", "plain")
	if !emulated {
		// Without emulation: the arm64 RUN cannot start, and the error
		// says why in one sentence.
		t.Logf("no emulation here: %s", why)
		if code != exitFailed || !strings.Contains(stderr, "no emulator for them (exec format error)") {
			t.Errorf("without emulation: exit %d, want %d and the exec format error explained:\n%s", code, exitFailed, stderr)
		}
		return
	}
	if code != exitOK {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
	// The progress: "#7 [linux/arm64 base-arm64 1/2] RUN …", and the
	// output of the arm64 final stage's RUN, "#9 0.211 aarch64".
	step := regexp.MustCompile(`(?m)^#(\d+) \[(\S+/\S+) (\S+) \d+/\d+\]`)
	fromBuild := map[string][]string{}
	vertexPlatform := map[string]string{}
	for _, m := range step.FindAllStringSubmatch(stderr, -1) {
		vertexPlatform[m[1]] = m[2]
		if !slices.Contains(fromBuild[m[2]], m[3]) {
			fromBuild[m[2]] = append(fromBuild[m[2]], m[3])
		}
	}
	for p := range fromBuild {
		sort.Strings(fromBuild[p])
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if !slices.Equal(fromBuild[p], fromGraph[p]) {
			t.Errorf("%s: the build ran stages %q, the graph says %q", p, fromBuild[p], fromGraph[p])
		}
	}
	machines := map[string]string{}
	out := regexp.MustCompile(`(?m)^#(\d+) [0-9.]+ (aarch64|x86_64)$`)
	for _, m := range out.FindAllStringSubmatch(stderr, -1) {
		machines[vertexPlatform[m[1]]] = m[2]
	}
	if machines["linux/arm64"] != "aarch64" || machines["linux/amd64"] != "x86_64" {
		t.Errorf("uname -m per platform: %v, want aarch64 on linux/arm64 and x86_64 on linux/amd64\n%s", machines, stderr)
	}
	// build's own summary groups the steps per platform.
	if !regexp.MustCompile(`(?m)^  linux/arm64  base-arm64 1 step(, 1 cached)?; final 1 step$`).MatchString(stderr) {
		t.Errorf("no per-platform summary:\n%s", stderr[max(0, len(stderr)-600):])
	}
}

// Docker's classic image store holds one platform per tag: a build for
// two platforms is refused in one sentence before anything is sent.
func TestPlatformsOnDockerClassicStore(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": "", "DOCKER_HOST": testengine.Docker(t)}
	code, _, stderr := stagescope(t, env, "compare", example("hello-crossplatform"), "--all", "--platform", twoPlatforms,
		"--build-context", "golang="+testengine.Bases(t)["golang"], "--progress", "quiet")
	if code != exitBadInput || !strings.Contains(stderr, "Docker's classic image store holds one platform per tag") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d and one sentence on the classic store", code, stderr, exitBadInput)
	}
}
