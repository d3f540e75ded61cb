package history

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"
)

// LayerFiles is a folder of what `stagescope files` read, beside the
// records database: the entries of each layer by its DiffID and the
// config of each image by its digest, one file each (gzipped JSON and
// JSON, written by the engine). Both are addressed by content, so a file
// never goes stale; the folder is kept under MaxLayerFilesBytes by
// removing the files used least recently. It implements engine.FileMemo.
type LayerFiles struct {
	dir  string
	mu   sync.Mutex
	puts int
}

// MaxLayerFilesBytes bounds the folder.
const MaxLayerFilesBytes = 256 << 20

// OpenLayerFiles is the folder beside the records database (made when
// something is first kept).
func (s *Store) OpenLayerFiles() *LayerFiles {
	return &LayerFiles{dir: filepath.Join(filepath.Dir(s.path), "layer-files")}
}

var unsafeKey = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func (l *LayerFiles) file(key string) string {
	return filepath.Join(l.dir, unsafeKey.ReplaceAllString(key, "_"))
}

// Get reads what is kept under key, and marks it used.
func (l *LayerFiles) Get(key string) ([]byte, bool) {
	p := l.file(key)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now)
	return data, true
}

// Put keeps data under key (atomically: a reader sees the whole file or
// none), then trims the folder now and then.
func (l *LayerFiles) Put(key string, data []byte) {
	if err := writeAtomic(l.file(key), data); err != nil {
		return // a memo that cannot be written only costs time later
	}
	l.mu.Lock()
	l.puts++
	trim := l.puts%16 == 1
	l.mu.Unlock()
	if trim {
		l.trim(MaxLayerFilesBytes)
	}
}

// trim removes the least recently used files until the folder holds at
// most three quarters of max, when it holds more than max.
func (l *LayerFiles) trim(max int64) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		size int64
		used time.Time
	}
	var files []file
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		files = append(files, file{filepath.Join(l.dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	if total <= max {
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	for _, f := range files {
		if total <= max/4*3 {
			return
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
}
