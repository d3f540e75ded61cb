package tui_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// TestE2EPanic runs the real binary, built with the crashtest hooks, in a
// terminal, and makes it panic in one place after another: the terminal
// comes back as it was, the screen shows one sentence naming the report
// and no stack trace, and the exit code is 70.
func TestE2EPanic(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		testengine.Unavailable(t, "tmux is not installed: %v", err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "stagescope")
	build := exec.Command("go", "build", "-tags", "crashtest", "-o", bin, "./cmd/stagescope")
	build.Dir = testengine.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch AS builder\nCOPY x /x\nFROM scratch AS final\nCOPY --from=builder /x /x\n"})
	for _, where := range []string{"view", "update", "cmd", "batch", "sequence", "goroutine"} {
		t.Run(where, func(t *testing.T) {
			out := t.TempDir()
			state := filepath.Join(out, "state")
			// The shell records the terminal's settings before and after.
			line := fmt.Sprintf("stty -a > %[1]s/before; env STAGESCOPE_CRASHTEST=%[2]s XDG_STATE_HOME=%[3]q BUILDKIT_HOST=unix:///nonexistent.sock TERM=xterm-256color %[4]q %[5]q; echo EXITED $?; stty -a > %[1]s/after; sleep 60",
				out, where, state, bin, dir)
			x := startTUI(t, "panic-"+where, line)
			x.waitFor(`enter builds final`, 20*time.Second)
			x.run("send-keys", "-t", "e2e", "!")
			screen := x.waitFor(`EXITED \d+`, 10*time.Second)
			if !strings.Contains(screen, "EXITED 70") {
				t.Errorf("exit code is not 70:\n%s", screen)
			}
			for _, bad := range []string{"goroutine", "panic:", "Caught panic", ".go:", "crash test"} {
				if strings.Contains(screen, bad) {
					t.Errorf("the screen shows %q:\n%s", bad, screen)
				}
			}
			m := regexp.MustCompile(`stagescope: internal error: this is a bug in stagescope; please report it with the details saved in (\S+?\.txt)`).FindStringSubmatch(strings.ReplaceAll(screen, "\n", ""))
			if m == nil {
				t.Fatalf("no sentence naming the report:\n%s", screen)
			}
			report, err := os.ReadFile(m[1])
			if err != nil || !strings.HasPrefix(m[1], state) {
				t.Fatalf("report %s (want it under %s): %v", m[1], state, err)
			}
			for _, want := range []string{"panic: crash test: " + where, "goroutine ", "command: stagescope "} {
				if !strings.Contains(string(report), want) {
					t.Errorf("the report lacks %q:\n%s", want, report)
				}
			}
			var before, after []byte
			for range 50 {
				if after, err = os.ReadFile(filepath.Join(out, "after")); err == nil && len(after) > 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			before, _ = os.ReadFile(filepath.Join(out, "before"))
			if len(before) == 0 || string(before) != string(after) {
				t.Errorf("the terminal's settings changed:\nbefore: %s\nafter:  %s", before, after)
			}
		})
	}
}
