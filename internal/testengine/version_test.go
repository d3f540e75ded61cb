package testengine

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var buildkitRequire = regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/moby/buildkit (v\S+)`)

func buildkitVersion(t *testing.T, gomod string) string {
	t.Helper()
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	m := buildkitRequire.FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s requires no github.com/moby/buildkit", gomod)
	}
	return string(m[1])
}

// The engines the tests run must be the BuildKit the client code is built
// against: tools/buildkit pins the daemon, go.mod the client.
func TestBuildkitdVersionMatchesGoMod(t *testing.T) {
	root := RepoRoot()
	client := buildkitVersion(t, filepath.Join(root, "go.mod"))
	daemon := buildkitVersion(t, filepath.Join(root, "tools", "buildkit", "go.mod"))
	if client != daemon {
		t.Fatalf("go.mod has buildkit %s but tools/buildkit/go.mod builds buildkitd %s", client, daemon)
	}
	bin := filepath.Dir(Buildctl(t))
	out, err := exec.Command(filepath.Join(bin, "buildkitd"), "--version").Output()
	if err != nil {
		t.Fatalf("buildkitd --version: %v", err)
	}
	if !strings.Contains(string(out), " "+client+" ") && !strings.HasSuffix(strings.TrimSpace(string(out)), " "+client) {
		t.Fatalf("buildkitd --version = %q, want %s", out, client)
	}
}
