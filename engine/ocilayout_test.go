package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// An OCI layout as a named context: BuildKit reads the image by digest from
// stagescope's session, and, unlike a folder, it is content-addressed, so a
// RUN on it is cached across builds.
func TestOCILayoutContext(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	e := connect(t, engine.Options{Addr: testengine.BuildKit(t)})
	layout := filepath.Join(t.TempDir(), "layout")
	mk := project(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY --from=busybox / /\n"})
	mk.Outputs = []string{"type=oci,dest=" + layout + ",tar=false"}
	if _, err := e.Build(context.Background(), mk, nil); err != nil {
		t.Fatalf("making the layout: %v", err)
	}

	// A tagged name as the context key: the tag must not leak into the
	// store's reference.
	use := project(t, map[string]string{"Dockerfile": "FROM base:1.0\nRUN echo on-a-layout > /x\n"})
	use.Contexts = map[string]string{"base:1.0": "oci-layout://" + layout}
	for run := 1; run <= 2; run++ {
		s := collect()
		if _, err := e.Build(context.Background(), use, s.ch); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for name, v := range s.wait() {
			if strings.Contains(name, "RUN echo on-a-layout") && v.Cached != (run == 2) {
				t.Errorf("run %d: RUN cached = %v", run, v.Cached)
			}
		}
	}

	use.Contexts["base:1.0"] = "oci-layout://" + filepath.Join(t.TempDir(), "missing")
	var in *engine.InputError
	if _, err := e.Build(context.Background(), use, nil); !errors.As(err, &in) || !strings.Contains(err.Error(), "not an OCI layout") {
		t.Errorf("missing layout: %v", err)
	}
}
