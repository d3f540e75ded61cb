package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// `stagescope files` as a whole process on the 520 MB image of
// BenchmarkMeasureLargeImageOnDocker: nothing remembered (a state folder
// of its own each time) against `docker save | tar -t` of the same image,
// its peak resident set, and the second listing with every layer
// remembered. Both listings include the build, which BuildKit's cache
// answers.
func BenchmarkFilesLargeImageOnDocker(b *testing.B) {
	host := testengine.Docker(b)
	busybox := testengine.Bases(b)["busybox"]
	bin := buildBinary(b)
	dir := benchProject(b, "FROM scratch AS big\nCOPY --from=busybox / /\nRUN head -c 520000000 /dev/zero > /big && echo big\n")
	base := []string{"DOCKER_HOST=" + host, "BUILDKIT_HOST="}
	args := []string{"files", dir, "--target", "big", "--build-context", "busybox=" + busybox, "--progress", "quiet", "--depth", "1"}
	timed(b, append(base, "XDG_STATE_HOME="+b.TempDir()), bin, args...) // builds and stores the image
	var cold, warm, save float64
	var rss int64
	for range b.N {
		env := append(base, "XDG_STATE_HOME="+b.TempDir())
		w, peak := timedRSS(b, env, bin, args...)
		cold += w
		rss = max(rss, peak)
		w, _ = timedRSS(b, env, bin, args...)
		warm += w
		w, _ = timed(b, base, "sh", "-c", "docker save stagescope/"+filepath.Base(dir)+":big | tar -t >/dev/null")
		save += w
	}
	n := float64(b.N)
	b.ReportMetric(cold/n, "files-s/op")
	b.ReportMetric(save/n, "docker-save-tar-t-s/op")
	b.ReportMetric(cold/save, "ratio-to-save")
	b.ReportMetric(warm/n, "files-warm-s/op")
	b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
}

// timedRSS runs a command and returns its wall seconds and peak resident
// set in bytes.
func timedRSS(b *testing.B, env []string, name string, args ...string) (float64, int64) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start).Seconds()
	if err != nil {
		b.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // kilobytes on Linux
	}
	return wall, rss
}
