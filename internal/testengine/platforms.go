package testengine

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var multiBase once

// MultiPlatformBase returns the busybox base for linux/amd64 and
// linux/arm64 as one OCI layout (scripts/offline-bases platforms busybox),
// as a named context value: `FROM busybox` resolves per platform.
func MultiPlatformBase(t testing.TB) string {
	t.Helper()
	return get(t, &multiBase, "offline base busybox for two platforms", func() (map[string]string, error) {
		return script("offline-bases", "platforms", "busybox")
	})[""]
}

var (
	emulationOnce sync.Once
	emulationOK   bool
	emulationWhy  string
)

// Emulation registers qemu-aarch64 with binfmt_misc (scripts/binfmt start)
// once and says whether linux/arm64 programs run on this machine, and when
// not, the script's sentence on why and what still works.
func Emulation(t testing.TB) (bool, string) {
	t.Helper()
	emulationOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(RepoRoot(), "scripts", "binfmt"), "start")
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		emulationOK = err == nil
		emulationWhy = strings.TrimSpace(string(out))
	})
	return emulationOK, emulationWhy
}
