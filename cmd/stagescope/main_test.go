package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stagescope/stagescope/internal/testengine"
)

// stagescope runs one command line in-process and returns its exit code,
// stdout and stderr.
func stagescope(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func example(name string) string {
	return filepath.Join(testengine.RepoRoot(), "examples", name)
}

// Bad input: one sentence on stderr naming the problem, the documented exit
// code, no stack trace, no usage dump.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch AS one\nCOPY x /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "Dockerfile.big")
	if err := os.WriteFile(big, append([]byte("FROM scratch\n"), bytes.Repeat([]byte("# padding padding padding\n"), 10<<20/26)...), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "Dockerfile.bin")
	if err := os.WriteFile(garbage, []byte("\x00\x01\x02\xff\xfe\x7fELF\x00\x00binary\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	noEngine := map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing Dockerfile", []string{"build", dir, "-f", filepath.Join(dir, "nope")}, exitBadInput, "nope does not exist"},
		{"Dockerfile is a directory", []string{"build", dir, "-f", dir}, exitBadInput, "is a directory"},
		{"missing context", []string{"build", filepath.Join(dir, "missing")}, exitBadInput, "does not exist"},
		{"unknown target", []string{"build", dir, "--target", "onee"}, exitBadInput, "onee"},
		{"malformed build-arg", []string{"build", dir, "--build-arg", "=x"}, exitBadInput, "--build-arg"},
		{"malformed build-context", []string{"build", dir, "--build-context", "novalue"}, exitBadInput, "--build-context"},
		{"unknown flag", []string{"build", dir, "--frobnicate"}, exitBadInput, "frobnicate"},
		{"too many args", []string{"build", dir, dir}, exitBadInput, "at most 1"},
		{"bad progress", []string{"build", dir, "--progress", "fancy"}, exitBadInput, "--progress"},
		{"watch with progress", []string{"build", dir, "--watch", "--progress", "plain"}, exitBadInput, "--progress and --watch"},
		{"watch with metadata file", []string{"build", dir, "--watch", "--metadata-file", filepath.Join(dir, "m.json")}, exitBadInput, "--metadata-file and --watch"},
		{"unknown addr scheme", []string{"build", dir, "--addr", "foo://bar"}, exitBadInput, "foo"},
		{"unreachable addr", []string{"build", dir, "--addr", "unix:///nonexistent/buildkitd.sock"}, exitNoEngine, "cannot reach BuildKit at unix:///nonexistent/buildkitd.sock"},
		{"unreachable docker", []string{"build", dir}, exitNoEngine, "cannot reach Docker"},
		{"mistyped command", []string{"grpah"}, exitBadInput, `did you mean "graph"`},
		{"10 MB Dockerfile", []string{"build", dir, "-f", big}, exitBadInput, "larger than 8 MiB"},
		{"binary garbage", []string{"graph", dir, "-f", garbage}, exitBadInput, "Dockerfile.bin"},
		{"TUI without a terminal", []string{dir}, exitBadInput, "needs a terminal"},
		{"filesystem root as context", []string{"build", "/", "-f", filepath.Join(dir, "Dockerfile")}, exitBadInput, "build context / is the filesystem root"},
		{"filesystem root as a named context", []string{"compare", dir, "--all", "--build-context", "src=/"}, exitBadInput, `build context "src" / is the filesystem root`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := stagescope(t, noEngine, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.want)
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
				t.Errorf("stderr has %d lines, want one sentence:\n%s", lines, stderr)
			}
			if !utf8.ValidString(stderr) {
				t.Errorf("stderr is not valid UTF-8: %q", stderr)
			}
			for _, c := range stderr[:len(stderr)-1] {
				if c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 {
					t.Errorf("stderr has a raw control character %U: %q", c, stderr)
					break
				}
			}
			for _, bad := range []string{"panic", "goroutine ", ".go:", "Usage:"} {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr contains %q:\n%s", bad, stderr)
				}
			}
		})
	}
}

func TestBuildHelloOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	env := map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t)}
	golang := "golang=" + testengine.OCIBase(t, "golang")
	for _, target := range []string{"builder", ""} {
		args := []string{"build", example("hello-multistage"), "--build-context", golang, "--progress", "plain"}
		if target != "" {
			args = append(args, "--target", target)
		}
		code, _, stderr := stagescope(t, env, args...)
		if code != exitOK {
			t.Fatalf("target %q: exit %d\n%s", target, code, stderr)
		}
		if !strings.Contains(stderr, "built target ") {
			t.Errorf("target %q: no summary line in\n%s", target, stderr)
		}
	}
}

// The article's story on Docker: the final image runs and is a tiny fraction
// of the builder image.
func TestBuildHelloOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	env := map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": testengine.Docker(t)}
	golang := "golang=" + testengine.Bases(t)["golang"]
	// The final stage is unnamed: BuildKit cannot target it by name, it is
	// built by giving no target, and its tag uses its display name.
	for _, target := range []string{"builder", "stage-1"} {
		args := []string{"build", example("hello-multistage"), "--build-context", golang, "--progress", "plain"}
		if target == "builder" {
			args = append(args, "--target", target)
		}
		code, _, stderr := stagescope(t, env, args...)
		if code != exitOK {
			t.Fatalf("target %s: exit %d\n%s", target, code, stderr)
		}
		if want := "as stagescope/hello-multistage:" + target; !strings.Contains(stderr, want) {
			t.Errorf("target %s: stderr does not say %q:\n%s", target, want, stderr)
		}
	}
	out, err := exec.Command("docker", "run", "--rm", "--network=none", "stagescope/hello-multistage:stage-1").CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "Hello, Docker! I am built using a multi-stage build."; got != want {
		t.Errorf("docker run printed %q, want %q", got, want)
	}
	sizes := map[string]int64{}
	for _, tag := range []string{"builder", "stage-1"} {
		out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Size}}", "stagescope/hello-multistage:"+tag).Output()
		if err != nil {
			t.Fatalf("docker image inspect: %v", err)
		}
		var n int64
		if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &n); err != nil {
			t.Fatal(err)
		}
		sizes[tag] = n
	}
	t.Logf("builder %d B, final %d B", sizes["builder"], sizes["stage-1"])
	if sizes["builder"] < 50*sizes["stage-1"] {
		t.Errorf("builder image %d B is not 50x the final image %d B", sizes["builder"], sizes["stage-1"])
	}
}

func TestGraphCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"graph", "-f", "-", "--format", "json", "--target", "a"},
		strings.NewReader("FROM scratch AS a\nCOPY x /\nFROM a AS b\n"), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"schemaVersion": 1`) {
		t.Errorf("json output lacks schemaVersion:\n%s", stdout.String())
	}
	for _, tt := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"graph", "-f", "-"}, "", "cannot be empty"},
		{[]string{"graph", "-f", "-"}, "FROM scratch\nCOPY --from=$X / /\n", "<stdin>:2"},
		{[]string{"graph", "-f", "-", "--target", "nope"}, "FROM scratch AS a\n", "nope"},
		{[]string{"graph", "-f", "-", "--format", "svg"}, "FROM scratch\n", "--format"},
	} {
		stdout.Reset()
		stderr.Reset()
		code := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
		if code != exitBadInput || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%q with %q: exit %d, stderr %q; want exit 2 and one line mentioning %q", tt.args, tt.stdin, code, stderr.String(), tt.want)
		}
	}
}

// A context that is the home folder is sent only with --yes; the refusal
// gives its size as .dockerignore leaves it.
func TestHomeContextNeedsYes(t *testing.T) {
	addr := testengine.BuildKit(t) // before HOME moves: the scripts keep their cache under it
	home := t.TempDir()
	files := map[string]string{
		"Dockerfile":    "FROM scratch\nCOPY notes.txt /\n",
		"notes.txt":     "0123456789",
		"secret.key":    "do not send",
		".dockerignore": "*.key\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(home, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	code, stdout, stderr := stagescope(t, nil, "build", home, "--progress", "quiet")
	if code != exitBadInput || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and nothing on stdout", code, stdout, stderr, exitBadInput)
	}
	// Dockerfile 30 B + notes.txt 10 B + .dockerignore 6 B; secret.key is ignored.
	want := fmt.Sprintf("build context %s is your home folder: building would send everything in it to the engine (46B in 3 files); give a smaller folder, or pass --yes to send it anyway", home)
	if got := strings.TrimSpace(stderr); got != "stagescope: "+want {
		t.Errorf("stderr\n%q\nwant\n%q", got, "stagescope: "+want)
	}

	code, _, stderr = stagescope(t, map[string]string{"BUILDKIT_HOST": addr}, "build", home, "--yes", "--progress", "plain")
	if code != 0 {
		t.Fatalf("with --yes: exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stderr, "sending build context "+home+", your home folder (46B in 3 files), as --yes allows") {
		t.Errorf("with --yes, stderr does not say what is sent:\n%s", stderr)
	}
}
