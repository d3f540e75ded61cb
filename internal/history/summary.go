package history

import (
	"encoding/binary"
	"errors"
	"time"
)

// Summaries are kept in a compact binary form of their own: listing
// thousands of records decodes one per record, and JSON's decoder is
// several times slower than this. The first byte is the form's version.
const summaryForm = 1

const (
	flagSize = 1 << iota
	flagMigrated
	flagNoTime
	flagBake // the bake target's name follows the sizes (older entries have none)
	// The record's platform follows, then, with flagPlatforms, the count
	// of an index's platform images and each one's platform and sizes:
	// older entries have neither, and older readers stop before them.
	flagPlatform
	flagPlatforms
)

func (s *Summary) marshal() []byte {
	b := make([]byte, 0, 128+len(s.Dockerfile)+len(s.Error))
	b = append(b, summaryForm)
	str := func(v string) { b = binary.AppendUvarint(b, uint64(len(v))); b = append(b, v...) }
	var flags byte
	if s.Uncompressed != nil && s.Compressed != nil {
		flags |= flagSize
	}
	if s.Migrated {
		flags |= flagMigrated
	}
	if s.Time.IsZero() {
		flags |= flagNoTime
	}
	if s.Bake != "" {
		flags |= flagBake
	}
	if s.Platform != "" {
		flags |= flagPlatform
	}
	if len(s.Platforms) > 0 {
		flags |= flagPlatforms
	}
	b = append(b, flags)
	str(s.ID)
	if !s.Time.IsZero() {
		b = binary.AppendVarint(b, s.Time.UnixNano())
	}
	str(s.Engine)
	str(s.Dockerfile)
	str(s.Target)
	str(string(s.Outcome))
	str(s.Error)
	b = binary.AppendVarint(b, int64(s.Duration))
	b = binary.AppendUvarint(b, uint64(s.StepsCached))
	b = binary.AppendUvarint(b, uint64(s.StepsTotal))
	if flags&flagSize != 0 {
		b = binary.AppendVarint(b, *s.Uncompressed)
		b = binary.AppendVarint(b, *s.Compressed)
	}
	if flags&flagBake != 0 {
		str(s.Bake)
	}
	if flags&flagPlatform != 0 {
		str(s.Platform)
	}
	if flags&flagPlatforms != 0 {
		b = binary.AppendUvarint(b, uint64(len(s.Platforms)))
		for _, p := range s.Platforms {
			str(p.Platform)
			b = binary.AppendVarint(b, p.Uncompressed)
			b = binary.AppendVarint(b, p.Compressed)
		}
	}
	return b
}

var errSummary = errors.New("damaged summary")

func (s *Summary) unmarshal(b []byte) (err error) {
	if len(b) < 2 || b[0] != summaryForm {
		return errSummary
	}
	flags := b[1]
	b = b[2:]
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	iv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if bad || n > uint64(len(b)) {
			bad = true
			return ""
		}
		v := string(b[:n])
		b = b[n:]
		return v
	}
	*s = Summary{ID: str()}
	if flags&flagNoTime == 0 {
		s.Time = time.Unix(0, iv()).UTC()
	}
	s.Engine, s.Dockerfile, s.Target = str(), str(), str()
	s.Outcome, s.Error = Outcome(str()), str()
	s.Duration = time.Duration(iv())
	s.StepsCached, s.StepsTotal = int(uv()), int(uv())
	if flags&flagSize != 0 {
		u, c := iv(), iv()
		s.Uncompressed, s.Compressed = &u, &c
	}
	if flags&flagBake != 0 {
		s.Bake = str()
	}
	if flags&flagPlatform != 0 {
		s.Platform = str()
	}
	if flags&flagPlatforms != 0 {
		// Each image takes three bytes at least: a count beyond that is
		// a damaged entry.
		n := uv()
		if n > uint64(len(b))/3 {
			bad = true
		}
		for i := uint64(0); i < n && !bad; i++ {
			s.Platforms = append(s.Platforms, PlatformSize{Platform: str(), Uncompressed: iv(), Compressed: iv()})
		}
	}
	s.Migrated = flags&flagMigrated != 0
	if bad {
		return errSummary
	}
	return nil
}
