package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagescope/stagescope/buildgraph"
)

// cells is the width of s (which may hold styles) in terminal cells. Plain
// printable ASCII, most of a build's output, is a cell a byte; anything
// else is measured by ansi.
func cells(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// truncate cuts s (which may hold styles) to width cells with an ellipsis.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if cells(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// truncateLeft cuts plain s to width cells from the left, with an
// ellipsis: the end of a path is what tells it apart.
func truncateLeft(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if cells(s) <= width {
		return s
	}
	return ansi.TruncateLeft(s, cells(s)-width+1, "…")
}

// pad truncates or pads s with spaces to exactly width cells.
func pad(s string, width int) string {
	s, w := cut(s, width)
	return s + strings.Repeat(" ", max(width-w, 0))
}

// padLeft right-aligns s in width cells.
func padLeft(s string, width int) string {
	s, w := cut(s, width)
	return strings.Repeat(" ", max(width-w, 0)) + s
}

// cut truncates s to width cells with an ellipsis and returns its width,
// measured once.
func cut(s string, width int) (string, int) {
	if width <= 0 {
		return "", 0
	}
	w := cells(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = cells(s)
	}
	return s, w
}

// fit makes a block of exactly width × height cells from lines.
func fit(lines []string, width, height int) string {
	out := make([]string, height)
	for i := range out {
		if i < len(lines) {
			out[i] = pad(lines[i], width)
		} else {
			out[i] = strings.Repeat(" ", width)
		}
	}
	return strings.Join(out, "\n")
}

// highlight draws line, which holds styles of its own, on st across its
// whole width. Each inner span ends with resets that would end st's
// background with it, so st is opened again after every reset.
func highlight(st lipgloss.Style, line string) string {
	open, _, _ := strings.Cut(st.Render("x"), "x")
	if open != "" {
		line = strings.NewReplacer(
			"\x1b[0m", "\x1b[0m"+open,
			"\x1b[m", "\x1b[m"+open,
			"\x1b[49m", "\x1b[49m"+open,
		).Replace(line)
	}
	return st.Render(line)
}

// trimLines drops the plain spaces that end each line of a frame. The
// renderer clears the screen buffer before it draws a frame, so they show
// nothing; parsing them cell by cell is most of the cost of a sparse frame.
// Spaces that carry a style (a highlighted row) end before a reset
// sequence and stay.
func trimLines(frame string) string {
	var b strings.Builder
	b.Grow(len(frame))
	for i, line := range strings.Split(frame, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.TrimRight(line, " "))
	}
	return b.String()
}

// clean makes untrusted text (stage names, log lines) safe to draw: no
// escape sequences, no control characters, valid UTF-8.
func clean(s string) string {
	return buildgraph.PrintableLine(s)
}

// duration formats a build duration the way BuildKit's display does: 0.4s,
// 12.3s, 2m05s.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// bar draws a horizontal bar of width cells filled to frac (0..1).
func bar(frac float64, width int, full, empty lipgloss.Style) string {
	if width <= 0 {
		return ""
	}
	frac = min(max(frac, 0), 1)
	eighths := int(frac*float64(width*8) + 0.5)
	n := eighths / 8
	partials := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	s := strings.Repeat("█", n)
	rest := width - n
	if p := eighths % 8; p > 0 && rest > 0 {
		s += partials[p]
		rest--
	}
	if frac > 0 && s == "" {
		s, rest = "▏", rest-1
	}
	return full.Render(s) + empty.Render(strings.Repeat("·", max(rest, 0)))
}

// windowStart returns the first line to show of total lines in height rows
// so that line sel stays visible, moving the window as little as possible
// from start.
func windowStart(start, sel, height, total int) int {
	if height <= 0 {
		return 0
	}
	if sel < start {
		start = sel
	}
	if sel >= start+height {
		start = sel - height + 1
	}
	return max(0, min(start, total-height))
}
