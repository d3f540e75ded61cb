package tui_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// TestE2ETerminated sends SIGTERM to the TUI from outside (as systemctl,
// kill or a closing IDE does) during a RUN sleep on the shared buildkitd:
// the build is cancelled on the engine and stagescope exits 130
// (interrupted), as the headless commands do, not 0 as if the user had
// quit.
func TestE2ETerminated(t *testing.T) {
	bin, work := e2eSetup(t)
	addr := testengine.BuildKit(t)
	busybox := testengine.Bases(t)["busybox"]
	stopSleep := func() { exec.Command("pkill", "-KILL", "-f", "^sleep 631$").Run() }
	t.Cleanup(stopSleep)
	sleeping := func() bool { return exec.Command("pgrep", "-f", "^sleep 631$").Run() == nil }

	dir := writeFiles(t, map[string]string{"Dockerfile": "FROM busybox\nRUN sleep 631\n"})
	x := startTUI(t, "term", fmt.Sprintf("env BUILDKIT_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q %q --build-context busybox=%q; echo EXITED $?; sleep 120",
		addr, filepath.Join(work, "state"), bin, dir, busybox))
	x.waitFor(`enter builds stage-0`, 30*time.Second)
	x.run("send-keys", "-t", "e2e", "Enter")
	if within(2*time.Minute, sleeping) < 0 {
		t.Fatalf("the build did not start its step:\n%s", x.screen())
	}

	// Only the process whose argv[0] is the binary: not the shell tmux
	// runs the line in.
	out, err := exec.Command("pgrep", "-f", "^"+regexp.QuoteMeta(bin)+" ").Output()
	if err != nil {
		t.Fatalf("pgrep stagescope: %v", err)
	}
	var pid int
	if _, err := fmt.Sscan(string(out), &pid); err != nil {
		t.Fatalf("pgrep printed %q: %v", out, err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	x.waitFor(`EXITED 130`, 10*time.Second)
	if within(5*time.Second, func() bool { return !sleeping() }) < 0 {
		t.Errorf("the step still runs 5 s after stagescope was terminated")
	}
}
