package engine_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

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
