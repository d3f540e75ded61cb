package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/stagescope/stagescope/buildgraph"
)

// screens makes the screens, in the order of the header's tabs; the first
// is the one esc leads back to. A new screen is a file with its type and
// its constructor, and one line here.
var screens = []func(opts Options, s Styles) Screen{
	newGraphScreen,
	newBuildScreen,
	newCompareScreen,
	newTimelineScreen,
	newFilesScreen,
	newHistoryScreen,
}

// Screen is one screen of the TUI. The root model holds the screens, gives
// the focused one the keys the root does not take, sends every screen the
// events of the session (the messages below), and draws the frame around
// the focused one: the header with the screens' titles, the status line
// and the help, built from the screen's keys.
//
// A screen embeds baseScreen, which gives the hooks their defaults, and
// writes Title, Update, View, SetSize and SetStyles and the hooks it needs.
type Screen interface {
	// Title names the screen in the header and the help.
	Title() string
	// ShowKey is the key that brings the screen forward from any other,
	// listed with the global keys; a binding without keys for none. The
	// screen then gets a shownMsg.
	ShowKey() key.Binding
	// Update takes a key press while the screen has the focus, and every
	// event of the session; it returns the screen updated.
	Update(msg tea.Msg) (Screen, tea.Cmd)
	// View draws the body: the frame but its header, status and help lines.
	View() string
	// SetSize sets the size of the body.
	SetSize(width, height int)
	// SetStyles switches the styles (the terminal's background changed).
	SetStyles(s Styles)
	// Help is the screen's keys for the help line (short) and the help
	// screen (full). The global keys g follow them unless the screen
	// captures the keys; a screen may also place some among its own.
	Help(g GlobalKeyMap) (short []key.Binding, full [][]key.Binding)
	// Back takes esc before the root does and reports whether the screen
	// used it (to leave a part of itself); otherwise esc leads back to the
	// first screen, and on the first screen it goes to Update.
	Back() bool
	// Captures reports whether the screen takes every key, the global ones
	// too (a text input has the keyboard).
	Captures() bool
	// Claims reports whether the screen takes this key before the global
	// keys, for a while (n after a search in the logs is the next match,
	// not no-cache); its help then lists the key.
	Claims(k tea.KeyPressMsg) bool
	// Status is the status line while no notice is shown; build draws the
	// summary of the build that runs, "" when none runs.
	Status(build func() string) string
}

// baseScreen is the hooks a screen does not need: no key brings it
// forward, esc is not its own, it never takes the global keys, its status
// line is the running build's.
type baseScreen struct{}

func (baseScreen) ShowKey() key.Binding                               { return key.Binding{} }
func (baseScreen) Help(GlobalKeyMap) ([]key.Binding, [][]key.Binding) { return nil, nil }
func (baseScreen) Back() bool                                         { return false }
func (baseScreen) Captures() bool                                     { return false }
func (baseScreen) Claims(tea.KeyPressMsg) bool                        { return false }
func (baseScreen) Status(build func() string) string                  { return build() }

// focusRequest is a message that brings a screen to the front before the
// screen gets it.
type focusRequest interface {
	tea.Msg
	focusScreen() string // the screen's title
}

// noticeMsg is a sentence a screen has for the status line: why a key did
// nothing, for one.
type noticeMsg struct {
	text  string
	alert bool
}

// Events of the session, sent to every screen as the build lifecycle
// (lifecycle.go) goes. A screen ignores the ones it does not show.
type (
	// buildNoteMsg is a sentence to show instead of a build: there is no
	// engine, or it is connecting.
	buildNoteMsg struct{ text string }
	// buildStartedMsg: a new build runs.
	buildStartedMsg struct{ run *buildRun }
	// buildUpdatedMsg: status updates were applied to the run's progress.
	buildUpdatedMsg struct{}
	// buildFinishedMsg: the run's outcome is in.
	buildFinishedMsg struct{}
	// frameMsg is the time and the spinner frame ("" when no build runs),
	// for the durations and the glyphs of running steps.
	frameMsg struct {
		now   time.Time
		frame string
	}
	// buildStateMsg is the current build and what is known of the
	// targets' sizes, after any of it changed.
	buildStateMsg struct {
		run     *buildRun
		results []buildgraph.TargetResult // the latest result per target
		saved   map[string]buildgraph.SavedSize
		kind    string // the engine kind in use, "" without an engine
		frame   string
	}
	// resultsMsg is the results to compare, after a build ended or the
	// saved ones or the engine changed.
	resultsMsg struct {
		results     []buildgraph.TargetResult
		saved       map[string]buildgraph.SavedSize
		savedByFile map[string]map[string]buildgraph.SavedSize // several Dockerfiles: each one's, by path
		kind        string                                     // the engine kind in use, "" without an engine
		engine      string                                     // the engine's description
		focus       string                                     // the target to focus, "" to keep the cursor
		now         time.Time
	}
)
