package buildgraph

import "strings"

// SourceLines splits a Dockerfile into its lines, without carriage returns;
// the newlines that end the file start no lines of their own.
func SourceLines(data []byte) []string {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.Split(strings.TrimRight(text, "\n"), "\n")
}

// SourceLine is one line of an excerpt of a Dockerfile.
type SourceLine struct {
	// Number is the 1-based line number.
	Number int
	// Text is the line, sanitized (SanitizeLine).
	Text string
	// Marked is true for the lines the excerpt is about.
	Marked bool
}

// Excerpt is lines first to last of a Dockerfile's lines (SourceLines),
// marked, with two lines of context on each side, as BuildKit's own error
// printer shows a failed instruction. It is empty when first is not a line.
func Excerpt(lines []string, first, last int) []SourceLine {
	if first < 1 || first > len(lines) {
		return nil
	}
	last = min(max(last, first), len(lines))
	var out []SourceLine
	for n := max(first-2, 1); n <= min(last+2, len(lines)); n++ {
		out = append(out, SourceLine{
			Number: n,
			Text:   SanitizeLine(strings.TrimRight(lines[n-1], "\r")),
			Marked: n >= first && n <= last,
		})
	}
	return out
}
