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
	"path"
	"path/filepath"
	"slices"
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
// "") and reads again only the files whose size, times, mode or link
// target changed since.
func FilesCached(ctx context.Context, contextDir, dockerfile string, facts []buildgraph.StageFacts, cacheDir string) {
	OpenDigests(contextDir, dockerfile, cacheDir).Fill(ctx, facts, nil)
}

// Sent is one upload of the main context as a build sent it
// (engine.ContextSend): the filter BuildKit asked for and the stat of each
// file and folder sent, in any order.
type Sent struct {
	IncludePatterns, ExcludePatterns, FollowPaths []string
	Entries                                       []*types.Stat
}

// Digests are what listing a context's files needs before the listing:
// its .dockerignore patterns and the digests remembered from the last
// time. Open them while the build runs; Fill once.
type Digests struct {
	root    string
	exclude []string
	err     error
	cache   *digestCache
}

// OpenDigests reads the .dockerignore of a context and the digests of its
// files remembered in cacheDir (none when "").
func OpenDigests(contextDir, dockerfile, cacheDir string) *Digests {
	d := &Digests{root: contextDir}
	d.exclude, d.err = Ignore(contextDir, dockerfile)
	if cacheDir != "" {
		d.cache = openCache(cacheDir, contextDir)
	}
	return d
}

// Fill fills in the Files of every step of facts that reads the context.
// A step whose files an upload of sends covers (its patterns include the
// step's, it excluded the same .dockerignore patterns) takes them from
// what that upload sent, filtered as a walk of the folder would be: the
// folder is not walked again. The other steps' files are walked as
// Files does. The digests are remembered again.
func (d *Digests) Fill(ctx context.Context, facts []buildgraph.StageFacts, sends []Sent) {
	h := hasher{root: d.root, done: map[string]buildgraph.FileDigest{}, cache: d.cache}
	if d.cache != nil {
		defer d.cache.save()
	}
	listings := make([]*listFS, len(sends))
	walked := map[string][]buildgraph.FileDigest{}
	for si := range facts {
		for fi := range facts[si].Steps {
			f := &facts[si].Steps[fi]
			if len(f.Reads) == 0 {
				continue
			}
			if d.err != nil {
				f.FilesError = "reading .dockerignore: " + d.err.Error()
				continue
			}
			key := strings.Join(f.Reads, "\x00")
			files, ok := walked[key]
			if !ok {
				var src fsutil.FS
				for i := range sends {
					if sends[i].covers(f.Reads, d.exclude) {
						if listings[i] == nil {
							listings[i] = newListFS(sends[i].Entries)
						}
						src = listings[i]
						break
					}
				}
				var werr error
				files, werr = h.walk(ctx, src, f.Reads, d.exclude)
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

// Covers says whether the files of every step of facts that reads the
// context are in one of sends: Fill then walks no folder.
func (d *Digests) Covers(facts []buildgraph.StageFacts, sends []Sent) bool {
	if d.err != nil {
		return false
	}
	for _, sf := range facts {
		for _, f := range sf.Steps {
			if len(f.Reads) > 0 && !slices.ContainsFunc(sends, func(s Sent) bool { return s.covers(f.Reads, d.exclude) }) {
				return false
			}
		}
	}
	return true
}

// covers says whether the upload sent every file a step reading reads
// would, with exclude excluded: it excluded exactly those patterns and
// included everything, or each of reads, or a folder above each.
func (s *Sent) covers(reads, exclude []string) bool {
	if !slices.Equal(s.ExcludePatterns, exclude) {
		return false
	}
	include := append(slices.Clone(s.IncludePatterns), s.FollowPaths...)
	if len(include) == 0 {
		return true
	}
	for _, r := range reads {
		r = path.Clean(r)
		ok := false
		for _, in := range include {
			// "." is not everything to fsutil's include filter: only
			// an upload that included nothing sent everything.
			if in = path.Clean(in); in == "." {
				continue
			}
			if r == in || !strings.ContainsAny(in, `*?[]\^`) && strings.HasPrefix(r, in+"/") {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// listFS is an fsutil.FS of the entries an upload sent: it walks them as
// fsutil walks a folder (each folder's entries by name, a folder before
// what it holds, fs.SkipDir honoured), so that fsutil's filter gives what
// it gives on the folder. It has no content: the hasher reads files from
// the folder.
type listFS struct {
	entries []*types.Stat
}

func newListFS(entries []*types.Stat) *listFS {
	l := &listFS{entries: make([]*types.Stat, 0, len(entries))}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		p := strings.TrimPrefix(filepath.ToSlash(e.Path), "/")
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		l.entries = append(l.entries, &types.Stat{Path: filepath.FromSlash(p), Mode: e.Mode, Uid: e.Uid, Gid: e.Gid,
			Size: e.Size, ModTime: e.ModTime, Linkname: e.Linkname, Devmajor: e.Devmajor, Devminor: e.Devminor})
	}
	sort.Slice(l.entries, func(i, j int) bool { return walkOrder(l.entries[i].Path, l.entries[j].Path) })
	return l
}

// walkOrder is the order of filepath.WalkDir: by path element, each
// element by name.
func walkOrder(a, b string) bool {
	for {
		ea, ra, moreA := strings.Cut(a, string(filepath.Separator))
		eb, rb, moreB := strings.Cut(b, string(filepath.Separator))
		if ea != eb {
			return ea < eb
		}
		if !moreA || !moreB {
			return !moreA && moreB
		}
		a, b = ra, rb
	}
}

func (l *listFS) Walk(ctx context.Context, target string, fn fs.WalkDirFunc) error {
	skip := "" // a folder whose rest is skipped, with its separator
	for _, e := range l.entries {
		if skip != "" && strings.HasPrefix(e.Path, skip) {
			continue
		}
		skip = ""
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(e.Path, &fsutil.DirEntryInfo{Stat: e}, nil)
		if err == filepath.SkipDir {
			if e.IsDir() {
				skip = e.Path + string(filepath.Separator)
			} else if dir := filepath.Dir(e.Path); dir != "." {
				skip = dir + string(filepath.Separator)
			} else {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *listFS) Open(p string) (io.ReadCloser, error) {
	return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
}

type hasher struct {
	root  string
	done  map[string]buildgraph.FileDigest
	cache *digestCache
}

// walk lists the files reads match, sorted by path: those of src, or of
// the folder when src is nil.
func (h *hasher) walk(ctx context.Context, src fsutil.FS, reads, exclude []string) ([]buildgraph.FileDigest, error) {
	opt := &fsutil.FilterOpt{ExcludePatterns: exclude}
	for _, r := range reads {
		if r == "." {
			opt.IncludePatterns = nil
			break
		}
		opt.IncludePatterns = append(opt.IncludePatterns, r)
	}
	if src == nil {
		var err error
		if src, err = fsutil.NewFS(h.root); err != nil {
			return nil, err
		}
	}
	filtered, err := fsutil.NewFilterFS(src, opt)
	if err != nil {
		return nil, err
	}
	var out []buildgraph.FileDigest
	err = filtered.Walk(ctx, "/", func(p string, d fs.DirEntry, err error) error {
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
	if remember && info.Mode().IsRegular() {
		// A file listed by an upload is read after it: one written since
		// is not remembered by its older stat.
		now, err := os.Lstat(filepath.Join(h.root, filepath.FromSlash(p)))
		remember = err == nil && now.Size() == key.Size && now.ModTime().UnixNano() == key.Mtime
	}
	if remember {
		h.cache.put(p, key, fd.Digest)
	}
	return fd, nil
}
