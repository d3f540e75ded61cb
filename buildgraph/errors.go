package buildgraph

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Error is a problem with the input: the Dockerfile, a build argument, a
// named context or the target. Every error Parse, Closure and Levels return
// for bad input is an *Error, so callers can tell bad input (exit code 2)
// from everything else with errors.As.
type Error struct {
	// File is Options.Filename, or "Dockerfile" when that was empty.
	File string
	// Line is the 1-based line the problem starts on, 0 when the problem has
	// no place in the file (an unknown target, an invalid build platform).
	Line int
	// EndLine is the last line of the offending instruction (>= Line), or 0.
	EndLine int
	// Msg is one sentence describing the problem, without the location.
	Msg string
	// Err is the underlying error from BuildKit's parser, if any.
	Err error
}

// Error formats the error as "File:Line: Msg", leaving out ":Line" when Line
// is 0.
func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// errorAt builds an *Error located at lines [line, endLine].
func (p *parseState) errorAt(line, endLine int, msg string, cause error) *Error {
	if endLine < line {
		endLine = line
	}
	return &Error{File: p.file, Line: line, EndLine: endLine, Msg: msg, Err: cause}
}

// wrapBuildKit converts an error returned by BuildKit's parser or
// instructions package into an *Error. The location BuildKit attached wins
// over the fallback lines given here; the message drops BuildKit's
// "dockerfile parse error on line N:" prefix, since Error prints the line.
func (p *parseState) wrapBuildKit(err error, line, endLine int) *Error {
	msg := err.Error()
	var loc *parser.LocationError
	if errors.As(err, &loc) {
		if l, el := firstRange(loc.Locations); l > 0 {
			line, endLine = l, el
		}
		if inner := loc.Unwrap(); inner != nil {
			msg = inner.Error()
		}
	}
	return p.errorAt(line, endLine, msg, err)
}

// firstRange returns the start and end line of the first location BuildKit
// attached to an error (the innermost, i.e. the instruction itself).
func firstRange(locs [][]parser.Range) (int, int) {
	for _, rs := range locs {
		if start, end := rangeLines(rs); start > 0 {
			return start, end
		}
	}
	return 0, 0
}

// rangeLines returns the first and last line covered by rs (0, 0 if none).
func rangeLines(rs []parser.Range) (int, int) {
	start, end := 0, 0
	for _, r := range rs {
		if r.Start.Line > 0 && (start == 0 || r.Start.Line < start) {
			start = r.Start.Line
		}
		if r.End.Line > end {
			end = r.End.Line
		}
	}
	if end < start {
		end = start
	}
	return start, end
}

// FirstLine is the first line of a message, without the spaces around it:
// what a one-line report shows of an error.
func FirstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// exitCodeText is how BuildKit writes a failed process's exit code in an
// error message ("process ... did not complete successfully: exit code: 2").
var exitCodeText = regexp.MustCompile(`exit code: (\d+)`)

// ExitCode finds the exit code of a failed process in an error message, for
// daemons that send it in the message only.
func ExitCode(msg string) (int, bool) {
	m := exitCodeText.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	code, err := strconv.Atoi(m[1])
	return code, err == nil
}
