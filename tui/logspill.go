package tui

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/crash"
)

// maxSpillBytes bounds the whole log of one step kept on disk.
const maxSpillBytes = 64 << 20

// spillFrom is how much output a step has written when its log starts
// going to disk as well: half of what its memory keeps, so nothing is
// dropped before the file has it.
const spillFrom = buildgraph.MaxLogBytes / 2

// logSpill keeps the whole output of the steps that print more than their
// log keeps in memory, in files of the build's own folder under the state
// folder ($XDG_STATE_HOME/stagescope/logs/<process>-<build>), bounded per
// step; the folder goes when the next build starts or the program ends. A
// goroutine writes the files: the UI only hands it the chunks.
type logSpill struct {
	id     int
	dir    string // made with the first file
	ch     chan spillChunk
	done   chan struct{}
	steps  map[digest.Digest]*spilled // UI side
	failed bool                       // the folder could not be made
	closed bool
}

// spilled is what was handed to the writer for one step.
type spilled struct {
	sent   int64
	lost   int64 // bytes dropped from memory before the file started
	full   bool  // maxSpillBytes reached, or the writer fell behind
	behind bool
}

type spillChunk struct {
	path string
	data []byte
}

// newLogSpill returns the spill of build id. Nothing touches the disk
// until a step prints spillFrom bytes.
func newLogSpill(id int) *logSpill {
	return &logSpill{id: id, steps: map[digest.Digest]*spilled{}}
}

// start makes the build's folder and starts the writer; false when the
// folder cannot be made (the logs then keep what memory holds).
func (s *logSpill) start() bool {
	if s.ch != nil || s.failed || s.closed {
		return s.ch != nil
	}
	base := crash.Dir()
	if base == "" {
		s.failed = true
		return false
	}
	dir := filepath.Join(base, "logs", strconv.Itoa(os.Getpid())+"-"+strconv.Itoa(s.id))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.failed = true
		return false
	}
	s.dir, s.ch, s.done = dir, make(chan spillChunk, 256), make(chan struct{})
	go s.write()
	return true
}

func (s *logSpill) write() {
	defer close(s.done)
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			_ = f.Close()
		}
	}()
	for c := range s.ch {
		f, ok := files[c.path]
		if !ok {
			var err error
			if f, err = os.OpenFile(c.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
				continue
			}
			files[c.path] = f
		}
		_, _ = f.Write(c.data)
	}
}

// path is the file of a step's whole log.
func (s *logSpill) path(v digest.Digest) string {
	return filepath.Join(s.dir, strings.ReplaceAll(v.String(), ":", "-")+".log")
}

// add hands the writer the output of a status update, already applied to
// p: a step's file starts once it printed spillFrom bytes, with all its
// log holds.
func (s *logSpill) add(p *buildgraph.Progress, st *client.SolveStatus) {
	if s == nil || st == nil {
		return
	}
	for _, l := range st.Logs {
		if l == nil || l.Vertex == "" || len(l.Data) == 0 {
			continue
		}
		sp, ok := s.steps[l.Vertex]
		data := l.Data
		if !ok {
			step := p.Step(l.Vertex)
			if step == nil || step.Logs.Dropped()+int64(step.Logs.Len()) < spillFrom || !s.start() {
				continue
			}
			sp = &spilled{lost: step.Logs.Dropped()}
			s.steps[l.Vertex] = sp
			data = step.Logs.Bytes() // this chunk included
		}
		if sp.full {
			continue
		}
		if room := maxSpillBytes - sp.sent; int64(len(data)) > room {
			data, sp.full = data[:room], true
		}
		select {
		case s.ch <- spillChunk{path: s.path(l.Vertex), data: data}:
			sp.sent += int64(len(data))
		default:
			sp.full, sp.behind = true, true
		}
	}
}

// info reports whether a step has a file, where, and what it lacks,
// without reading it.
func (s *logSpill) info(v digest.Digest) (sp spilled, path string, ok bool) {
	if s == nil || s.steps[v] == nil {
		return spilled{}, "", false
	}
	return *s.steps[v], s.path(v), true
}

// whole returns the step's log as its file holds it, and what the file
// lacks; ok is false when the step has no file. It reads the whole file:
// only for paging, never while following.
func (s *logSpill) whole(v digest.Digest) (log *buildgraph.Log, sp spilled, path string, ok bool) {
	if s == nil || s.steps[v] == nil {
		return nil, spilled{}, "", false
	}
	path = s.path(v)
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return nil, spilled{}, "", false
	}
	log = buildgraph.NewLog(len(data))
	log.Write(buildgraph.StreamStdout, data)
	return log, *s.steps[v], path, true
}

// close stops the writer and removes the build's folder.
func (s *logSpill) close() {
	if s == nil || s.closed {
		return
	}
	s.closed = true
	if s.ch == nil {
		return
	}
	close(s.ch)
	<-s.done
	_ = os.RemoveAll(s.dir)
}
