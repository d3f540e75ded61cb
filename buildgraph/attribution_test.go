package buildgraph_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/layercheck"
)

// The layers of the Java and Go examples, measured on buildkitd and Docker
// with every form of base (recorded by the engine's
// TestAttributionBaseForms -record-histories), line up with their
// Dockerfiles: each row names its instruction, and "copied from builder" is
// the size of the jar or the binary read from the image itself.
func TestAttributeRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var rec layercheck.Recorded
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatal(err)
			}
			df, err := os.ReadFile(filepath.Join("..", "examples", rec.Example, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			g, err := buildgraph.Parse(df, buildgraph.Options{Filename: "Dockerfile", Contexts: rec.Contexts, SkipLint: true})
			if err != nil {
				t.Fatal(err)
			}
			size := &buildgraph.ImageSize{Layers: rec.Layers}
			b := buildgraph.Attribute(g, rec.Target, size)
			for _, msg := range layercheck.Check(size, b, rec.Rows, rec.CopiedBytes) {
				t.Error(msg)
			}
			var sum int64
			for _, l := range size.Layers {
				sum += l.Size
			}
			if total := b.Base + b.Own + copied(b); total != sum {
				t.Errorf("base %d + own %d + copied = %d, the layers add up to %d", b.Base, b.Own, total, sum)
			}
			// Lining up again changes nothing.
			again := buildgraph.Attribute(g, rec.Target, size)
			if again.Base != b.Base || again.Own != b.Own || !again.Matched {
				t.Errorf("second attribution %+v, first %+v", again, b)
			}
		})
	}
}

func copied(b buildgraph.Breakdown) int64 {
	var n int64
	for _, c := range b.Copied {
		n += c.Bytes
	}
	return n
}
