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

// tmux drives a program in a terminal of its own.
type tmux struct {
	t      *testing.T
	socket string
}

func (x tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (x tmux) screen() string { return x.run("capture-pane", "-p", "-t", "e2e") }

// waitFor polls the screen until it matches re.
func (x tmux) waitFor(re string, timeout time.Duration) string {
	x.t.Helper()
	r := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	var s string
	for time.Now().Before(deadline) {
		s = x.screen()
		if r.MatchString(s) {
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
	x.t.Fatalf("the screen did not show %q within %s:\n%s", re, timeout, s)
	return ""
}

// TestE2EBuildAndCompare runs the real binary in tmux against the private
// buildkitd: it builds the example's final stage (and so its builder) and
// sees the image's size on the compare screen.
func TestE2EBuildAndCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		testengine.Unavailable(t, "tmux is not installed: %v", err)
	}
	addr := testengine.BuildKit(t)
	golang := testengine.Bases(t)["golang"]
	root := testengine.RepoRoot()
	dir := t.TempDir()
	bin := filepath.Join(dir, "stagescope")
	build := exec.Command("go", "build", "-o", bin, "./cmd/stagescope")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	x := tmux{t: t, socket: fmt.Sprintf("stagescope-e2e-%d", os.Getpid())}
	cmd := fmt.Sprintf("cd %q && env BUILDKIT_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q examples/hello-multistage --build-context golang=%q; echo EXITED $?; sleep 60",
		root, addr, filepath.Join(dir, "state"), bin, golang)
	x.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", x.socket, "kill-server").Run() })

	x.waitFor(`● buildkitd`, 30*time.Second)
	x.waitFor(`enter builds stage-1`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "Enter")
	x.waitFor(`building`, 10*time.Second)
	x.waitFor(`Built stage-1: stage-1 is [0-9.]+[kM]B`, 5*time.Minute)
	x.run("send-keys", "-t", "e2e", "c")
	s := x.waitFor(`Where the weight of stage-1 comes from`, 10*time.Second)
	if !regexp.MustCompile(`stage-1 +[0-9.]+[kM]B`).MatchString(s) {
		t.Errorf("no size for stage-1 on the compare screen:\n%s", s)
	}
	if !strings.Contains(s, "copied from builder") {
		t.Errorf("no breakdown on the compare screen:\n%s", s)
	}
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}
