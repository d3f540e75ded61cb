package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/internal/testengine"
)

type compareJSON struct {
	SchemaVersion int `json:"schemaVersion"`
	Results       []struct {
		Target string `json:"target"`
		Image  string `json:"image"`
		Size   struct {
			Uncompressed int64 `json:"uncompressed"`
			Compressed   int64 `json:"compressed"`
		} `json:"size"`
		Breakdown struct {
			Copied []struct {
				Source string `json:"source"`
				Bytes  int64  `json:"bytes"`
			} `json:"copied"`
		} `json:"breakdown"`
		OverBudget bool   `json:"overBudget"`
		Error      string `json:"error"`
	} `json:"results"`
}

// The article's example compared on each engine: the final image is at
// most 3 MB, the builder at least 50 times larger, on Docker the figures are
// docker's own, and budgets pass and fail with the documented exit codes.
func TestCompareHello(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	for _, kind := range []string{"buildkitd", "docker"} {
		t.Run(kind, func(t *testing.T) {
			env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": "", "DOCKER_HOST": ""}
			if kind == "buildkitd" {
				env["BUILDKIT_HOST"] = testengine.BuildKit(t)
			} else {
				env["DOCKER_HOST"] = testengine.Docker(t)
			}
			golang := "golang=" + testengine.Bases(t)["golang"]
			if kind == "buildkitd" {
				golang = "golang=" + testengine.OCIBase(t, "golang") // cached across runs
			}
			base := []string{"compare", example("hello-multistage"), "--all", "--build-context", golang, "--progress", "quiet"}

			code, stdout, stderr := stagescope(t, env, append(base, "--format", "json", "--budget", "stage-1=3MB")...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var c compareJSON
			if err := json.Unmarshal([]byte(stdout), &c); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			if c.SchemaVersion != 1 || len(c.Results) != 2 {
				t.Fatalf("unexpected comparison: %s", stdout)
			}
			builder, final := c.Results[0], c.Results[1]
			if builder.Target != "builder" || final.Target != "stage-1" {
				t.Fatalf("targets %q, %q", builder.Target, final.Target)
			}
			t.Logf("builder %d B, final %d B", builder.Size.Uncompressed, final.Size.Uncompressed)
			if final.Size.Uncompressed > 3_000_000 || builder.Size.Uncompressed < 50*final.Size.Uncompressed {
				t.Errorf("final %d B (want ≤ 3 MB), builder %d B (want ≥ 50×)", final.Size.Uncompressed, builder.Size.Uncompressed)
			}
			if len(final.Breakdown.Copied) != 1 || final.Breakdown.Copied[0].Source != "builder" || final.Breakdown.Copied[0].Bytes <= 0 {
				t.Errorf("final image's weight should come from builder: %+v", final.Breakdown)
			}
			if kind == "docker" {
				for _, r := range c.Results {
					out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Size}}", r.Image).Output()
					if err != nil {
						t.Fatalf("docker image inspect %s: %v", r.Image, err)
					}
					if want, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); r.Size.Uncompressed != want {
						t.Errorf("%s: %d B, docker image inspect says %d B", r.Target, r.Size.Uncompressed, want)
					}
				}
			}

			// A second run: everything cached, last time shown, budget exceeded.
			code, stdout, stderr = stagescope(t, env, append(base, "--budget", "stage-1=1MB")...)
			if code != exitFailed {
				t.Errorf("over budget: exit %d, want %d\n%s", code, exitFailed, stderr)
			}
			if !strings.Contains(stderr, "stage-1 is 2.4MB, over its budget of 1MB") {
				t.Errorf("stderr does not name the target over budget:\n%s", stderr)
			}
			if !strings.Contains(stdout, "2.4MB, ") || !strings.Contains(stdout, "over budget 1MB") {
				t.Errorf("table lacks the last result or the budget mark:\n%s", stdout)
			}
		})
	}
}

func TestCompareBadInput(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", example("hello-multistage"), "--budget", "stage-1=lots"}, "--budget stage-1"},
		{[]string{"compare", example("hello-multistage"), "--budget", "nobody=1MB"}, "not among the compared targets"},
		{[]string{"compare", example("hello-multistage"), "--targets", "builder,nope"}, "nope"},
		{[]string{"compare", example("hello-multistage"), "--format", "html"}, "--format"},
		{[]string{"compare", example("hello-multistage"), "--all", "--targets", "builder"}, "--all"},
	} {
		code, _, stderr := stagescope(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent.sock", "BUILDKIT_HOST": ""}, tt.args...)
		if code != exitBadInput || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 mentioning %q", tt.args, code, stderr, tt.want)
		}
	}
}

// --load on a standalone buildkitd puts the image in Docker's store;
// --metadata-file records the exporter's answer.
func TestLoadAndMetadataOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	env := map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t), "DOCKER_HOST": testengine.Docker(t)}
	meta := t.TempDir() + "/metadata.json"
	code, _, stderr := stagescope(t, env, "build", example("hello-multistage"), "--build-context", "golang="+testengine.OCIBase(t, "golang"),
		"--load", "-t", "stagescope-test/loaded:final", "--metadata-file", meta, "--progress", "quiet")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	out, err := exec.Command("docker", "run", "--rm", "--network=none", "stagescope-test/loaded:final").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Hello, Docker!") {
		t.Errorf("docker run of the loaded image: %v\n%s", err, out)
	}
	data, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("metadata file: %v\n%s", err, data)
	}
	if d, _ := m["containerimage.digest"].(string); !strings.HasPrefix(d, "sha256:") {
		t.Errorf("metadata lacks the image digest: %s", data)
	}
}
