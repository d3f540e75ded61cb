package tui_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// TestE2EFilesFromCompare runs the real binary in tmux against the private
// buildkitd: it builds both targets of the Go example, opens the Files
// screen from the compare screen, finds the binary written by COPY
// --from=builder, and what builder holds that the final image does not;
// then, from the compare screen's layers, what the COPY layer added.
func TestE2EFilesFromCompare(t *testing.T) {
	bin, work := e2eSetup(t)
	addr := testengine.BuildKit(t)
	golang := testengine.OCIBase(t, "golang")
	x := startTUI(t, "files", fmt.Sprintf("cd %q && env BUILDKIT_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q examples/hello-multistage --build-context golang=%q; echo EXITED $?; sleep 60",
		testengine.RepoRoot(), addr, filepath.Join(work, "state"), bin, golang))
	x.waitFor(`● buildkitd`, 30*time.Second)
	x.waitFor(`enter builds stage-1`, 5*time.Second)
	x.run("send-keys", "-t", "e2e", "a")
	x.waitFor(`Built builder, stage-1: builder is [0-9.]+MB, stage-1 is [0-9.]+MB`, 5*time.Minute)
	x.run("send-keys", "-t", "e2e", "c")
	x.waitFor(`Where the weight of builder comes from`, 10*time.Second)
	// The final stage's row, then its files.
	x.run("send-keys", "-t", "e2e", "j", "f")
	x.waitFor(`Files of stage-1 · 1 file, 2\.[0-9]MB`, 30*time.Second)
	x.run("send-keys", "-t", "e2e", "Enter")
	x.waitFor(`L1 stage-1:10 +│? +hello`, 10*time.Second)
	// What builder leaves behind: the Go toolchain under /usr/local/go.
	x.run("send-keys", "-t", "e2e", "d")
	x.waitFor(`in builder, not in stage-1: [0-9]+ files, [0-9]{3}MB`, 60*time.Second)
	x.run("send-keys", "-t", "e2e", "Enter")
	x.waitFor(`L0 base +│ ▸ local/`, 10*time.Second)
	// Back on the compare screen, stage-1's COPY --from layer, and what it
	// added.
	x.run("send-keys", "-t", "e2e", "Escape") // alone: ESC then c would read as alt+c
	x.waitFor(`every layer · by size`, 10*time.Second)
	x.run("send-keys", "-t", "e2e", "c")
	x.waitFor(`Where the weight of stage-1 comes from`, 10*time.Second)
	x.run("send-keys", "-t", "e2e", "Tab", "j", "f")
	x.waitFor(`layer 1: stage-1:10 COPY --from=builder /app/hello \.`, 30*time.Second)
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}
