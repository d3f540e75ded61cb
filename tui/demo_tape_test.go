package tui

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// vhsModule is the vhs release that checks demo.tape. `go run pkg@version`
// resolves vhs's own module graph, so vhs needs no entry in go.mod.
const vhsModule = "github.com/charmbracelet/vhs@v0.10.0"

// TestDemoTape checks the syntax of the demo recording at the repository
// root with `vhs validate` (rendering it needs ttyd and ffmpeg; validating
// does not). The first run downloads and compiles vhs, so -short skips it.
func TestDemoTape(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles vhs: not with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(goBin, "run", vhsModule, "validate", "demo.tape")
	cmd.Dir = filepath.Join("..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vhs validate demo.tape: %v\n%s", err, out)
	}
}
