// Package why says why each step of a build ran instead of coming from the
// cache, and predicts it before building: it reads what the comparison of
// buildgraph.Reasons needs from outside a Dockerfile (the digests of the
// context files each step reads, as BuildKit would send them) and from the
// build records (the last build of the same target), and turns a build's
// progress into the steps that are compared.
package why

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"

	"github.com/stagescope/stagescope/buildgraph"
)

// Ignore returns the .dockerignore patterns BuildKit applies to the main
// context: <Dockerfile>.dockerignore beside the Dockerfile when there is
// one, else .dockerignore at the context's root.
func Ignore(contextDir, dockerfile string) ([]string, error) {
	var names []string
	if dockerfile != "" {
		names = append(names, dockerfile+".dockerignore")
	}
	names = append(names, filepath.Join(contextDir, ".dockerignore"))
	for _, name := range names {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		return patterns, err
	}
	return nil, nil
}

// Files fills in the Files of every step of facts that reads the build
// context, walking contextDir as BuildKit's context upload does (fsutil's
// walker with the step's paths included and the .dockerignore patterns
// excluded) and hashing each file once. A step whose files cannot be read
// gets FilesError instead.
func Files(ctx context.Context, contextDir, dockerfile string, facts []buildgraph.StageFacts) {
	FilesCached(ctx, contextDir, dockerfile, facts, "")
}

// FilesCached is Files that remembers the digests in cacheDir (none when
// "") and reads again only the files whose size, times, inode or mode
// changed since.
func FilesCached(ctx context.Context, contextDir, dockerfile string, facts []buildgraph.StageFacts, cacheDir string) {
	exclude, err := Ignore(contextDir, dockerfile)
	h := hasher{root: contextDir, done: map[string]buildgraph.FileDigest{}}
	if cacheDir != "" {
		h.cache = openCache(cacheDir, contextDir)
		defer h.cache.save()
	}
	walked := map[string][]buildgraph.FileDigest{}
	for si := range facts {
		for fi := range facts[si].Steps {
			f := &facts[si].Steps[fi]
			if len(f.Reads) == 0 {
				continue
			}
			if err != nil {
				f.FilesError = "reading .dockerignore: " + err.Error()
				continue
			}
			key := strings.Join(f.Reads, "\x00")
			files, ok := walked[key]
			if !ok {
				var werr error
				files, werr = h.walk(ctx, f.Reads, exclude)
				if werr != nil {
					f.FilesError = werr.Error()
					continue
				}
				walked[key] = files
			}
			f.Files = files
			f.FilesDigest = buildgraph.FilesDigestOf(files)
		}
	}
}

type hasher struct {
	root  string
	done  map[string]buildgraph.FileDigest
	cache *digestCache
}

// walk lists the files reads match, sorted by path.
func (h *hasher) walk(ctx context.Context, reads, exclude []string) ([]buildgraph.FileDigest, error) {
	opt := &fsutil.FilterOpt{ExcludePatterns: exclude}
	for _, r := range reads {
		if r == "." {
			opt.IncludePatterns = nil
			break
		}
		opt.IncludePatterns = append(opt.IncludePatterns, r)
	}
	var out []buildgraph.FileDigest
	err := fsutil.WalkDir(ctx, h.root, opt, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, _ := info.Sys().(*types.Stat)
		p = filepath.ToSlash(strings.TrimPrefix(p, string(filepath.Separator)))
		fd, err := h.digest(p, info, st)
		if err != nil {
			return err
		}
		out = append(out, fd)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// digest hashes a file's content (a symbolic link's target), once.
func (h *hasher) digest(p string, info fs.FileInfo, st *types.Stat) (buildgraph.FileDigest, error) {
	if fd, ok := h.done[p]; ok {
		return fd, nil
	}
	fd := buildgraph.FileDigest{Path: p, Mode: uint32(info.Mode()), Size: info.Size()}
	var key statKey
	remember := false
	if h.cache != nil {
		d, k, ok := h.cache.get(p, st)
		if ok && d != "" {
			fd.Digest = d
			h.done[p] = fd
			return fd, nil
		}
		key, remember = k, ok
	}
	sum := sha256.New()
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		link := ""
		if st != nil {
			link = st.Linkname
		}
		if link == "" {
			var err error
			if link, err = os.Readlink(filepath.Join(h.root, filepath.FromSlash(p))); err != nil {
				return fd, err
			}
		}
		sum.Write([]byte(link))
	case info.Mode().IsRegular():
		f, err := os.Open(filepath.Join(h.root, filepath.FromSlash(p)))
		if err != nil {
			return fd, err
		}
		_, err = io.Copy(sum, f)
		f.Close()
		if err != nil {
			return fd, err
		}
	}
	fd.Digest = "sha256:" + hex.EncodeToString(sum.Sum(nil))
	h.done[p] = fd
	if remember {
		h.cache.put(p, key, fd.Digest)
	}
	return fd, nil
}
