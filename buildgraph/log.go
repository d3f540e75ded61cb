package buildgraph

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxLogBytes is how much output a Log keeps per step by default: BuildKit's
// own per-stream cap (BUILDKIT_STEP_LOG_MAX_SIZE, 2 MiB). BuildKit clips a
// step's output at the source past that, or past 200 KiB/s, and says so with
// "[output clipped, log limit ... reached]".
const MaxLogBytes = 2 << 20

// The streams of a log chunk, as BuildKit numbers them.
const (
	StreamStdout = 1
	StreamStderr = 2
)

// Log is the bounded output of a step. It keeps the most recent bytes up to
// its limit, dropping the oldest, and remembers which stream each byte came
// from. The methods of a nil *Log return zero values.
type Log struct {
	max     int
	buf     []byte // kept bytes are buf[start:]
	start   int
	dropped int64
	segs    []LogSegment // where each run of one stream begins (Data unused)
	clipped bool
}

// LogSegment is a run of log bytes from one stream.
type LogSegment struct {
	Stream int
	// Offset is the position of Data's first byte in the step's whole
	// output, dropped bytes included.
	Offset int64
	Data   []byte
}

// NewLog returns an empty log that keeps at most max bytes (at least 1).
func NewLog(limit int) *Log { return &Log{max: max(limit, 1)} }

// clipMarker starts the notice BuildKit writes when it clips a step's output.
var clipMarker = []byte("[output clipped, log limit ")

// Write appends output of the given stream, dropping the oldest bytes past
// the limit.
func (l *Log) Write(stream int, data []byte) {
	if l == nil || len(data) == 0 {
		return
	}
	if !l.clipped && bytes.Contains(data, clipMarker) {
		l.clipped = true
	}
	off := l.dropped + int64(l.Len())
	if n := len(l.segs); n == 0 || l.segs[n-1].Stream != stream {
		l.segs = append(l.segs, LogSegment{Stream: stream, Offset: off})
	}
	if len(data) >= l.max {
		skip := len(data) - l.max
		l.dropped += int64(l.Len() + skip)
		l.buf = append(l.buf[:0], data[skip:]...)
		l.start = 0
	} else {
		l.buf = append(l.buf, data...)
		if excess := l.Len() - l.max; excess > 0 {
			l.start += excess
			l.dropped += int64(excess)
		}
		if l.start >= l.max/4 { // compact: the buffer stays within 1.25 times the limit
			l.buf = append(l.buf[:0], l.buf[l.start:]...)
			l.start = 0
		}
	}
	// Forget runs that lie wholly in the dropped part.
	i := 0
	for i+1 < len(l.segs) && l.segs[i+1].Offset <= l.dropped {
		i++
	}
	if i > 0 {
		l.segs = append(l.segs[:0], l.segs[i:]...)
	}
}

// Len is the number of bytes kept.
func (l *Log) Len() int {
	if l == nil {
		return 0
	}
	return len(l.buf) - l.start
}

// Dropped is the number of bytes dropped from the front to stay within the
// limit.
func (l *Log) Dropped() int64 {
	if l == nil {
		return 0
	}
	return l.dropped
}

// Clipped reports whether BuildKit clipped the output at the source (its
// "[output clipped, log limit ... reached]" notice is in the log).
func (l *Log) Clipped() bool { return l != nil && l.clipped }

// Bytes returns a copy of the kept bytes, both streams interleaved as they
// arrived.
func (l *Log) Bytes() []byte {
	if l == nil || l.Len() == 0 {
		return nil
	}
	return slices.Clone(l.buf[l.start:])
}

// Segments returns the kept bytes split into runs of one stream, in order.
// The Data slices are copies.
func (l *Log) Segments() []LogSegment {
	if l == nil || l.Len() == 0 {
		return nil
	}
	out := make([]LogSegment, 0, len(l.segs))
	end := l.dropped + int64(l.Len())
	for i, s := range l.segs {
		from := max(s.Offset, l.dropped)
		to := end
		if i+1 < len(l.segs) {
			to = l.segs[i+1].Offset
		}
		if from >= to {
			continue
		}
		a, b := l.start+int(from-l.dropped), l.start+int(to-l.dropped)
		out = append(out, LogSegment{Stream: s.Stream, Offset: from, Data: slices.Clone(l.buf[a:b])})
	}
	return out
}

// Lines returns the last n lines of the log as a terminal would leave them:
// "\r\n" ends a line like "\n", and a carriage return inside a line keeps
// only what follows it (progress bars redraw that way). Invalid UTF-8 is
// replaced by U+FFFD. Terminal escape sequences are kept; pass the lines
// through SanitizeLine before drawing them verbatim. A line still being
// written (no newline yet) is the last line.
func (l *Log) Lines(n int) []string { return l.LinesCut(n, 0) }

// LinesCut is Lines with every line longer than max bytes cut to its last
// max bytes, after "…" (max <= 0 cuts nothing). A step that prints
// megabytes without a newline then costs a screen max bytes a line, not
// the whole line on every frame.
func (l *Log) LinesCut(n, limit int) []string {
	if l == nil || n <= 0 || l.Len() == 0 {
		return nil
	}
	b := l.buf[l.start:]
	end := len(b)
	if b[end-1] == '\n' {
		end--
	}
	from, i := 0, end
	for k := 0; k < n; k++ {
		j := bytes.LastIndexByte(b[:i], '\n')
		if j < 0 {
			from = 0
			break
		}
		from, i = j+1, j
	}
	out := make([]string, 0, min(n, 4096))
	for _, line := range bytes.Split(b[from:end], []byte{'\n'}) {
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if j := bytes.LastIndexByte(line, '\r'); j >= 0 {
			line = line[j+1:]
		}
		cut := limit > 0 && len(line) > limit
		if cut {
			line = line[len(line)-limit:]
			for k := 0; k < utf8.UTFMax && len(line) > 0 && !utf8.RuneStart(line[0]); k++ {
				line = line[1:] // start on a whole character
			}
		}
		s := strings.ToValidUTF8(string(line), "\uFFFD")
		if cut {
			s = "…" + s
		}
		out = append(out, s)
	}
	return out
}
