// Package history keeps the sizes of built targets between runs, so that a
// later compare or the TUI can say "last time: 1.4MB, 2 days ago".
//
// Results live in one JSON file under the XDG state folder
// ($XDG_STATE_HOME/stagescope/results.json, default
// ~/.local/state/stagescope/results.json), keyed by the Dockerfile's
// absolute path and the target. Writes replace the file atomically.
package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/stagescope/stagescope/buildgraph"
)

// Store is the results file.
type Store struct {
	path string
	mu   sync.Mutex
}

type fileFormat struct {
	SchemaVersion int                                        `json:"schemaVersion"`
	Results       map[string]map[string]buildgraph.SavedSize `json:"results"` // Dockerfile → target → size
}

// Default opens the store at the XDG state location.
func Default() (*Store, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return Open(filepath.Join(dir, "stagescope", "results.json")), nil
}

// Open uses the file at path (created on the first Save).
func Open(path string) *Store { return &Store{path: path} }

// Path is the file's location.
func (s *Store) Path() string { return s.path }

func (s *Store) read() (fileFormat, error) {
	f := fileFormat{SchemaVersion: 1, Results: map[string]map[string]buildgraph.SavedSize{}}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return fileFormat{SchemaVersion: 1, Results: map[string]map[string]buildgraph.SavedSize{}},
			fmt.Errorf("%s is not a stagescope results file (%v); it will be replaced", s.path, err)
	}
	if f.Results == nil {
		f.Results = map[string]map[string]buildgraph.SavedSize{}
	}
	return f, nil
}

func key(dockerfile string) string {
	if abs, err := filepath.Abs(dockerfile); err == nil {
		return abs
	}
	return dockerfile
}

// Load returns the saved sizes of a Dockerfile's targets. A missing file is
// no error; a damaged one returns what it can with the error.
func (s *Store) Load(dockerfile string) (map[string]buildgraph.SavedSize, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	return f.Results[key(dockerfile)], err
}

// Save records sizes for targets of a Dockerfile, keeping the others.
func (s *Store) Save(dockerfile string, sizes map[string]buildgraph.SavedSize) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, _ := s.read() // a damaged file is replaced
	k := key(dockerfile)
	if f.Results[k] == nil {
		f.Results[k] = map[string]buildgraph.SavedSize{}
	}
	for t, v := range sizes {
		f.Results[k][t] = v
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(s.path, append(data, '\n'))
}

// writeAtomic replaces path with data: the file is whole or unchanged.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".stagescope-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
