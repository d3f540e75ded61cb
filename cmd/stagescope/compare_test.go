package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

// storyDirs makes two small scratch-based examples in a folder of
// examples, ex/a (one target) and ex/b (builder and an unnamed last
// stage), whose files are also at the top for -f with one context.
func storyDirs(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	write := func(path string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	one, two := bytes.Repeat([]byte("1"), 300_000), bytes.Repeat([]byte("2"), 100_000)
	write(filepath.Join(root, "one.bin"), one)
	write(filepath.Join(root, "two.bin"), two)
	write(filepath.Join(root, "ex", "a", "one.bin"), one)
	write(filepath.Join(root, "ex", "b", "two.bin"), two)
	write(filepath.Join(root, "ex", "a", "Dockerfile"), []byte("FROM scratch\nCOPY one.bin /\n"))
	write(filepath.Join(root, "ex", "b", "Dockerfile"), []byte("FROM scratch AS builder\nCOPY two.bin /\nFROM scratch\nCOPY --from=builder /two.bin /copied.bin\n"))
	write(filepath.Join(root, "ex", "notes", "README"), []byte("no Dockerfile here\n"))
	return root
}

type severalJSON struct {
	SchemaVersion int      `json:"schemaVersion"`
	File          string   `json:"file"`
	Files         []string `json:"files"`
	Results       []struct {
		File   string `json:"file"`
		Name   string `json:"name"`
		Target string `json:"target"`
		Size   struct {
			Uncompressed int64 `json:"uncompressed"`
		} `json:"size"`
		Error string `json:"error"`
	} `json:"results"`
}

// Several Dockerfiles in one comparison on a real buildkitd and Docker: a
// folder of examples (each its own context, in name order), several folders
// and -f with one context (in the order given), as JSON, a table and markdown.
func TestCompareSeveral(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	for _, kind := range []string{"buildkitd", "docker"} {
		t.Run(kind, func(t *testing.T) { compareSeveral(t, kind) })
	}
}

func compareSeveral(t *testing.T, kind string) {
	root := storyDirs(t)
	env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": "", "DOCKER_HOST": ""}
	if kind == "buildkitd" {
		env["BUILDKIT_HOST"] = testengine.BuildKit(t)
	} else {
		env["DOCKER_HOST"] = testengine.Docker(t)
	}
	ex := filepath.Join(root, "ex")

	code, stdout, stderr := stagescope(t, env, "compare", ex, "--format", "json", "--progress", "quiet")
	if code != exitOK {
		t.Fatalf("folder of examples: exit %d\n%s", code, stderr)
	}
	var c severalJSON
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var got []string
	for _, r := range c.Results {
		got = append(got, r.Name+":"+r.Target)
		if r.Error != "" {
			t.Errorf("%s:%s: %s", r.Name, r.Target, r.Error)
		}
	}
	if c.SchemaVersion != 1 || strings.Join(got, " ") != "a:stage-0 b:builder b:stage-1" || len(c.Files) != 2 || c.File != c.Files[0] {
		t.Fatalf("folder of examples: %v, files %v\n%s", got, c.Files, stdout)
	}
	if a, b := c.Results[0].Size.Uncompressed, c.Results[2].Size.Uncompressed; a != 300_000 || b != 100_000 {
		t.Errorf("sizes %d and %d, want 300000 and 100000", a, b)
	}

	// Folders in the order given; a budget of one file's target.
	code, stdout, stderr = stagescope(t, env, "compare", filepath.Join(ex, "b"), filepath.Join(ex, "a"), "--budget", "a:stage-0=200kB", "--progress", "quiet")
	if code != exitFailed || !strings.Contains(stderr, "a:stage-0 is 300kB, over its budget of 200kB") {
		t.Errorf("budget of a:stage-0: exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "FILE") || !strings.HasPrefix(lines[1], "b ") || !strings.HasPrefix(lines[3], "a ") || !strings.Contains(lines[3], "over budget 200kB") {
		t.Errorf("table, b's targets then a's:\n%s", stdout)
	}

	// -f with the one context, NAME:TARGET picks, markdown.
	code, stdout, stderr = stagescope(t, env, "compare", "-f", filepath.Join(ex, "b", "Dockerfile"), "-f", filepath.Join(ex, "a", "Dockerfile"), root,
		"--targets", "b:stage-1,a:stage-0", "--format", "markdown", "--progress", "quiet")
	if code != exitOK {
		t.Fatalf("-f A -f B: exit %d\n%s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "| File | Target |") || !strings.Contains(stdout, "| `b` | `stage-1` | 100kB |") || !strings.Contains(stdout, "| `a` | `stage-0` | 300kB |") ||
		strings.Index(stdout, "`b`") > strings.Index(stdout, "`a`") {
		t.Errorf("markdown:\n%s", stdout)
	}
}

// Bad input for several Dockerfiles: one sentence and exit code 2, before
// any engine is asked.
func TestCompareSeveralBadInput(t *testing.T) {
	root := storyDirs(t)
	ex := filepath.Join(root, "ex")
	empty := t.TempDir()
	if err := os.Mkdir(filepath.Join(empty, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no Dockerfiles", []string{"compare", empty}, empty + " has no Dockerfile, and none of its subfolders has one"},
		{"duplicate", []string{"compare", filepath.Join(ex, "a"), filepath.Join(ex, "a")}, "Dockerfile " + filepath.Join(ex, "a", "Dockerfile") + " is given twice"},
		{"duplicate -f", []string{"compare", "-f", filepath.Join(ex, "a", "Dockerfile"), "-f", filepath.Join(ex, "b", "..", "a", "Dockerfile"), root}, "is given twice"},
		{"unknown file", []string{"compare", ex, "--targets", "c:stage-0"}, "--targets c:stage-0: no compared Dockerfile is called c; they are a, b"},
		{"unknown target of a file", []string{"compare", ex, "--targets", "b:buidler"}, `--targets b:buidler: ` + filepath.Join(ex, "b", "Dockerfile") + `: target stage "buidler" could not be found`},
		{"target of no file", []string{"compare", ex, "--targets", "runtime"}, "none of the compared Dockerfiles (a, b) has a stage runtime"},
		{"budget of no target", []string{"compare", ex, "--budget", "a:builder=1MB"}, "--budget a:builder: a:builder is not among the compared targets"},
		{"several platforms and files", []string{"compare", filepath.Join(ex, "a"), filepath.Join(ex, "b"), "--platform", "linux/amd64,linux/arm64"}, "--platform linux/amd64,linux/arm64: several platforms compare the targets of one Dockerfile"},
		{"-f with several folders", []string{"compare", "-f", filepath.Join(ex, "a", "Dockerfile"), filepath.Join(ex, "a"), filepath.Join(ex, "b")}, "-f goes with one CONTEXT folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := stagescope(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent.sock", "BUILDKIT_HOST": ""}, tt.args...)
			if code != exitBadInput || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// compare --progress json writes stagescope's events on stderr, the
// measuring phase included: "measure" as layer data is read and
// "measured" per target, then a summary per Dockerfile; with several
// Dockerfiles every event names its file.
func TestCompareProgressJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	root := storyDirs(t)
	env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": testengine.BuildKit(t), "DOCKER_HOST": ""}
	events := func(stderr string) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("not a JSON line: %q", line)
			}
			out = append(out, ev)
		}
		return out
	}

	code, stdout, stderr := stagescope(t, env, "compare", filepath.Join(root, "ex"), "--progress", "json", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), new(severalJSON)); err != nil {
		t.Fatalf("stdout is not the comparison: %v\n%s", err, stdout)
	}
	measured := map[string]float64{}
	var summaries []string
	steps := map[string]bool{}
	measures := 0
	for _, ev := range events(stderr) {
		file, _ := ev["file"].(string)
		switch ev["type"] {
		case "step":
			steps[file] = true
		case "measure":
			measures++
		case "measured":
			measured[file+":"+ev["target"].(string)] = ev["uncompressed"].(float64)
		case "summary":
			summaries = append(summaries, file+"="+ev["result"].(string))
		}
		if file != "a" && file != "b" {
			t.Errorf("event without its file: %v", ev)
		}
	}
	if measured["a:stage-0"] != 300_000 || measured["b:builder"] != 100_000 || measured["b:stage-1"] != 100_000 || len(measured) != 3 {
		t.Errorf("measured events %v", measured)
	}
	if measures < 3 || !steps["a"] || !steps["b"] || strings.Join(summaries, " ") != "a=success b=success" {
		t.Errorf("%d measure events, steps of %v, summaries %v", measures, steps, summaries)
	}

	// One Dockerfile: the events name no file.
	code, _, stderr = stagescope(t, env, "compare", filepath.Join(root, "ex", "b"), "--progress", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	n := 0
	for _, ev := range events(stderr) {
		if _, ok := ev["file"]; ok {
			t.Errorf("an event names a file: %v", ev)
		}
		if ev["type"] == "measured" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d measured events, want 2", n)
	}
}
