package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// Measuring a 520 MB image on Docker reads inspect and history only: the
// time of Measure against exporting the same image with `docker save`.
func BenchmarkMeasureDocker520MB(b *testing.B) {
	e, err := engine.Connect(context.Background(), engine.Options{DockerHost: testengine.Docker(b), ProbeTimeout: 15 * time.Second})
	if err != nil {
		testengine.Unavailable(b, "%v", err)
	}
	defer e.Close()
	req := engine.BuildRequest{
		ContextDir: b.TempDir(),
		Contexts:   map[string]string{"busybox": testengine.Bases(b)["busybox"]},
		Tags:       []string{"stagescope-bench/big:latest"},
	}
	writeFile(b, req.ContextDir+"/Dockerfile", "FROM scratch\nCOPY --from=busybox / /\nRUN head -c 520000000 /dev/zero > /big\n")
	res, err := e.Build(context.Background(), req, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if out, err := exec.Command("sh", "-c", "docker save stagescope-bench/big:latest | wc -c").CombinedOutput(); err != nil {
		b.Fatalf("docker save: %v\n%s", err, out)
	}
	save := time.Since(start)
	b.ResetTimer()
	var size int64
	for b.Loop() {
		s, err := e.Measure(context.Background(), res)
		if err != nil {
			b.Fatal(err)
		}
		size = s.Uncompressed
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(size)/1e6, "image-MB")
	b.ReportMetric(per.Seconds(), "measure-s/op")
	b.ReportMetric(save.Seconds(), "docker-save-s")
	b.ReportMetric(per.Seconds()/save.Seconds(), "ratio-to-export")
}

func writeFile(b *testing.B, path, body string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		b.Fatal(err)
	}
}

// freshMemo is a SizeMemo that remembers nothing yet: a cold measurement.
type freshMemo struct{ m sync.Map }

func (f *freshMemo) Get(d string) (int64, bool) {
	v, ok := f.m.Load(d)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}
func (f *freshMemo) Put(d string, n int64) { f.m.Store(d, n) }
func (f *freshMemo) Flush() error          { return nil }

// Measuring the JDK image (java-single-stage on its base given as a
// folder, as the example's README builds it) on a standalone buildkitd
// reads and decompresses every layer the first time (cold) and nothing
// the next (warm: sizes remembered by layer digest). Both against the
// build's own time: cold ≤ 0.25×, warm ≤ 0.1 s.
func BenchmarkMeasureJDKBuildKit(b *testing.B) {
	addr := testengine.BuildKit(b)
	ctx := context.Background()
	connect := func(memo engine.SizeMemo) *engine.Engine {
		e, err := engine.Connect(ctx, engine.Options{Addr: addr, ProbeTimeout: 15 * time.Second, LayerSizes: memo})
		if err != nil {
			testengine.Unavailable(b, "%v", err)
		}
		return e
	}
	e := connect(&freshMemo{})
	defer e.Close()
	req := engine.BuildRequest{
		ContextDir: filepath.Join(testengine.RepoRoot(), "examples", "java-single-stage"),
		Contexts:   map[string]string{"eclipse-temurin:17-jdk": testengine.JavaBases(b)["jdk17"]},
		Tags:       []string{"stagescope-bench/jdk:latest"},
		Keep:       true,
		NoCache:    true,
	}
	ch := make(chan *client.SolveStatus)
	go func() {
		for range ch {
		}
	}()
	start := time.Now()
	res, err := e.Build(ctx, req, ch)
	if err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)
	var cold, warm time.Duration
	var size, read int64
	b.ResetTimer()
	for b.Loop() {
		c := connect(&freshMemo{})
		t0 := time.Now()
		s, err := c.MeasureProgress(ctx, res, func(done, total int64) { read = total })
		cold += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		size = s.Uncompressed
		t0 = time.Now()
		if _, err := c.Measure(ctx, res); err != nil {
			b.Fatal(err)
		}
		warm += time.Since(t0)
		c.Close()
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64(size)/1e6, "image-MB")
	b.ReportMetric(float64(read)/1e6, "blobs-MB")
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric((cold / n).Seconds(), "cold-s")
	b.ReportMetric((warm / n).Seconds(), "warm-s")
	b.ReportMetric((cold/n).Seconds()/build.Seconds(), "cold-ratio-to-build")
	b.ReportMetric((warm/n).Seconds()/build.Seconds(), "warm-ratio-to-build")
	if r := (cold / n).Seconds() / build.Seconds(); r > 0.25 {
		b.Errorf("cold measuring took %.2f× the build's time, budget 0.25×", r)
	}
	if w := warm / n; w > 100*time.Millisecond {
		b.Errorf("warm measuring took %s, budget 0.1s", w)
	}
}
