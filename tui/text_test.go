package tui

import (
	"testing"

	"charm.land/lipgloss/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

func TestCellsAndPad(t *testing.T) {
	styled := lipgloss.NewStyle().Bold(true).Render("✓ built")
	for _, c := range []struct {
		in    string
		width int
	}{
		{"plain ascii", 11},
		{"", 0},
		{"✓ done", 6},
		{"日本", 4},
		{styled, 7},
		{"tab\there", ansi.StringWidth("tab\there")},
	} {
		if got := cells(c.in); got != c.width {
			t.Errorf("cells(%q) = %d, want %d", c.in, got, c.width)
		}
		if got := cells(c.in); got != ansi.StringWidth(c.in) {
			t.Errorf("cells(%q) = %d, ansi says %d", c.in, got, ansi.StringWidth(c.in))
		}
	}
	for _, w := range []int{0, 1, 3, 7, 12} {
		for _, s := range []string{"plain ascii", styled, "日本語のテキスト"} {
			if got := ansi.StringWidth(pad(s, w)); got != w {
				t.Errorf("pad(%q, %d) is %d cells wide", s, w, got)
			}
			if got := ansi.StringWidth(padLeft(s, w)); got != w {
				t.Errorf("padLeft(%q, %d) is %d cells wide", s, w, got)
			}
		}
	}
}

// Trailing plain spaces go; spaces that carry a style (a highlighted row's
// background) stay, and so does every line.
func TestTrimLines(t *testing.T) {
	sel := lipgloss.NewStyle().Background(lipgloss.Color("#303030")).Render("row   ")
	frame := "head   \n" + sel + "   \n     \nlast"
	got := trimLines(frame)
	want := "head\n" + sel + "\n\nlast"
	if got != want {
		t.Fatalf("trimLines = %q, want %q", got, want)
	}
	if ansi.Strip(sel) != "row   " {
		t.Fatalf("the styled row lost its spaces: %q", ansi.Strip(sel))
	}
}

// A highlighted row keeps its background under the spans styled inside
// it, to its last cell.
func TestHighlightCoversInnerStyles(t *testing.T) {
	s := NewStyles(true)
	line := pad(s.Accent.Render("▸ ")+" "+s.Done.Render("✓")+" "+s.Muted.Render("1/2 ")+"RUN make", 40)
	out := highlight(s.Selected, line)
	if ansi.Strip(out) != ansi.Strip(line) {
		t.Fatalf("the text changed: %q", ansi.Strip(out))
	}
	buf := uv.NewScreenBuffer(40, 1)
	uv.NewStyledString(out).Draw(buf, buf.Bounds())
	for x := range 40 {
		if c := buf.CellAt(x, 0); c == nil || c.Style.Bg == nil {
			t.Fatalf("cell %d of %q has no background", x, ansi.Strip(out))
		}
	}
}
