package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/testengine"
)

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// build --watch on buildkitd: one line per build; a burst of 5 saves of a
// file the COPY reads within 300 ms is one build that says how the size
// changed; a file .dockerignore leaves out and a file no COPY reads start
// none; a Dockerfile that does not parse is one line, and the next good
// save builds; so does a save of .dockerignore; Ctrl-C ends it with 130.
func TestWatchBuilds(t *testing.T) {
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
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := "FROM busybox AS app\nWORKDIR /app\nCOPY hello.txt .\nRUN wc -c hello.txt\n"
	write("Dockerfile", good)
	write("hello.txt", "hello\n")
	write(".dockerignore", "ignored.txt\n")
	write("ignored.txt", "x\n")
	write("other.txt", "y\n")
	cmd := exec.Command(bin, "build", dir, "--watch", "--addr", addr, "--build-context", "busybox="+busybox)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := func() []string {
		s := strings.TrimSpace(stdout.String())
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	waitLines := func(n int, wait time.Duration) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for len(lines()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d lines, want %d:\n%s\nstderr:\n%s", len(lines()), n, stdout.String(), stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitLines(1, 2*time.Minute)
	if l := lines()[0]; !strings.Contains(l, "app built · ") {
		t.Errorf("first line %q", l)
	}
	for i := range 5 {
		write("hello.txt", "hello, a little longer "+strings.Repeat("!", i)+"\n")
		time.Sleep(60 * time.Millisecond)
	}
	waitLines(2, time.Minute)
	if l := lines()[1]; !strings.Contains(l, "app built · +") || !strings.Contains(l, "COPY hello.txt . +") {
		t.Errorf("second line %q: want the size grown, in the COPY layer", l)
	}
	// busybox is a folder, a base new to BuildKit in every build.
	if l := lines()[1]; !strings.Contains(l, "ran 3 of 3 steps: WORKDIR /app (base-changed), COPY hello.txt . (parent-ran), RUN wc -c hello.txt (parent-ran)") {
		t.Errorf("second line %q: want the steps that ran with their reasons", l)
	}
	write("ignored.txt", "changed\n")
	write("other.txt", "changed\n")
	time.Sleep(2 * time.Second)
	if n := len(lines()); n != 2 {
		t.Fatalf("%d lines after saves of files no build reads:\n%s", n, stdout.String())
	}
	write("Dockerfile", "FROM busybox AS app\nCOPPY hello.txt .\n")
	waitLines(3, 10*time.Second)
	if l := lines()[2]; !strings.Contains(l, "Dockerfile:2: unknown instruction: COPPY") {
		t.Errorf("third line %q", l)
	}
	write("Dockerfile", good+"ENV DONE=1\n")
	waitLines(4, time.Minute)
	if l := lines()[3]; !strings.Contains(l, "app built · ") {
		t.Errorf("fourth line %q", l)
	}
	// A new .dockerignore changes what is sent: it builds.
	write(".dockerignore", "ignored.txt\nother.txt\n")
	waitLines(5, time.Minute)
	if l := lines()[4]; !strings.Contains(l, "app built · ") {
		t.Errorf("fifth line %q", l)
	}
	t.Logf("stdout:\n%s", stdout.String())
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("build --watch did not end within 10 s of Ctrl-C")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit code %d, want %d", code, exitInterrupted)
	}
	if !strings.HasSuffix(strings.TrimSpace(stderr.String()), "stagescope: interrupted") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// The summary line gives each step that ran the kind of its reason.
func TestSummaryLineSaysWhy(t *testing.T) {
	steps := []*buildgraph.Step{
		{Stage: 0, Line: 2, Text: "WORKDIR /app", State: buildgraph.StepCached},
		{Stage: 0, Line: 3, Text: "COPY hello.txt .", State: buildgraph.StepDone, Why: &buildgraph.Reason{
			Kind: buildgraph.ReasonFilesChanged, Files: []buildgraph.FileChange{{Path: "hello.txt", Change: buildgraph.FileModified}}, FilesChanged: 1}},
		{Stage: 0, Line: 4, Text: "RUN wc -c hello.txt", State: buildgraph.StepDone, Why: &buildgraph.Reason{Kind: buildgraph.ReasonParentRan}},
	}
	got := summaryLine(nil, buildgraph.TargetResult{Target: "app", Duration: time.Second}, steps)
	want := "app built · 1.0s · ran 2 of 3 steps: COPY hello.txt . (files-changed: hello.txt), RUN wc -c hello.txt (parent-ran)"
	if got != want {
		t.Errorf("summary line\n%s\nwant\n%s", got, want)
	}
}
