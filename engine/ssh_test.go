package engine_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// agentList is a program for the build step: it asks the SSH agent at
// $SSH_AUTH_SOCK for its identities (SSH2_AGENTC_REQUEST_IDENTITIES) and
// prints their comments. busybox has no client for unix sockets.
const agentList = `package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	c, err := net.Dial("unix", os.Getenv("SSH_AUTH_SOCK"))
	if err != nil {
		fmt.Println("no agent:", err)
		os.Exit(1)
	}
	c.Write([]byte{0, 0, 0, 1, 11})
	var n uint32
	binary.Read(c, binary.BigEndian, &n)
	msg := make([]byte, n)
	if _, err := io.ReadFull(c, msg); err != nil || msg[0] != 12 {
		fmt.Println("no identities answer:", err)
		os.Exit(1)
	}
	str := func() []byte {
		l := binary.BigEndian.Uint32(msg)
		s := msg[4 : 4+l]
		msg = msg[4+l:]
		return s
	}
	msg = msg[1:]
	count := binary.BigEndian.Uint32(msg)
	msg = msg[4:]
	for range count {
		str()
		fmt.Printf("agent key: %s\n", str())
	}
}
`

// sshAgent starts an ssh-agent holding one new key whose comment is
// comment, and returns its socket.
func sshAgent(t *testing.T, comment string) string {
	t.Helper()
	for _, tool := range []string{"ssh-agent", "ssh-keygen", "ssh-add"} {
		if _, err := exec.LookPath(tool); err != nil {
			testengine.Unavailable(t, "%s (Debian's openssh-client) is not installed", tool)
		}
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		add := exec.Command("ssh-add", key)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		out, err := add.CombinedOutput()
		if err == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("ssh-add: %v\n%s", err, out)
		}
	}
	return sock
}

// --ssh forwards the agent to RUN --mount=type=ssh: the step lists the
// agent's key. Without --ssh, a step that requires the agent fails.
func TestSSHAgentForwarded(t *testing.T) {
	const comment = "stagescope-test-key-4d1e"
	sock := sshAgent(t, comment)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "main.go"), []byte(agentList), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "go.mod"), []byte("module agentlist\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "agentlist", ".")
	build.Dir = bin
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	program, err := os.ReadFile(filepath.Join(bin, "agentlist"))
	if err != nil {
		t.Fatal(err)
	}
	engines(t, func(t *testing.T, e *engine.Engine) {
		req := project(t, map[string]string{
			"Dockerfile": "FROM scratch\nCOPY --from=busybox / /\nCOPY agentlist /agentlist\nRUN --mount=type=ssh,required=true /agentlist\n",
			"agentlist":  string(program),
		})
		if err := os.Chmod(filepath.Join(req.ContextDir, "agentlist"), 0o755); err != nil {
			t.Fatal(err)
		}
		req.NoCache = true
		req.SSH = []string{"default=" + sock}
		logs, err := buildLogs(e, req)
		if err != nil {
			t.Fatalf("build with --ssh: %v\n%s", err, logs)
		}
		if !strings.Contains(logs, "agent key: "+comment) {
			t.Errorf("the step did not see the agent's key %q:\n%s", comment, logs)
		}

		req.SSH = nil
		if logs, err := buildLogs(e, req); err == nil {
			t.Errorf("a step that requires the agent ran without --ssh:\n%s", logs)
		}
	})
}
