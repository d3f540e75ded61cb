package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
	"github.com/stagescope/stagescope/tui"
)

// Benchmarks compare stagescope with buildctl on the same buildkitd, same
// Dockerfile, same run, and report the ratios (make bench prints them).

func buildBinary(b testing.TB) string {
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
			// Medians over the runs, which alternate which goes first;
			// wall-ratio-p10 and -p90 are the spread of the per-run ratios.
			var w1s, w2s, ratios []float64
			for i := range b.N {
				var w1, w2 float64
				if i%2 == 0 {
					w1, _ = timed(b, nil, bin, ours(c.noCache)...)
					w2, _ = timed(b, nil, buildctl, theirs(c.noCache)...)
				} else {
					w2, _ = timed(b, nil, buildctl, theirs(c.noCache)...)
					w1, _ = timed(b, nil, bin, ours(c.noCache)...)
				}
				w1s, w2s, ratios = append(w1s, w1), append(w2s, w2), append(ratios, w1/w2)
			}
			b.ReportMetric(quantile(w1s, 0.5), "stagescope-s/op")
			b.ReportMetric(quantile(w2s, 0.5), "buildctl-s/op")
			b.ReportMetric(quantile(ratios, 0.5), "wall-ratio")
			b.ReportMetric(quantile(ratios, 0.1), "wall-ratio-p10")
			b.ReportMetric(quantile(ratios, 0.9), "wall-ratio-p90")
		})
	}
}

// logHeavy is a build whose one step prints 2 MiB, on the private buildkitd,
// for the CPU benchmarks.
type logHeavy struct{ addr, buildctl, busybox, bin, dir string }

func newLogHeavy(b *testing.B) *logHeavy {
	b.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		b.Skip("script(1) not installed")
	}
	return &logHeavy{
		addr:     testengine.BuildKit(b),
		buildctl: testengine.Buildctl(b),
		busybox:  testengine.Bases(b)["busybox"],
		bin:      buildBinary(b),
		dir:      benchProject(b, "FROM scratch\nCOPY --from=busybox / /\nRUN head -c 1572864 /dev/urandom | base64\n"),
	}
}

// buildctlTTY is the reference: buildctl with tty progress, to run under script(1).
func (lh *logHeavy) buildctlTTY() string {
	return lh.buildctl + " --addr " + lh.addr + " build --frontend dockerfile.v0 --local context=" + lh.dir + " --local dockerfile=" + lh.dir +
		" --local busybox=" + lh.busybox + " --opt context:busybox=local:busybox --progress tty --no-cache"
}

// Client CPU on a step that prints 2 MiB: stagescope's tty progress against
// buildctl's, both under script(1) for a terminal.
func BenchmarkLogHeavyCPU(b *testing.B) {
	lh := newLogHeavy(b)
	addr, busybox, bin, dir := lh.addr, lh.busybox, lh.bin, lh.dir
	var cpuOurs, cpuTheirs float64
	for range b.N {
		tty := []string{"TERM=xterm", "COLUMNS=120", "LINES=40"}
		ours := bin + " build " + dir + " --addr " + addr + " --build-context busybox=" + busybox + " --progress tty --no-cache"
		_, c1 := timed(b, tty, "script", "-qfec", ours, "/dev/null")
		line := lh.buildctlTTY()
		_, c2 := timed(b, tty, "script", "-qfec", line, "/dev/null")
		cpuOurs += c1
		cpuTheirs += c2
	}
	b.ReportMetric(cpuOurs/float64(b.N), "stagescope-cpu-s/op")
	b.ReportMetric(cpuTheirs/float64(b.N), "buildctl-tty-cpu-s/op")
	b.ReportMetric(cpuOurs/cpuTheirs, "cpu-ratio")
}

// Measuring a 500 MB image on Docker reads the image store, exporting
// nothing: stagescope's measurement against `docker save` of the same image.
func BenchmarkMeasureLargeImageOnDocker(b *testing.B) {
	host := testengine.Docker(b)
	busybox := testengine.Bases(b)["busybox"]
	bin := buildBinary(b)
	dir := benchProject(b, "FROM scratch AS big\nCOPY --from=busybox / /\nRUN head -c 520000000 /dev/zero > /big && echo big\n")
	env := []string{"DOCKER_HOST=" + host, "BUILDKIT_HOST=", "XDG_STATE_HOME=" + b.TempDir()}
	// The first compare builds and stores the image; the timed ones find it
	// cached, so what remains is the measurement.
	timed(b, env, bin, "compare", dir, "--targets", "big", "--build-context", "busybox="+busybox, "--progress", "quiet")
	var ours, save float64
	for range b.N {
		w1, _ := timed(b, env, bin, "compare", dir, "--targets", "big", "--build-context", "busybox="+busybox, "--progress", "quiet")
		w2, _ := timed(b, env, "sh", "-c", "docker save stagescope/"+filepath.Base(dir)+":big | wc -c")
		ours += w1
		save += w2
	}
	b.ReportMetric(ours/float64(b.N), "compare-cached-s/op")
	b.ReportMetric(save/float64(b.N), "docker-save-s/op")
	b.ReportMetric(ours/save, "ratio-to-export")
}

// compare --all builds shared stages once: its wall time against building
// alone the target with the largest closure, both with a fresh cache.
func BenchmarkCompareAllVsLargestTarget(b *testing.B) {
	addr := testengine.BuildKit(b)
	busybox := testengine.Bases(b)["busybox"]
	bin := buildBinary(b)
	df := "FROM scratch AS base\nCOPY --from=busybox / /\nRUN sleep 2 && echo base > /base\n" +
		"FROM base AS deps\nRUN sleep 2 && echo deps > /deps\n" +
		"FROM deps AS build\nRUN sleep 2 && echo build > /build\n" +
		"FROM base AS test\nCOPY --from=build /build /b\nRUN sleep 1\n" +
		"FROM scratch AS runtime\nCOPY --from=build /build /app\n"
	dir := benchProject(b, df)
	env := []string{"BUILDKIT_HOST=" + addr, "XDG_STATE_HOME=" + b.TempDir()}
	var all, largest float64
	for range b.N {
		w1, _ := timed(b, env, bin, "compare", dir, "--all", "--no-cache", "--build-context", "busybox="+busybox, "--progress", "quiet")
		w2, _ := timed(b, env, bin, "build", dir, "--target", "test", "--no-cache", "--build-context", "busybox="+busybox, "--progress", "quiet")
		all += w1
		largest += w2
	}
	b.ReportMetric(all/float64(b.N), "compare-all-s/op")
	b.ReportMetric(largest/float64(b.N), "largest-target-s/op")
	b.ReportMetric(all/largest, "wall-ratio")
}

// fiftyStages is a Dockerfile of 50 stages that copy from each other.
func fiftyStages() string {
	var b strings.Builder
	for i := range 50 {
		if i == 0 {
			b.WriteString("FROM scratch AS s0\n")
		} else {
			fmt.Fprintf(&b, "FROM s%d AS s%d\nCOPY --from=s%d /a%d /b%d\n", i-1, i, i/2, i, i)
		}
		fmt.Fprintf(&b, "COPY f%d /a%d\nENV STAGE=%d\nRUN echo %d > /n%d\n", i, i, i, i, i)
	}
	return b.String()
}

// mountingStages is a Dockerfile of n stages written the way larger
// projects write them: global ARGs in FROM, --platform, cache and bind
// mounts from other stages, heredocs, COPY --from by name.
func mountingStages(n int) string {
	var b strings.Builder
	b.WriteString("# syntax=docker/dockerfile:1\nARG GO_VERSION=1.22\nARG ALPINE=alpine:3.20\n")
	for i := range n {
		switch {
		case i%6 == 0:
			fmt.Fprintf(&b, "\nFROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS m%d\nARG TARGETOS TARGETARCH\n", i)
		case i%6 == 1:
			fmt.Fprintf(&b, "\nFROM ${ALPINE} AS m%d\nRUN apk add --no-cache git make\n", i)
		default:
			fmt.Fprintf(&b, "\nFROM m%d AS m%d\n", i-1, i)
		}
		fmt.Fprintf(&b, "WORKDIR /src/m%d\nENV CGO_ENABLED=0 GOFLAGS=-mod=vendor\nCOPY go.mod go.sum ./\n", i)
		if i > 1 {
			fmt.Fprintf(&b, "RUN --mount=type=cache,target=/root/.cache/go-build \\\n    --mount=type=bind,from=m%d,source=/src,target=/dep \\\n    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/m%d ./cmd/m%d\n", i/2, i, i)
			fmt.Fprintf(&b, "COPY --from=m%d /out /in/m%d\n", i-2, i)
		}
		fmt.Fprintf(&b, "RUN <<EOF\nset -e\necho stage %d > /stage\nEOF\n", i)
	}
	return b.String()
}

// tuiUnderPty runs the TUI on dir in a pseudo-terminal of 120×40 (script(1))
// and returns it with its output; the caller drives it through stdin.
func tuiUnderPty(b *testing.B, bin, dir string, env []string, extra string) (*exec.Cmd, io.WriteCloser, *syncBuffer) {
	b.Helper()
	line := "stty rows 40 cols 120; exec " + bin + " " + dir + " " + extra
	cmd := exec.Command("script", "-qfec", line, "/dev/null")
	cmd.Env = append(os.Environ(), append([]string{"TERM=xterm-256color"}, env...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return cmd, in, out
}

type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	seen int // Contains searched up to here: the wait loop must not rescan megabytes each millisecond
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Contains reports whether sub was written since the last Contains that
// found it (from the start at first).
func (s *syncBuffer) Contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := s.b.Bytes()
	from := max(s.seen-len(sub), 0)
	if i := bytes.Index(data[from:], []byte(sub)); i >= 0 {
		s.seen = from + i + len(sub)
		return true
	}
	s.seen = len(data)
	return false
}

func waitOutput(b *testing.B, out *syncBuffer, sub string, limit time.Duration) time.Duration {
	b.Helper()
	start := time.Now()
	for !out.Contains(sub) {
		if time.Since(start) > limit {
			b.Fatalf("no %q on the screen after %s", sub, limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// First frame of the TUI on a 50-stage Dockerfile, in a pseudo-terminal,
// against the whole run of `stagescope graph` on the same file. The time
// includes starting script(1) and stty, a few milliseconds.
func BenchmarkTUIFirstFrame(b *testing.B) {
	if _, err := exec.LookPath("script"); err != nil {
		b.Skip("script(1) not installed")
	}
	bin := buildBinary(b)
	dir := benchProject(b, fiftyStages())
	env := []string{"BUILDKIT_HOST=", "DOCKER_HOST=unix:///nonexistent.sock", "XDG_STATE_HOME=" + b.TempDir()}
	// Medians over the runs; first-frame-p10 and -p90 are the spread.
	var frames, graphs []float64
	for range b.N {
		start := time.Now()
		cmd, in, out := tuiUnderPty(b, bin, dir, env, "")
		waitOutput(b, out, "s49", 10*time.Second)
		frames = append(frames, time.Since(start).Seconds())
		in.Write([]byte("q"))
		cmd.Wait()
		w, _ := timed(b, env, bin, "graph", dir)
		graphs = append(graphs, w)
	}
	b.ReportMetric(1000*quantile(frames, 0.5), "first-frame-ms")
	b.ReportMetric(1000*quantile(frames, 0.1), "first-frame-p10-ms")
	b.ReportMetric(1000*quantile(frames, 0.9), "first-frame-p90-ms")
	b.ReportMetric(1000*quantile(graphs, 0.5), "graph-cmd-ms")
	b.ReportMetric(quantile(frames, 0.5)/quantile(graphs, 0.5), "ratio-to-graph")
}

// CPU of the TUI process during a log-heavy build against buildctl's tty
// progress on the same build.
//
// tui-solve-cpu-s is the TUI's CPU from the key that starts the build to
// the end of the solve's status stream, as the TUI itself records it
// (STAGESCOPE_DEBUG_STATS): what following the live build costs, drawing
// included. buildctl-tty-cpu-s is buildctl's whole run, startup included;
// cpu-ratio divides the two. tui-total-cpu-s is the TUI's whole run for the
// record: startup, the idle first screen, and measuring the image afterwards
// (uncompressed sizes on a buildkitd mean reading the layers once).
func BenchmarkTUILogHeavyCPU(b *testing.B) {
	lh := newLogHeavy(b)
	addr, busybox, bin, dir := lh.addr, lh.busybox, lh.bin, lh.dir
	var solve, total, theirs float64
	for range b.N {
		stats := filepath.Join(b.TempDir(), "stats")
		env := []string{"BUILDKIT_HOST=" + addr, "XDG_STATE_HOME=" + b.TempDir(), "STAGESCOPE_DEBUG_STATS=" + stats}
		cmd, in, out := tuiUnderPty(b, bin, dir, env, "--no-cache --build-context busybox="+busybox)
		waitOutput(b, out, "stage-0", 10*time.Second)
		in.Write([]byte("b"))
		waitOutput(b, out, "Built", 2*time.Minute)
		in.Write([]byte("q"))
		cmd.Wait()
		total += (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		solve += solveCPU(b, stats)
		// The same build: the TUI keeps the result as an image to measure it.
		line := lh.buildctlTTY() + " --output type=image,name=stagescope/bench:buildctl"
		_, c := timed(b, []string{"TERM=xterm", "COLUMNS=120", "LINES=40"}, "script", "-qfec", line, "/dev/null")
		theirs += c
		b.Logf("tui %.4f buildctl %.4f", solveCPU(b, stats), c)
	}
	b.ReportMetric(solve/float64(b.N), "tui-solve-cpu-s/op")
	b.ReportMetric(total/float64(b.N), "tui-total-cpu-s/op")
	b.ReportMetric(theirs/float64(b.N), "buildctl-tty-cpu-s/op")
	b.ReportMetric(solve/theirs, "cpu-ratio")
}

// solveCPU reads what the TUI recorded of its one build.
func solveCPU(b *testing.B, stats string) float64 {
	b.Helper()
	data, err := os.ReadFile(stats)
	if err != nil {
		b.Fatal(err)
	}
	var st tui.DebugStats
	if err := json.Unmarshal(data, &st); err != nil || st.SolveCPUSeconds <= 0 {
		b.Fatalf("no solve CPU time in %q: %v", data, err)
	}
	return st.SolveCPUSeconds
}

// quantile returns the q-quantile (0..1) of xs, nearest rank.
func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

// The whole process of `stagescope graph --format json` against the least
// a process can do for it: testdata/lintfloor reads the Dockerfile, parses
// it with BuildKit's parser and instructions packages and runs BuildKit's
// linter as buildgraph does, and prints the findings. Both run in turn on
// the same files, ten rounds per iteration, and ratio is the median of the
// per-file ratios (ratio-p10 and ratio-p90 their spread); the medians of
// the examples, of the 50-stage file and of the 30 stages with mounts are
// reported too.
func BenchmarkGraphVsLintFloor(b *testing.B) {
	bin := buildBinary(b)
	floor := filepath.Join(b.TempDir(), "lintfloor")
	if out, err := exec.Command("go", "build", "-o", floor, "./testdata/lintfloor").CombinedOutput(); err != nil {
		b.Fatalf("go build lintfloor: %v\n%s", err, out)
	}
	var dirs []string
	for _, ex := range []string{"hello-multistage", "java-multistage", "java-builder-pattern", "java-single-stage"} {
		dirs = append(dirs, filepath.Join("..", "..", "examples", ex))
	}
	dirs = append(dirs, benchProject(b, fiftyStages()), benchProject(b, mountingStages(30)))
	var ours, theirs, ratios []float64
	perFile := make([][]float64, len(dirs))
	for i := range b.N {
		for round := range 10 {
			for d, dir := range dirs {
				var w1, w2 float64
				if (i+round)%2 == 0 {
					w1, _ = timed(b, nil, bin, "graph", "--format", "json", dir)
					w2, _ = timed(b, nil, floor, filepath.Join(dir, "Dockerfile"))
				} else {
					w2, _ = timed(b, nil, floor, filepath.Join(dir, "Dockerfile"))
					w1, _ = timed(b, nil, bin, "graph", "--format", "json", dir)
				}
				ours, theirs, ratios = append(ours, w1), append(theirs, w2), append(ratios, w1/w2)
				perFile[d] = append(perFile[d], w1/w2)
			}
		}
	}
	// The examples are a few lines each: their ratio is mostly that of
	// the two processes' start-up.
	var small []float64
	for _, r := range perFile[:4] {
		small = append(small, r...)
	}
	b.ReportMetric(quantile(small, 0.5), "ratio-examples")
	b.ReportMetric(quantile(perFile[4], 0.5), "ratio-50-stages")
	b.ReportMetric(quantile(perFile[5], 0.5), "ratio-30-mounting")
	b.ReportMetric(1000*quantile(ours, 0.5), "graph-ms")
	b.ReportMetric(1000*quantile(theirs, 0.5), "floor-ms")
	b.ReportMetric(quantile(ratios, 0.5), "ratio")
	b.ReportMetric(quantile(ratios, 0.1), "ratio-p10")
	b.ReportMetric(quantile(ratios, 0.9), "ratio-p90")
}
