package why

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func paths(files []buildgraph.FileDigest) string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return strings.Join(out, " ")
}

func TestFilesAsBuildKitSendsThem(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile":    "FROM scratch\n",
		".dockerignore": "**/*.log\nsrc/skip\n",
		"src/a.go":      "a",
		"src/sub/b.go":  "b",
		"src/x.log":     "log",
		"src/skip":      "s",
		"srcfoo":        "not src",
		"other.txt":     "o",
	})
	facts := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{
		{Position: 1, Reads: []string{"src"}},
		{Position: 2, Reads: []string{"*.txt"}},
		{Position: 3, Reads: []string{"."}},
		{Position: 4},
	}}}
	Files(context.Background(), dir, filepath.Join(dir, "Dockerfile"), facts)
	s := facts[0].Steps
	for i, want := range []string{
		"src/a.go src/sub/b.go",
		"other.txt",
		".dockerignore Dockerfile other.txt src/a.go src/sub/b.go srcfoo",
		"",
	} {
		if got := paths(s[i].Files); got != want || s[i].FilesError != "" {
			t.Errorf("step %d reads %v: got %q (%s), want %q", i+1, s[i].Reads, got, s[i].FilesError, want)
		}
	}
	if d := s[0].Files[0].Digest; d != "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" {
		t.Errorf("digest of a: %s", d)
	}

	// Touching a file changes nothing; changing its content or mode does.
	before := s[0].Files
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "src/a.go"), later, later); err != nil {
		t.Fatal(err)
	}
	again := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{{Position: 1, Reads: []string{"src"}}}}}
	Files(context.Background(), dir, "", again)
	if paths(again[0].Steps[0].Files) != paths(before) || again[0].Steps[0].Files[0] != before[0] {
		t.Errorf("touched file changed: %+v vs %+v", again[0].Steps[0].Files, before)
	}
	if err := os.Chmod(filepath.Join(dir, "src/a.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	Files(context.Background(), dir, "", again)
	if again[0].Steps[0].Files[0].Mode == before[0].Mode {
		t.Errorf("mode change not seen")
	}
}

func TestFilesDockerfileIgnore(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"app.Dockerfile":              "FROM scratch\n",
		"app.Dockerfile.dockerignore": "b.txt\n",
		".dockerignore":               "a.txt\n",
		"a.txt":                       "a",
		"b.txt":                       "b",
	})
	facts := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{{Position: 1, Reads: []string{"*.txt"}}}}}
	Files(context.Background(), dir, filepath.Join(dir, "app.Dockerfile"), facts)
	if got := paths(facts[0].Steps[0].Files); got != "a.txt" {
		t.Errorf("got %q: <Dockerfile>.dockerignore should win over .dockerignore", got)
	}
}

// Remembered digests: a rebuild reads no file that did not change, and a
// file rewritten is read again.
func TestFilesCached(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string]string{"a.txt": "aaaa", "b.txt": "bbbb"})
	time.Sleep(racy + 100*time.Millisecond) // older than a clock tick of the file system
	digests := func() map[string]string {
		facts := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{{Position: 1, Reads: []string{"."}}}}}
		FilesCached(context.Background(), dir, "", facts, cache)
		if e := facts[0].Steps[0].FilesError; e != "" {
			t.Fatal(e)
		}
		out := map[string]string{}
		for _, f := range facts[0].Steps[0].Files {
			out[f.Path] = f.Digest
		}
		return out
	}
	first := digests()
	if c := openCache(cache, dir); len(c.old) != 2 {
		t.Fatalf("%d digests remembered, want 2", len(c.old))
	}
	// A remembered digest is taken as it is: make one up to see it used.
	c := openCache(cache, dir)
	e := c.old["a.txt"]
	e.Digest = "sha256:remembered"
	c.old["a.txt"] = e
	c.seen, c.changed = c.old, true
	c.save()
	if got := digests()["a.txt"]; got != "sha256:remembered" {
		t.Fatalf("the remembered digest was not used: %s", got)
	}
	// Rewritten: read again. (Rewritten with the same size and its old
	// modification time, it would not be, as BuildKit would not send it.)
	p := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(p, []byte("AAAAA"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := digests()
	if got["a.txt"] == "sha256:remembered" || got["a.txt"] == first["a.txt"] || got["b.txt"] != first["b.txt"] {
		t.Errorf("after rewriting a.txt: %v (first %v)", got, first)
	}
}

func TestOCIDigest(t *testing.T) {
	dir := t.TempDir()
	index := `{"manifests":[{"digest":"sha256:aaa","annotations":{"org.opencontainers.image.ref.name":"latest"}},{"digest":"sha256:bbb","annotations":{"org.opencontainers.image.ref.name":"v2"}}]}`
	writeFiles(t, dir, map[string]string{"index.json": index})
	for ref, want := range map[string]string{
		dir + ":latest": "sha256:aaa", dir + ":v2": "sha256:bbb", dir + "@sha256:ccc": "sha256:ccc",
		dir: "", dir + ":none": "", "/nonexistent:latest": "",
	} {
		if got := ociDigest(ref); got != want {
			t.Errorf("ociDigest(%q) = %q, want %q", ref, got, want)
		}
	}
	facts := []buildgraph.StageFacts{{Steps: []buildgraph.StepFacts{{Position: 1, Base: "context:busybox=oci-layout://" + dir + ":v2"}}}}
	ociDigests(facts)
	if d := facts[0].Steps[0].BaseDigest; d != "sha256:bbb" {
		t.Errorf("BaseDigest %q", d)
	}
}

// The digests file keeps every field, whatever a path or link holds but
// a NUL; a damaged one reads as empty.
func TestDigestsFile(t *testing.T) {
	m := map[string]cachedDigest{
		"a.txt":          {Key: statKey{Size: 4, Mtime: 1700000000123456789, Mode: 0o644}, Digest: "sha256:aa"},
		"dir/with\ttab":  {Key: statKey{Size: 0, Mtime: -1, Mode: 0o755 | uint32(os.ModeDir)}, Digest: "sha256:bb"},
		"new\nline link": {Key: statKey{Mode: uint32(os.ModeSymlink | 0o777), Link: "../x y"}, Digest: "sha256:cc"},
	}
	if got := decodeDigests(encodeDigests(m)); !reflect.DeepEqual(got, m) {
		t.Errorf("read back %+v, want %+v", got, m)
	}
	data := encodeDigests(m)
	if got := decodeDigests(data[:len(data)-3]); len(got) != 0 {
		t.Errorf("a cut file read as %+v", got)
	}
	if got := decodeDigests([]byte(`{"a.txt":{"k":{},"d":"x"}}`)); len(got) != 0 {
		t.Errorf("JSON read as %+v", got)
	}
}
