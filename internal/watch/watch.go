// Package watch follows files and folder trees on disk with fsnotify and
// tells of their changes in batches: a burst of writes (an editor's save is
// often several: a temporary file renamed over the file, a backup moved
// away, the file written in place) is one batch once the files have been
// quiet for a moment.
//
// Files are watched through their folders, not themselves: an editor that
// saves by rename (vim, JetBrains, VS Code's atomic saves) replaces the
// file's inode, which a watch on the file would lose, and a file deleted
// and created again is followed the same way. Trees (a build context) are
// watched folder by folder, since inotify is not recursive, up to a bound
// on the number of folders: past it, the folders deeper in the walk are
// not watched and their changes are not seen (Watcher.Dirs says so).
package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultQuiet is how long the files must be quiet before a batch is told.
const DefaultQuiet = 50 * time.Millisecond

// DefaultMaxDirs is how many folders of the trees are watched at most.
// Each is an inotify watch; Linux allows 8,192 per user on older kernels,
// shared by every program the user runs.
const DefaultMaxDirs = 1000

// Options say what to watch.
type Options struct {
	// Files are followed by name: a write, a creation (a rename over it),
	// a removal or a rename away is a change of the file.
	Files []string
	// Trees are folders whose files are followed, with every folder below
	// them that Skip does not skip, up to MaxDirs folders in all.
	Trees []string
	// Skip, when set, says a folder of a tree is not watched (a folder
	// .dockerignore excludes). It is called with the folder's path.
	Skip func(dir string) bool
	// MaxDirs bounds the folders of the trees (DefaultMaxDirs when 0).
	MaxDirs int
	// Quiet is how long files must be quiet before their batch is told
	// (DefaultQuiet when 0).
	Quiet time.Duration
}

// Watcher tells of changes to the files and trees it was given.
type Watcher struct {
	opts    Options
	fsw     *fsnotify.Watcher
	files   map[string]bool // clean absolute paths
	trees   []string        // clean absolute paths
	changes chan []string
	errs    chan error
	done    chan struct{}
	ended   chan struct{}
	ready   chan struct{}
	once    sync.Once

	mu      sync.Mutex
	dirs    map[string]bool // folders watched for the trees
	full    bool            // every folder of the trees is watched
	watched map[string]bool // every folder watched
}

// New starts watching. The trees are walked in the background: Ready is
// closed when every folder of them is watched.
func New(opts Options) (*Watcher, error) {
	if opts.MaxDirs <= 0 {
		opts.MaxDirs = DefaultMaxDirs
	}
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &Watcher{
		opts: opts, fsw: fsw, files: map[string]bool{},
		changes: make(chan []string), errs: make(chan error, 1),
		done: make(chan struct{}), ended: make(chan struct{}), ready: make(chan struct{}),
		dirs: map[string]bool{}, full: true, watched: map[string]bool{},
	}
	for _, f := range opts.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			fsw.Close()
			return nil, err
		}
		w.files[abs] = true
		if err := w.watch(filepath.Dir(abs)); err != nil {
			fsw.Close()
			return nil, err
		}
	}
	for _, t := range opts.Trees {
		abs, err := filepath.Abs(t)
		if err != nil {
			fsw.Close()
			return nil, err
		}
		w.trees = append(w.trees, abs)
	}
	go w.loop()
	return w, nil
}

// Changes delivers the paths (clean and absolute, sorted) that changed
// in one burst. It is closed when the watcher is.
func (w *Watcher) Changes() <-chan []string { return w.changes }

// Errors delivers what the watcher could not do (the kernel's event queue
// overflowed, a folder could not be watched); at most one waits.
func (w *Watcher) Errors() <-chan error { return w.errs }

// Ready is closed once the trees' folders are watched.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Dirs is how many folders of the trees are watched, and whether that is
// all of them (false: the bound was reached and deeper folders are not).
func (w *Watcher) Dirs() (n int, all bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.dirs), w.full
}

// Close stops watching and waits until the watcher's goroutine has ended.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.done)
		<-w.ended
		err = w.fsw.Close()
	})
	return err
}

func (w *Watcher) watch(dir string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched[dir] {
		return nil
	}
	if err := w.fsw.Add(dir); err != nil {
		return err
	}
	w.watched[dir] = true
	return nil
}

// addTree watches dir and the folders below it, breadth first (the
// folders nearest the top are the ones kept past the bound).
func (w *Watcher) addTree(dir string) {
	queue := []string{dir}
	for len(queue) > 0 {
		select {
		case <-w.done:
			return
		default:
		}
		d := queue[0]
		queue = queue[1:]
		if w.opts.Skip != nil && w.opts.Skip(d) {
			continue
		}
		w.mu.Lock()
		if w.dirs[d] {
			w.mu.Unlock()
			continue
		}
		if len(w.dirs) >= w.opts.MaxDirs {
			w.full = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		if err := w.watch(d); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				// The kernel's limit of watches per user is reached.
				w.mu.Lock()
				w.full = false
				n := len(w.dirs)
				w.mu.Unlock()
				w.report(fmt.Errorf("the system's limit of inotify watches (fs.inotify.max_user_watches) was reached after %d folders of %s; changes deeper are not seen", n, dir))
				return
			}
			if !errors.Is(err, fs.ErrNotExist) {
				w.report(err)
			}
			continue
		}
		w.mu.Lock()
		w.dirs[d] = true
		w.mu.Unlock()
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() {
				queue = append(queue, filepath.Join(d, e.Name()))
			}
		}
	}
}

// forget drops a folder that is gone from the folders watched, so that
// one created again under its name is watched again.
func (w *Watcher) forget(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dirs[dir] {
		delete(w.dirs, dir)
		delete(w.watched, dir)
	}
}

func (w *Watcher) report(err error) {
	select {
	case w.errs <- err:
	default:
	}
}

// inTree reports whether path is in one of the trees.
func (w *Watcher) inTree(path string) bool {
	for _, t := range w.trees {
		if path == t || strings.HasPrefix(path, t+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func (w *Watcher) loop() {
	defer close(w.ended)
	defer close(w.changes)
	for _, t := range w.trees {
		w.addTree(t)
	}
	close(w.ready)
	pending := map[string]bool{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-w.done:
			return
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.report(err)
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue // the contents did not change
			}
			path := filepath.Clean(ev.Name)
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				w.forget(path) // the kernel dropped its watch, if it was a folder
			}
			switch {
			case w.files[path]:
			case w.inTree(path):
				if ev.Has(fsnotify.Create) {
					if st, err := os.Lstat(path); err == nil && st.IsDir() {
						w.addTree(path)
					}
				}
			default:
				continue // another file in a followed file's folder
			}
			pending[path] = true
			timer.Reset(w.opts.Quiet)
		case <-timer.C:
			batch := make([]string, 0, len(pending))
			for p := range pending {
				batch = append(batch, p)
			}
			slices.Sort(batch)
			clear(pending)
			select {
			case w.changes <- batch:
			case <-w.done:
				return
			}
		}
	}
}
