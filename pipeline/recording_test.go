package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/fakes"
	"github.com/stagescope/stagescope/internal/history"
)

// bigBuild is a project of one stage of n RUN steps and the status stream
// of its build, every step run one after the other.
func bigBuild(t testing.TB, n int) (*Project, *fakes.Session) {
	t.Helper()
	var src strings.Builder
	src.WriteString("FROM scratch\n")
	for i := range n {
		fmt.Fprintf(&src, "RUN echo %d\n", i)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	p := &Project{Dockerfile: file, Source: []byte(src.String()), Base: engine.BuildRequest{ContextDir: dir, Dockerfile: file}}
	var err error
	if p.Graph, err = p.parse(""); err != nil {
		t.Fatal(err)
	}
	at := t0
	var vs []*client.Vertex
	var prev digest.Digest
	for i := range n {
		d := digest.FromString(fmt.Sprint("step", i))
		start, end := at, at.Add(time.Millisecond)
		at = end
		v := &client.Vertex{Digest: d, Name: fmt.Sprintf("[%d/%d] RUN echo %d", i+1, n, i), Started: &start, Completed: &end}
		if prev != "" {
			v.Inputs = []digest.Digest{prev}
		}
		vs = append(vs, v)
		prev = d
	}
	return p, &fakes.Session{Streams: map[string][]*client.SolveStatus{"": {{Vertexes: vs}}}}
}

// endOfBuild runs the build and returns the time from the end of its
// status streams (SolveEnded) to its outcome (Done).
func endOfBuild(t testing.TB, p *Project, sess *fakes.Session, h History) (time.Duration, *Outcome) {
	plan, err := p.Plan("", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := Start(context.Background(), sess, p, []*Plan{plan}, Options{History: h})
	var ended time.Time
	var took time.Duration
	for ev := range r.Events() {
		r.Apply(ev)
		switch ev.(type) {
		case SolveEnded:
			ended = time.Now()
		case Done:
			took = time.Since(ended)
		}
	}
	return took, r.Outcome
}

// BenchmarkRecordingAddsToEnd is what recording a build of 1,000 steps
// adds to the end of the build, from the end of its status stream to its
// outcome: with the real store against without a store. The record is
// written behind the outcome; the time it takes is reported apart
// (written-ms), and each iteration waits for it.
func BenchmarkRecordingAddsToEnd(b *testing.B) {
	p, sess := bigBuild(b, 1000)
	store := history.Open(filepath.Join(b.TempDir(), history.FileName))
	var with, without, written time.Duration
	for range b.N {
		d, _ := endOfBuild(b, p, sess, nil)
		without += d
		d, o := endOfBuild(b, p, sess, store)
		with += d
		start := time.Now()
		if err := o.Recorded(); err != nil {
			b.Fatal(err)
		}
		written += time.Since(start)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(with-without), "added-ms")
	b.ReportMetric(ms(with), "end-ms")
	b.ReportMetric(ms(written), "written-after-ms")
}

// The outcome of a build of 1,000 steps comes before its record is
// written, and the record is whole once Recorded returns; WaitRecorded
// waits for it too.
func TestRecordedBehindOutcome(t *testing.T) {
	p, sess := bigBuild(t, 1000)
	h := &slowHistory{release: make(chan struct{})}
	_, o := endOfBuild(t, p, sess, h)
	if len(o.Records) != 1 || len(o.Records[0].ID) != 32 || len(o.Records[0].Steps) != 1000 {
		t.Fatalf("records %+v", o.Records)
	}
	select {
	case <-o.recording.done:
		t.Fatal("the outcome waited for the record to be written")
	default:
	}
	waited := make(chan struct{})
	go func() { WaitRecorded(); close(waited) }()
	close(h.release)
	if err := o.Recorded(); !errors.Is(err, errSlow) || h.got != o.Records[0] {
		t.Fatalf("Recorded %v; history got %p, want %p", err, h.got, o.Records[0])
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("WaitRecorded did not return once the record was written")
	}
}

var errSlow = errors.New("the store said no")

// slowHistory records when released, and fails.
type slowHistory struct {
	release chan struct{}
	got     *history.Record
}

func (h *slowHistory) Load(string) (map[string]buildgraph.SavedSize, error) { return nil, nil }

func (h *slowHistory) Record(recs []*history.Record) error {
	<-h.release
	h.got = recs[0]
	return errSlow
}
