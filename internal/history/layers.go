package history

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
)

// LayerSizes is a file of unpacked layer sizes by blob digest, next to the
// records database: measuring an image on a standalone buildkitd reads every
// layer it has not seen before, and layers are addressed by content, so a
// size once read is right forever. It implements engine.SizeMemo.
type LayerSizes struct {
	path  string
	mu    sync.Mutex
	sizes map[string]int64
	dirty bool
}

// maxLayerEntries bounds the file; past it the oldest half is not kept
// (map order: an arbitrary half, which only costs a re-read).
const maxLayerEntries = 20000

// OpenLayerSizes loads the file beside the records database (missing or
// damaged files start empty).
func (s *Store) OpenLayerSizes() *LayerSizes {
	l := &LayerSizes{path: filepath.Join(filepath.Dir(s.path), "layer-sizes.json"), sizes: map[string]int64{}}
	if data, err := os.ReadFile(l.path); err == nil {
		_ = json.Unmarshal(data, &l.sizes)
	}
	return l
}

func (l *LayerSizes) Get(digest string) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, ok := l.sizes[digest]
	return n, ok
}

func (l *LayerSizes) Put(digest string, size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sizes) >= maxLayerEntries {
		for k := range l.sizes {
			delete(l.sizes, k)
			if len(l.sizes) < maxLayerEntries/2 {
				break
			}
		}
	}
	l.sizes[digest] = size
	l.dirty = true
}

// Flush writes the file atomically when something was added.
func (l *LayerSizes) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.dirty {
		return nil
	}
	data, err := json.Marshal(l.sizes)
	if err != nil {
		return err
	}
	if err := writeAtomic(l.path, data); err != nil {
		return err
	}
	l.dirty = false
	return nil
}

// writeAtomic replaces path with data: the file is whole or unchanged.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".stagescope-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
