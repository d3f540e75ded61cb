package pipeline

import (
	"sync"

	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/internal/history"
)

// The records of a run are written behind its Done event: the face draws
// the outcome while the store takes its lock, writes and syncs (bbolt's
// two fsyncs alone can take several milliseconds on a loaded disk).
// Outcome.Recorded waits for a run's records; WaitRecorded for every
// record of the process, which the faces do before the process exits,
// and which a run's reasons and a prediction do before they look up the
// last record (a rebuild started the moment a build ended compares with
// that build, not with the one before it).

// pending holds the recordings of this process still being written.
var pending struct {
	mu   sync.Mutex
	list map[*recording]struct{}
}

// recording is the writing of one run's records.
type recording struct {
	done chan struct{}
	err  error // set before done is closed
}

// recordBehind writes recs to h on a goroutine of its own.
func recordBehind(h History, recs []*history.Record) *recording {
	rec := &recording{done: make(chan struct{})}
	pending.mu.Lock()
	if pending.list == nil {
		pending.list = map[*recording]struct{}{}
	}
	pending.list[rec] = struct{}{}
	pending.mu.Unlock()
	go func() {
		defer func() {
			pending.mu.Lock()
			delete(pending.list, rec)
			pending.mu.Unlock()
		}()
		defer close(rec.done)
		defer crash.Recover(&rec.err) // runs first: a panic is the run's error
		rec.err = h.Record(recs)
	}()
	return rec
}

// Recorded waits until the run's records are written and returns the
// failure to write them: nil when they were, or when the run had no
// History. An unusable store is reported once per store (see
// history.Store.Record).
func (o *Outcome) Recorded() error {
	if o == nil || o.recording == nil {
		return nil
	}
	<-o.recording.done
	return o.recording.err
}

// WaitRecorded waits until the records of every run this process started
// are written, or their store gave up (history.Store waits at most
// history.DefaultTimeout for another process's lock). A face calls it
// before the process exits, whatever became of its runs: a run stopped
// before its Done still records its build.
func WaitRecorded() {
	pending.mu.Lock()
	list := make([]*recording, 0, len(pending.list))
	for rec := range pending.list {
		list = append(list, rec)
	}
	pending.mu.Unlock()
	for _, rec := range list {
		<-rec.done
	}
}
