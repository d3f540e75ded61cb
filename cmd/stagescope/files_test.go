package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/internal/testengine"
)

// filesJSON is the part of `files --format json` the tests read.
type filesJSON struct {
	SchemaVersion int `json:"schemaVersion"`
	Totals        struct {
		Files  int   `json:"files"`
		Bytes  int64 `json:"bytes"`
		Wasted int64 `json:"wasted"`
	} `json:"totals"`
	Layers []struct {
		Index       int    `json:"index"`
		StageName   string `json:"stageName"`
		Line        int    `json:"line"`
		Instruction string `json:"instruction"`
		From        string `json:"from"`
		Base        bool   `json:"base"`
	} `json:"layers"`
	Files  []filesJSONFile `json:"files"`
	Hidden []struct {
		Path  string `json:"path"`
		Size  int64  `json:"size"`
		How   string `json:"how"`
		Layer int    `json:"layer"`
		By    int    `json:"by"`
	} `json:"hidden"`
	Diff *struct {
		Target string          `json:"target"`
		Files  int             `json:"files"`
		Bytes  int64           `json:"bytes"`
		List   []filesJSONFile `json:"list"`
	} `json:"diff"`
}

type filesJSONFile struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	Size  int64  `json:"size"`
	Layer int    `json:"layer"`
}

func TestFilesBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"files", example("hello-multistage"), "--format", "xml"}, `--format "xml": want tree or json`},
		{[]string{"files", example("hello-multistage"), "--sort", "age"}, `--sort "age": want size or name`},
		{[]string{"files", example("hello-multistage"), "--stage", "nope"}, "--stage nope: no such stage in"},
		{[]string{"files", example("hello-multistage"), "--target", "nope"}, "nope"},
	} {
		code, _, stderr := stagescope(t, map[string]string{"BUILDKIT_HOST": "unix:///nonexistent.sock"}, c.args...)
		if code != exitBadInput || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line with %q", c.args, code, stderr, exitBadInput, c.want)
		}
	}
}

func TestFilesHelloOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	testFilesHello(t, map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t)})
}

func TestFilesHelloOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	testFilesHello(t, map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": testengine.Docker(t)})
}

// The final image of the Go example holds one regular file, the binary,
// written by COPY --from=builder; the builder leaves the Go toolchain
// behind; a second listing reads no layer data.
func testFilesHello(t *testing.T, env map[string]string) {
	env["XDG_STATE_HOME"] = t.TempDir()
	golang := "golang=" + testengine.Bases(t)["golang"]
	code, stdout, stderr := stagescope(t, env, "files", example("hello-multistage"), "--build-context", golang,
		"--diff", "builder", "--format", "json", "--progress", "plain")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var out filesJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	var regular []filesJSONFile
	for _, f := range out.Files {
		if f.Kind == "file" {
			regular = append(regular, f)
		}
	}
	if len(regular) != 1 || regular[0].Path != "/app/hello" || out.Totals.Files != 1 {
		t.Fatalf("regular files %+v, want /app/hello alone", regular)
	}
	bin := regular[0]
	if bin.Layer < 0 || bin.Layer >= len(out.Layers) {
		t.Fatalf("the binary's layer %d is not among %d", bin.Layer, len(out.Layers))
	}
	l := out.Layers[bin.Layer]
	if l.From != "builder" || l.StageName != "stage-1" || l.Line != 10 || !strings.HasPrefix(l.Instruction, "COPY --from=builder") {
		t.Errorf("the binary's layer: %+v, want COPY --from=builder on line 10 of stage-1", l)
	}
	if bin.Size < 1<<20 || out.Totals.Bytes != bin.Size {
		t.Errorf("binary %d B, image %d B", bin.Size, out.Totals.Bytes)
	}
	if out.Diff == nil || out.Diff.Target != "builder" {
		t.Fatalf("no diff with builder: %+v", out.Diff)
	}
	var goroot int64
	for _, f := range out.Diff.List {
		if f.Path == "/usr/local/go" && f.Kind == "dir" {
			goroot = f.Size
		}
		if f.Path == "/app/hello" {
			t.Errorf("the binary, in both images, is in the diff")
		}
	}
	t.Logf("builder leaves behind %d files, %d B; the Go toolchain %d B", out.Diff.Files, out.Diff.Bytes, goroot)
	if goroot < 100<<20 || out.Diff.Bytes < goroot {
		t.Errorf("the Go toolchain left behind weighs %d B of %d B, want over 100 MiB", goroot, out.Diff.Bytes)
	}
	// Everything is remembered now: the second listing reads nothing.
	code, stdout, stderr = stagescope(t, env, "files", example("hello-multistage"), "--build-context", golang, "--progress", "plain", "--depth", "1")
	if code != exitOK {
		t.Fatalf("again: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "files of stage-1: layers remembered, nothing read") {
		t.Errorf("the second listing read layer data:\n%s", lastLines(stderr, 3))
	}
	if !strings.Contains(stdout, "app/") || !strings.Contains(stdout, "L1 stage-1:10") {
		t.Errorf("tree:\n%s", stdout)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func TestFilesWastedOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	testFilesWasted(t, map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t)})
}

func TestFilesWastedOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	testFilesWasted(t, map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": testengine.Docker(t)})
}

// A file of 10 MB written in one RUN and deleted in the next is shown
// deleted and counted as wasted; the same for one overwritten.
func testFilesWasted(t *testing.T, env map[string]string) {
	env["XDG_STATE_HOME"] = t.TempDir()
	dir := t.TempDir()
	df := `FROM busybox
RUN head -c 10000000 /dev/zero > /big && echo kept > /kept
RUN rm /big
RUN head -c 10000000 /dev/zero > /over
RUN echo small > /over
`
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	busybox := "busybox=" + testengine.Bases(t)["busybox"]
	code, stdout, stderr := stagescope(t, env, "files", dir, "--build-context", busybox, "--format", "json", "--progress", "quiet", "--no-cache")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var out filesJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	hidden := map[string]string{}
	for _, h := range out.Hidden {
		if h.Size == 10_000_000 {
			hidden[h.Path] = h.How + " on line " + itoa(out.Layers[h.By].Line)
		}
	}
	if hidden["/big"] != "deleted on line 3" || hidden["/over"] != "overwritten on line 5" {
		t.Errorf("hidden %v, want /big deleted on line 3 and /over overwritten on line 5; all: %+v", hidden, out.Hidden)
	}
	if out.Totals.Wasted != 20_000_000 {
		t.Errorf("wasted %d B, want 20000000", out.Totals.Wasted)
	}
	for _, f := range out.Files {
		if f.Path == "/big" {
			t.Error("/big is in the image's files")
		}
		if f.Path == "/over" && f.Size != 6 {
			t.Errorf("/over is %d B, want 6", f.Size)
		}
	}
	code, stdout, stderr = stagescope(t, env, "files", dir, "--build-context", busybox, "--progress", "quiet")
	if code != exitOK {
		t.Fatalf("tree: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"20MB wasted by later layers", "deleted      /big", "overwritten  /over"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the tree does not say %q:\n%s", want, stdout)
		}
	}
	// One stage's files; a layer the image does not have.
	code, stdout, stderr = stagescope(t, env, "files", dir, "--build-context", busybox, "--progress", "quiet", "--stage", "stage-0", "--format", "json")
	if code != exitOK {
		t.Fatalf("--stage: exit %d\n%s", code, stderr)
	}
	var only struct {
		Filter string `json:"filter"`
		Totals struct {
			ShownFiles int `json:"shownFiles"`
		} `json:"totals"`
	}
	if err := json.Unmarshal([]byte(stdout), &only); err != nil || only.Filter != "stage stage-0" || only.Totals.ShownFiles != 2 {
		t.Errorf("--stage stage-0: %+v (%v), want the 2 files of its RUNs (/kept, /over)", only, err)
	}
	code, _, stderr = stagescope(t, env, "files", dir, "--build-context", busybox, "--progress", "quiet", "--layer", "99")
	if code != exitBadInput || !strings.Contains(stderr, "--layer 99: the image of stage-0 has") {
		t.Errorf("--layer 99: exit %d, %s", code, stderr)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
