package history

import (
	"bytes"
	"encoding/json"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// Last returns the newest record of a Dockerfile's target built for
// platform ("" for the engine's) on the engine of that kind and address,
// whatever its outcome: what the next build of the target is compared with
// to say why its steps ran. Records copied from results.json, which have
// no steps, are passed over. It returns nil, nil when there is none.
func (s *Store) Last(dockerfile, target, platform string, eng Engine) (*Record, error) {
	var rec *Record
	prefix := targetPrefix(absPath(dockerfile), target)
	err := s.view(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		c := tx.Bucket(bucketTargets).Cursor()
		// Seek past the prefix, then walk back: newest first.
		k, _ := c.Seek(append(bytes.Clone(prefix), 0xff))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			id := k[len(prefix)+8:]
			data := records.Get(id)
			if data == nil {
				continue
			}
			var r Record
			if json.Unmarshal(data, &r) != nil || r.Migrated {
				continue // one damaged record hides no other
			}
			if r.Platform != platform || r.Engine.Kind != eng.Kind || r.Engine.Address != eng.Address {
				continue
			}
			rec = &r
			return nil
		}
		return nil
	})
	if errors.Is(err, errEmpty) {
		err = nil
	}
	return rec, err
}
