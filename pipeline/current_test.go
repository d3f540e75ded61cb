package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
)

// A file of the context or of a folder named context changed after the
// build started makes the image not current, even with its modification
// time set back (a copy that keeps times): its change time says so.
func TestChangedSince(t *testing.T) {
	ctxDir, named := t.TempDir(), t.TempDir()
	for _, p := range []string{filepath.Join(ctxDir, "a"), filepath.Join(named, "b")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan := &Plan{Request: engine.BuildRequest{ContextDir: ctxDir, Contexts: map[string]string{"n": named, "img": "docker-image://busybox"}}}
	if why := changedSince(time.Now().Add(time.Second), plan); why != "" {
		t.Errorf("nothing changed: %q", why)
	}
	started := time.Now()
	time.Sleep(20 * time.Millisecond)
	b := filepath.Join(named, "b")
	if err := os.WriteFile(b, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := started.Add(-time.Hour)
	if err := os.Chtimes(b, old, old); err != nil {
		t.Fatal(err)
	}
	if why := changedSince(started, plan); !strings.HasPrefix(why, b+" changed") {
		t.Errorf("a named context's file rewritten with an old modification time: %q", why)
	}
}

// What .dockerignore leaves out of the context is not sent, so changing
// it leaves the image current: a commit (below .git) does not ask for a
// build; a sent file, the .dockerignore itself, or a file a pattern takes
// back still does.
func TestChangedSinceHonoursDockerignore(t *testing.T) {
	ctxDir := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(ctxDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".dockerignore", ".git\nlogs\n!logs/keep.txt\n")
	write(".git/objects/ab/cdef", "1")
	write("logs/a.log", "1")
	write("logs/keep.txt", "1")
	write("main.go", "package main")
	plan := &Plan{Request: engine.BuildRequest{ContextDir: ctxDir, Dockerfile: filepath.Join(ctxDir, "Dockerfile")}}
	started := time.Now()
	time.Sleep(20 * time.Millisecond)
	write(".git/objects/ab/cdef", "2")
	write(".git/objects/cd/0123", "2")
	write("logs/a.log", "2")
	if why := changedSince(started, plan); why != "" {
		t.Errorf("only files .dockerignore leaves out changed: %q", why)
	}
	for _, rel := range []string{"logs/keep.txt", "main.go", ".dockerignore"} {
		started := time.Now()
		time.Sleep(20 * time.Millisecond)
		write(rel, "3")
		if why := changedSince(started, plan); !strings.HasPrefix(why, filepath.Join(ctxDir, rel)+" changed") {
			t.Errorf("%s changed: %q", rel, why)
		}
	}
}

// What differs between a record and a plan, in one phrase; a build
// argument that looks like a secret cannot be compared.
func TestSameInputs(t *testing.T) {
	src := []byte("FROM busybox\n")
	proj := &Project{Source: src}
	rec := &history.Record{Image: "i", ImageDigest: "sha256:1", DockerfileDigest: "sha256:3d0ae8b18ed6c0fbb1b33d8ba5a6a03b4a4dc5e83c1b0e5d10f2cb8e3f1b7a55"}
	plan := &Plan{Project: proj}
	why := sameInputs(rec, plan)
	if why != "the Dockerfile changed since the last build" {
		t.Fatalf("another digest: %q", why)
	}
	rec.DockerfileDigest = dockerfileDigest(src)
	if why := sameInputs(rec, plan); why != "" {
		t.Errorf("the same inputs: %q", why)
	}
	plan.Request.BuildArgs = map[string]string{"V": "2"}
	if why := sameInputs(rec, plan); why != "the build arguments differ from the last build's" {
		t.Errorf("another argument: %q", why)
	}
	plan.Request.BuildArgs = map[string]string{"API_TOKEN": "s"}
	rec.BuildArgs = history.RedactArgs(plan.Request.BuildArgs)
	if why := sameInputs(rec, plan); !strings.Contains(why, "looks like a secret") {
		t.Errorf("a secret-looking argument: %q", why)
	}
}
