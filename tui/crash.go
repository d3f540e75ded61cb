package tui

import (
	"errors"
	"reflect"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/internal/crash"
)

// crashBox keeps the first panic of the TUI, wherever it happened (the
// model's Init, Update or View, a command, a goroutine the TUI started),
// and stops the program, which restores the terminal. Run then returns the
// panic as a *crash.Error.
type crashBox struct {
	mu   sync.Mutex
	err  *crash.Error
	stop func() // stops the program; set once it exists
}

// record keeps r, the value recover returned, unless a panic was kept
// already, and stops the program.
func (b *crashBox) record(r any) {
	b.mu.Lock()
	first := b.err == nil
	if first {
		b.err = crash.New(r)
	}
	stop := b.stop
	b.mu.Unlock()
	if first && stop != nil {
		go stop() // not from the UI loop, which stopping waits for
	}
}

// setStop sets how to stop the program.
func (b *crashBox) setStop(stop func()) {
	b.mu.Lock()
	b.stop = stop
	b.mu.Unlock()
}

// recover is deferred directly by a goroutine the TUI starts.
func (b *crashBox) recover() {
	if r := recover(); r != nil {
		b.record(r)
	}
}

// crashed returns the panic kept, nil if none.
func (b *crashBox) crashed() *crash.Error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// check records err when it is a panic another package recovered (the
// engine's build goroutines).
func (b *crashBox) check(err error) {
	var bug *crash.Error
	if errors.As(err, &bug) {
		b.record(bug)
	}
}

// wrap returns cmd with its panics recorded. Bubble Tea runs the commands
// of a batch or a sequence (the messages tea.Batch and tea.Sequence return)
// in goroutines of its own: they are wrapped too.
func (b *crashBox) wrap(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				b.record(r)
				msg = nil
			}
		}()
		return b.wrapMsg(cmd())
	}
}

var cmdType = reflect.TypeFor[tea.Cmd]()

func (b *crashBox) wrapMsg(msg tea.Msg) tea.Msg {
	if msg == nil {
		return nil
	}
	v := reflect.ValueOf(msg)
	// tea.BatchMsg, and the unexported message of tea.Sequence: both are
	// slices of commands.
	if v.Kind() != reflect.Slice || v.Type().Elem() != cmdType {
		return msg
	}
	out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
	for i := range v.Len() {
		c, _ := v.Index(i).Interface().(tea.Cmd)
		out.Index(i).Set(reflect.ValueOf(b.wrap(c)))
	}
	return out.Interface()
}

// guard is the model Bubble Tea runs: the TUI's model with every panic of
// its Init, Update and View, and of the commands they return, recorded in
// the crash box. Once a panic is kept, the model is no longer called.
type guard struct {
	m   *Model
	box *crashBox
}

func (g guard) Init() (cmd tea.Cmd) {
	defer g.box.recover()
	return g.box.wrap(g.m.Init())
}

func (g guard) Update(msg tea.Msg) (model tea.Model, cmd tea.Cmd) {
	if g.box.crashed() != nil {
		return g, nil
	}
	defer func() {
		if r := recover(); r != nil {
			g.box.record(r)
			model, cmd = g, nil
		}
	}()
	if testHookUpdate != nil {
		if cmd := testHookUpdate(g.m, msg); cmd != nil {
			return g, g.box.wrap(cmd)
		}
	}
	_, cmd = g.m.Update(msg)
	return g, g.box.wrap(cmd)
}

func (g guard) View() (v tea.View) {
	if g.box.crashed() != nil {
		return tea.View{AltScreen: true}
	}
	defer func() {
		if r := recover(); r != nil {
			g.box.record(r)
			v = tea.View{AltScreen: true}
		}
	}()
	if testHookView != nil {
		testHookView()
	}
	return g.m.View()
}

// Test hooks, set only in binaries built with -tags crashtest
// (crashtest.go): they make the TUI panic on purpose.
var (
	testHookUpdate func(*Model, tea.Msg) tea.Cmd
	testHookView   func()
)
