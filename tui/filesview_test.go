package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/filetree"
	"github.com/stagescope/stagescope/internal/fakes"
)

// filesSession is the recorded hello builds with the files of their
// images.
type filesSession struct {
	*fakes.Session
	images map[string]*engine.ImageFiles
}

func (s filesSession) Files(_ context.Context, res *engine.Result, _ func(int64, int64)) (*engine.ImageFiles, error) {
	f, ok := s.images[res.Image]
	if !ok {
		return nil, fmt.Errorf("no files recorded for %s", res.Image)
	}
	// Attribute writes into the layers: each reading gets its own.
	size := *f.Size
	size.Layers = append([]buildgraph.Layer(nil), f.Size.Layers...)
	return &engine.ImageFiles{Ref: f.Ref, Size: &size, Layers: f.Layers}, nil
}

func file(p string, size int64) filetree.Entry {
	return filetree.Entry{Path: p, Kind: filetree.File, Size: size, Mode: 0o644}
}
func folder(p string) filetree.Entry { return filetree.Entry{Path: p, Kind: filetree.Dir, Mode: 0o755} }

func layerOf(entries ...filetree.Entry) engine.LayerFiles {
	l := &filetree.Layer{Entries: entries}
	for _, e := range entries {
		l.Size += e.Size
	}
	return engine.LayerFiles{DiffID: "sha256:" + strings.Repeat("0", 64), Files: l}
}

func helloFilesSession(t testing.TB) filesSession {
	base := helloSession(t)
	sizes := base.Sizes
	return filesSession{Session: base, images: map[string]*engine.ImageFiles{
		"stagescope/hello-final:builder": {Size: sizes["stagescope/hello-final:builder"], Layers: []engine.LayerFiles{
			layerOf(folder("usr"), folder("usr/local"), folder("usr/local/go"), folder("usr/local/go/bin"),
				file("usr/local/go/bin/go", 14_000_000), file("usr/local/go/bin/gofmt", 3_000_000),
				folder("usr/local/go/pkg"), file("usr/local/go/pkg/tool.a", 200_000_000), folder("usr/local/go/src"), file("usr/local/go/src/all.bash", 57_000_000),
				folder("etc"), file("etc/passwd", 900), filetree.Entry{Path: "etc/esc\x1b[31mred", Kind: filetree.File, Size: 5},
				filetree.Entry{Path: "etc/bad\xffname", Kind: filetree.File, Size: 7}),
			layerOf(folder("app")),
			layerOf(folder("app"), file("app/hellodocker.go", 1_200)),
			layerOf(folder("app"), file("app/hello", 2_400_000), folder("root"), folder("root/.cache"), file("root/.cache/go-build", 6_998_800),
				filetree.Entry{Path: "etc/passwd", Kind: filetree.Whiteout}),
		}},
		"stagescope/hello-final:stage-1": {Size: sizes["stagescope/hello-final:stage-1"], Layers: []engine.LayerFiles{
			layerOf(folder("app")),
			layerOf(folder("app"), file("app/hello", 2_400_000)),
		}},
	}}
}

// runFiles applies a command and what follows from it, as the program
// would, for the messages of the files screen.
func runFiles(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			runFiles(m, c)
		}
	case openFilesMsg, filesRequestMsg, filesLoadedMsg, filesProgressMsg, noticeMsg:
		_, next := m.Update(msg)
		runFiles(m, next)
	}
}

func pressFiles(t testing.TB, m *Model, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		runFiles(m, cmd)
	}
}

// bothBuilt builds builder, then the final stage, then opens compare.
func bothBuilt(t *testing.T, m *Model) {
	press(t, m, "k", "enter")
	drain(t, m, -1)
	press(t, m, "esc", "j", "enter")
	drain(t, m, -1)
	press(t, m, "c")
}

func TestFilesScreens(t *testing.T) {
	opts := func(t *testing.T) modelOpts {
		return modelOpts{proj: project(t, "hello-final", "golang"), session: helloFilesSession(t)}
	}
	tests := []struct {
		name string
		do   func(t *testing.T, m *Model)
	}{
		// The final image: its one file, copied from builder.
		{"files", func(t *testing.T, m *Model) {
			bothBuilt(t, m)
			pressFiles(t, m, "f", "enter")
		}},
		// builder: the toolchain, odd names quoted, what a later layer hid.
		{"files-builder", func(t *testing.T, m *Model) {
			bothBuilt(t, m)
			pressFiles(t, m, "k", "f", "enter", "j", "j", "enter", "j", "enter")
		}},
		// What builder holds that the final image leaves behind.
		{"files-diff", func(t *testing.T, m *Model) {
			bothBuilt(t, m)
			pressFiles(t, m, "f", "d", "enter")
		}},
		// Only what one stage put in, by name; a path filter.
		{"files-stage-filter", func(t *testing.T, m *Model) {
			bothBuilt(t, m)
			pressFiles(t, m, "k", "f", "S", "S", "s", "/", "g", "o", "enter")
		}},
		// A layer focused on the compare screen, and what it added.
		{"compare-layer-focused", func(t *testing.T, m *Model) {
			bothBuilt(t, m)
			pressFiles(t, m, "k", "tab", "j")
		}},
		{"files-layer", func(t *testing.T, m *Model) {
			bothBuilt(t, m)
			pressFiles(t, m, "k", "tab", "j", "f")
		}},
		{"files-none", func(t *testing.T, m *Model) { pressFiles(t, m, "c", "f") }},
		// What later layers hid.
		{"files-hidden", func(t *testing.T, m *Model) {
			bothBuilt(t, m)
			pressFiles(t, m, "k", "f", "h")
		}},
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s-%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				m, _ := newModel(t, opts(t), size[0], size[1])
				tt.do(t, m)
				out := screenText(m)
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// Names with escape sequences or bytes that are not UTF-8 never reach the
// terminal as they are.
func TestFilesNamesNeutralised(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloFilesSession(t)}, 120, 40)
	bothBuilt(t, m)
	pressFiles(t, m, "k", "f", "j", "j", "j", "enter") // builder, etc/ opened
	frame := m.render()
	if strings.Contains(frame, "\x1b[31mred") || strings.ContainsRune(frame, 0xff) {
		t.Errorf("a file name's escape sequence or invalid byte reached the frame:\n%q", frame)
	}
	if out := screenText(m); !strings.Contains(out, `"esc\x1b[31mred"`) || !strings.Contains(out, `"bad\xffname"`) {
		t.Errorf("the odd names are not shown quoted:\n%s", out)
	}
}

// A filter kept with enter: esc clears it first, then leaves the screen.
func TestFilesBack(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloFilesSession(t)}, 120, 40)
	bothBuilt(t, m)
	pressFiles(t, m, "k", "f", "/", "h", "e", "l", "enter")
	v := screenOf[*FilesView](m)
	if len(v.rows()) == 0 || v.filter.Value() != "hel" {
		t.Fatalf("filter %q, %d rows", v.filter.Value(), len(v.rows()))
	}
	pressFiles(t, m, "esc")
	if v.filter.Value() != "" || m.focused().Title() != filesTitle {
		t.Errorf("esc: filter %q, screen %s", v.filter.Value(), m.focused().Title())
	}
	pressFiles(t, m, "esc")
	if m.focused().Title() == filesTitle {
		t.Error("esc did not leave the files screen")
	}
}

// f on a layer that wrote no files says so and stays; the focused layer
// stops at either end of the list and goes back to the newest when another
// target is focused.
func TestCompareLayerFocus(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloFilesSession(t)}, 80, 15)
	bothBuilt(t, m)
	pressFiles(t, m, "tab", "f") // stage-1's ENTRYPOINT
	if m.focused().Title() != compareTitle || !strings.Contains(m.notice, "wrote no files") {
		t.Fatalf("f on ENTRYPOINT: screen %s, notice %q", m.focused().Title(), m.notice)
	}
	v := screenOf[*CompareView](m)
	pressFiles(t, m, "k", "j", "j", "j", "j", "j")
	if v.layerCursor != 2 {
		t.Errorf("layer cursor %d after moving past the last of 3 layers", v.layerCursor)
	}
	// 15 rows leave the pane two layers: the oldest focused is in sight.
	if out := screenText(m); !strings.Contains(out, "▶        0B  WORKDIR /app") {
		t.Errorf("the focused layer is not in sight:\n%s", out)
	}
	pressFiles(t, m, "f")
	fv := screenOf[*FilesView](m)
	if m.focused().Title() != filesTitle || fv.layer != 0 || fv.target != "stage-1" {
		t.Errorf("f on WORKDIR: screen %s, layer %d, target %s", m.focused().Title(), fv.layer, fv.target)
	}
	pressFiles(t, m, "esc") // the layer limit goes first
	if fv.layer != -1 || m.focused().Title() != filesTitle {
		t.Errorf("esc: layer %d, screen %s", fv.layer, m.focused().Title())
	}
}

// slowFiles reads an image in two halves: it tells the first, then waits
// for release.
type slowFiles struct {
	filesSession
	release chan struct{}
}

func (s slowFiles) Files(ctx context.Context, res *engine.Result, progress func(int64, int64)) (*engine.ImageFiles, error) {
	progress(0, 300_000_000)
	progress(12_000_000, 300_000_000)
	<-s.release
	progress(300_000_000, 300_000_000)
	return s.filesSession.Files(ctx, res, progress)
}

// While a large image is read cold, the screen says how much of it.
func TestFilesReadingProgress(t *testing.T) {
	sess := slowFiles{filesSession: helloFilesSession(t), release: make(chan struct{})}
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: sess}, 100, 30)
	bothBuilt(t, m)
	cmd := func(c tea.Cmd) tea.Cmd { _, next := m.Update(c()); return next }
	_, next := m.Update(keyMsg("f"))
	next = cmd(cmd(next)) // openFilesMsg, then filesRequestMsg: the reading starts
	batch, ok := next().(tea.BatchMsg)
	if !ok || len(batch) != 2 {
		t.Fatalf("reading is not a batch of the read and its progress: %T", batch)
	}
	loaded := make(chan tea.Msg, 1)
	go func() { loaded <- batch[0]() }()
	wait := batch[1]
	var p filesProgressMsg
	for p.done != 12_000_000 {
		msg, ok := wait().(filesProgressMsg)
		if !ok {
			t.Fatal("no progress before the reading ended")
		}
		p = msg
		_, wait = m.Update(msg)
	}
	if out := screenText(m); !strings.Contains(out, "Reading the layers of stage-1… 12MB of 300MB") {
		t.Errorf("no figure while reading:\n%s", out)
	}
	close(sess.release)
	m.Update(<-loaded)
	for wait != nil {
		msg := wait()
		if msg == nil {
			break
		}
		_, wait = m.Update(msg)
	}
	if out := screenText(m); !strings.Contains(out, "Files of stage-1") {
		t.Errorf("not read:\n%s", out)
	}
}
