package engine

import (
	"context"

	"fmt"
	"sync"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	sessioncontent "github.com/moby/buildkit/session/content"
	"github.com/moby/buildkit/session/filesync"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/stagescope/stagescope/internal/crash"
)

// BuildAll builds several targets of one Dockerfile concurrently in a single
// session: the context is uploaded once and served to every solve, and
// BuildKit runs the steps the targets share once. The requests must differ
// only in Target and Tags. status[i] (may be nil) receives request i's
// updates and is closed when it ends. Results and errors are per request.
func (e *Engine) BuildAll(ctx context.Context, reqs []BuildRequest, status []chan *client.SolveStatus) ([]*Result, []error) {
	results := make([]*Result, len(reqs))
	errs := make([]error, len(reqs))
	closeAll := func() {
		for _, ch := range status {
			if ch != nil {
				close(ch)
			}
		}
	}
	if len(reqs) == 0 {
		return results, errs
	}
	opt, cleanup, err := solveOpt(reqs[0])
	defer cleanup()
	var s *session.Session
	if err == nil {
		s, err = session.NewSession(ctx, "")
	}
	if err != nil {
		closeAll()
		for i := range errs {
			errs[i] = err
		}
		return results, errs
	}
	dirs := filesync.StaticDirSource{}
	for name, fs := range opt.LocalMounts {
		// The same ownership reset BuildKit's client applies to local
		// mounts of its own sessions: files arrive owned by root.
		if dirs[name], err = fsutil.NewFilterFS(fs, &fsutil.FilterOpt{Map: rootOwned}); err != nil {
			closeAll()
			for i := range errs {
				errs[i] = &InputError{Msg: fmt.Sprintf("build context %s: %v", name, err)}
			}
			return results, errs
		}
	}
	s.Allow(filesync.NewFSSyncProvider(dirs))
	for _, a := range opt.Session {
		s.Allow(a)
	}
	if len(opt.OCIStores) > 0 {
		stores := map[string]content.Store{}
		for id, st := range opt.OCIStores {
			stores["oci:"+id] = st
		}
		s.Allow(sessioncontent.NewAttachable(stores))
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	sessionDone := make(chan error, 1)
	go func() { sessionDone <- s.Run(sctx, e.bk.Dialer()) }()
	defer func() {
		s.Close()
		stop()
		<-sessionDone
	}()

	var wg sync.WaitGroup
	for i, req := range reqs {
		var ch chan *client.SolveStatus
		if i < len(status) {
			ch = status[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer crash.Recover(&errs[i])
			results[i], errs[i] = e.build(ctx, req, ch, s)
		}()
	}
	wg.Wait()
	return results, errs
}

func rootOwned(_ string, st *fstypes.Stat) fsutil.MapResult {
	st.Uid, st.Gid = 0, 0
	return fsutil.MapResultKeep
}

// FirstError returns the first non-nil error of a BuildAll, or nil.
func FirstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
