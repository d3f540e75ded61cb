package engine

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/moby/buildkit/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
)

// tailLines is how many log lines of a failed step a BuildError keeps.
const tailLines = 20

// failureWatch follows a status stream and remembers what a BuildError needs:
// the names of vertices, the last log lines of each, and which one failed.
type failureWatch struct {
	names  map[digest.Digest]string
	logs   map[digest.Digest]*tail
	failed digest.Digest
}

func newFailureWatch() *failureWatch {
	return &failureWatch{names: map[digest.Digest]string{}, logs: map[digest.Digest]*tail{}}
}

func (w *failureWatch) observe(s *client.SolveStatus) {
	for _, v := range s.Vertexes {
		if v.Name != "" {
			w.names[v.Digest] = v.Name
		}
		if v.Error != "" && w.failed == "" && !strings.Contains(v.Error, "context canceled") {
			w.failed = v.Digest
		}
	}
	for _, l := range s.Logs {
		t := w.logs[l.Vertex]
		if t == nil {
			t = &tail{max: tailLines}
			w.logs[l.Vertex] = t
		}
		t.Write(l.Data)
	}
}

// relay copies in to out (when out is not nil) and watches every update;
// it closes out when in is closed.
func (w *failureWatch) relay(in <-chan *client.SolveStatus, out chan<- *client.SolveStatus) {
	for s := range in {
		w.observe(s)
		if out != nil {
			out <- s
		}
	}
	if out != nil {
		close(out)
	}
}

// buildError turns a solve error into a BuildError with the failed step.
// frontendErr is the error the in-process Dockerfile frontend returned, if it
// ran here: it carries the source location even when the daemon's own error
// (from an older daemon) does not.
func (w *failureWatch) buildError(err, frontendErr error) *BuildError {
	be := &BuildError{Err: err, ExitCode: -1, Sources: errdefs.Sources(err)}
	if len(be.Sources) == 0 && frontendErr != nil {
		be.Sources = errdefs.Sources(frontendErr)
	}
	var exit *gatewaypb.ExitError
	if errors.As(err, &exit) {
		be.ExitCode = int(exit.ExitCode)
	} else if code, ok := buildgraph.ExitCode(err.Error()); ok {
		// Older daemons send the exit code only in the message.
		be.ExitCode = code
	}
	dgst := w.failed
	var ve *errdefs.VertexError
	if errors.As(err, &ve) && ve.Digest != "" {
		dgst = digest.Digest(ve.Digest)
	}
	if dgst != "" {
		be.Step = w.names[dgst]
		if t := w.logs[dgst]; t != nil {
			be.Logs = t.lines()
		}
	}
	be.Hint = foreignCPUHint(be.Logs)
	return be
}

// tail keeps the last max lines written to it; a line longer than 4 KiB is
// cut there, so a step that prints without newlines cannot grow it.
type tail struct {
	max     int
	buf     []string
	partial []byte
}

const maxLine = 4096

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.partial = append(t.partial, p...)
			if len(t.partial) > maxLine {
				t.partial = t.partial[len(t.partial)-maxLine:]
			}
			break
		}
		t.partial = append(t.partial, p[:i]...)
		t.push(string(bytes.TrimSuffix(t.partial, []byte("\r"))))
		t.partial = t.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (t *tail) push(line string) {
	if len(line) > maxLine {
		line = line[:maxLine]
	}
	t.buf = append(t.buf, line)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
}

func (t *tail) lines() []string {
	out := append([]string(nil), t.buf...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	return out
}

// PrintSources writes the Dockerfile lines of a failed instruction with the
// failing lines marked, as BuildKit's own error printer does.
func (e *BuildError) PrintSources(w io.Writer) {
	for _, s := range e.Sources {
		_ = s.Print(w)
	}
}

// Location is where BuildKit placed the failure in the Dockerfile: the
// lines of the first source range attached to the error, and that file's
// text as the frontend read it (nil when the error did not carry it). ok
// is false when no range was attached.
func (e *BuildError) Location() (data []byte, start, end int, ok bool) {
	for _, s := range e.Sources {
		for _, r := range s.GetRanges() {
			l := int(r.GetStart().GetLine())
			if l <= 0 {
				continue
			}
			if !ok || l < start {
				start = l
			}
			end = max(end, int(r.GetEnd().GetLine()), l)
			ok = true
		}
		if ok {
			return s.GetInfo().GetData(), start, end, true
		}
	}
	return nil, 0, 0, false
}
