package tui_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// renameSave writes a file as editors that save atomically do: a
// temporary file renamed over it.
func renameSave(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// statLines counts the builds the STAGESCOPE_DEBUG_STATS file tells of.
func statLines(file string) int {
	data, _ := os.ReadFile(file)
	if s := strings.TrimSpace(string(data)); s != "" {
		return len(strings.Split(s, "\n"))
	}
	return 0
}

// TestE2EEditLoop follows a Dockerfile in a real terminal on buildkitd: a
// stage appended by a rename-save is on the graph without a key press
// (how soon: BenchmarkSaveRedraw); a syntax error shows the error bar and keeps the graph, and
// fixing it clears the bar. With auto-rebuild on (w), a burst of 5 saves
// within 300 ms of a file a COPY reads is one build, the next build's
// status line says how the size changed, and a save of a file
// .dockerignore leaves out starts no build.
func TestE2EEditLoop(t *testing.T) {
	bin, work := e2eSetup(t)
	addr := testengine.BuildKit(t)
	busybox := testengine.Bases(t)["busybox"]
	base := "FROM busybox AS base\nWORKDIR /app\nCOPY hello.txt .\n"
	dir := writeFiles(t, map[string]string{
		"Dockerfile": base, "hello.txt": "hello\n", ".dockerignore": "ignored.txt\n", "ignored.txt": "x\n",
	})
	dockerfile := filepath.Join(dir, "Dockerfile")
	statsFile := filepath.Join(work, "stats.jsonl")
	x := startTUI(t, "edit", fmt.Sprintf("env BUILDKIT_HOST=%q XDG_STATE_HOME=%q STAGESCOPE_DEBUG_STATS=%q TERM=xterm-256color %q %q --build-context busybox=%q; echo EXITED $?; sleep 60",
		addr, filepath.Join(work, "state"), statsFile, bin, dir, busybox))
	x.waitFor(`● buildkitd`, 30*time.Second)
	x.waitFor(`enter builds base`, 5*time.Second)

	withExtra := base + "\nFROM base AS extra\nRUN echo extra > /extra\n"
	renameSave(t, dockerfile, withExtra)
	// How soon is BenchmarkSaveRedraw's to say; here only that it is.
	took := within(10*time.Second, func() bool { return strings.Contains(x.screen(), "extra") })
	if took < 0 {
		t.Fatalf("the stage appended is not on the screen:\n%s", x.screen())
	}
	t.Logf("the appended stage was on the screen %v after the save", took)

	renameSave(t, dockerfile, withExtra+"COPPY /extra /again\n")
	s := x.waitFor(`✗ .*Dockerfile:7: unknown instruction: COPPY`, 10*time.Second)
	if !strings.Contains(s, "extra") || !strings.Contains(s, "the graph is the") {
		t.Errorf("the graph is not kept under the error bar:\n%s", s)
	}
	renameSave(t, dockerfile, withExtra)
	if within(10*time.Second, func() bool { return !strings.Contains(x.screen(), "unknown instruction") }) < 0 {
		t.Fatalf("the error bar stays after a good save:\n%s", x.screen())
	}

	// The focus stayed on base; extra is the target to rebuild.
	x.run("send-keys", "-t", "e2e", "j")
	x.waitFor(`enter builds extra`, 10*time.Second)
	x.run("send-keys", "-t", "e2e", "w")
	x.waitFor(`Auto-rebuild on`, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // the context's folders watched
	hello := filepath.Join(dir, "hello.txt")
	for i := range 5 {
		renameSave(t, hello, fmt.Sprintf("hello %d\n", i))
		time.Sleep(60 * time.Millisecond)
	}
	buildStats(t, x, statsFile, 1, 2*time.Minute)
	time.Sleep(2 * time.Second)
	if n := statLines(statsFile); n != 1 {
		t.Fatalf("%d builds for a burst of 5 saves, want 1:\n%s", n, x.screen())
	}
	renameSave(t, hello, "hello, and a few more bytes this time\n")
	buildStats(t, x, statsFile, 2, 2*time.Minute)
	s = x.waitFor(`Δ extra \+[0-9]+B \([0-9.]+[kM]B\)`, 5*time.Second)
	t.Logf("after the second build:\n%s", s)

	renameSave(t, filepath.Join(dir, "ignored.txt"), "changed\n")
	time.Sleep(2 * time.Second)
	if n := statLines(statsFile); n != 2 {
		t.Errorf("a save of a file .dockerignore leaves out started a build (%d builds)", n)
	}
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}
