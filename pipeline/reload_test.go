package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stagescope/stagescope/buildgraph"
)

func TestReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("FROM scratch AS a\n")
	p, err := Load(Input{ContextDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if q, err := p.Reload(); err != nil || q != p {
		t.Errorf("the same bytes: Reload() = %p, %v; want the project itself", q, err)
	}
	write("FROM scratch AS a\nFROM a AS b\n")
	q, err := p.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if q == p || len(q.Graph.Stages) != 2 || len(p.Graph.Stages) != 1 || q.Base.ContextDir != p.Base.ContextDir {
		t.Errorf("changed bytes: a new project with the new graph, the old one as it was")
	}
	write("FROM scratch AS a\nCOPPY x y\n")
	var be *buildgraph.Error
	if _, err := q.Reload(); !errors.As(err, &be) || be.Line != 2 {
		t.Errorf("a Dockerfile that does not parse: %v, want a *buildgraph.Error at line 2", err)
	}
	os.Remove(file)
	var in *InputError
	if _, err := q.Reload(); !errors.As(err, &in) {
		t.Errorf("a Dockerfile removed: %v, want an *InputError", err)
	}
	made := &Project{Dockerfile: "nowhere/Dockerfile", Source: []byte("FROM scratch\n")}
	if r, err := made.Reload(); err != nil || r != made || made.Follows() {
		t.Errorf("a project made of bytes has no file to follow: %v", err)
	}
}
