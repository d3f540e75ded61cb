package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// build connects to the engine while it checks the input; bad input is
// still reported as bad input (exit code 2), at once, when the engine
// never answers, and nothing reaches the engine but the connection.
func TestBadInputWhileConnecting(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch AS one\nCOPY x /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An engine that accepts connections and never says a word.
	sock := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	env := map[string]string{"BUILDKIT_HOST": "unix://" + sock, "STAGESCOPE_PROBE_TIMEOUT": "30s"}
	for _, args := range [][]string{
		{"build", dir, "--target", "onee"},
		{"build", dir, "-f", filepath.Join(dir, "nope")},
		{"build", dir, "--progress", "fancy"},
	} {
		start := time.Now()
		code, _, stderr := stagescope(t, env, args...)
		if code != exitBadInput || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and one line", args, code, stderr, exitBadInput)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%q: took %s: waited for the engine", args, d)
		}
	}
}
