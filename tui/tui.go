// Package tui is stagescope's interactive face: the stage graph of a
// Dockerfile, live builds of the target the user picks, their logs, and the
// size comparison of the images built.
//
// The package renders state and sends intents. Everything that talks to an
// engine runs in goroutines the package owns; results come back as
// messages that carry the ID of the build they belong to, so that messages
// of a canceled build are dropped.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"github.com/stagescope/stagescope/pipeline"
)

// MinWidth and MinHeight are the smallest terminal the TUI draws in.
const (
	MinWidth  = 60
	MinHeight = 15
)

// Options configure the TUI.
type Options struct {
	// Project is the Dockerfile the TUI explores and builds. Unless its
	// AllowWide is set, the first build asks before sending a context that
	// is the filesystem root or the home folder.
	Project *pipeline.Project
	// Projects, when set, are several Dockerfiles opened together (the
	// first is Project): the compare screen shows every target of every
	// one of them, each row naming its file (story.go).
	Projects []*pipeline.Project
	// Connect connects to an engine (pipeline.Connect); it is called off
	// the UI loop, at start and again whenever the user asks for a build
	// without an engine.
	Connect func(ctx context.Context) (pipeline.Session, error)
	// History keeps sizes between runs; it may be nil. When it is also a
	// RecordStore (internal/history.Store), the History screen lists its
	// records of the Dockerfile and opens them on the timeline.
	History pipeline.History
	// Target is the stage focused at start ("" for the last stage).
	Target string
	// NoCache starts with the build cache disabled.
	NoCache bool
	// Watch starts with auto-rebuild on (w toggles it): a save of the
	// Dockerfile, or of a file the focused target copies, builds it again.
	Watch bool
	// Dark says the terminal background is dark; the TUI asks the terminal
	// and switches when it answers.
	Dark bool
	// Now is the clock (time.Now when nil); tests pin it.
	Now func() time.Time
	// Stats, when set, gets one JSON line of process statistics after each
	// build ends (see DebugStats): a test hook for leak tests, never shown.
	Stats io.Writer
}

// DebugStats is what Options.Stats receives after each build.
type DebugStats struct {
	Builds     int    `json:"builds"`
	Goroutines int    `json:"goroutines"`
	RSSBytes   int64  `json:"rssBytes"`
	HeapBytes  uint64 `json:"heapBytes"`
	Outcome    string `json:"outcome"`
	// SolveCPUSeconds is the process's CPU time (user and system) from the
	// start of the build to the end of its status stream: what following
	// the live solve cost, measuring the image afterwards excluded.
	SolveCPUSeconds float64 `json:"solveCPUSeconds"`
}

// processCPU is the CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func processStats(builds int, outcome string) DebugStats {
	runtime.GC() // live heap, not what awaits collection
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := DebugStats{Builds: builds, Goroutines: settledGoroutines(), HeapBytes: ms.HeapAlloc, Outcome: outcome}
	// The second field of statm is the resident set, in pages.
	if data, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 1 {
			if pages, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				st.RSSBytes = pages * int64(os.Getpagesize())
			}
		}
	}
	return st
}

// settledGoroutines is the lowest goroutine count seen over about 20 ms.
// A single reading also counts goroutines that live for a moment: Bubble
// Tea runs each pending timer (tea.Tick) and each batch of commands in a
// goroutine of its own, and whether one is waiting at the instant of the
// reading varies from build to build, while a leak stays in every reading.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 10 {
		time.Sleep(2 * time.Millisecond)
		n = min(n, runtime.NumGoroutine())
	}
	return n
}

// ErrNotATerminal is returned by Run when standard input or output is not a
// terminal.
var ErrNotATerminal = errors.New("the interactive view needs a terminal; in scripts use stagescope graph, stagescope build or stagescope compare")

// ErrInterrupted is returned by Run when the user left with ctrl+c.
var ErrInterrupted = errors.New("interrupted")

// IsTerminal reports whether r and w are both terminals.
func IsTerminal(r io.Reader, w io.Writer) bool {
	in, ok1 := r.(*os.File)
	out, ok2 := w.(*os.File)
	return ok1 && ok2 && term.IsTerminal(in.Fd()) && term.IsTerminal(out.Fd())
}

// runProgram runs p. A panic of Bubble Tea's own loop, outside the
// guarded model, is kept in box and the program stopped, which restores the
// terminal.
func runProgram(p *tea.Program, box *crashBox) (err error) {
	defer func() {
		if r := recover(); r != nil {
			box.record(r)
			p.Kill()
		}
	}()
	_, err = p.Run()
	return err
}

// Run runs the TUI until the user quits. It returns ErrNotATerminal without
// drawing anything when in or out is not a terminal.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) error {
	if !IsTerminal(in, out) {
		return ErrNotATerminal
	}
	m := New(opts)
	// At most 25 new frames a second: two and a half times the rate of
	// buildctl's tty progress (one redraw per 100 ms). Every new frame is
	// parsed cell by cell by the renderer, which is most of what drawing a
	// build costs (BenchmarkBuildFrame, BenchmarkTUILogHeavyCPU). The
	// renderer itself ticks at its highest rate, so that a frame after a
	// quiet spell (the first one, a key press) is on the screen within
	// 8 ms rather than at the next 40 ms tick (BenchmarkTUIFirstFrame);
	// paced keeps to the 25 frames, and a tick without a new frame costs
	// the renderer one string comparison.
	//
	// Bubble Tea's own panic catching prints a Go stack trace; the guard
	// catches panics instead (crash.go), and Run returns them as a
	// *crash.Error once the program has restored the terminal.
	p := tea.NewProgram(&paced{m: guard{m: m, box: m.crash}, every: 40 * time.Millisecond},
		tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(120), tea.WithoutCatchPanics())
	m.crash.setStop(p.Kill)
	err := runProgram(p, m.crash)
	m.shutdown()
	if bug := m.crash.crashed(); bug != nil {
		return bug
	}
	if err == nil && m.interruptedQuit {
		return ErrInterrupted
	}
	// A signal from outside (SIGINT or SIGTERM: kill, systemctl, a
	// closing terminal emulator) cancels ctx. Bubble Tea sees the signal
	// too and may end the program as if the user had quit: the signal
	// decides, so the exit code says interrupted either way.
	if (err == nil || errors.Is(err, tea.ErrProgramKilled)) && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// paced draws its model at most once every every: a view asked for sooner
// is the last one, and a frame message brings the change when the time
// comes.
type paced struct {
	m     tea.Model
	every time.Duration

	view    tea.View
	drawn   time.Time // when view was made; zero until it had content
	hold    bool      // the model changed within every of drawn
	waiting bool      // a pacedFrameMsg is on its way
}

// pacedFrameMsg says the time for the next frame has come.
type pacedFrameMsg struct{}

func (p *paced) Init() tea.Cmd { return p.m.Init() }

func (p *paced) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(pacedFrameMsg); ok {
		p.waiting, p.hold = false, false
		return p, nil
	}
	_, cmd := p.m.Update(msg)
	wait := p.every - time.Since(p.drawn)
	p.hold = !p.drawn.IsZero() && wait > 0
	if p.hold && !p.waiting {
		p.waiting = true
		cmd = tea.Batch(cmd, tea.Tick(wait, func(time.Time) tea.Msg { return pacedFrameMsg{} }))
	}
	return p, cmd
}

func (p *paced) View() tea.View {
	if p.hold {
		return p.view
	}
	p.view = p.m.View()
	if p.view.Content != "" {
		p.drawn = time.Now()
	}
	return p.view
}
