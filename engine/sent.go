package engine

import (
	"context"
	gofs "io/fs"
	"path/filepath"
	"slices"
	"sync"

	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// SentContext records what the uploads of a build's main context sent to
// the engine: for each, the filter BuildKit asked for and the stat of each
// file and folder sent, as sent (owner reset to root, as BuildKit's client
// does). It lets the context's files be listed as BuildKit saw them without
// walking the folder a second time. Safe for concurrent use.
type SentContext struct {
	mu    sync.Mutex
	sends []*ContextSend
	// Walks of the context that ended, and whether one failed: an upload
	// is complete once its walk ended.
	ended  int
	failed bool
}

// ContextSend is one upload of the main context.
type ContextSend struct {
	IncludePatterns, ExcludePatterns, FollowPaths []string
	// Entries are the files and folders sent, in no particular order.
	Entries []*fstypes.Stat
}

// Sends returns the uploads recorded so far; call it once the build has
// ended.
func (s *SentContext) Sends() []ContextSend {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ContextSend, len(s.sends))
	for i, c := range s.sends {
		out[i] = ContextSend{IncludePatterns: c.IncludePatterns, ExcludePatterns: c.ExcludePatterns,
			FollowPaths: c.FollowPaths, Entries: slices.Clone(c.Entries)}
	}
	return out
}

// Complete says whether every upload recorded so far has ended well, so
// that Sends holds all they sent. It is known when the session served
// the request's own context folder (always for Build; in a session
// BuildAll shares, only for its first request).
func (s *SentContext) Complete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sends) > 0 && s.ended == len(s.sends) && !s.failed
}

// wrap is the main context's local mount, counting the walks that send
// it (those from its root; fsutil's symbolic link resolution walks single
// entries).
func (s *SentContext) wrap(fs fsutil.FS) fsutil.FS { return &countedFS{FS: fs, s: s} }

type countedFS struct {
	fsutil.FS
	s *SentContext
}

func (c *countedFS) Walk(ctx context.Context, target string, fn gofs.WalkDirFunc) error {
	err := c.FS.Walk(ctx, target, fn)
	if target == string(filepath.Separator) {
		c.s.mu.Lock()
		c.s.ended++
		c.s.failed = c.s.failed || err != nil
		c.s.mu.Unlock()
	}
	return err
}

// filter is the session's hook on each upload of a local mount
// (filesync.FilterOptFunc): uploads of the main context are recorded.
func (s *SentContext) filter(name string, opt *fsutil.FilterOpt) error {
	if name != "context" {
		return nil
	}
	send := &ContextSend{
		IncludePatterns: slices.Clone(opt.IncludePatterns),
		ExcludePatterns: slices.Clone(opt.ExcludePatterns),
		FollowPaths:     slices.Clone(opt.FollowPaths),
	}
	s.mu.Lock()
	s.sends = append(s.sends, send)
	s.mu.Unlock()
	inner := opt.Map
	opt.Map = func(p string, st *fstypes.Stat) fsutil.MapResult {
		if inner != nil {
			if r := inner(p, st); r != fsutil.MapResultKeep {
				return r
			}
		}
		c := &fstypes.Stat{Path: st.Path, Mode: st.Mode, Uid: st.Uid, Gid: st.Gid, Size: st.Size,
			ModTime: st.ModTime, Linkname: st.Linkname}
		s.mu.Lock()
		send.Entries = append(send.Entries, c)
		s.mu.Unlock()
		return fsutil.MapResultKeep
	}
	return nil
}

// sentFilters is the session hook of the requests that record their
// context's uploads; nil when none does.
func sentFilters(reqs []BuildRequest) func(string, *fsutil.FilterOpt) error {
	var all []*SentContext
	for _, r := range reqs {
		if r.Sent != nil && !slices.Contains(all, r.Sent) {
			all = append(all, r.Sent)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return func(name string, opt *fsutil.FilterOpt) error {
		for _, s := range all {
			if err := s.filter(name, opt); err != nil {
				return err
			}
		}
		return nil
	}
}
