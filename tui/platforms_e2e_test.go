package tui_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// TestE2EPlatforms runs the real binary in tmux against the private
// buildkitd with --platform linux/amd64,linux/arm64: the picker lists both,
// the cross-compiling example builds for both without emulation, the build
// screen groups the steps per platform, compare has a row for each, and
// the files of each row are its platform's.
func TestE2EPlatforms(t *testing.T) {
	bin, work := e2eSetup(t)
	addr := testengine.BuildKit(t)
	golang := testengine.Bases(t)["golang"]
	x := startTUI(t, "platforms", fmt.Sprintf("cd %q && env BUILDKIT_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q examples/hello-crossplatform --platform linux/amd64,linux/arm64 --build-context golang=%q; echo EXITED $?; sleep 60",
		testengine.RepoRoot(), addr, filepath.Join(work, "state"), bin, golang))
	x.waitFor(`linux/amd64,linux/arm64 +● buildkitd`, 30*time.Second)
	x.waitFor(`enter builds stage-1`, 5*time.Second)
	x.waitFor(`linux/arm64 +builder \(on linux/amd64\), stage-1`, 5*time.Second)
	// The picker: both given, checked.
	x.run("send-keys", "-t", "e2e", "p")
	x.waitFor(`(?s)Platforms of the next build.*\[x\] linux/amd64 +given.*\[x\] linux/arm64 +given`, 10*time.Second)
	x.run("send-keys", "-t", "e2e", "Escape")
	x.waitFor(`enter builds stage-1`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "Enter")
	x.waitFor(`Built stage-1: stage-1 \(linux/amd64\) is [0-9.]+[kM]B, stage-1 \(linux/arm64\) is [0-9.]+[kM]B`, 5*time.Minute)
	s := x.screen()
	if !regexp.MustCompile(`linux/arm64 +builder \(on linux/amd64\) [0-9]+ steps?`).MatchString(s) {
		t.Errorf("the build screen does not group the steps per platform:\n%s", s)
	}
	x.run("send-keys", "-t", "e2e", "c")
	s = x.waitFor(`Where the weight of stage-1 \(linux/amd64\) comes from`, 10*time.Second)
	for _, re := range []string{`stage-1 +linux/amd64 +[0-9.]+[kM]B`, `stage-1 +linux/arm64 +[0-9.]+[kM]B`} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("no row %s on the compare screen:\n%s", re, s)
		}
	}
	if regexp.MustCompile(`unknown/unknown`).MatchString(s) {
		t.Errorf("an attestation shown as a platform:\n%s", s)
	}
	// The files of each platform's image: the arm64 row's, then the
	// amd64 row's, each read from its own image of the index.
	total := regexp.MustCompile(`Files of stage-1 \((linux/[a-z0-9]+)\) · 1 file, ([0-9.]+[kM]B)`)
	x.run("send-keys", "-t", "e2e", "j", "f")
	arm := total.FindStringSubmatch(x.waitFor(`Files of stage-1 \(linux/arm64\) · 1 file`, 60*time.Second))
	// esc alone: followed at once by c, the terminal would send alt+c.
	x.run("send-keys", "-t", "e2e", "Escape")
	x.waitFor(`▌Stages 2`, 10*time.Second)
	x.run("send-keys", "-t", "e2e", "c")
	x.waitFor(`Where the weight of stage-1 \(linux/arm64\)`, 10*time.Second)
	x.run("send-keys", "-t", "e2e", "k", "f")
	amd := total.FindStringSubmatch(x.waitFor(`Files of stage-1 \(linux/amd64\) · 1 file`, 60*time.Second))
	if arm == nil || amd == nil || arm[2] == amd[2] {
		t.Errorf("files of arm64 %q and amd64 %q: want each platform's own binary", arm, amd)
	}
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}
