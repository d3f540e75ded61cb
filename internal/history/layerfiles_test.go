package history

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestLayerFilesKeepAndTrim(t *testing.T) {
	s := &Store{path: filepath.Join(t.TempDir(), "builds.db")}
	l := s.OpenLayerFiles()
	if _, ok := l.Get("layer-sha256:abc"); ok {
		t.Fatal("found in an empty folder")
	}
	l.Put("layer-sha256:abc", []byte("one"))
	if got, ok := l.Get("layer-sha256:abc"); !ok || string(got) != "one" {
		t.Fatalf("got %q %v", got, ok)
	}
	old := time.Now().Add(-time.Hour)
	for i := range 10 {
		k := "k" + strconv.Itoa(i)
		l.Put(k, make([]byte, 100))
		at := old.Add(time.Duration(i) * time.Second)
		_ = os.Chtimes(l.file(k), at, at)
	}
	l.trim(800)
	if _, ok := l.Get("k0"); ok {
		t.Error("the least recently used file was kept")
	}
	if _, ok := l.Get("k9"); !ok {
		t.Error("the most recently used file was removed")
	}
	if _, ok := l.Get("layer-sha256:abc"); !ok {
		t.Error("a file used now was removed")
	}
}
