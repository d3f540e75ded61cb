package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stagescope/stagescope/internal/testengine"
)

// Bad input that only a user without rights meets: an unreadable
// Dockerfile, a Docker socket the user may not open. The binary runs as
// nobody, since root reads everything.
func TestBadInputWithoutPermission(t *testing.T) {
	if os.Getuid() != 0 {
		testengine.Unavailable(t, "this test needs root to run stagescope as nobody")
	}
	dockerHost := testengine.Docker(t)
	// Everything nobody runs or reads lives in a folder it may enter.
	dir, err := os.MkdirTemp("", "stagescope-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "stagescope")
	if err := os.Rename(buildBinary(t), bin); err != nil {
		t.Fatal(err)
	}
	os.Chmod(bin, 0o755)
	for name, mode := range map[string]os.FileMode{"Dockerfile": 0o644, "Locked.Dockerfile": 0o000} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("FROM scratch\n"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
		want string
	}{
		{"unreadable Dockerfile", []string{"graph", dir, "-f", filepath.Join(dir, "Locked.Dockerfile")}, nil, exitBadInput,
			"stagescope: cannot read Dockerfile " + filepath.Join(dir, "Locked.Dockerfile") + ": permission denied"},
		{"Docker socket without permission", []string{"build", dir}, []string{"BUILDKIT_HOST=", "DOCKER_HOST=" + dockerHost}, exitNoEngine,
			"stagescope: cannot reach Docker at " + dockerHost + " (permission denied on its socket, owned by root:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = dir
			cmd.Env = append([]string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}, tc.env...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			got := strings.TrimSpace(stderr.String())
			if !strings.HasPrefix(got, tc.want) || strings.Count(got, "\n") > 0 || stdout.Len() > 0 {
				t.Errorf("stderr %q, stdout %q; want one line starting %q", got, stdout.String(), tc.want)
			}
		})
	}
}
