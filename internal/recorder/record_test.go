package recorder

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/internal/testengine"
)

var record = flag.Bool("record", false, "run real builds on buildkitd and rewrite buildgraph/testdata/status")

// maxRecording is the size a recorded stream must stay under, so the
// repository stays small.
const maxRecording = 1 << 20

// scenario is one recorded build. Its Dockerfile and status stream land in
// buildgraph/testdata/status/<name>/.
type scenario struct {
	name       string
	dockerfile string            // Dockerfile text; "" to use example's
	example    string            // folder under examples/ used as the build context
	files      map[string]string // extra context files
	target     string
	base       string // offline base provided as a named context ("busybox", "golang")
	noCache    bool
	fail       bool   // the build is expected to fail
	cancel     string // interrupt buildctl once a vertex whose name contains this has started
	runs       int    // build this many times (default 1) and record the last run
	platform   string // --platform, "" for the engine's own
}

// logHeavy prints several MiB: terminal escape sequences, invalid UTF-8, \r
// progress bars and long lines without a newline first, then a flood of
// short lines, on both streams. BuildKit clips each stream at the source
// (200 KiB/s and 2 MiB per stream by default) and says so in the log, so the
// recording keeps the interesting start and the clip notice.
const logHeavy = `FROM busybox
RUN printf '\033[31mred\033[0m \033]0;title\007 \033[2J cleared\n'; \
    printf 'bad utf-8: \377\376 \300\257 end\n'; \
    i=0; while [ $i -le 100 ]; do printf '\rdownloading %3d%%' $i; i=$((i+5)); done; echo; \
    head -c 100000 /dev/zero | tr '\0' 'x'; echo; \
    printf '\033[1mbold on stderr\033[0m\n' >&2; head -c 100000 /dev/zero | tr '\0' 'e' >&2; \
    i=0; while [ $i -lt 3000 ]; do echo "line $i of the build output, padded to be a bit longer than usual"; i=$((i+1)); done; \
    yes "flood line of the build output, padded to be a bit longer than usual" | head -c 4000000
`

var scenarios = []scenario{
	{name: "hello-builder", example: "hello-multistage", target: "builder", base: "golang", noCache: true},
	{name: "hello-final", example: "hello-multistage", base: "golang"},
	// One build for two platforms, cross-compiled on the build platform:
	// BuildKit prefixes every step with its platform.
	{name: "crossplatform", example: "hello-crossplatform", base: "golang", noCache: true, platform: "linux/amd64,linux/arm64"},
	// A RUN on a local named context is never cached across sessions
	// (BuildKit keys local sources by session), content copied from it is:
	// the second run of this build is answered from the cache.
	{name: "cached", base: "busybox", runs: 2, dockerfile: `FROM scratch AS base
COPY --from=busybox / /
RUN echo cache me > /cached

FROM base
RUN cat /cached
`},
	{name: "failing", base: "busybox", noCache: true, fail: true, target: "test", dockerfile: `FROM busybox AS base
RUN echo preparing

FROM base AS test
WORKDIR /src
RUN echo "about to fail" && echo "really failing" >&2 && exit 3
RUN echo never
`},
	// A base image that cannot be resolved (no registry answers here): the
	// failing vertex is BuildKit's own metadata load, in no stage.
	{name: "bad-base", base: "busybox", noCache: true, fail: true, target: "app", dockerfile: `FROM busybox AS tools
RUN echo tools > /tools

FROM example.invalid/runtime:1 AS app
COPY --from=tools /tools /
`},
	{name: "single-stage", base: "busybox", noCache: true, files: map[string]string{"f.txt": "from the context\n"}, dockerfile: `FROM busybox
WORKDIR /work
RUN echo hello > a.txt
COPY f.txt .
RUN cat a.txt f.txt
`},
	{name: "parallel", base: "busybox", noCache: true, dockerfile: `FROM busybox AS a
RUN sleep 1 && echo a > /a

FROM busybox AS b
WORKDIR /
RUN sleep 1 && echo b > /b

FROM scratch
COPY --link --from=a /a /
COPY --from=b /b /
`},
	{name: "log-heavy", base: "busybox", noCache: true, dockerfile: logHeavy},
	{name: "canceled", base: "busybox", noCache: true, fail: true, cancel: "sleep", dockerfile: `FROM busybox AS base
RUN echo before

FROM base
RUN echo start && sleep 60
`},
}

// TestRecord runs the scenarios on the project's buildkitd with buildctl
// --progress rawjson and saves the streams. It runs only with -record.
func TestRecord(t *testing.T) {
	if !*record {
		t.Skip("run with -record to record the status streams again")
	}
	addr := testengine.BuildKit(t)
	buildctl := testengine.Buildctl(t)
	bases := testengine.Bases(t)
	root := testengine.RepoRoot()
	out := filepath.Join(root, "buildgraph", "testdata", "status")
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := sc.dockerfile
			if sc.example != "" {
				if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, "examples", sc.example))); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
				if err != nil {
					t.Fatal(err)
				}
				src = string(b)
			}
			files := map[string]string{"Dockerfile": src}
			for k, v := range sc.files {
				files[k] = v
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"--addr", addr, "build", "--frontend", "dockerfile.v0",
				"--local", "context=" + dir, "--local", "dockerfile=" + dir,
				"--local", sc.base + "=" + bases[sc.base],
				"--opt", "context:" + sc.base + "=local:" + sc.base,
				"--progress", "rawjson"}
			if sc.target != "" {
				args = append(args, "--opt", "target="+sc.target)
			}
			if sc.noCache {
				args = append(args, "--no-cache")
			}
			if sc.platform != "" {
				args = append(args, "--opt", "platform="+sc.platform)
			}
			var lines [][]byte
			var err error
			for range max(sc.runs, 1) {
				lines, err = run(t, buildctl, args, sc.cancel)
			}
			if (err != nil) != sc.fail {
				t.Fatalf("buildctl: err=%v, want failure %v", err, sc.fail)
			}
			var buf bytes.Buffer
			for _, l := range lines {
				buf.Write(l)
				buf.WriteByte('\n')
			}
			if buf.Len() > maxRecording {
				t.Fatalf("recorded stream has %d bytes, over %d: make the scenario smaller", buf.Len(), maxRecording)
			}
			if _, err := Replay(bytes.NewReader(buf.Bytes())); err != nil {
				t.Fatal(err)
			}
			sdir := filepath.Join(out, sc.name)
			if err := os.MkdirAll(sdir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sdir, "Dockerfile"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sdir, "status.jsonl"), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d statuses, %d bytes", sc.name, len(lines), buf.Len())
		})
	}
}

// run executes buildctl and returns the JSON lines it wrote to stderr (its
// rawjson progress), dropping its closing error message. When cancel is set,
// buildctl is interrupted a second after a vertex whose name contains cancel
// has started.
func run(t *testing.T, buildctl string, args []string, cancel string) ([][]byte, error) {
	t.Helper()
	cmd := exec.Command(buildctl, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	var other strings.Builder
	interrupted := false
	br := bufio.NewReader(stderr)
	for {
		line, err := br.ReadBytes('\n')
		if l := bytes.TrimSpace(line); len(l) > 0 && l[0] == '{' {
			lines = append(lines, bytes.Clone(l))
			if cancel != "" && !interrupted && started(l, cancel) {
				interrupted = true
				time.AfterFunc(time.Second, func() { _ = cmd.Process.Signal(os.Interrupt) })
			}
		} else {
			other.Write(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	err = cmd.Wait()
	if other.Len() > 0 {
		t.Logf("buildctl said: %s", other.String())
	}
	return lines, err
}

// started reports whether the status line holds a started vertex whose name
// contains s.
func started(line []byte, s string) bool {
	var st client.SolveStatus
	if json.Unmarshal(line, &st) != nil {
		return false
	}
	for _, v := range st.Vertexes {
		if v.Started != nil && v.Completed == nil && strings.Contains(v.Name, s) {
			return true
		}
	}
	return false
}
