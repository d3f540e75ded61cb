package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// Benchmarks compare stagescope with buildctl on the same buildkitd, same
// Dockerfile, same run, and report the ratios (make bench prints them).

func buildBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "stagescope")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func benchProject(b *testing.B, dockerfile string) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// run times one command and returns wall and CPU (user+system, children
// included) seconds.
func timed(b *testing.B, env []string, name string, args ...string) (wall, cpu float64) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall = time.Since(start).Seconds()
	if err != nil {
		b.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	st := cmd.ProcessState
	return wall, (st.UserTime() + st.SystemTime()).Seconds()
}

func BenchmarkBuildVsBuildctl(b *testing.B) {
	addr := testengine.BuildKit(b)
	buildctl := testengine.Buildctl(b)
	busybox := testengine.Bases(b)["busybox"]
	bin := buildBinary(b)
	dir := benchProject(b, "FROM scratch AS base\nCOPY --from=busybox / /\nRUN for i in $(seq 200); do echo line $i; done\nRUN echo two > /two\nFROM base\nRUN echo final > /final\n")
	ours := func(noCache bool) []string {
		a := []string{"build", dir, "--addr", addr, "--build-context", "busybox=" + busybox, "--progress", "plain"}
		if noCache {
			a = append(a, "--no-cache")
		}
		return a
	}
	theirs := func(noCache bool) []string {
		a := []string{"--addr", addr, "build", "--frontend", "dockerfile.v0", "--local", "context=" + dir, "--local", "dockerfile=" + dir,
			"--local", "busybox=" + busybox, "--opt", "context:busybox=local:busybox", "--progress", "plain"}
		if noCache {
			a = append(a, "--no-cache")
		}
		return a
	}
	for _, c := range []struct {
		name    string
		noCache bool
	}{{"cold", true}, {"warm", false}} {
		b.Run(c.name, func(b *testing.B) {
			var sumOurs, sumTheirs float64
			for range b.N {
				w1, _ := timed(b, nil, bin, ours(c.noCache)...)
				w2, _ := timed(b, nil, buildctl, theirs(c.noCache)...)
				sumOurs += w1
				sumTheirs += w2
			}
			b.ReportMetric(sumOurs/float64(b.N), "stagescope-s/op")
			b.ReportMetric(sumTheirs/float64(b.N), "buildctl-s/op")
			b.ReportMetric(sumOurs/sumTheirs, "wall-ratio")
		})
	}
}

// Client CPU on a step that prints 2 MiB: stagescope's tty progress against
// buildctl's, both under script(1) for a terminal.
func BenchmarkLogHeavyCPU(b *testing.B) {
	if _, err := exec.LookPath("script"); err != nil {
		b.Skip("script(1) not installed")
	}
	addr := testengine.BuildKit(b)
	buildctl := testengine.Buildctl(b)
	busybox := testengine.Bases(b)["busybox"]
	bin := buildBinary(b)
	dir := benchProject(b, "FROM scratch\nCOPY --from=busybox / /\nRUN head -c 1572864 /dev/urandom | base64\n")
	var cpuOurs, cpuTheirs float64
	for range b.N {
		tty := []string{"TERM=xterm", "COLUMNS=120", "LINES=40"}
		ours := bin + " build " + dir + " --addr " + addr + " --build-context busybox=" + busybox + " --progress tty --no-cache"
		_, c1 := timed(b, tty, "script", "-qfec", ours, "/dev/null")
		line := buildctl + " --addr " + addr + " build --frontend dockerfile.v0 --local context=" + dir + " --local dockerfile=" + dir +
			" --local busybox=" + busybox + " --opt context:busybox=local:busybox --progress tty --no-cache"
		_, c2 := timed(b, tty, "script", "-qfec", line, "/dev/null")
		cpuOurs += c1
		cpuTheirs += c2
	}
	b.ReportMetric(cpuOurs/float64(b.N), "stagescope-cpu-s/op")
	b.ReportMetric(cpuTheirs/float64(b.N), "buildctl-tty-cpu-s/op")
	b.ReportMetric(cpuOurs/cpuTheirs, "cpu-ratio")
}
