package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/pipeline"
)

// driver runs a model's commands as Bubble Tea would, each in a goroutine
// of its own, and hands their messages to the model on the test's
// goroutine.
type driver struct {
	t    testing.TB
	m    *Model
	msgs chan tea.Msg
}

func newDriver(t testing.TB, m *Model) *driver {
	return &driver{t: t, m: m, msgs: make(chan tea.Msg, 256)}
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				d.run(c)
			}
			return
		}
		if msg != nil {
			d.msgs <- msg
		}
	}()
}

// until hands the model messages until done holds; false after wait.
func (d *driver) until(wait time.Duration, done func() bool) bool {
	d.t.Helper()
	deadline := time.After(wait)
	for !done() {
		select {
		case msg := <-d.msgs:
			_, cmd := d.m.Update(msg)
			d.run(cmd)
		case <-deadline:
			return false
		}
	}
	return true
}

// for hands the model messages for a while.
func (d *driver) settle(wait time.Duration) { d.until(wait, func() bool { return false }) }

// save writes path as an editor that saves by rename does.
func save(t testing.TB, path, text string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// followModel opens the TUI on a loaded project and starts following it.
func followModel(t testing.TB, proj *pipeline.Project, o modelOpts, w, h int) (*Model, *driver) {
	t.Helper()
	o.proj = proj
	m, _ := newModel(t, o, w, h)
	d := newDriver(t, m)
	d.run(m.startFollowing())
	<-m.watcher.Ready()
	return m, d
}

func TestSaveRedrawsTheGraph(t *testing.T) {
	proj := loadedProject(t, "failing", "busybox")
	m, d := followModel(t, proj, modelOpts{}, 160, 48)
	press(t, m, "k") // test → base
	if f := m.graph().Focused(); f == nil || f.Name != "base" {
		t.Fatalf("focused %v, want base", f)
	}
	src := read(t, proj.Dockerfile)
	saved := time.Now()
	save(t, proj.Dockerfile, "FROM busybox AS lint\nRUN echo lint\n\n"+src+"\nFROM test AS more\nRUN echo more\n")
	if !d.until(2*time.Second, func() bool { return len(m.opts.Project.Graph.Stages) == 4 }) {
		t.Fatalf("the graph was not redrawn:\n%s", screenText(m))
	}
	// How soon is BenchmarkSaveRedraw's to say: a timed test fails on a
	// busy machine.
	t.Logf("graph redrawn %v after the save", time.Since(saved))
	if f := m.graph().Focused(); f == nil || f.Name != "base" {
		t.Errorf("focused %v after the save, want base still", f)
	}
	got := screenText(m)
	for _, want := range []string{"lint", "more"} {
		if !strings.Contains(got, want) {
			t.Errorf("the graph does not show stage %s:\n%s", want, got)
		}
	}
}

func TestBrokenSaveKeepsTheGraph(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			// The bar names the Dockerfile as the user gave it: here
			// "Dockerfile", in the current folder.
			src := read(t, filepath.Join(fakes.StatusDir, "failing", "Dockerfile"))
			wd, err := os.Getwd()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			t.Chdir(dir)
			if err := os.WriteFile("Dockerfile", []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir("bases", 0o755); err != nil {
				t.Fatal(err)
			}
			proj, err := pipeline.Load(pipeline.Input{Contexts: []string{"busybox=bases"}})
			if err != nil {
				t.Fatal(err)
			}
			m, d := followModel(t, proj, modelOpts{}, size.w, size.h)
			good := read(t, "Dockerfile")
			save(t, "Dockerfile", strings.Replace(good, "RUN echo never", "RUN echo never\nCOPPY . .", 1))
			if !d.until(2*time.Second, func() bool { return m.fileErr != nil }) {
				t.Fatalf("no error bar:\n%s", screenText(m))
			}
			if m.opts.Project != proj {
				t.Error("the graph is not the last good one")
			}
			screen := screenText(m)
			os.Chdir(wd) // golden files are in the package's folder
			golden.RequireEqual(t, []byte(screen))
			os.Chdir(dir)
			if !strings.Contains(screenText(m), "Dockerfile:8") {
				t.Errorf("the bar does not say where:\n%s", screenText(m))
			}
			// enter builds nothing from a broken file.
			press(t, m, "enter")
			if m.run != nil {
				t.Error("a build started from a Dockerfile that does not parse")
			}
			save(t, "Dockerfile", good+"\nFROM test AS fixed\n")
			if !d.until(2*time.Second, func() bool { return m.fileErr == nil && len(m.opts.Project.Graph.Stages) == 3 }) {
				t.Fatalf("the bar stays after a good save:\n%s", screenText(m))
			}
		})
	}
}

func TestDeletedDockerfileIsFollowed(t *testing.T) {
	proj := loadedProject(t, "failing", "busybox")
	m, d := followModel(t, proj, modelOpts{}, 160, 48)
	src := read(t, proj.Dockerfile)
	if err := os.Remove(proj.Dockerfile); err != nil {
		t.Fatal(err)
	}
	if !d.until(2*time.Second, func() bool { return m.fileErr != nil }) {
		t.Fatal("a deleted Dockerfile is not said")
	}
	if got := screenText(m); !strings.Contains(got, "does not exist") {
		t.Errorf("the bar does not say the file is gone:\n%s", got)
	}
	if err := os.WriteFile(proj.Dockerfile, []byte(src+"FROM base AS again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !d.until(2*time.Second, func() bool { return m.fileErr == nil && len(m.opts.Project.Graph.Stages) == 3 }) {
		t.Fatalf("the Dockerfile created again is not followed:\n%s", screenText(m))
	}
}

// autoProject is hello-final's Dockerfile in the current folder (the test
// changes to a folder of its own) with the file its COPY reads, a
// .dockerignore and two files no build reads, and a session that replays
// its build, measuring its image as the recording did.
func autoProject(t *testing.T) (*pipeline.Project, *fakes.Session, string) {
	t.Helper()
	src := read(t, filepath.Join(fakes.StatusDir, "hello-final", "Dockerfile"))
	session := helloSession(t)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for name, text := range map[string]string{
		"Dockerfile": src, "hellodocker.go": "package main\n", ".dockerignore": "*.md\n",
		"README.md": "# hello\n", "notes.txt": "notes\n",
	} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir("bases", 0o755); err != nil {
		t.Fatal(err)
	}
	proj, err := pipeline.Load(pipeline.Input{Contexts: []string{"golang=bases"}})
	if err != nil {
		t.Fatal(err)
	}
	size := *session.Sizes["stagescope/hello-final:stage-1"]
	session.Sizes = map[string]*buildgraph.ImageSize{pipeline.DefaultTag(".", "stage-1"): &size}
	return proj, session, wd
}

func TestAutoRebuild(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			proj, session, wd := autoProject(t)
			m, _ := newModel(t, modelOpts{proj: proj, session: session}, size.w, size.h)
			d := newDriver(t, m)
			_, cmd := m.Update(keyMsg("w"))
			d.run(cmd)
			if !m.auto || m.watcher == nil {
				t.Fatal("w did not turn auto-rebuild on")
			}
			<-m.watcher.Ready()
			built := func(n int) func() bool {
				return func() bool { return m.nextID == n && !m.run.running() }
			}
			// A burst of 5 saves within 300 ms is one build.
			for i := range 5 {
				save(t, "hellodocker.go", fmt.Sprintf("package main\n// %d\n", i))
				d.settle(60 * time.Millisecond)
			}
			if !d.until(3*time.Second, built(1)) {
				t.Fatalf("no build after the saves:\n%s", screenText(m))
			}
			d.settle(500 * time.Millisecond)
			if m.nextID != 1 {
				t.Errorf("%d builds for a burst of saves, want 1", m.nextID)
			}
			// Files no COPY reads, or that .dockerignore leaves out, start none.
			save(t, "README.md", "# changed\n")
			save(t, "notes.txt", "changed\n")
			d.settle(700 * time.Millisecond)
			if m.nextID != 1 {
				t.Errorf("a save of a file the build does not read started a build (%d builds)", m.nextID)
			}
			// The next build's image is 1.2kB larger, in its COPY layer.
			for _, s := range session.Sizes {
				c := *s
				c.Layers = append([]buildgraph.Layer(nil), s.Layers...)
				c.Layers[1].Size += 1200
				c.Uncompressed += 1200
				*s = c
			}
			save(t, "hellodocker.go", "package main\n// bigger\n")
			if !d.until(3*time.Second, built(2)) {
				t.Fatalf("no second build:\n%s", screenText(m))
			}
			if m.focused().Title() != graphTitle {
				t.Errorf("auto-rebuild took the focus to %s", m.focused().Title())
			}
			screen := screenText(m)
			if !strings.Contains(screen, "Δ stage-1 +1.2kB (2.4MB)") {
				t.Errorf("no delta line:\n%s", screen)
			}
			dir, _ := os.Getwd()
			os.Chdir(wd)
			golden.RequireEqual(t, []byte(screen))
			os.Chdir(dir)
		})
	}
}

// A hundred saves, each read and drawn, with auto-rebuild turned on and
// off (a watcher of the whole context started and closed) each time,
// leave no goroutine and no inotify instance behind: the method of
// TestE2EHundredBuilds, the lowest count over a few readings
// (settledGoroutines) early and late.
func TestHundredReloadsLeakNothing(t *testing.T) {
	proj := loadedProject(t, "failing", "busybox")
	m, d := followModel(t, proj, modelOpts{}, 160, 48)
	src := read(t, proj.Dockerfile)
	fds := func() int {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		return len(entries)
	}
	const reloads = 100
	var goroutines, files []int
	for i := 1; i <= reloads; i++ {
		for range 2 {
			_, cmd := m.Update(keyMsg("w"))
			d.run(cmd)
		}
		<-m.watcher.Ready()
		stages := 2 + i%2
		text := src
		if i%2 == 1 {
			text += fmt.Sprintf("\nFROM base AS extra%d\n", i)
		}
		save(t, proj.Dockerfile, text)
		if !d.until(2*time.Second, func() bool { return len(m.opts.Project.Graph.Stages) == stages }) {
			t.Fatalf("reload %d was not drawn", i)
		}
		d.settle(5 * time.Millisecond) // the lint of the new graph
		goroutines = append(goroutines, settledGoroutines())
		files = append(files, fds())
	}
	t.Logf("goroutines after each reload: %v", goroutines)
	t.Logf("open files after each reload: %v", files)
	const slack = 2
	if base, end := slices.Min(goroutines[5:15]), slices.Min(goroutines[reloads-10:]); end > base+slack {
		t.Errorf("%d goroutines at the end, %d after the first reloads", end, base)
	}
	if base, end := slices.Min(files[5:15]), slices.Min(files[reloads-10:]); end > base {
		t.Errorf("%d open files at the end, %d after the first reloads: a watcher was not closed", end, base)
	}
}

// A save of .dockerignore builds (what is sent changed), and its new
// patterns decide which saves build next.
func TestDockerignoreSave(t *testing.T) {
	proj, session, _ := autoProject(t)
	if err := os.WriteFile(".dockerignore", []byte("*.md\nhellodocker.go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _ := newModel(t, modelOpts{proj: proj, session: session}, 160, 48)
	d := newDriver(t, m)
	_, cmd := m.Update(keyMsg("w"))
	d.run(cmd)
	<-m.watcher.Ready()
	built := func(n int) func() bool {
		return func() bool { return m.nextID == n && !m.run.running() }
	}
	save(t, "hellodocker.go", "package main\n// ignored\n")
	d.settle(700 * time.Millisecond)
	if m.nextID != 0 {
		t.Fatalf("a save of a file .dockerignore leaves out started a build")
	}
	save(t, ".dockerignore", "*.md\n")
	if !d.until(3*time.Second, built(1)) {
		t.Fatalf("a save of .dockerignore did not build:\n%s", screenText(m))
	}
	<-m.watcher.Ready()
	save(t, "hellodocker.go", "package main\n// sent now\n")
	if !d.until(3*time.Second, built(2)) {
		t.Fatalf("a file .dockerignore no longer leaves out did not build:\n%s", screenText(m))
	}
	d.settle(500 * time.Millisecond)
	if m.nextID != 2 {
		t.Errorf("%d builds, want 2", m.nextID)
	}
}

// A save keeps the build on screen, with the lines it was built from;
// the graph shows the file as saved.
func TestBuildStaysAfterSave(t *testing.T) {
	proj := loadedProject(t, "failing", "busybox")
	m, d := followModel(t, proj, modelOpts{session: failingSession(t)}, 160, 48)
	press(t, m, "enter")
	drain(t, m, -1)
	src := read(t, proj.Dockerfile)
	save(t, proj.Dockerfile, strings.Replace(src, `RUN echo "about to fail"`, `RUN echo "about to fial"`, 1))
	if !d.until(2*time.Second, func() bool { return m.opts.Project != proj }) {
		t.Fatal("the save was not read")
	}
	if got := screenText(m); !strings.Contains(got, `6 │ RUN echo "about to fail"`) {
		t.Errorf("the build screen does not keep the lines built:\n%s", got)
	}
	press(t, m, "esc")
	if got := screenText(m); !strings.Contains(got, "about to fial") {
		t.Errorf("the graph does not show the file saved:\n%s", got)
	}
}
