package tui_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/internal/testengine"
	"github.com/stagescope/stagescope/tui"
)

// startBuildkitd starts a throwaway buildkitd on addr and waits until its
// socket accepts connections.
func startBuildkitd(t *testing.T, sock string) *testengine.Daemon {
	t.Helper()
	os.Remove(sock)
	d := testengine.StartBuildkitd(t, "unix://"+sock)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return d
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.Log)
			testengine.Unavailable(t, "throwaway buildkitd did not start:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// activeBuilds asks the engine how many builds it is running.
func activeBuilds(t *testing.T, addr string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{ActiveOnly: true, EarlyExit: true})
	if err != nil {
		t.Fatalf("build history: %v", err)
	}
	n := 0
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("build history: %v", err)
		}
		if ev.Type == controlapi.BuildHistoryEventType_STARTED {
			n++
		}
	}
}

// within polls cond every 50 ms for at most limit and returns how long it
// took, or -1.
func within(limit time.Duration, cond func() bool) time.Duration {
	start := time.Now()
	for time.Since(start) <= limit {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1
}

// e2eSetup skips in -short runs and without tmux, and returns a fresh
// build of the binary and a scratch folder.
func e2eSetup(t *testing.T) (bin, work string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		testengine.Unavailable(t, "tmux is not installed: %v", err)
	}
	work = t.TempDir()
	bin = filepath.Join(work, "stagescope")
	build := exec.Command("go", "build", "-o", bin, "./cmd/stagescope")
	build.Dir = testengine.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin, work
}

// writeFiles writes name → content into a new folder and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startTUI opens a tmux session of 120×40 running the command line, and
// closes it when the test ends.
func startTUI(t *testing.T, name, line string) tmux {
	t.Helper()
	x := tmux{t: t, socket: fmt.Sprintf("stagescope-%s-%d", name, os.Getpid())}
	x.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", line)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", x.socket, "kill-server").Run() })
	return x
}

// buildStats waits for the n-th line of the STAGESCOPE_DEBUG_STATS file,
// which must be a successful build.
func buildStats(t *testing.T, x tmux, file string, n int, limit time.Duration) tui.DebugStats {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		data, _ := os.ReadFile(file)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(data) > 0 && len(lines) >= n {
			var st tui.DebugStats
			if err := json.Unmarshal([]byte(lines[n-1]), &st); err != nil {
				t.Fatalf("stats line %d: %v", n, err)
			}
			if st.Outcome != "built" {
				t.Fatalf("build %d: %s\n%s", n, st.Outcome, x.screen())
			}
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("build %d did not end within %s:\n%s", n, limit, x.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loseEngine starts a build of the focused stage, waits for its step to run,
// stops the engine with stop, and checks the loss is on screen within 5 s
// and that the TUI still answers keys. It returns the screen as the loss
// left it.
func loseEngine(t *testing.T, x tmux, sleeping func() bool, stop func()) string {
	t.Helper()
	x.run("send-keys", "-t", "e2e", "Enter")
	if within(2*time.Minute, sleeping) < 0 {
		t.Fatalf("the step never started:\n%s", x.screen())
	}
	stop()
	stopped := time.Now()
	x.waitFor(`Engine lost during the build; press r to reconnect`, 10*time.Second)
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("the loss was shown %s after the engine went away", d)
	}
	s := x.waitFor(`○ no engine`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "?")
	x.waitFor(`Keys of the Build screen`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "Escape")
	x.waitFor(`press r to reconnect`, 5*time.Second)
	return s
}

// TestE2EEngineLossAndInterrupt drives the real binary in tmux against a
// throwaway buildkitd:
//   - the engine is SIGKILLed during a RUN sleep: the TUI shows the loss
//     within 5 s and keeps answering keys;
//   - the engine is started again and r rebuilds, without restarting
//     stagescope;
//   - ctrl+c cancels that build: the step stops on the engine within 2 s and
//     the engine reports no build running; a second ctrl+c quits with exit
//     code 130 and the terminal's modes (stty -a) are as before.
func TestE2EEngineLossAndInterrupt(t *testing.T) {
	bin, work := e2eSetup(t)
	// runc's container outlives a SIGKILLed daemon: end it, and any left
	// by an earlier run.
	stopSleep := func() { exec.Command("pkill", "-KILL", "-f", "^sleep 623$").Run() }
	stopSleep()
	t.Cleanup(stopSleep)
	sleeping := func() bool { return exec.Command("pgrep", "-f", "^sleep 623$").Run() == nil }

	busybox := testengine.Bases(t)["busybox"]
	sock := filepath.Join(t.TempDir(), "buildkitd.sock")
	addr := "unix://" + sock
	first := startBuildkitd(t, sock)

	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM busybox\nRUN sleep 623\n"})
	before, after := filepath.Join(work, "stty.before"), filepath.Join(work, "stty.after")
	x := startTUI(t, "loss", fmt.Sprintf("stty -a > %q; env BUILDKIT_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q %q --build-context busybox=%q; echo EXITED $?; stty -a > %q; sleep 120",
		before, addr, filepath.Join(work, "state"), bin, dir, busybox, after))

	// Connected; at 120 columns the long temporary Dockerfile path leaves
	// the header no room for the address after the screens' tabs.
	x.waitFor(`● buildkitd`, 30*time.Second)
	x.waitFor(`enter builds stage-0`, 5*time.Second)

	// The engine dies during the step.
	s := loseEngine(t, x, sleeping, func() { first.Cmd.Process.Signal(syscall.SIGKILL) })
	if !regexp.MustCompile(`⊘ 1/1 RUN sleep 623 +CANCELED`).MatchString(s) {
		t.Errorf("the step that ran when the engine died does not show as canceled:\n%s", s)
	}
	stopSleep()

	// The engine is back: r reconnects and builds again.
	startBuildkitd(t, sock)
	x.run("send-keys", "-t", "e2e", "r")
	x.waitFor(`● buildkitd`, 30*time.Second)
	if within(2*time.Minute, sleeping) < 0 {
		t.Fatalf("the rebuild did not start the step again:\n%s", x.screen())
	}

	// ctrl+c cancels the build on the engine.
	x.run("send-keys", "-t", "e2e", "C-c")
	if d := within(2*time.Second, func() bool { return !sleeping() }); d < 0 {
		t.Errorf("the step still runs 2 s after ctrl+c:\n%s", x.screen())
	}
	if d := within(2*time.Second, func() bool { return activeBuilds(t, addr) == 0 }); d < 0 {
		t.Errorf("the engine still reports a build running 2 s after ctrl+c")
	}
	x.waitFor(`canceled`, 5*time.Second)

	// A second ctrl+c quits with 130, and the terminal is as it was.
	x.run("send-keys", "-t", "e2e", "C-c")
	x.waitFor(`EXITED 130`, 10*time.Second)
	var a, b []byte
	if within(5*time.Second, func() bool {
		var err error
		b, err = os.ReadFile(after)
		return err == nil && len(b) > 0
	}) < 0 {
		t.Fatal("stty -a after the TUI wrote nothing")
	}
	a, err := os.ReadFile(before)
	if err != nil || len(a) == 0 {
		t.Fatalf("stty -a before the TUI: %v", err)
	}
	if string(a) != string(b) {
		t.Errorf("terminal modes changed:\nbefore: %s\nafter:  %s", a, b)
	}
}

// TestE2EHundredBuilds runs 100 builds one after the other in one TUI
// process, through its keys, and reads the statistics the process writes
// after each (STAGESCOPE_DEBUG_STATS): resident memory grows by at most
// 20 MB from the first build to the last, and the goroutines come back to
// what they were once the first builds are done.
func TestE2EHundredBuilds(t *testing.T) {
	bin, work := e2eSetup(t)
	addr := testengine.BuildKit(t)
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY hello.txt /\n", "hello.txt": "hello\n"})
	statsFile := filepath.Join(work, "stats.jsonl")
	x := startTUI(t, "100", fmt.Sprintf("env BUILDKIT_HOST=%q XDG_STATE_HOME=%q STAGESCOPE_DEBUG_STATS=%q TERM=xterm-256color %q %q; echo EXITED $?; sleep 60",
		addr, filepath.Join(work, "state"), statsFile, bin, dir))
	x.waitFor(`● buildkitd`, 30*time.Second)

	const builds = 100
	var stats []tui.DebugStats
	read := func(n int) { stats = append(stats, buildStats(t, x, statsFile, n, time.Minute)) }
	x.run("send-keys", "-t", "e2e", "Enter")
	read(1)
	for i := 2; i <= builds; i++ {
		x.run("send-keys", "-t", "e2e", "r")
		read(i)
	}
	var series []int
	for _, st := range stats {
		series = append(series, st.Goroutines)
	}
	t.Logf("goroutines after each build: %v", series)
	first, last := stats[0], stats[builds-1]
	t.Logf("after build 1: %d goroutines, RSS %.1f MB; after build %d: %d goroutines, RSS %.1f MB",
		first.Goroutines, float64(first.RSSBytes)/1e6, builds, last.Goroutines, float64(last.RSSBytes)/1e6)
	if growth := last.RSSBytes - first.RSSBytes; growth > 20<<20 {
		t.Errorf("RSS grew by %.1f MB over %d builds", float64(growth)/(1<<20), builds)
	}
	// The count is the lowest of a few readings over 20 ms
	// (settledGoroutines); here it reads 19-23 after every build: gRPC's
	// connection to the engine (made on first use), Bubble Tea's loops,
	// one pending tick, and the three of following the Dockerfile (the
	// watcher's loop, fsnotify's reader, the command waiting for changes). A single instant's reading went from 15 to 17 with
	// the ticks and batches Bubble Tea runs in goroutines of their own, so
	// compare the lowest of builds 6-15 with the lowest of the last ten,
	// with room for two of those. A leak of one goroutine a build would
	// put the second about ninety higher, one every thirty builds three.
	const tickSlack = 2
	if base, end := slices.Min(series[5:15]), slices.Min(series[builds-10:]); end > base+tickSlack {
		t.Errorf("%d goroutines at the end, %d after the first builds", end, base)
	}
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}

// TestE2ELogFlood builds steps that print far more than a screen can take,
// on a buildkitd whose own log limits are lifted (BuildKit clips a step at
// 2 MiB and 200 KiB/s by default): 64 MiB of base64 on one line without a
// newline, 32 MiB of random bytes (invalid UTF-8, control characters), and
// a \r progress bar. The TUI keeps 2 MiB of log a step and short queues,
// so its resident memory grows by at most 48 MiB, half of what streamed
// through (about 30 MiB here, the same at a quarter of the volume); the
// screen keeps its frame, and the progress bar shows its last state.
func TestE2ELogFlood(t *testing.T) {
	bin, work := e2eSetup(t)
	busybox := testengine.Bases(t)["busybox"]
	t.Setenv("BUILDKIT_STEP_LOG_MAX_SIZE", "-1")
	t.Setenv("BUILDKIT_STEP_LOG_MAX_SPEED", "-1")
	sock := filepath.Join(t.TempDir(), "buildkitd.sock")
	startBuildkitd(t, sock)
	addr := "unix://" + sock

	dir := writeFiles(t, map[string]string{
		"hello.txt": "hello\n",
		"Dockerfile": "FROM scratch AS small\nCOPY hello.txt /\n\n" +
			"FROM busybox AS flood\n" +
			"RUN head -c 50331648 /dev/urandom | base64 -w 0\n" +
			"RUN head -c 33554432 /dev/urandom\n" +
			"RUN i=0; while [ $i -le 100 ]; do printf '\\rprogress %d%%' $i; i=$((i+1)); done; echo\n",
	})
	statsFile := filepath.Join(work, "stats.jsonl")
	x := startTUI(t, "flood", fmt.Sprintf("env BUILDKIT_HOST=%q XDG_STATE_HOME=%q STAGESCOPE_DEBUG_STATS=%q TERM=xterm-256color %q %q --target small --build-context busybox=%q; echo EXITED $?; sleep 60",
		addr, filepath.Join(work, "state"), statsFile, bin, dir, busybox))
	x.waitFor(`● buildkitd`, 30*time.Second)

	stats := func(n int) tui.DebugStats { return buildStats(t, x, statsFile, n, 3*time.Minute) }
	x.waitFor(`enter builds small`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "Enter")
	base := stats(1)
	// Escape alone: followed at once by a key it would read as alt+key.
	x.run("send-keys", "-t", "e2e", "Escape")
	x.waitFor(`Stages 2`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "j")
	x.waitFor(`flood +stage 1`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "Enter")
	flood := stats(2)
	growth := flood.RSSBytes - base.RSSBytes
	t.Logf("RSS %.1f MB before the flood, %.1f MB after; heap %.1f MB, %.1f MB", float64(base.RSSBytes)/1e6, float64(flood.RSSBytes)/1e6, float64(base.HeapBytes)/1e6, float64(flood.HeapBytes)/1e6)
	if growth > 48<<20 {
		t.Errorf("RSS grew by %.1f MiB while 96 MiB of logs streamed through", float64(growth)/(1<<20))
	}

	// Focus each step of the flood stage in turn (g is the first step):
	// the frame stays whole, and the progress bar's log is its last state.
	s := x.waitFor(`Built flood`, 10*time.Second)
	frameWhole := func(s string) {
		t.Helper()
		rows := strings.Split(strings.TrimRight(s, "\n"), "\n")
		if len(rows) != 40 || !strings.HasPrefix(rows[0], " stagescope ") || !strings.Contains(rows[len(rows)-1], "? help") {
			t.Errorf("the frame is broken:\n%s", s)
		}
	}
	frameWhole(s)
	x.run("send-keys", "-t", "e2e", "g")
	s = x.waitFor(`Logs · flood 1/3 RUN head -c 50331648`, 5*time.Second)
	frameWhole(s)
	x.run("send-keys", "-t", "e2e", "j")
	s = x.waitFor(`Logs · flood 2/3 RUN head -c 33554432`, 5*time.Second)
	frameWhole(s)
	x.run("send-keys", "-t", "e2e", "j")
	s = x.waitFor(`Logs · flood 3/3 RUN i=0`, 5*time.Second)
	frameWhole(s)
	if !regexp.MustCompile(`(?m)^ +progress 100%\s*$`).MatchString(s) || strings.Contains(s, "progress 99%") {
		t.Errorf("the progress bar's log is not its last state on one line:\n%s", s)
	}
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}

// TestE2EDockerLossAndBack is the engine-loss half of
// TestE2EEngineLossAndInterrupt on Docker: a throwaway dockerd is stopped
// (SIGTERM, as systemctl stop does) during a RUN sleep; the TUI shows the
// loss within 5 s and keeps answering keys; a new dockerd on the same
// socket, and r builds again without restarting stagescope.
func TestE2EDockerLossAndBack(t *testing.T) {
	bin, work := e2eSetup(t)
	stopSleep := func() { exec.Command("pkill", "-KILL", "-f", "^sleep 629$").Run() }
	stopSleep()
	t.Cleanup(stopSleep)
	sleeping := func() bool { return exec.Command("pgrep", "-f", "^sleep 629$").Run() == nil }
	busybox := testengine.Bases(t)["busybox"]
	sock := filepath.Join(t.TempDir(), "docker.sock")
	first := testengine.StartDockerd(t, sock)
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM busybox\nRUN sleep 629\n"})
	x := startTUI(t, "dockerloss", fmt.Sprintf("env BUILDKIT_HOST= DOCKER_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q %q --build-context busybox=%q; echo EXITED $?; sleep 60",
		first.Addr, filepath.Join(work, "state"), bin, dir, busybox))
	x.waitFor(`● docker`, 30*time.Second)
	x.waitFor(`enter builds stage-0`, 5*time.Second)

	loseEngine(t, x, sleeping, func() { first.Cmd.Process.Signal(syscall.SIGTERM) })
	stopSleep()

	testengine.StartDockerd(t, sock)
	x.run("send-keys", "-t", "e2e", "r")
	x.waitFor(`● docker`, 30*time.Second)
	if within(2*time.Minute, sleeping) < 0 {
		t.Fatalf("the rebuild did not start the step again:\n%s", x.screen())
	}
	x.run("send-keys", "-t", "e2e", "x")
	if within(5*time.Second, func() bool { return !sleeping() }) < 0 {
		t.Errorf("the step still runs 5 s after x:\n%s", x.screen())
	}
	x.waitFor(`canceled`, 10*time.Second)
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}
