// Package history keeps a record of every build: one Record per target
// built, with its engine, inputs, steps and measured sizes, so that later
// runs can say "last time: 1.4MB, 2 days ago" and `stagescope history` can
// list and show past builds.
//
// The records live in a bbolt database under the XDG state folder
// ($XDG_STATE_HOME/stagescope/builds.db, default
// ~/.local/state/stagescope/builds.db). Every operation opens the file,
// runs one transaction and closes it, so no process holds the file between
// builds: bbolt's file lock (exclusive to write, shared to read) makes two
// processes take turns, waiting at most Store.Timeout. A transaction is
// whole or absent after a crash. The store keeps the newest Keep records
// per Dockerfile and target. The results.json of earlier versions is
// copied in when the database is created, and left as it was.
package history

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/stagescope/stagescope/buildgraph"
)

// File names in the state folder.
const (
	FileName   = "builds.db"
	legacyName = "results.json"
)

// DefaultKeep is how many records are kept per Dockerfile and target
// unless KeepEnv says otherwise.
const DefaultKeep = 50

// KeepEnv names the environment variable that sets how many records are
// kept per Dockerfile and target.
const KeepEnv = "STAGESCOPE_HISTORY_KEEP"

// DefaultTimeout is how long an operation waits for another process's
// lock on the file.
const DefaultTimeout = 5 * time.Second

// Buckets of the database.
var (
	bucketMeta    = []byte("meta")    // "schemaVersion" → decimal
	bucketRecords = []byte("records") // id → Record (JSON)
	bucketList    = []byte("list")    // time key → Summary (summary.go)
	bucketTargets = []byte("targets") // Dockerfile \0 target \0 time key → time key
	keySchema     = []byte("schemaVersion")
)

// Store is the database of build records. It is safe for concurrent use,
// also by several processes.
type Store struct {
	path string
	// Keep is how many records are kept per Dockerfile and target (at
	// least 1).
	Keep int
	// Timeout bounds the wait for another process's lock.
	Timeout time.Duration

	mu       sync.Mutex
	reported bool // Record said once that the store cannot be used
	noSync   bool // benchmarks only: what a record costs but for fsync
}

// StateDir is the stagescope folder under the XDG state home.
func StateDir() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "stagescope"), nil
}

// Default opens the store at the XDG state location, keeping as many
// records as KeepEnv says (DefaultKeep when unset).
func Default() (*Store, error) {
	dir, err := StateDir()
	if err != nil {
		return nil, err
	}
	s := Open(filepath.Join(dir, FileName))
	if v := os.Getenv(KeepEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want a whole number of records, at least 1", KeepEnv, v)
		}
		s.Keep = n
	}
	return s, nil
}

// Open uses the database at path; the file is created by the first record
// (or to copy a results.json beside it in).
func Open(path string) *Store {
	return &Store{path: path, Keep: DefaultKeep, Timeout: DefaultTimeout}
}

// Path is the database's location.
func (s *Store) Path() string { return s.path }

// UnusableError is a store that cannot be read: not a database, damaged,
// unreadable, or written by a newer stagescope. Nothing of it is changed.
type UnusableError struct {
	Path string
	Why  string
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("cannot use the build records in %s: %s", e.Path, e.Why)
}

// BusyError is a store another process held for longer than the timeout.
type BusyError struct {
	Path    string
	Timeout time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("the build records in %s stayed locked by another stagescope for %s", e.Path, e.Timeout)
}

// NotFoundError is an id prefix that names no record.
type NotFoundError struct{ Prefix string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no build record has an id starting with %q (stagescope history lists them)", e.Prefix)
}

// AmbiguousError is an id prefix that names several records.
type AmbiguousError struct {
	Prefix     string
	Candidates []string // their ids
}

func (e *AmbiguousError) Error() string {
	c := make([]string, len(e.Candidates))
	for i, id := range e.Candidates {
		c[i] = ShortID(id)
	}
	more := ""
	if len(c) > 10 {
		more = fmt.Sprintf(" and %d more", len(c)-10)
		c = c[:10]
	}
	return fmt.Sprintf("the id prefix %q names %d build records: %s%s; give more of the id", e.Prefix, len(e.Candidates), strings.Join(c, ", "), more)
}

// ShortID is the first 12 digits of an id, as lists show it.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// absPath is the key of a Dockerfile: its absolute, clean path.
func absPath(dockerfile string) string {
	if abs, err := filepath.Abs(dockerfile); err == nil {
		return abs
	}
	return filepath.Clean(dockerfile)
}

// timeKey orders records by time: 8 bytes of big-endian nanoseconds since
// 1970 (0 before), then the id.
func timeKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	ns := t.UnixNano()
	if t.IsZero() || ns < 0 {
		ns = 0
	}
	binary.BigEndian.PutUint64(k, uint64(ns))
	return append(k, id...)
}

func targetPrefix(dockerfile, target string) []byte {
	return []byte(dockerfile + "\x00" + target + "\x00")
}

// errEmpty says there is no database yet: reads find nothing.
var errEmpty = errors.New("no records yet")

// open opens the database: to write (created when missing), or to read
// (errEmpty when missing and there is nothing to copy in).
func (s *Store) open(write bool) (db *bolt.DB, err error) {
	if !write {
		st, err := os.Stat(s.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if _, lerr := os.Stat(s.legacyPath()); lerr != nil {
				return nil, errEmpty
			}
			// A results.json to copy in: create the database.
			write = true
		case err != nil:
			return nil, &UnusableError{Path: s.path, Why: unwrapPathError(err)}
		case st.IsDir():
			return nil, &UnusableError{Path: s.path, Why: "it is a directory"}
		case st.Size() == 0:
			return nil, errEmpty // being created, or created by a crash before its first page
		}
	}
	if write {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
			return nil, &UnusableError{Path: s.path, Why: unwrapPathError(err)}
		}
	}
	var file *os.File
	defer func() {
		// A damaged file can make bbolt panic while it reads the file; its
		// lock goes with the file.
		if r := recover(); r != nil {
			if file != nil {
				// The file stays mapped, which keeps its lock: drop it.
				_ = syscall.Flock(int(file.Fd()), syscall.LOCK_UN)
				file.Close()
			}
			db, err = nil, &UnusableError{Path: s.path, Why: fmt.Sprintf("it is damaged (%v)", r)}
		}
	}()
	db, err = bolt.Open(s.path, 0o644, &bolt.Options{
		Timeout: s.timeout(), ReadOnly: !write, NoSync: s.noSync,
		OpenFile: func(name string, flag int, mode os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, mode)
			file = f
			return f, err
		},
	})
	if err != nil {
		return nil, s.classify(err)
	}
	if write {
		if err := s.init(db); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func (s *Store) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

func (s *Store) keep() int { return max(s.Keep, 1) }

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// classify turns bbolt's errors into the store's.
func (s *Store) classify(err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return &BusyError{Path: s.path, Timeout: s.timeout()}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return &UnusableError{Path: s.path, Why: "it is not a stagescope build database or it is damaged (" + err.Error() + ")"}
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &UnusableError{Path: s.path, Why: pe.Err.Error()}
	}
	return &UnusableError{Path: s.path, Why: err.Error()}
}

// checkSchema accepts a database of this version, and one without the
// meta bucket only when it holds nothing (a new file).
func (s *Store) checkSchema(tx *bolt.Tx) (fresh bool, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return false, &UnusableError{Path: s.path, Why: "it is a bbolt database of something else"}
		}
		return true, nil
	}
	v, err := strconv.Atoi(string(meta.Get(keySchema)))
	if err != nil {
		return false, &UnusableError{Path: s.path, Why: fmt.Sprintf("its version %q is not a number", meta.Get(keySchema))}
	}
	if v > SchemaVersion {
		return false, &UnusableError{Path: s.path, Why: fmt.Sprintf("it was written by a newer stagescope (records version %d; this one reads up to %d)", v, SchemaVersion)}
	}
	return false, nil
}

// init checks the version and, on a new file, makes the buckets and copies
// results.json in.
func (s *Store) init(db *bolt.DB) error {
	return s.tx(db, true, func(tx *bolt.Tx) error {
		fresh, err := s.checkSchema(tx)
		if err != nil || !fresh {
			return err
		}
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketRecords, bucketList, bucketTargets} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		for _, r := range s.legacy() {
			if err := put(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// tx runs one transaction; a panic of bbolt on a damaged file is an
// UnusableError.
func (s *Store) tx(db *bolt.DB, write bool, fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &UnusableError{Path: s.path, Why: fmt.Sprintf("it is damaged (%v)", r)}
		}
	}()
	if write {
		return db.Update(fn)
	}
	return db.View(fn)
}

// view runs fn in a read transaction; errEmpty when there is no database.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	return s.tx(db, false, func(tx *bolt.Tx) error {
		fresh, err := s.checkSchema(tx)
		if err != nil {
			return err
		}
		if fresh {
			return errEmpty
		}
		return fn(tx)
	})
}

// update runs fn in a write transaction.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.open(true)
	if err != nil {
		return err
	}
	if err := s.tx(db, true, fn); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

// put writes a record, its summary and its place among its target's.
func put(tx *bolt.Tx, r *Record) error {
	if err := storeFiles(tx, r); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	summary := r.Summary()
	sum := summary.marshal()
	tk := timeKey(r.Time, r.ID)
	if err := tx.Bucket(bucketRecords).Put([]byte(r.ID), data); err != nil {
		return err
	}
	if err := tx.Bucket(bucketList).Put(tk, sum); err != nil {
		return err
	}
	return tx.Bucket(bucketTargets).Put(append(targetPrefix(r.Dockerfile, r.Target), tk...), tk)
}

// remove deletes a record by its summary.
func remove(tx *bolt.Tx, s Summary) error {
	tk := timeKey(s.Time, s.ID)
	if err := releaseFiles(tx, tx.Bucket(bucketRecords).Get([]byte(s.ID))); err != nil {
		return err
	}
	if err := tx.Bucket(bucketRecords).Delete([]byte(s.ID)); err != nil {
		return err
	}
	if err := tx.Bucket(bucketList).Delete(tk); err != nil {
		return err
	}
	return tx.Bucket(bucketTargets).Delete(append(targetPrefix(s.Dockerfile, s.Target), tk...))
}

// trim keeps the newest keep records of a Dockerfile and target.
func trim(tx *bolt.Tx, dockerfile, target string, keep int) (int, error) {
	prefix := targetPrefix(dockerfile, target)
	var tks [][]byte
	c := tx.Bucket(bucketTargets).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		tks = append(tks, bytes.Clone(v))
	}
	removed := 0
	for _, tk := range tks[:max(len(tks)-keep, 0)] {
		s, ok := summaryAt(tx, tk)
		if !ok {
			continue
		}
		if err := remove(tx, s); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

func summaryAt(tx *bolt.Tx, tk []byte) (Summary, bool) {
	var s Summary
	data := tx.Bucket(bucketList).Get(tk)
	if data == nil || s.unmarshal(data) != nil {
		return s, false
	}
	return s, true
}

// Record stores the records of one build (one per target) in one
// transaction, giving each an id when it has none, and keeps the newest
// Keep records of each Dockerfile and target. Build arguments named like
// secrets are redacted here too.
//
// A store that cannot be used (UnusableError) is reported by the first
// call only: later calls skip recording and return nil, so that a face
// says it once and keeps building.
func (s *Store) Record(recs []*Record) error {
	if len(recs) == 0 {
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error {
		for _, r := range recs {
			c := *r
			if c.ID == "" {
				c.ID = NewID()
				r.ID = c.ID
			}
			c.Dockerfile = absPath(c.Dockerfile)
			c.BuildArgs = RedactArgs(c.BuildArgs)
			if c.Outcome == "" {
				c.Outcome = Succeeded
			}
			if err := put(tx, &c); err != nil {
				return err
			}
			if _, err := trim(tx, c.Dockerfile, c.Target, s.keep()); err != nil {
				return err
			}
		}
		return nil
	})
	var unusable *UnusableError
	if errors.As(err, &unusable) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.reported {
			return nil
		}
		s.reported = true
	}
	return err
}

// Filter selects records of a list.
type Filter struct {
	// Dockerfile, when set, keeps the records of that file (any path to it).
	Dockerfile string
	// Target, when set, keeps those of that target (case-insensitive).
	Target string
	// Limit stops the list after that many (0: all).
	Limit int
}

func (f Filter) match(s *Summary, abs string) bool {
	if f.Dockerfile != "" && s.Dockerfile != abs {
		return false
	}
	return f.Target == "" || strings.EqualFold(s.Target, f.Target)
}

// List returns the summaries of the records that match, newest first.
func (s *Store) List(f Filter) ([]Summary, error) {
	var out []Summary
	abs := ""
	if f.Dockerfile != "" {
		abs = absPath(f.Dockerfile)
	}
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketList).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var sum Summary
			if err := sum.unmarshal(v); err != nil {
				continue // one damaged entry hides no other
			}
			if !f.match(&sum, abs) {
				continue
			}
			out = append(out, sum)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
		return nil
	})
	if errors.Is(err, errEmpty) {
		err = nil
	}
	return out, err
}

// Get returns the record whose id is, or starts with, prefix: a
// NotFoundError when none does, an AmbiguousError when several do.
func (s *Store) Get(prefix string) (*Record, error) {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	if prefix == "" {
		return nil, &NotFoundError{Prefix: prefix}
	}
	var rec *Record
	err := s.view(func(tx *bolt.Tx) error {
		ids := matching(tx, prefix)
		switch {
		case len(ids) == 0:
			return &NotFoundError{Prefix: prefix}
		case len(ids) > 1:
			return &AmbiguousError{Prefix: prefix, Candidates: ids}
		}
		rec = new(Record)
		if err := json.Unmarshal(tx.Bucket(bucketRecords).Get([]byte(ids[0])), rec); err != nil {
			return &UnusableError{Path: s.path, Why: fmt.Sprintf("record %s is damaged (%v)", ids[0], err)}
		}
		if err := loadFiles(tx, rec, nil); err != nil {
			return &UnusableError{Path: s.path, Why: err.Error()}
		}
		return nil
	})
	if errors.Is(err, errEmpty) {
		err = &NotFoundError{Prefix: prefix}
	}
	return rec, err
}

// matching returns the ids that start with prefix (the id itself when it
// is whole).
func matching(tx *bolt.Tx, prefix string) []string {
	b := tx.Bucket(bucketRecords)
	if b.Get([]byte(prefix)) != nil {
		return []string{prefix}
	}
	var ids []string
	c := b.Cursor()
	p := []byte(prefix)
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		ids = append(ids, string(k))
	}
	return ids
}

// Resolve turns id prefixes into whole ids, with the errors of Get.
func (s *Store) Resolve(prefixes []string) ([]string, error) {
	var out []string
	err := s.view(func(tx *bolt.Tx) error {
		for _, p := range prefixes {
			p = strings.ToLower(strings.TrimSpace(p))
			ids := matching(tx, p)
			switch {
			case p == "" || len(ids) == 0:
				return &NotFoundError{Prefix: p}
			case len(ids) > 1:
				return &AmbiguousError{Prefix: p, Candidates: ids}
			}
			out = append(out, ids[0])
		}
		return nil
	})
	if errors.Is(err, errEmpty) && len(prefixes) > 0 {
		err = &NotFoundError{Prefix: prefixes[0]}
	}
	return out, err
}

// Prune selects records to delete; at least one of IDs, Before, Keep and
// All must be set. Records named in IDs are deleted whatever else is set.
// Before and All select records; Keep alone selects all but the newest
// Keep of each Dockerfile and target, and given with Before or All it
// protects those newest ones from them. Dockerfile and Target narrow all
// of these.
type Prune struct {
	// IDs are whole ids (see Resolve).
	IDs []string
	// Dockerfile and Target narrow the others, as in Filter.
	Dockerfile, Target string
	// Before deletes records that started before it.
	Before time.Time
	// Keep deletes all but the newest Keep records of each Dockerfile and
	// target; with Before or All, it keeps those newest ones.
	Keep int
	// All deletes every record that Dockerfile and Target select.
	All bool
}

// Prune deletes what p selects and returns the summaries deleted, newest
// first.
func (s *Store) Prune(p Prune) ([]Summary, error) {
	if len(p.IDs) == 0 && p.Before.IsZero() && p.Keep <= 0 && !p.All {
		return nil, errors.New("nothing selected to prune")
	}
	if _, err := os.Stat(s.path); errors.Is(err, os.ErrNotExist) {
		if _, lerr := os.Stat(s.legacyPath()); lerr != nil {
			return nil, nil
		}
	}
	abs := ""
	if p.Dockerfile != "" {
		abs = absPath(p.Dockerfile)
	}
	f := Filter{Dockerfile: p.Dockerfile, Target: p.Target}
	ids := map[string]bool{}
	for _, id := range p.IDs {
		ids[id] = true
	}
	var removed []Summary
	err := s.update(func(tx *bolt.Tx) error {
		var all []Summary
		c := tx.Bucket(bucketList).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var sum Summary
			if sum.unmarshal(v) == nil && f.match(&sum, abs) {
				all = append(all, sum)
			}
		}
		seen := map[string]int{} // Dockerfile \0 target → newer records
		for _, sum := range all {
			group := sum.Dockerfile + "\x00" + strings.ToLower(sum.Target)
			rank := seen[group] // 0 for the newest of its group
			seen[group]++
			del := p.All || (!p.Before.IsZero() && sum.Time.Before(p.Before))
			if p.Keep > 0 {
				switch {
				case rank < p.Keep:
					del = false // among the newest Keep: kept
				case !p.All && p.Before.IsZero():
					del = true // Keep alone: all but the newest
				}
			}
			if ids[sum.ID] {
				del = true
			}
			if !del {
				continue
			}
			if err := remove(tx, sum); err != nil {
				return err
			}
			removed = append(removed, sum)
		}
		return nil
	})
	return removed, err
}

// Load returns, for each target of a Dockerfile and each kind of engine,
// the size of the newest record that has one, keyed by
// buildgraph.SavedKey: what "last time" compares with. A Dockerfile's
// unnamed last stage ("stage-N") is also kept under
// buildgraph.DefaultSavedKey, newest first, so that its size is found after
// a stage inserted above it renumbered it; a bake target's build also under
// buildgraph.BakeSavedKey. Each platform's image has the same keys of its
// own (buildgraph.PlatformSavedKey), from the newest record that measured
// it: the platforms of an image index, or the image of a build for one
// platform given with --platform. A missing store is no error.
func (s *Store) Load(dockerfile string) (map[string]buildgraph.SavedSize, error) {
	out := map[string]buildgraph.SavedSize{}
	prefix := []byte(absPath(dockerfile) + "\x00")
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketTargets).Cursor()
		for k, tk := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, tk = c.Next() {
			sum, ok := summaryAt(tx, tk)
			if !ok || sum.Uncompressed == nil {
				continue
			}
			size := buildgraph.SavedSize{Uncompressed: *sum.Uncompressed, Compressed: *sum.Compressed, At: sum.Time, Engine: sum.Engine}
			keys := []string{buildgraph.SavedKey(sum.Engine, sum.Target)}
			if sum.Bake != "" {
				keys = append(keys, buildgraph.BakeSavedKey(sum.Engine, sum.Bake))
			}
			if buildgraph.NumberedStage(sum.Target) {
				// The unnamed last stage, whatever its number then.
				keys = append(keys, buildgraph.DefaultSavedKey(sum.Engine))
			}
			newest := func(key string, size buildgraph.SavedSize) {
				if prev, ok := out[key]; !ok || sum.Time.After(prev.At) {
					out[key] = size
				}
			}
			for _, key := range keys {
				newest(key, size)
			}
			for _, p := range sum.platformSizes() {
				ps := buildgraph.SavedSize{Uncompressed: p.Uncompressed, Compressed: p.Compressed, At: sum.Time, Engine: sum.Engine}
				for _, key := range keys {
					newest(buildgraph.PlatformSavedKey(key, p.Platform), ps)
				}
			}
		}
		return nil
	})
	if errors.Is(err, errEmpty) {
		err = nil
	}
	return out, err
}

// legacyPath is the results.json of earlier versions, beside the database.
func (s *Store) legacyPath() string { return filepath.Join(filepath.Dir(s.path), legacyName) }

// legacyFile is the format of results.json.
type legacyFile struct {
	Results map[string]map[string]buildgraph.SavedSize `json:"results"` // Dockerfile → SavedKey (or target) → size
}

// legacy reads results.json into records, oldest first; a missing or
// damaged file gives none.
func (s *Store) legacy() []*Record {
	data, err := os.ReadFile(s.legacyPath())
	if err != nil {
		return nil
	}
	var f legacyFile
	if json.Unmarshal(data, &f) != nil {
		return nil
	}
	var out []*Record
	for df, sizes := range f.Results {
		for key, sz := range sizes {
			kind, target, ok := strings.Cut(key, "/")
			if !ok {
				kind, target = sz.Engine, key
			}
			if sz.Engine != "" {
				kind = sz.Engine
			}
			id := sha256Hex(df + "\x00" + key + "\x00" + sz.At.String())[:32]
			out = append(out, &Record{
				ID: id, Time: sz.At, Engine: Engine{Kind: kind}, Dockerfile: df, Target: target,
				Outcome: Succeeded, Steps: []Step{}, Migrated: true,
				Size: &buildgraph.ImageSize{Uncompressed: sz.Uncompressed, Compressed: sz.Compressed, Layers: []buildgraph.Layer{}},
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
