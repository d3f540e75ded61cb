// Package recorder saves and loads BuildKit status streams in the format of
// `buildctl build --progress rawjson`: one JSON-encoded client.SolveStatus
// per line. Streams recorded from real builds are replayed by the tests of
// buildgraph's live status model.
//
// To record the streams again, on a machine where the project's buildkitd
// can run:
//
//	go test ./internal/recorder -run TestRecord -record
//
// which writes buildgraph/testdata/status/<scenario>/{Dockerfile,status.jsonl}.
package recorder

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/moby/buildkit/client"
)

// Record writes every status received from ch to w, one JSON object per
// line, until ch is closed. It encodes exactly as BuildKit's rawjson display
// does, so its output and buildctl's are interchangeable.
//
// Record always drains ch, so the producer never blocks on a failed writer;
// it returns the first write error, if any, once ch is closed.
func Record(w io.Writer, ch <-chan *client.SolveStatus) error {
	enc := json.NewEncoder(w)
	var err error
	for s := range ch {
		if err != nil || s == nil {
			continue
		}
		if e := enc.Encode(s); e != nil {
			err = fmt.Errorf("recorder: %w", e)
		}
	}
	return err
}

// Replay reads a stream written by Record or by `buildctl --progress rawjson`.
// Blank lines are skipped; any other line that is not a SolveStatus object is
// an error naming its line number.
func Replay(r io.Reader) ([]*client.SolveStatus, error) {
	var out []*client.SolveStatus
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("recorder: line %d: %w", n, err)
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			if trimmed[0] != '{' {
				return out, fmt.Errorf("recorder: line %d: not a JSON object: %.40q", n, trimmed)
			}
			s := new(client.SolveStatus)
			if e := json.Unmarshal(trimmed, s); e != nil {
				return out, fmt.Errorf("recorder: line %d: %w", n, e)
			}
			out = append(out, s)
		}
		if err != nil { // io.EOF
			return out, nil
		}
	}
}
