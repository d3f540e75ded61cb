package why

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
)

// tenThousand writes a context of 10,000 files of about 1 KB.
func tenThousand(b *testing.B) string {
	dir := b.TempDir()
	for d := range 100 {
		sub := filepath.Join(dir, "src", fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			data := fmt.Appendf(nil, "package d%02d // file %d\n%0900d\n", d, f, d*100+f)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d.go", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return dir
}

// The digests of a 10,000-file context that one COPY . reads.
func BenchmarkFiles10000(b *testing.B) {
	dir := tenThousand(b)
	b.ResetTimer()
	for range b.N {
		facts := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{{Position: 1, Reads: []string{"."}}}}}
		Files(context.Background(), dir, "", facts)
		if n := len(facts[0].Steps[0].Files); n != 10000 {
			b.Fatalf("%d files", n)
		}
	}
}

// The same with the digests remembered from the run before: a rebuild.
func BenchmarkFiles10000Cached(b *testing.B) {
	dir := tenThousand(b)
	cache := b.TempDir()
	time.Sleep(racy + 100*time.Millisecond)
	run := func() {
		facts := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{{Position: 1, Reads: []string{"."}}}}}
		FilesCached(context.Background(), dir, "", facts, cache)
		if n := len(facts[0].Steps[0].Files); n != 10000 {
			b.Fatalf("%d files", n)
		}
	}
	run()
	b.ResetTimer()
	for range b.N {
		run()
	}
}

// The same rebuild with the files listed from what the build's upload of
// the context sent, as a build does: no walk of its own.
func BenchmarkFiles10000Sent(b *testing.B) {
	dir := tenThousand(b)
	cache := b.TempDir()
	time.Sleep(racy + 100*time.Millisecond)
	sends := []Sent{upload(b, dir, nil, nil)}
	run := func() {
		facts := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{{Position: 1, Reads: []string{"."}}}}}
		OpenDigests(dir, "", cache).Fill(context.Background(), facts, sends)
		if n := len(facts[0].Steps[0].Files); n != 10000 {
			b.Fatalf("%d files", n)
		}
	}
	run()
	b.ResetTimer()
	for range b.N {
		run()
	}
}
