package watch

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, opts Options) *Watcher {
	t.Helper()
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	<-w.Ready()
	return w
}

// next is the next batch, or nil after wait.
func next(w *Watcher, wait time.Duration) []string {
	select {
	case b := <-w.Changes():
		return b
	case <-time.After(wait):
		return nil
	}
}

func expect(t *testing.T, w *Watcher, want ...string) {
	t.Helper()
	got := next(w, 2*time.Second)
	if got == nil {
		t.Fatalf("no change told; want %v", want)
	}
	for _, p := range want {
		if !slices.Contains(got, p) {
			t.Fatalf("changes %v, want %s among them", got, p)
		}
	}
}

func quiet(t *testing.T, w *Watcher) {
	t.Helper()
	if got := next(w, 300*time.Millisecond); got != nil {
		t.Fatalf("changes %v, want none", got)
	}
}

func TestSaves(t *testing.T) {
	saves := map[string]func(t *testing.T, file string){
		"in place (VS Code)": func(t *testing.T, file string) {
			f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("FROM scratch\n")
			f.Close()
		},
		"rename over (atomic save)": func(t *testing.T, file string) {
			tmp := file + ".tmp.1234"
			write(t, tmp, "FROM scratch\n")
			if err := os.Rename(tmp, file); err != nil {
				t.Fatal(err)
			}
		},
		"backup moved away, written anew (vim)": func(t *testing.T, file string) {
			write(t, filepath.Join(filepath.Dir(file), "4913"), "")
			os.Remove(filepath.Join(filepath.Dir(file), "4913"))
			if err := os.Rename(file, file+"~"); err != nil {
				t.Fatal(err)
			}
			write(t, file, "FROM scratch\n")
			os.Remove(file + "~")
		},
		"temporary, old moved away, temporary moved in (JetBrains)": func(t *testing.T, file string) {
			write(t, file+"___jb_tmp___", "FROM scratch\n")
			if err := os.Rename(file, file+"___jb_old___"); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(file+"___jb_tmp___", file); err != nil {
				t.Fatal(err)
			}
			os.Remove(file + "___jb_old___")
		},
	}
	for name, save := range saves {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "Dockerfile")
			write(t, file, "FROM busybox\n")
			w := start(t, Options{Files: []string{file}})
			save(t, file)
			expect(t, w, file)
			quiet(t, w) // one save, one batch
			// The file is still followed after its inode was replaced.
			save(t, file)
			expect(t, w, file)
		})
	}
}

func TestBurstIsOneBatch(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	write(t, file, "FROM busybox\n")
	// A quiet period far longer than the pauses between saves: on a
	// loaded machine a 10 ms sleep may take far longer than 10 ms.
	w := start(t, Options{Files: []string{file}, Quiet: time.Second})
	for i := range 5 {
		write(t, file, "FROM busybox\n# "+string(rune('a'+i))+"\n")
		time.Sleep(10 * time.Millisecond)
	}
	if got := next(w, 10*time.Second); !slices.Equal(got, []string{file}) {
		t.Fatalf("changes %v, want one batch of %s", got, file)
	}
	if got := next(w, 2500*time.Millisecond); got != nil { // longer than Quiet
		t.Fatalf("a second batch %v, want one", got)
	}
}

func TestOtherFilesOfTheFolderAreNotTold(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	write(t, file, "FROM busybox\n")
	w := start(t, Options{Files: []string{file}})
	write(t, filepath.Join(dir, "main.go"), "package main\n")
	write(t, filepath.Join(dir, ".Dockerfile.swp"), "x")
	quiet(t, w)
}

func TestDeletedAndCreatedAgain(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	write(t, file, "FROM busybox\n")
	w := start(t, Options{Files: []string{file}})
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	expect(t, w, file)
	write(t, file, "FROM scratch\n")
	expect(t, w, file)
	write(t, file, "FROM scratch\nENV A=1\n")
	expect(t, w, file)
}

func TestTrees(t *testing.T) {
	ctx := t.TempDir()
	write(t, filepath.Join(ctx, "src", "a", "main.go"), "package main\n")
	write(t, filepath.Join(ctx, "node_modules", "x", "index.js"), "")
	w := start(t, Options{Trees: []string{ctx}, Skip: func(d string) bool { return filepath.Base(d) == "node_modules" }})
	if n, all := w.Dirs(); n != 3 || !all {
		t.Errorf("Dirs() = %d, %v; want 3 (the context, src, src/a), true", n, all)
	}
	deep := filepath.Join(ctx, "src", "a", "main.go")
	write(t, deep, "package main\n// changed\n")
	expect(t, w, deep)
	// A folder made after the start is watched too.
	made := filepath.Join(ctx, "src", "b")
	if err := os.Mkdir(made, 0o755); err != nil {
		t.Fatal(err)
	}
	expect(t, w, made)
	write(t, filepath.Join(made, "b.go"), "package b\n")
	expect(t, w, filepath.Join(made, "b.go"))
	// A skipped folder is not.
	write(t, filepath.Join(ctx, "node_modules", "x", "index.js"), "changed")
	quiet(t, w)
}

func TestTreesBounded(t *testing.T) {
	ctx := t.TempDir()
	for _, d := range []string{"a", "b", "c", "a/1", "a/2"} {
		write(t, filepath.Join(ctx, d, "f"), "")
	}
	w := start(t, Options{Trees: []string{ctx}, MaxDirs: 3})
	if n, all := w.Dirs(); n != 3 || all {
		t.Errorf("Dirs() = %d, %v; want 3, false", n, all)
	}
	// Breadth first: the top folders are the ones watched.
	write(t, filepath.Join(ctx, "b", "f"), "changed")
	expect(t, w, filepath.Join(ctx, "b", "f"))
	write(t, filepath.Join(ctx, "a", "1", "f"), "changed")
	quiet(t, w)
}

// Closing ends the watcher's goroutine and its inotify instance: a
// hundred watchers opened and closed leave nothing behind.
func TestCloseLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	write(t, file, "FROM busybox\n")
	before := settled()
	fds := openFiles(t)
	for range 100 {
		w, err := New(Options{Files: []string{file}, Trees: []string{dir}})
		if err != nil {
			t.Fatal(err)
		}
		<-w.Ready()
		write(t, file, "FROM scratch\n")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-w.Changes(); ok {
			// a batch may have been on its way; the channel closes after it
			for range w.Changes() {
			}
		}
	}
	if after := settled(); after > before {
		t.Errorf("%d goroutines after 100 watchers, %d before", after, before)
	}
	if after := openFiles(t); after > fds {
		t.Errorf("%d open files after 100 watchers, %d before", after, fds)
	}
}

func settled() int {
	n := runtime.NumGoroutine()
	for range 20 {
		time.Sleep(5 * time.Millisecond)
		n = min(n, runtime.NumGoroutine())
	}
	return n
}

func openFiles(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(entries)
}

func TestContextIgnoreAndSources(t *testing.T) {
	ctx := t.TempDir()
	write(t, filepath.Join(ctx, ".dockerignore"), "*.log\nnode_modules\n!keep.log\n")
	c, err := ReadContext(ctx, filepath.Join(ctx, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{"a.log": true, "keep.log": false, "node_modules/x/y.js": true, "src/main.go": false} {
		if got := c.Ignored(rel); got != want {
			t.Errorf("Ignored(%s) = %v, want %v", rel, got, want)
		}
	}
	// A folder is skipped whole unless a "!" pattern may reach below it.
	write(t, filepath.Join(ctx, ".dockerignore"), "*.log\nnode_modules\n!keep.log\nvendor\n!vendor/keep/*.go\nbuild*\n!b*/x\n")
	c, _ = ReadContext(ctx, filepath.Join(ctx, "Dockerfile"))
	for rel, want := range map[string]bool{"node_modules": true, "vendor": false, "vendor/keep": false, "vendor/other": true, "build": false, "src": false} {
		if got := c.SkipDir(filepath.Join(ctx, rel)); got != want {
			t.Errorf("SkipDir(%s) = %v, want %v", rel, got, want)
		}
	}
	write(t, filepath.Join(ctx, ".dockerignore"), "*.log\nnode_modules\n!keep.log\n")
	// <Dockerfile>.dockerignore comes first.
	write(t, filepath.Join(ctx, "Dockerfile.dockerignore"), "src\n")
	c, _ = ReadContext(ctx, filepath.Join(ctx, "Dockerfile"))
	if !c.Ignored("src/main.go") || c.Ignored("a.log") {
		t.Errorf("Dockerfile.dockerignore does not apply: %s", c.IgnoreFile)
	}
	s := NewSources([]string{"go.mod", "./cmd/", "*.txt"})
	for rel, want := range map[string]bool{"go.mod": true, "cmd/app/main.go": true, "notes.txt": true, "README.md": false, "cmdx": false} {
		if got := s.Reads(rel); got != want {
			t.Errorf("Reads(%s) = %v, want %v", rel, got, want)
		}
	}
	if !NewSources([]string{"."}).Reads("anything/at/all") || !NewSources([]string{"$SRC"}).Reads("x") {
		t.Error("the whole context, or a source with a variable, reads every file")
	}
	if NewSources(nil).Reads("x") {
		t.Error("no source reads nothing")
	}
}
