package engine_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

// Sizes of the article's example: the final image is tiny, the builder is
// far larger, and on Docker the figures are Docker's own.
func TestMeasureHello(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		sizes := map[string]*buildgraph.ImageSize{}
		for _, target := range []string{"builder", ""} {
			req := helloRequest(t, e, target)
			name := target
			if name == "" {
				name = "final"
			}
			req.Tags = []string{"stagescope-test/measure:" + name}
			req.Keep = true
			res, _ := build(t, e, req)
			size, err := e.Measure(context.Background(), res)
			if err != nil {
				t.Fatalf("measure %s: %v", name, err)
			}
			sizes[name] = size
			var sum int64
			for _, l := range size.Layers {
				sum += l.Size
			}
			if sum != size.Uncompressed {
				t.Errorf("%s: layers add up to %d, total is %d", name, sum, size.Uncompressed)
			}
			if e.Kind == engine.KindDocker {
				out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Size}}", req.Tags[0]).Output()
				if err != nil {
					t.Fatal(err)
				}
				want, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
				if size.Uncompressed != want {
					t.Errorf("%s: uncompressed %d, docker image inspect says %d", name, size.Uncompressed, want)
				}
			} else if size.Compressed <= 0 || size.Compressed >= size.Uncompressed {
				t.Errorf("%s: compressed %d, uncompressed %d", name, size.Compressed, size.Uncompressed)
			}
			t.Logf("%s: %d B uncompressed, %d B compressed, %d layers (%s)", name, size.Uncompressed, size.Compressed, len(size.Layers), size.Store)
		}
		if f := sizes["final"].Uncompressed; f > 3_000_000 || sizes["builder"].Uncompressed < 50*f {
			t.Errorf("final %d B (want ≤ 3 MB), builder %d B (want ≥ 50×)", f, sizes["builder"].Uncompressed)
		}
	})
}
