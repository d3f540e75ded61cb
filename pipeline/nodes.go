package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
)

// ConnectPlatforms connects to the engine opts name for builds of the
// given platforms (a bake's targets, each with its own). When opts name no
// platform and the engine is a buildx builder whose nodes differ for these
// platforms, as buildx sends each target to the node that serves its
// platform (engine.NodeFor), the session holds a connection per node needed
// and builds each request on its platform's node (a NodeSessions). Else it
// is Connect's session, with opts.Platform set to the platforms' common one
// when they have one.
func ConnectPlatforms(ctx context.Context, opts engine.Options, plats []string) (Session, error) {
	if opts.Platform != "" || len(plats) == 0 {
		return Connect(ctx, opts)
	}
	if same(plats) {
		opts.Platform = plats[0]
		return Connect(ctx, opts)
	}
	b := engine.Candidates(opts)[0].Builder
	if b == nil || len(b.Nodes) < 2 || b.Dynamic {
		return Connect(ctx, opts)
	}
	routes := map[string]int{}
	var used []int
	for _, p := range plats {
		if _, ok := routes[p]; ok {
			continue
		}
		i := engine.NodeFor(ctx, b, p, opts)
		routes[p] = i
		if !slices.Contains(used, i) {
			used = append(used, i)
		}
	}
	if len(used) == 1 {
		// One node serves them all: that node, chosen by the first
		// platform as NodeFor chose it (not the builder's first node).
		opts.Platform = plats[0]
		return Connect(ctx, opts)
	}
	nodes := make([]Node, len(used))
	errs := make([]error, len(used))
	var wg sync.WaitGroup
	for k, i := range used {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := engine.ConnectNode(ctx, b, i, opts)
			errs[k] = err
			if e != nil {
				nodes[k] = Node{Name: b.Nodes[i].Name, Addr: e.Addr, Session: engineSession{e}}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			continue
		}
		for _, n := range nodes {
			if n.Session != nil {
				_ = n.Session.Close()
			}
		}
		return nil, err
	}
	byPlatform := map[string]int{}
	for p, i := range routes {
		byPlatform[p] = slices.Index(used, i)
	}
	return NewNodeSessions(b.Name, nodes, byPlatform), nil
}

func same(plats []string) bool {
	for _, p := range plats[1:] {
		if p != plats[0] {
			return false
		}
	}
	return true
}

// Node is one node of a builder a NodeSessions builds on.
type Node struct {
	Name, Addr string
	Session    Session
}

// NodeSessions is a session on several nodes of one buildx builder: each
// build request goes to the node of its platform, and what is asked of a
// result afterwards (its size, its files) to the node that built it. The
// build records name that node's address. It does not look for images kept
// by earlier builds (KeptReader): CurrentImage says it cannot.
type NodeSessions struct {
	builder string
	nodes   []Node
	routes  map[string]int // platform → index in nodes

	mu    sync.Mutex
	built map[*engine.Result]int
}

// NewNodeSessions routes the requests of each platform of routes to
// nodes[routes[platform]]; a platform routes does not name goes to
// nodes[0].
func NewNodeSessions(builder string, nodes []Node, routes map[string]int) *NodeSessions {
	return &NodeSessions{builder: builder, nodes: nodes, routes: routes, built: map[*engine.Result]int{}}
}

func (s *NodeSessions) route(platform string) int { return s.routes[platform] }

// NodeOf names the node that builds for platform.
func (s *NodeSessions) NodeOf(platform string) string { return s.nodes[s.route(platform)].Name }

// Kind is the kind of the nodes' engines (a builder's driver makes them
// all of one kind).
func (s *NodeSessions) Kind() string { return s.nodes[0].Session.Kind() }

// Describe names the builder and each node with the platforms it builds:
// "buildkitd (builder B: node a tcp://… builds linux/arm64, node b tcp://…
// builds linux/amd64)".
func (s *NodeSessions) Describe() string {
	var parts []string
	for k, n := range s.nodes {
		var ps []string
		for p, i := range s.routes {
			if i == k {
				ps = append(ps, p)
			}
		}
		slices.Sort(ps)
		part := "node " + n.Name
		if n.Addr != "" {
			part += " " + n.Addr
		}
		if len(ps) > 0 {
			part += " builds " + strings.Join(ps, ", ")
		}
		parts = append(parts, part)
	}
	return s.Kind() + " (builder " + s.builder + ": " + strings.Join(parts, "; ") + ")"
}

func (s *NodeSessions) keep(res *engine.Result, k int) {
	if res == nil {
		return
	}
	s.mu.Lock()
	s.built[res] = k
	s.mu.Unlock()
}

// builder is the node session that built res (the first node's for a
// result it did not build).
func (s *NodeSessions) builtBy(res *engine.Result) Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[s.built[res]].Session
}

// Build builds req on the node of its platform.
func (s *NodeSessions) Build(ctx context.Context, req engine.BuildRequest, status chan *client.SolveStatus) (*engine.Result, error) {
	k := s.route(req.Platform)
	res, err := s.nodes[k].Session.Build(ctx, req, status)
	s.keep(res, k)
	return res, err
}

// BuildAll builds each node's requests with that node's BuildAll, the
// nodes at the same time; results, errors and status channels stay those
// of each request's index.
func (s *NodeSessions) BuildAll(ctx context.Context, reqs []engine.BuildRequest, status []chan *client.SolveStatus) ([]*engine.Result, []error) {
	byNode := make([][]int, len(s.nodes))
	for i, r := range reqs {
		k := s.route(r.Platform)
		byNode[k] = append(byNode[k], i)
	}
	results := make([]*engine.Result, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for k, idx := range byNode {
		if len(idx) == 0 {
			continue
		}
		sub := make([]engine.BuildRequest, len(idx))
		chans := make([]chan *client.SolveStatus, len(idx))
		for j, i := range idx {
			sub[j] = reqs[i]
			if i < len(status) {
				chans[j] = status[i]
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, es := s.nodes[k].Session.BuildAll(ctx, sub, chans)
			for j, i := range idx {
				if j < len(rs) {
					results[i] = rs[j]
					s.keep(rs[j], k)
				}
				if j < len(es) {
					errs[i] = es[j]
				}
			}
		}()
	}
	wg.Wait()
	return results, errs
}

// Measure measures res on the node that built it.
func (s *NodeSessions) Measure(ctx context.Context, res *engine.Result, progress func(done, total int64)) (*buildgraph.ImageSize, error) {
	return s.builtBy(res).Measure(ctx, res, progress)
}

// Files reads the files of res on the node that built it.
func (s *NodeSessions) Files(ctx context.Context, res *engine.Result, progress func(done, total int64)) (*engine.ImageFiles, error) {
	fr, ok := s.builtBy(res).(FilesReader)
	if !ok {
		return nil, errors.New("this engine session cannot read the files of images")
	}
	return fr.Files(ctx, res, progress)
}

// Platforms are the platforms the nodes' workers build for, each once.
func (s *NodeSessions) Platforms(ctx context.Context) ([]string, error) {
	var out []string
	for _, n := range s.nodes {
		l, ok := n.Session.(interface {
			Platforms(context.Context) ([]string, error)
		})
		if !ok {
			continue
		}
		ps, err := l.Platforms(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// RecordedFor describes, for the build records, the node that builds for
// platform.
func (s *NodeSessions) RecordedFor(platform string) history.Engine {
	n := s.nodes[s.route(platform)].Session
	if re, ok := n.(recordedEngine); ok {
		return re.Recorded()
	}
	return history.Engine{Kind: n.Kind()}
}

// Close closes every node's session.
func (s *NodeSessions) Close() error {
	var errs []error
	for _, n := range s.nodes {
		errs = append(errs, n.Session.Close())
	}
	return errors.Join(errs...)
}
