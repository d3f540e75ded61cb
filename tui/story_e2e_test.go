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

// TestE2EStory opens the real binary on a folder of two small scratch
// examples against the private buildkitd: a builds every target of both,
// and the compare screen shows them in one table, each file on its rows.
func TestE2EStory(t *testing.T) {
	bin, work := e2eSetup(t)
	addr := testengine.BuildKit(t)
	ex := filepath.Join(work, "ex")
	for path, data := range map[string]string{
		"a/Dockerfile": "FROM scratch\nCOPY one.bin /\n",
		"a/one.bin":    strings.Repeat("1", 300_000),
		"b/Dockerfile": "FROM scratch AS builder\nCOPY two.bin /\nFROM scratch\nCOPY --from=builder /two.bin /copied.bin\n",
		"b/two.bin":    strings.Repeat("2", 100_000),
	} {
		p := filepath.Join(ex, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	x := startTUI(t, "story", fmt.Sprintf("env BUILDKIT_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q %q; echo EXITED $?; sleep 60",
		addr, filepath.Join(work, "state"), bin, ex))
	x.waitFor(`2 Dockerfiles`, 30*time.Second)
	x.waitFor(`● buildkitd unix://`, 30*time.Second)
	x.run("send-keys", "-t", "e2e", "a")
	x.waitFor(`Built a:stage-0, b:builder, b:stage-1`, 2*time.Minute)
	x.run("send-keys", "-t", "e2e", "c")
	screen := x.waitFor(`(?m)^ a +stage-0 +300kB`, 10*time.Second)
	x.waitFor(`(?m)^ b +(★ )?builder +100kB`, 5*time.Second)
	x.waitFor(`(?m)^ +(★ )?stage-1 +100kB`, 5*time.Second)
	t.Logf("\n%s", screen) // the table, for -v
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}

// TestE2EBake opens the real binary with --bake on a bake file of two
// targets of two Dockerfiles against the private buildkitd: a builds both
// bake targets, each with its own stage and arguments, and the compare
// screen lists them.
func TestE2EBake(t *testing.T) {
	bin, work := e2eSetup(t)
	addr := testengine.BuildKit(t)
	dir := filepath.Join(work, "bake")
	for path, data := range map[string]string{
		"app/Dockerfile":       "FROM scratch AS build\nARG FILE=none\nCOPY $FILE /\nFROM scratch AS runtime\nCOPY --from=build / /\n",
		"app/one.bin":          strings.Repeat("1", 300_000),
		"tool/Dockerfile.tool": "FROM scratch\nCOPY two.bin /\n",
		"tool/two.bin":         strings.Repeat("2", 100_000),
		"docker-bake.hcl": `variable "APP_FILE" {
  default = "one.bin"
}
group "default" {
  targets = ["app", "tool"]
}
target "_common" {
  target = "runtime"
}
target "app" {
  inherits = ["_common"]
  context  = "app"
  args     = { FILE = APP_FILE }
}
target "tool" {
  context    = "tool"
  dockerfile = "Dockerfile.tool"
}
`,
	} {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	x := startTUI(t, "bake", fmt.Sprintf("cd %q && env BUILDKIT_HOST=%q XDG_STATE_HOME=%q TERM=xterm-256color %q --bake; echo EXITED $?; sleep 60",
		dir, addr, filepath.Join(work, "state"), bin))
	x.waitFor(`2 bake targets`, 30*time.Second)
	x.waitFor(`● buildkitd unix://`, 30*time.Second)
	x.run("send-keys", "-t", "e2e", "a")
	x.waitFor(`Built app:runtime, tool:stage-0`, 2*time.Minute)
	x.run("send-keys", "-t", "e2e", "c")
	screen := x.waitFor(`(?m)^ app +(★ )?runtime +300kB`, 10*time.Second)
	x.waitFor(`(?m)^ tool +(★ )?stage-0 +100kB`, 5*time.Second)
	t.Logf("\n%s", screen) // the table, for -v
	x.run("send-keys", "-t", "e2e", "q")
	x.waitFor(`EXITED 0`, 10*time.Second)
}
