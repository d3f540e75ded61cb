package filetree

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable is a file name ready to be drawn in a terminal: unchanged when
// it is valid UTF-8 of printable characters, otherwise quoted as Go
// quotes strings, so that an escape sequence or an invalid byte is shown
// as \x1b or \xff rather than acted on or lost ("a\x1b[31mb" draws as
// "a\x1b[31mb", in quotes). A name that starts with a quote is quoted
// too: two names that differ are never drawn alike.
func Printable(name string) string {
	if !utf8.ValidString(name) || strings.HasPrefix(name, `"`) {
		return strconv.Quote(name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}
