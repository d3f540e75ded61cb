package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// A build from the home folder asks first: n sends nothing, y builds and
// the answer holds for the next build.
func TestConfirmWideContext(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "notes.txt"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	proj := project(t, "hello-final", "golang")
	proj.Base.ContextDir = home
	wide := proj.Wide()
	if len(wide) != 1 {
		t.Fatalf("the home folder is not seen as wide: %v", wide)
	}
	m, _ := newModel(t, modelOpts{proj: proj, session: helloSession(t)}, 100, 30)

	ask := func() {
		t.Helper()
		_, cmd := m.Update(keyMsg("enter"))
		runIntents(m, cmd)
		if m.confirm == nil {
			t.Fatal("enter built without asking")
		}
		screen := boxText(m.render())
		if !strings.Contains(screen, "Send a whole folder to the engine?") || !strings.Contains(screen, "is your home folder") {
			t.Fatalf("no question on screen:\n%s", screen)
		}
		m.Update(countWide(m.ctx, wide)())
		if screen := boxText(m.render()); !strings.Contains(screen, "(10B in 1 file).") {
			t.Fatalf("the question does not give the size:\n%s", screen)
		}
	}
	ask()
	press(t, m, "n")
	if m.confirm != nil || m.run != nil {
		t.Fatal("n did not cancel, or a build started")
	}
	if !strings.Contains(ansi.Strip(m.render()), "nothing was sent") {
		t.Fatalf("no notice after n:\n%s", ansi.Strip(m.render()))
	}
	ask()
	press(t, m, "y")
	if m.confirm != nil || m.run == nil {
		t.Fatal("y did not start the build")
	}
	drain(t, m, -1)
	press(t, m, "esc", "enter")
	if m.confirm != nil {
		t.Fatal("asked again after y")
	}
	drain(t, m, -1)
}

// boxText is the screen's text with box borders and line breaks taken out,
// so that sentences wrapped in a box can be matched whole.
func boxText(frame string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ").Replace(ansi.Strip(frame))), " ")
}
