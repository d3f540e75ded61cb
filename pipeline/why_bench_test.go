package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/testengine"
)

// recordsOnly records builds but finds no last record: a run with it says
// no reasons.
type recordsOnly struct{ s *history.Store }

func (h recordsOnly) Load(f string) (map[string]buildgraph.SavedSize, error) { return h.s.Load(f) }
func (h recordsOnly) Record(recs []*history.Record) error                    { return h.s.Record(recs) }

// What saying why costs a cached rebuild of a 10,000-file context (COPY .
// reads every file): the wall time of the build with reasons against the
// same build recorded without them, on the shared buildkitd. The digests
// of the files are remembered from the build before, as in a user's
// rebuild. The runs
// alternate which goes first; wall-ratio is the median of the per-run
// ratios.
func BenchmarkWhy10000Files(b *testing.B) {
	addr := testengine.BuildKit(b)
	b.Setenv("XDG_STATE_HOME", b.TempDir()) // the digests remembered
	base := testengine.OCIBase(b, "busybox")
	dir := b.TempDir()
	for d := range 100 {
		sub := filepath.Join(dir, "src", fmt.Sprintf("d%02d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			data := fmt.Appendf(nil, "package d%02d // file %d of a generated context\n%0900d\n", d, f, d*100+f)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d.go", f)), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	df := fmt.Sprintf("FROM busybox\nRUN echo %d > /nonce\nCOPY . /ctx\nRUN find /ctx -type f | wc -l\n", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		b.Fatal(err)
	}
	proj, err := Load(Input{ContextDir: dir, Contexts: []string{"busybox=" + base}})
	if err != nil {
		b.Fatal(err)
	}
	plan, err := proj.Plan("", nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	sess, err := Connect(ctx, engine.Options{Addr: addr})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	defer WaitRecorded() // the records are written behind each build
	// Each kind of build has records of its own: one with reasons reads
	// the last record, with every file's digest, as each build of a user's
	// would.
	store := history.Open(filepath.Join(b.TempDir(), history.FileName))
	plain := recordsOnly{history.Open(filepath.Join(b.TempDir(), history.FileName))}
	build := func(h History) (time.Duration, *Run) {
		start := time.Now()
		r := Start(ctx, sess, proj, []*Plan{plan}, Options{History: h})
		for ev := range r.Events() {
			r.Apply(ev)
		}
		if err := r.Outcome.Err(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start), r
	}
	build(store) // the first builds
	build(plain)
	time.Sleep(2 * time.Second) // the files' digests are remembered once older than a clock tick
	build(store)
	_, r := build(store)
	if cached, _, total := r.Progress.Counts(); cached != total {
		b.Fatalf("the rebuild is not cached: %d of %d steps", cached, total)
	}
	var with, without, ratios []float64
	b.ResetTimer()
	for i := range b.N {
		var w, wo time.Duration
		if i%2 == 0 {
			w, _ = build(store)
			wo, _ = build(plain)
		} else {
			wo, _ = build(plain)
			w, _ = build(store)
		}
		with, without = append(with, w.Seconds()), append(without, wo.Seconds())
		ratios = append(ratios, w.Seconds()/wo.Seconds())
	}
	b.ReportMetric(median(with), "with-s/op")
	b.ReportMetric(median(without), "without-s/op")
	b.ReportMetric(median(ratios), "wall-ratio")
	b.Logf("a cached rebuild of 10,000 files: %.3fs with reasons, %.3fs without; ratio %.3f (median of %d pairs)",
		median(with), median(without), median(ratios), len(ratios))
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
