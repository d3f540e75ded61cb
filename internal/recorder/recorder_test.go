package recorder

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
)

func sample() []*client.SolveStatus {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	t1 := t0.Add(time.Second)
	return []*client.SolveStatus{
		{Vertexes: []*client.Vertex{{Digest: "sha256:a", Name: "[builder 1/2] RUN x"}}},
		{Vertexes: []*client.Vertex{{Digest: "sha256:a", Name: "[builder 1/2] RUN x", Started: &t0, Completed: &t1, Cached: true}}},
		{Logs: []*client.VertexLog{{Vertex: "sha256:a", Stream: 2, Data: []byte("\xff\x1b[31m\n"), Timestamp: t0}}},
		{Statuses: []*client.VertexStatus{{ID: "x", Vertex: "sha256:a", Current: 1, Total: 2, Timestamp: t1}}},
		{Warnings: []*client.VertexWarning{{Vertex: "sha256:a", Short: []byte("w"), Detail: [][]byte{[]byte("d")}}}},
	}
}

func send(ss []*client.SolveStatus) chan *client.SolveStatus {
	ch := make(chan *client.SolveStatus, len(ss)+1)
	for _, s := range ss {
		ch <- s
	}
	ch <- nil // skipped
	close(ch)
	return ch
}

func TestRecordReplay(t *testing.T) {
	var buf bytes.Buffer
	if err := Record(&buf, send(sample())); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != len(sample()) {
		t.Fatalf("%d lines, want %d", n, len(sample()))
	}
	got, err := Replay(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Record(&again, send(got)); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	_ = Record(&want, send(sample()))
	if again.String() != want.String() {
		t.Errorf("round trip differs:\n%s\nwant:\n%s", again.String(), want.String())
	}
	if string(got[2].Logs[0].Data) != "\xff\x1b[31m\n" || !got[1].Vertexes[0].Started.Equal(*sample()[1].Vertexes[0].Started) {
		t.Errorf("replayed %+v", got)
	}
}

// Record writes exactly what `buildctl --progress rawjson` writes.
func TestRecordMatchesRawJSON(t *testing.T) {
	var ours, theirs bytes.Buffer
	if err := Record(&ours, send(sample())); err != nil {
		t.Fatal(err)
	}
	d, err := progressui.NewDisplay(&theirs, progressui.RawJSONMode)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *client.SolveStatus)
	go func() {
		for _, s := range sample() {
			ch <- s
		}
		close(ch)
	}()
	if _, err := d.UpdateFrom(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	if ours.String() != theirs.String() {
		t.Errorf("ours:\n%s\nrawjson:\n%s", ours.String(), theirs.String())
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("broken") }

func TestRecordWriteErrorDrains(t *testing.T) {
	ch := send(sample())
	err := Record(brokenWriter{}, ch)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("err %v", err)
	}
	if len(ch) != 0 {
		t.Errorf("%d statuses left in the channel", len(ch))
	}
}

func TestReplayErrors(t *testing.T) {
	for in, want := range map[string]string{
		"{}\n\nerror: failed to solve\n": "line 3: not a JSON object",
		"{}\n{\"vertexes\": 5}\n":        "line 2: json",
		"{\"vertexes\":[":                "line 1: unexpected end",
	} {
		_, err := Replay(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
	got, err := Replay(strings.NewReader("\n{}\r\n  {\"logs\":[{\"data\":\"aGk=\"}]}"))
	if err != nil || len(got) != 2 || string(got[1].Logs[0].Data) != "hi" {
		t.Errorf("got %v, %v", got, err)
	}
}
