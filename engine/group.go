package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
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

// BuildAll builds several targets concurrently, in as few sessions as
// their inputs allow: requests of one build context share one session, in
// which the context is uploaded once and served to every solve, and
// BuildKit runs the steps the targets share once; Dockerfiles of different
// folders are served as local mounts of their own in it (the frontend's
// dockerfilekey). Requests of different contexts, named contexts, secrets
// or SSH (several Dockerfiles compared) get a session per kind, all at the
// same time. status[i] (may be nil) receives request i's updates and is
// closed when it ends. Results and errors are per request.
func (e *Engine) BuildAll(ctx context.Context, reqs []BuildRequest, status []chan *client.SolveStatus) ([]*Result, []error) {
	results := make([]*Result, len(reqs))
	errs := make([]error, len(reqs))
	var groups [][]int
	index := map[string]int{}
	for i, req := range reqs {
		k := sessionKey(req)
		g, ok := index[k]
		if !ok {
			g = len(groups)
			index[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	var (
		wg       sync.WaitGroup
		panicked any // the first panic of a group's goroutine
		once     sync.Once
	)
	for _, g := range groups {
		sub := make([]BuildRequest, len(g))
		var ch []chan *client.SolveStatus
		// A mount per Dockerfile: each is sent as the bytes its project
		// parsed, in a folder of its own (solveOpt), so two Dockerfiles of
		// one folder are two mounts.
		keys := map[string]string{} // Dockerfile → its mount
		for j, i := range g {
			sub[j] = reqs[i]
			df := absPath(reqs[i].DockerfilePath())
			k, ok := keys[df]
			if !ok {
				if len(keys) > 0 {
					k = fmt.Sprintf("dockerfile-%d", len(keys))
				}
				keys[df] = k
			}
			sub[j].dockerfileKey = k
			if i < len(status) {
				ch = append(ch, status[i])
			} else {
				ch = append(ch, nil)
			}
		}
		if len(groups) == 1 {
			return e.buildShared(ctx, sub, ch) // on the caller's goroutine, as one session always was
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					once.Do(func() { panicked = r })
				}
			}()
			res, es := e.buildShared(ctx, sub, ch)
			for j, i := range g {
				results[i], errs[i] = res[j], es[j]
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		// On the caller's goroutine, which recovers it, as a panic of a
		// single session is.
		panic(panicked)
	}
	return results, errs
}

// sessionKey is what requests that can share one session have in common:
// what the session serves them (the context folder, the named contexts,
// secrets and SSH agents); their Dockerfiles' folders are mounts of their
// own.
func sessionKey(req BuildRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00", absPath(req.ContextDir))
	for _, k := range sortedKeys(req.Contexts) {
		fmt.Fprintf(&b, "%s=%s\x00", k, req.Contexts[k])
	}
	fmt.Fprintf(&b, "%q\x00%q", req.Secrets, req.SSH)
	return b.String()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// buildShared builds requests that share one session (see BuildAll).
func (e *Engine) buildShared(ctx context.Context, reqs []BuildRequest, status []chan *client.SolveStatus) ([]*Result, []error) {
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
	for _, req := range reqs[1:] {
		// The mounts of the other Dockerfiles.
		if err != nil {
			break
		}
		var (
			more client.SolveOpt
			done func()
		)
		more, done, err = solveOpt(req)
		defer done()
		if err == nil {
			for name, fs := range more.LocalMounts {
				if _, ok := opt.LocalMounts[name]; !ok {
					opt.LocalMounts[name] = fs
				}
			}
		}
	}
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
	var hooks []filesync.FilterOptFunc
	if f := sentFilters(reqs); f != nil {
		hooks = append(hooks, f)
	}
	s.Allow(filesync.NewFSSyncProvider(dirs, hooks...))
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
