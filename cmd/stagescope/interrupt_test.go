package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// Ctrl-C during a build: the running step stops on the engine within 2 s,
// stagescope exits 130 with one line, no stack trace.
func TestInterruptCancelsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	addr := testengine.BuildKit(t)
	busybox := testengine.Bases(t)["busybox"]
	bin := filepath.Join(t.TempDir(), "stagescope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN sleep 619\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "build", dir, "--addr", addr, "--build-context", "busybox="+busybox, "--progress", "plain", "--no-cache")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sleeping := func() bool { return exec.Command("pgrep", "-f", "^sleep 619$").Run() == nil }
	deadline := time.Now().Add(2 * time.Minute)
	for !sleeping() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the step never started:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	interrupted := time.Now()
	for sleeping() {
		if time.Since(interrupted) > 10*time.Second { // of a 619 s step: it was stopped, not left to end
			t.Errorf("the step still runs %s after Ctrl-C", time.Since(interrupted))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("stagescope did not exit within 10 s of Ctrl-C")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit code %d, want %d", code, exitInterrupted)
	}
	last := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	if last != "stagescope: interrupted" || strings.Contains(stderr.String(), "goroutine ") {
		t.Errorf("last line %q; stderr:\n%s", last, stderr.String())
	}
}
