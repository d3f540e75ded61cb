package why

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tonistiigi/fsutil/types"
)

// digestCache remembers the digest of each file of a context by the
// metadata BuildKit's context transfer compares to decide whether a file
// changed since the last build (fsutil's metadata diff: size, modification
// time, mode, link target; the owner is sent as root): a file whose
// metadata is unchanged is
// not sent again, so BuildKit sees its old content, and is not read again
// here either. A touched file is read again and gives the same digest: no
// change. It is what lets a rebuild read no file that did not change.
type digestCache struct {
	path    string
	old     map[string]cachedDigest
	seen    map[string]cachedDigest
	changed bool
}

type cachedDigest struct {
	Key    statKey
	Digest string
}

type statKey struct {
	Size, Mtime int64
	Mode        uint32
	Link        string
}

// CacheDir is where the digests of contexts' files are remembered:
// $XDG_STATE_HOME/stagescope/digests, "" when there is no home folder.
func CacheDir() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "stagescope", "digests")
}

// openCache reads the cache of a context folder; a missing or damaged one
// is empty.
func openCache(dir, contextDir string) *digestCache {
	c := &digestCache{old: map[string]cachedDigest{}, seen: map[string]cachedDigest{}}
	abs, err := filepath.Abs(contextDir)
	if dir == "" || err != nil {
		return c
	}
	sum := sha256.Sum256([]byte(abs))
	c.path = filepath.Join(dir, hex.EncodeToString(sum[:16])+".digests")
	if data, err := os.ReadFile(c.path); err == nil {
		c.old = decodeDigests(data)
		c.seen = make(map[string]cachedDigest, len(c.old))
	}
	return c
}

// The file of a context's digests is a record per file, each field ended
// by a NUL (which no path holds): digest, size, modification time, mode,
// link target, path. It reads ten times faster than JSON, which matters
// to a build of 10,000 files.

func encodeDigests(m map[string]cachedDigest) []byte {
	var b []byte
	for p, d := range m {
		b = append(b, d.Digest...)
		b = append(b, 0)
		b = strconv.AppendInt(b, d.Key.Size, 10)
		b = append(b, 0)
		b = strconv.AppendInt(b, d.Key.Mtime, 10)
		b = append(b, 0)
		b = strconv.AppendUint(b, uint64(d.Key.Mode), 10)
		b = append(b, 0)
		b = append(b, d.Key.Link...)
		b = append(b, 0)
		b = append(b, p...)
		b = append(b, 0)
	}
	return b
}

// decodeDigests reads encodeDigests' records; a damaged file is empty.
func decodeDigests(data []byte) map[string]cachedDigest {
	m := make(map[string]cachedDigest, bytes.Count(data, []byte{0})/6)
	var f [6]string
	for len(data) > 0 {
		for i := range f {
			n := bytes.IndexByte(data, 0)
			if n < 0 {
				return map[string]cachedDigest{}
			}
			f[i], data = string(data[:n]), data[n+1:]
		}
		size, err1 := strconv.ParseInt(f[1], 10, 64)
		mtime, err2 := strconv.ParseInt(f[2], 10, 64)
		mode, err3 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			return map[string]cachedDigest{}
		}
		m[f[5]] = cachedDigest{Key: statKey{Size: size, Mtime: mtime, Mode: uint32(mode), Link: f[4]}, Digest: f[0]}
	}
	return m
}

// get returns the remembered digest of the file at relative path p with
// fsutil's stat st.
func (c *digestCache) get(p string, st *types.Stat) (string, statKey, bool) {
	if st == nil {
		return "", statKey{}, false
	}
	k := statKey{Size: st.Size, Mtime: st.ModTime, Mode: st.Mode, Link: st.Linkname}
	if d, ok := c.old[p]; ok && d.Key == k {
		c.seen[p] = d
		return d.Digest, k, true
	}
	return "", k, true
}

// racy is how recent a change may be for its digest not to be remembered:
// a file written again within the file system's clock tick keeps its
// times (git's "racily clean" entries).
const racy = 2 * time.Second

func (c *digestCache) put(p string, k statKey, digest string) {
	c.changed = true
	if time.Since(time.Unix(0, k.Mtime)) < racy {
		return
	}
	c.seen[p] = cachedDigest{Key: k, Digest: digest}
}

// save writes the digests of the files seen, when one was new or one is
// gone; a cache that cannot be written is only slower next time.
func (c *digestCache) save() {
	if c.path == "" || !c.changed && len(c.seen) == len(c.old) {
		return
	}
	data := encodeDigests(c.seen)
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".digests-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), c.path) != nil {
		os.Remove(tmp.Name())
	}
}
