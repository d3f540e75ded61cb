package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/internal/testengine"
)

// buildx's docker-container driver: buildkitd inside a Docker container,
// reached as docker-container://NAME through docker exec. build runs a step
// there and compare measures the images it keeps.
func TestDockerContainerAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	addr := testengine.BuildKitContainer(t)
	dir := t.TempDir()
	dockerfile := "FROM busybox AS base\nRUN echo built in a container > /msg && cat /msg\nFROM scratch\nCOPY --from=base /msg /\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BUILDKIT_HOST": addr, "DOCKER_HOST": testengine.Docker(t), "XDG_STATE_HOME": t.TempDir()}
	busybox := "busybox=" + testengine.Bases(t)["busybox"]
	code, _, stderr := stagescope(t, env, "build", dir, "--build-context", busybox, "--progress", "plain", "--no-cache")
	if code != exitOK || !strings.Contains(stderr, "built in a container") {
		t.Fatalf("build on %s: exit %d\n%s", addr, code, stderr)
	}
	code, stdout, stderr := stagescope(t, env, "compare", dir, "--all", "--build-context", busybox, "--format", "json", "--progress", "quiet")
	if code != exitOK {
		t.Fatalf("compare on %s: exit %d\n%s", addr, code, stderr)
	}
	var out struct {
		Engine  string `json:"engine"`
		Results []struct {
			Target string `json:"target"`
			Size   struct {
				Uncompressed int64 `json:"uncompressed"`
			} `json:"size"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("compare --format json: %v\n%s", err, stdout)
	}
	sizes := map[string]int64{}
	for _, r := range out.Results {
		sizes[r.Target] = r.Size.Uncompressed
	}
	// The final image holds the 20-byte message; base holds busybox too.
	if sizes["stage-1"] != int64(len("built in a container\n")) || sizes["base"] < 500_000 {
		t.Errorf("sizes on %s: %v (engine %q)", addr, sizes, out.Engine)
	}
}

// A docker-container address that cannot be used says why in one sentence:
// no such container, or a container that is stopped.
func TestDockerContainerAddressErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	host := testengine.Docker(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A stopped container: created from the image the script built.
	stopped := "stagescope-test-stopped"
	exec.Command("docker", "rm", "-f", stopped).Run()
	if out, err := exec.Command("docker", "create", "--name", stopped, testengine.BuildKitImage(t)).CombinedOutput(); err != nil {
		t.Fatalf("docker create: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", stopped).Run() })
	for _, tt := range []struct {
		name, want string
	}{
		{"stagescope-test-no-such-container", "cannot reach BuildKit at docker-container://stagescope-test-no-such-container (No such container: stagescope-test-no-such-container); start the container"},
		{stopped, "(container " + stopped + " is not running); start it with docker start " + stopped},
	} {
		code, stdout, stderr := stagescope(t, map[string]string{"DOCKER_HOST": host}, "build", dir, "--addr", "docker-container://"+tt.name)
		if code != exitNoEngine || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q; want %d and nothing", tt.name, code, stdout, exitNoEngine)
		}
		if !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%s: stderr %q, want one line with %q", tt.name, stderr, tt.want)
		}
	}
}
