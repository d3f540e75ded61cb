package history

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/stagescope/stagescope/buildgraph"
)

// The context files a step read (buildgraph.StepFacts.Files) can be
// thousands: a record keeps only their digest (FilesDigest), and the list
// is kept once per digest, for as long as a record names it. A rebuild
// that changed no file then writes and reads no list.
var (
	bucketFiles    = []byte("files")    // files digest → []buildgraph.FileDigest (JSON)
	bucketFileRefs = []byte("fileRefs") // files digest → how many records name it (uint64)
)

// storeFiles moves the file lists of c's steps out of the record into the
// files bucket; c's steps are copied, never the caller's changed.
func storeFiles(tx *bolt.Tx, c *Record) error {
	var lists, refs *bolt.Bucket
	moved := map[*buildgraph.StepFacts]*buildgraph.StepFacts{}
	counted := map[string]bool{}
	for i := range c.Steps {
		f := c.Steps[i].Facts
		if f == nil || f.Files == nil {
			continue
		}
		if lists == nil {
			var err error
			if lists, err = tx.CreateBucketIfNotExists(bucketFiles); err != nil {
				return err
			}
			if refs, err = tx.CreateBucketIfNotExists(bucketFileRefs); err != nil {
				return err
			}
			c.Steps = append([]Step(nil), c.Steps...)
		}
		if nf, ok := moved[f]; ok {
			c.Steps[i].Facts = nf
			continue
		}
		nf := *f
		nf.Files = nil
		if nf.FilesDigest == "" {
			nf.FilesDigest = buildgraph.FilesDigestOf(f.Files)
		}
		key := []byte(nf.FilesDigest)
		if lists.Get(key) == nil {
			data, err := json.Marshal(f.Files)
			if err != nil {
				return err
			}
			if err := lists.Put(key, data); err != nil {
				return err
			}
		}
		if !counted[nf.FilesDigest] {
			counted[nf.FilesDigest] = true
			if err := addRef(refs, key, 1); err != nil {
				return err
			}
		}
		moved[f] = &nf
		c.Steps[i].Facts = &nf
	}
	return nil
}

// releaseFiles drops the record's hold on its file lists (the record's
// JSON), deleting a list no record names any more.
func releaseFiles(tx *bolt.Tx, data []byte) error {
	lists, refs := tx.Bucket(bucketFiles), tx.Bucket(bucketFileRefs)
	if lists == nil || refs == nil || data == nil {
		return nil
	}
	var r struct {
		Steps []struct {
			Facts *struct {
				FilesDigest string `json:"filesDigest"`
			} `json:"facts"`
		} `json:"steps"`
	}
	if json.Unmarshal(data, &r) != nil {
		return nil // a damaged record keeps its lists: they are only space
	}
	seen := map[string]bool{}
	for _, s := range r.Steps {
		if s.Facts == nil || s.Facts.FilesDigest == "" || seen[s.Facts.FilesDigest] {
			continue
		}
		seen[s.Facts.FilesDigest] = true
		key := []byte(s.Facts.FilesDigest)
		if err := addRef(refs, key, -1); err != nil {
			return err
		}
		if refs.Get(key) == nil {
			if err := lists.Delete(key); err != nil {
				return err
			}
		}
	}
	return nil
}

func addRef(refs *bolt.Bucket, key []byte, d int) error {
	n := int64(0)
	if v := refs.Get(key); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += int64(d)
	if n <= 0 {
		return refs.Delete(key)
	}
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(n))
	return refs.Put(key, v)
}

// loadFiles puts the file lists back into the steps of r, those that want
// says (all when nil).
func loadFiles(tx *bolt.Tx, r *Record, want func(digest string) bool) error {
	lists := tx.Bucket(bucketFiles)
	if lists == nil {
		return nil
	}
	loaded := map[string][]buildgraph.FileDigest{}
	for i := range r.Steps {
		f := r.Steps[i].Facts
		if f == nil || f.FilesDigest == "" || f.Files != nil || want != nil && !want(f.FilesDigest) {
			continue
		}
		files, ok := loaded[f.FilesDigest]
		if !ok {
			data := lists.Get([]byte(f.FilesDigest))
			if data == nil {
				f.FilesError = "the record's list of files is missing"
				continue
			}
			if err := json.Unmarshal(data, &files); err != nil {
				return fmt.Errorf("the list of files %s is damaged (%v)", f.FilesDigest, err)
			}
			if files == nil {
				files = []buildgraph.FileDigest{}
			}
			loaded[f.FilesDigest] = files
		}
		f.Files = files
	}
	return nil
}

// LoadFiles puts the lists of files back into the steps of a record that
// Last returned, for the digests want says (all when nil): those a
// comparison needs.
func (s *Store) LoadFiles(r *Record, want func(digest string) bool) error {
	if r == nil {
		return nil
	}
	return s.view(func(tx *bolt.Tx) error { return loadFiles(tx, r, want) })
}
