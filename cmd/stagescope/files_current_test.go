package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/testengine"
)

func TestFilesCurrentOnBuildKit(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	testFilesCurrent(t, map[string]string{"BUILDKIT_HOST": testengine.BuildKit(t)})
}

func TestFilesCurrentOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	testFilesCurrent(t, map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": testengine.Docker(t)})
}

// files reads the image of the last build when nothing changed since: no
// solve (no progress, no new record) and the same files; an edit of the
// Dockerfile, a file of the context changed and --rebuild build.
func testFilesCurrent(t *testing.T, env map[string]string) {
	env["XDG_STATE_HOME"] = t.TempDir()
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(df, "FROM busybox\nCOPY data /data\nRUN echo one > /one\n")
	write(filepath.Join(dir, "data"), "first\n")
	busybox := "busybox=" + testengine.Bases(t)["busybox"]
	records := func() int {
		t.Helper()
		s, err := history.Default()
		if err != nil {
			t.Fatal(err)
		}
		sums, err := s.List(history.Filter{Dockerfile: df})
		if err != nil {
			t.Fatal(err)
		}
		return len(sums)
	}
	files := func(args ...string) (paths map[string]int64, stderr string) {
		t.Helper()
		code, stdout, stderr := stagescope(t, env, append([]string{"files", dir, "--build-context", busybox, "--format", "json", "--progress", "plain"}, args...)...)
		if code != exitOK {
			t.Fatalf("files %v: exit %d\n%s", args, code, stderr)
		}
		var out filesJSON
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		paths = map[string]int64{}
		for _, f := range out.Files {
			if f.Kind == "file" && (f.Path == "/one" || f.Path == "/two" || f.Path == "/data") {
				paths[f.Path] = f.Size
			}
		}
		return paths, stderr
	}
	built := func(stderr string) bool { return strings.Contains(stderr, "\n#1 ") || strings.HasPrefix(stderr, "#1 ") }

	first, stderr := files()
	if !built(stderr) || !strings.Contains(stderr, "files of stage-0: building it: no earlier build of stage-0 on this engine is recorded") || records() != 1 {
		t.Fatalf("first listing: %d records, stderr:\n%s", records(), stderr)
	}
	if first["/one"] != 4 || first["/data"] != 6 {
		t.Fatalf("first listing: %v", first)
	}

	start := time.Now()
	again, stderr := files()
	t.Logf("second listing, nothing built: %s", time.Since(start).Round(time.Millisecond))
	if built(stderr) || records() != 1 || !strings.Contains(stderr, "files of stage-0: not built again: nothing changed since the build of") {
		t.Errorf("second listing built (%d records):\n%s", records(), stderr)
	}
	if len(again) != len(first) || again["/one"] != 4 || again["/data"] != 6 {
		t.Errorf("second listing: %v, want %v", again, first)
	}

	write(df, "FROM busybox\nCOPY data /data\nRUN echo one > /one\nRUN echo two > /two\n")
	edited, stderr := files()
	if !built(stderr) || !strings.Contains(stderr, "building it: the Dockerfile changed since the last build") || records() != 2 || edited["/two"] != 4 {
		t.Errorf("after an edit of the Dockerfile: %v, %d records:\n%s", edited, records(), stderr)
	}

	write(filepath.Join(dir, "data"), "second, longer\n")
	changed, stderr := files()
	if !built(stderr) || !strings.Contains(stderr, filepath.Join(dir, "data")+" changed since the last build") || changed["/data"] != 15 {
		t.Errorf("after an edit of a file of the context: %v:\n%s", changed, stderr)
	}

	if _, stderr = files(); built(stderr) {
		t.Errorf("nothing changed, yet built:\n%s", stderr)
	}
	if _, stderr = files("--rebuild"); !built(stderr) || records() != 4 {
		t.Errorf("--rebuild did not build (%d records):\n%s", records(), stderr)
	}
}
