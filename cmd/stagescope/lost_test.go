package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// The engine dies during a step: the build reports the engine lost within
// 5 s, with exit code 3.
func TestEngineKilledDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	// runc's container outlives a SIGKILLed daemon: end it, and any from an
	// earlier run.
	stopSleep := func() { exec.Command("pkill", "-KILL", "-f", "^sleep 621$").Run() }
	stopSleep()
	t.Cleanup(stopSleep)
	sock := filepath.Join(t.TempDir(), "buildkitd.sock")
	d := testengine.StartBuildkitd(t, "unix://"+sock)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.Log)
			testengine.Unavailable(t, "throwaway buildkitd did not start:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	loseDuringStep(t, map[string]string{"BUILDKIT_HOST": "unix://" + sock}, "621",
		func() { d.Cmd.Process.Signal(syscall.SIGKILL) }, "lost the connection to buildkitd")
}

// Docker is stopped (SIGTERM, as systemctl stop does) during a step: the
// build reports the engine lost within 5 s, with exit code 3.
func TestDockerStoppedDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	stopSleep := func() { exec.Command("pkill", "-KILL", "-f", "^sleep 627$").Run() }
	stopSleep()
	t.Cleanup(stopSleep)
	d := testengine.StartDockerd(t, "")
	loseDuringStep(t, map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": d.Addr}, "627",
		func() { d.Cmd.Process.Signal(syscall.SIGTERM) }, "lost the connection to docker")
}

// loseDuringStep builds a step that runs `sleep N` on the engine env names,
// calls stop once the step runs, and checks that the build reports want, in
// one line, within 5 s, with exit code 3.
func loseDuringStep(t *testing.T, env map[string]string, n string, stop func(), want string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN sleep "+n+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stoppedAt := make(chan time.Time, 1)
	go func() {
		for exec.Command("pgrep", "-f", "^sleep "+n+"$").Run() != nil {
			time.Sleep(50 * time.Millisecond)
		}
		// The time goes in first: the build can end before this goroutine
		// runs again after stop.
		stoppedAt <- time.Now()
		stop()
	}()
	start := time.Now()
	code, _, stderr := stagescope(t, env, "build", dir, "--build-context", "busybox="+testengine.Bases(t)["busybox"], "--progress", "quiet")
	if code != exitNoEngine {
		t.Fatalf("exit %d after %s, want %d:\n%s", code, time.Since(start), exitNoEngine, stderr)
	}
	select {
	case at := <-stoppedAt:
		if d := time.Since(at); d > 5*time.Second {
			t.Errorf("reported %s after the engine went away", d)
		}
	default:
		t.Fatalf("the build ended before the engine went away:\n%s", stderr)
	}
	if !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("stderr %q, want one line with %q", stderr, want)
	}
}
