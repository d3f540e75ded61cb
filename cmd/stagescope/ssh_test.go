package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/testengine"
)

// --ssh default=SOCKET gives RUN --mount=type=ssh the agent; without it a
// step that requires one fails the build. (engine's TestSSHAgentForwarded
// lists the agent's key from inside the step.)
func TestSSHFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		testengine.Unavailable(t, "ssh-agent (Debian's openssh-client) is not installed")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("ssh-agent made no socket")
		}
	}
	dir := t.TempDir()
	df := "FROM scratch\nCOPY --from=busybox / /\nRUN --mount=type=ssh,required=true test -S \"$SSH_AUTH_SOCK\" && echo agent-socket-is-there\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t)}
	args := []string{"build", dir, "--build-context", "busybox=" + testengine.Bases(t)["busybox"], "--progress", "plain", "--no-cache"}
	code, _, stderr := stagescope(t, env, append(args, "--ssh", "default="+sock)...)
	if code != exitOK || !strings.Contains(stderr, "agent-socket-is-there") {
		t.Fatalf("with --ssh: exit %d\n%s", code, stderr)
	}
	code, _, stderr = stagescope(t, env, args...)
	if code != exitFailed {
		t.Errorf("without --ssh: exit %d, want %d\n%s", code, exitFailed, stderr)
	}
	if !strings.Contains(stderr, "no SSH agent was forwarded for id \"default\"; pass --ssh default") {
		t.Errorf("without --ssh: the sentence does not say to pass --ssh:\n%s", stderr)
	}
	missing := filepath.Join(dir, "missing.sock")
	for _, tt := range []struct {
		spec string
		env  map[string]string
		want string
	}{
		{"default=" + missing, env, "--ssh default: " + missing + " does not exist"},
		{"default", map[string]string{"BUILDKIT_HOST": env["BUILDKIT_HOST"], "SSH_AUTH_SOCK": ""}, "--ssh default: SSH_AUTH_SOCK is not set; start an agent (eval $(ssh-agent) and ssh-add) or give a socket or key: --ssh default=PATH"},
	} {
		code, stdout, stderr := stagescope(t, tt.env, append(args, "--ssh", tt.spec)...)
		if code != exitBadInput || stdout != "" || strings.TrimSpace(stderr) != "stagescope: "+tt.want {
			t.Errorf("--ssh %s: exit %d, stderr %q; want %d and %q", tt.spec, code, stderr, exitBadInput, tt.want)
		}
	}
}
