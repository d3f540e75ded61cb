package history

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
)

func TestSaveLoad(t *testing.T) {
	s := Open(filepath.Join(t.TempDir(), "state", "results.json"))
	if got, err := s.Load("Dockerfile"); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	if err := s.Save("a/Dockerfile", map[string]buildgraph.SavedSize{"builder": {Uncompressed: 270e6, At: at}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("a/Dockerfile", map[string]buildgraph.SavedSize{"stage-1": {Uncompressed: 2e6, At: at}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("b/Dockerfile", map[string]buildgraph.SavedSize{"x": {Uncompressed: 1}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("a/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["builder"].Uncompressed != 270e6 || !got["stage-1"].At.Equal(at) {
		t.Errorf("loaded %+v", got)
	}
}

func TestDamagedFileIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Open(path)
	if _, err := s.Load("Dockerfile"); err == nil {
		t.Error("a damaged file must be reported")
	}
	if err := s.Save("Dockerfile", map[string]buildgraph.SavedSize{"t": {Uncompressed: 5}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load("Dockerfile"); err != nil || got["t"].Uncompressed != 5 {
		t.Errorf("after save: %v %v", got, err)
	}
}

func TestLayerSizes(t *testing.T) {
	s := Open(filepath.Join(t.TempDir(), "results.json"))
	l := s.OpenLayerSizes()
	if _, ok := l.Get("sha256:a"); ok {
		t.Fatal("empty memo has an entry")
	}
	l.Put("sha256:a", 42)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, ok := s.OpenLayerSizes().Get("sha256:a"); !ok || n != 42 {
		t.Errorf("reloaded: %d %v", n, ok)
	}
}
