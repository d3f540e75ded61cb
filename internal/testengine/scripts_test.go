package testengine

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A daemon started by scripts/buildkitd or scripts/dockerd must not inherit
// the script's lock: when it did, every later `start` (one per test package)
// waited on the lock until the suite timed out.
func TestDaemonsDoNotHoldScriptLocks(t *testing.T) {
	BuildKit(t)
	Docker(t)
	run := os.Getenv("STAGESCOPE_RUN")
	if run == "" {
		run = "/run/stagescope"
	}
	for _, name := range []string{"buildkitd", "dockerd"} {
		f, err := os.OpenFile(filepath.Join(run, name+".lock"), os.O_WRONLY, 0)
		if err != nil {
			t.Fatalf("scripts/%s left no lock file: %v", name, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Errorf("%s.lock is still held after scripts/%s start returned: %v", name, name, err)
		}
		f.Close()
	}
}
