package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestWideContexts(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	link := filepath.Join(t.TempDir(), "home-link")
	if err := os.Symlink(home, link); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	req := BuildRequest{
		ContextDir: link,
		Contexts:   map[string]string{"root": "/", "img": "docker-image://busybox", "src": other, "up": home + "/."},
	}
	got := WideContexts(req)
	want := []struct{ name, what string }{{"", "your home folder"}, {"root", "the filesystem root"}, {"up", "your home folder"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %v", got, want)
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].What != w.what {
			t.Errorf("%d: got %q %q, want %q %q", i, got[i].Name, got[i].What, w.name, w.what)
		}
	}
	if l := got[1].Label(); l != `build context "root" /` {
		t.Errorf("label %q", l)
	}
}

func TestCountHonoursDockerignore(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "12345")
	write("big/blob.bin", "0123456789")
	write("big/keep.txt", "xy")
	write(".dockerignore", "big\n!big/keep.txt\n")
	write("Dockerfile.dockerignore", "*.txt\n")
	count := func(w WideContext) ContextSize {
		return w.Count(context.Background())
	}
	// .dockerignore: a.txt 5 + keep.txt 2 + .dockerignore 18 + Dockerfile.dockerignore 6.
	if got := count(WideContext{Dir: dir}); got != (ContextSize{Bytes: 31, Files: 4, Complete: true}) {
		t.Errorf(".dockerignore: got %+v", got)
	}
	// <Dockerfile>.dockerignore wins: only a.txt is left out ("*" stops at
	// "/"), so blob.bin 10 + keep.txt 2 + the two ignore files 24.
	if got := count(WideContext{Dir: dir, dockerfile: filepath.Join(dir, "Dockerfile")}); got != (ContextSize{Bytes: 36, Files: 4, Complete: true}) {
		t.Errorf("Dockerfile.dockerignore: got %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := WideContext{Dir: dir}.Count(ctx)
	if got.Complete {
		t.Errorf("a cancelled count is complete: %+v", got)
	}
	if s := got.String(); s != "at least 0B in 0 files" {
		t.Errorf("String() = %q", s)
	}
}
