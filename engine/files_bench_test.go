package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/content/proxy"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// fileMemo is a FileMemo in memory that can be emptied.
type fileMemo struct{ m sync.Map }

func (f *fileMemo) Get(k string) ([]byte, bool) {
	v, ok := f.m.Load(k)
	if !ok {
		return nil, false
	}
	return v.([]byte), true
}
func (f *fileMemo) Put(k string, v []byte) { f.m.Store(k, v) }
func (f *fileMemo) reset()                 { f.m.Clear() }

// Listing the files of the 520 MB image of BenchmarkMeasureDocker520MB on
// Docker: Files with nothing remembered against `docker save | tar -t` of
// the same image (the ratio), the peak memory of the process while it
// reads (its resident set, reset before, and the Go heap), and Files again
// with every layer remembered.
func BenchmarkFilesDocker520MB(b *testing.B) {
	memo := &fileMemo{}
	e, err := engine.Connect(context.Background(), engine.Options{DockerHost: testengine.Docker(b), ProbeTimeout: 15 * time.Second, LayerFiles: memo})
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
	var cold, save, warm time.Duration
	var peakRSS, peakHeap uint64
	var size int64
	for range b.N {
		start := time.Now()
		if out, err := exec.Command("sh", "-c", "docker save stagescope-bench/big:latest | tar -t >/dev/null").CombinedOutput(); err != nil {
			b.Fatalf("docker save | tar -t: %v\n%s", err, out)
		}
		save += time.Since(start)

		memo.reset()
		runtime.GC()
		resetPeakRSS()
		stop := sampleHeap()
		start = time.Now()
		f, err := e.Files(context.Background(), res, nil)
		if err != nil {
			b.Fatal(err)
		}
		cold += time.Since(start)
		peakHeap = max(peakHeap, stop())
		peakRSS = max(peakRSS, readPeakRSS())
		size = f.Size.Uncompressed

		start = time.Now()
		if _, err := e.Files(context.Background(), res, nil); err != nil {
			b.Fatal(err)
		}
		warm += time.Since(start)
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64(size)/1e6, "image-MB")
	b.ReportMetric((cold / n).Seconds(), "files-s/op")
	b.ReportMetric((save / n).Seconds(), "docker-save-tar-t-s/op")
	b.ReportMetric(cold.Seconds()/save.Seconds(), "ratio-to-save")
	b.ReportMetric((warm / n).Seconds(), "files-warm-s/op")
	b.ReportMetric(float64(peakRSS)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
}

// resetPeakRSS resets the process's peak resident set (Linux, VmHWM).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// readPeakRSS is the process's peak resident set since the reset, in bytes.
func readPeakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sampleHeap samples the Go heap every 5 ms until stop, which returns the
// largest sample.
func sampleHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// BenchmarkFilesBuildKit520MB is BenchmarkFilesDocker520MB on a standalone
// buildkitd, where there is no `docker save`: the reference reads the same
// layer blobs out of the same content store and lists each with `tar -t`
// (decompressing in that process), which is the least any listing of a
// buildkitd's image does; the ratio is Files with nothing remembered to it.
func BenchmarkFilesBuildKit520MB(b *testing.B) {
	ctx := context.Background()
	addr := testengine.BuildKit(b)
	memo := &fileMemo{}
	e, err := engine.Connect(ctx, engine.Options{Addr: addr, ProbeTimeout: 15 * time.Second, LayerFiles: memo})
	if err != nil {
		testengine.Unavailable(b, "%v", err)
	}
	defer e.Close()
	bk, err := client.New(ctx, addr)
	if err != nil {
		b.Fatal(err)
	}
	defer bk.Close()
	req := engine.BuildRequest{
		ContextDir: b.TempDir(),
		Contexts:   map[string]string{"busybox": testengine.Bases(b)["busybox"]},
		Tags:       []string{"stagescope-bench/big:latest"},
		Keep:       true,
	}
	writeFile(b, req.ContextDir+"/Dockerfile", "FROM scratch\nCOPY --from=busybox / /\nRUN head -c 520000000 /dev/zero > /big\n")
	res, err := e.Build(ctx, req, nil)
	if err != nil {
		b.Fatal(err)
	}
	store := proxy.NewContentStore(bk.ContentClient())
	layers := manifestLayers(b, store, digest.Digest(res.Exporter["containerimage.digest"]))
	var cold, ref, warm time.Duration
	var peakRSS, peakHeap uint64
	var size int64
	for range b.N {
		start := time.Now()
		for _, l := range layers {
			tarList(b, store, l)
		}
		ref += time.Since(start)

		memo.reset()
		runtime.GC()
		resetPeakRSS()
		stop := sampleHeap()
		start = time.Now()
		f, err := e.Files(ctx, res, nil)
		if err != nil {
			b.Fatal(err)
		}
		cold += time.Since(start)
		peakHeap = max(peakHeap, stop())
		peakRSS = max(peakRSS, readPeakRSS())
		size = f.Size.Uncompressed

		start = time.Now()
		if _, err := e.Files(ctx, res, nil); err != nil {
			b.Fatal(err)
		}
		warm += time.Since(start)
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64(size)/1e6, "image-MB")
	b.ReportMetric((cold / n).Seconds(), "files-s/op")
	b.ReportMetric((ref / n).Seconds(), "content-tar-t-s/op")
	b.ReportMetric(cold.Seconds()/ref.Seconds(), "ratio-to-tar-t")
	b.ReportMetric((warm / n).Seconds(), "files-warm-s/op")
	b.ReportMetric(float64(peakRSS)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
}

// manifestLayers are the layer descriptors of the image manifest dgst.
func manifestLayers(b *testing.B, store content.Provider, dgst digest.Digest) []ocispecs.Descriptor {
	b.Helper()
	data, err := content.ReadBlob(context.Background(), store, ocispecs.Descriptor{Digest: dgst})
	if err != nil {
		b.Fatal(err)
	}
	var m ocispecs.Manifest
	if err := json.Unmarshal(data, &m); err != nil || len(m.Layers) == 0 {
		b.Fatalf("manifest %s: %v, %d layers", dgst, err, len(m.Layers))
	}
	return m.Layers
}

// tarList streams one layer blob from the content store into `tar -t`.
func tarList(b *testing.B, store content.Provider, l ocispecs.Descriptor) {
	b.Helper()
	ra, err := store.ReaderAt(context.Background(), l)
	if err != nil {
		b.Fatal(err)
	}
	defer ra.Close()
	flag := "-tf"
	if strings.Contains(l.MediaType, "gzip") {
		flag = "-tzf"
	}
	cmd := exec.Command("tar", flag, "-")
	// In chunks of 4 MiB, as Files asks for them: each read of the
	// content API is a round trip.
	cmd.Stdin = bufio.NewReaderSize(content.NewReader(ra), 4<<20)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("tar -t of layer %s (%s): %v\n%s", l.Digest, l.MediaType, err, out)
	}
}
