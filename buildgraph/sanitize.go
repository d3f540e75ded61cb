package buildgraph

import (
	"strings"
	"unicode/utf8"
)

// SanitizeLine removes terminal control from a log line so it can be drawn
// verbatim: escape sequences (CSI, OSC, and two-byte ESC sequences) and
// control characters other than tab are dropped, C1 controls included.
func SanitizeLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r == 0x1b && i+1 < len(s) && s[i+1] == '[': // CSI: parameters, then a final byte in @..~
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = min(j+1, len(s))
			continue
		case r == 0x1b && i+1 < len(s) && (s[i+1] == ']' || s[i+1] == 'P' || s[i+1] == '_' || s[i+1] == '^'):
			// OSC, DCS, APC, PM: up to BEL or ST (ESC \).
			j := i + 2
			for j < len(s) && s[j] != 0x07 && !(s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\') {
				j++
			}
			switch {
			case j >= len(s):
				i = j
			case s[j] == 0x07:
				i = j + 1
			default:
				i = j + 2
			}
			continue
		case r == 0x1b:
			i = min(i+2, len(s))
			continue
		case r == utf8.RuneError && size == 1:
			b.WriteString("\uFFFD")
		case r == '\t' || r >= 0x20 && r != 0x7f && !(r >= 0x80 && r <= 0x9f):
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// PrintableLine is SanitizeLine with every tab widened to four spaces:
// untrusted text (a stage name, a Dockerfile line, a log line) ready to be
// drawn in cells.
func PrintableLine(s string) string {
	return strings.ReplaceAll(SanitizeLine(s), "\t", "    ")
}
