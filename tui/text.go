package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/stagescope/stagescope/buildgraph"
)

// truncate cuts s (which may hold styles) to width cells with an ellipsis.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// pad truncates or pads s with spaces to exactly width cells.
func pad(s string, width int) string {
	s = truncate(s, width)
	if w := ansi.StringWidth(s); w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// padLeft right-aligns s in width cells.
func padLeft(s string, width int) string {
	s = truncate(s, width)
	if w := ansi.StringWidth(s); w < width {
		s = strings.Repeat(" ", width-w) + s
	}
	return s
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

// clean makes untrusted text (stage names, log lines) safe to draw: no
// escape sequences, no control characters, valid UTF-8.
func clean(s string) string {
	return strings.ReplaceAll(buildgraph.SanitizeLine(s), "\t", "    ")
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
