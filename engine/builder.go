package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/platforms"
	"github.com/docker/cli/cli/connhelper/commandconn"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// How a builder's node is reached, by driver, as buildx reaches it
// (its driver packages), but through BuildKit's addresses:
//
//	docker            the Docker daemon of the node's endpoint (a context
//	                  name, or a host)
//	docker-container  docker-container://buildx_buildkit_NODE: buildctl
//	                  dial-stdio in the container buildx created, through
//	                  the docker CLI of the endpoint's context or host
//	remote            the node's endpoint, a BuildKit address, with the
//	                  TLS files of its driver options (cacert, cert, key,
//	                  servername)
//	kubernetes        kube-pod://POD?namespace=NS: buildctl dial-stdio in a
//	                  running pod of the deployment buildx created (named
//	                  as the node, "_" replaced by "-", pods labelled
//	                  app=DEPLOYMENT) in the namespace of the driver
//	                  options, else kubectl's; pods are listed with kubectl
//	                  and the first running one by name is used (buildx's
//	                  default spreads builds over the pods by a hash of the
//	                  build context's path)

// nodeTarget is where one node answers.
type target struct {
	kind Kind
	addr string
	// tls files for a tcp:// address.
	caCert, cert, key, serverName string
	// dial, when not nil, reaches addr (docker-container:// on a Docker
	// host given as an address).
	dial func(context.Context, string) (net.Conn, error)
	// kube: the address is only known once a pod is chosen.
	kube *kubeDeployment
}

type kubeDeployment struct{ name, namespace string }

// containerPrefix is what buildx's docker-container driver names its
// containers: the prefix and the node's name.
const containerPrefix = "buildx_buildkit_"

func isHost(endpoint string) bool { return strings.Contains(endpoint, "://") }

// nodeTarget says how to reach node n of b, without reaching it.
func nodeTarget(b *Builder, n BuilderNode) (target, error) {
	bad := func(format string, args ...any) (target, error) {
		return target{}, &BuilderError{Builder: b.Name, Node: n.Name, Msg: fmt.Sprintf(format, args...)}
	}
	switch b.Driver {
	case "docker":
		host := n.Endpoint
		switch {
		case isHost(host):
		case host == "" || host == "default":
			host = defaultContextHost()
		default:
			if host = contextHost(n.Endpoint); host == "" {
				return bad("its Docker context %q does not exist", n.Endpoint)
			}
		}
		return target{kind: KindDocker, addr: host}, nil
	case "docker-container":
		name := containerPrefix + n.Name
		t := target{kind: KindBuildKit, addr: "docker-container://" + name}
		switch ep := n.Endpoint; {
		case isHost(ep):
			t.dial = func(context.Context, string) (net.Conn, error) {
				// As BuildKit's docker-container helper does, with the
				// node's host: the dial outlives the context it is made in.
				return commandconn.New(context.Background(), "docker", "--host="+ep, "exec", "-i", name, "buildctl", "dial-stdio")
			}
		case ep != "" && ep != "default":
			t.addr += "?context=" + url.QueryEscape(ep)
		}
		return t, nil
	case "remote":
		t := target{kind: KindBuildKit, addr: n.Endpoint}
		for k, v := range n.DriverOpts {
			switch k {
			case "cacert":
				t.caCert = v
			case "cert":
				t.cert = v
			case "key":
				t.key = v
			case "servername":
				t.serverName = v
			}
		}
		if t.addr == "" {
			return bad("it has no endpoint")
		}
		return t, nil
	case "kubernetes":
		name := strings.ReplaceAll(n.Name, "_", "-")
		// The address is known once a pod is chosen; until then it says
		// which pods.
		return target{kind: KindBuildKit, addr: "kube-pod://(a pod of deployment " + name + ")", kube: &kubeDeployment{name: name, namespace: n.DriverOpts["namespace"]}}, nil
	case "":
		return bad("its store entry names no driver")
	}
	return bad("stagescope cannot reach builders of the %s driver (it reaches docker, docker-container, remote and kubernetes)", b.Driver)
}

// connectBuilder connects to the node of b that serves opts.Platform, as
// buildx chooses it: a node created for that platform (exactly, and the
// best such match), else, once every node was asked for the platforms its
// workers serve, a node that can build it (linux/386 on linux/amd64), else
// the first node. With no platform asked for, the first node.
func connectBuilder(ctx context.Context, b *Builder, opts Options) (*Engine, error) {
	if b.Dynamic {
		return nil, &BuilderError{Builder: b.Name, Msg: "its nodes are created on demand (buildx's cloud driver), which stagescope cannot reach"}
	}
	if len(b.Nodes) == 0 {
		return nil, &BuilderError{Builder: b.Name, Msg: "it has no nodes"}
	}
	i, engines, errs := chooseNode(ctx, b, opts)
	if engines == nil {
		return connectNode(ctx, b, i, opts)
	}
	for j, e := range engines {
		if j != i && e != nil {
			e.Close()
		}
	}
	return engines[i], errs[i]
}

// chooseNode is the index of the node of b that serves opts.Platform (see
// connectBuilder). When it had to ask every node what its workers serve,
// engines and errs are the connections it made, one per node (the caller
// closes them); else they are nil.
func chooseNode(ctx context.Context, b *Builder, opts Options) (int, []*Engine, []error) {
	if opts.Platform == "" || len(b.Nodes) == 1 {
		return 0, nil, nil
	}
	want, err := platforms.Parse(opts.Platform)
	if err != nil {
		return 0, nil, nil // the build reports the bad platform
	}
	if i := pickNode(b.Nodes, want, platforms.OnlyStrict, nil); i >= 0 {
		return i, nil, nil
	}
	// Ask every node what its workers serve.
	engines := make([]*Engine, len(b.Nodes))
	errs := make([]error, len(b.Nodes))
	served := make([][]ocispecs.Platform, len(b.Nodes))
	var wg sync.WaitGroup
	for i := range b.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			engines[i], errs[i] = connectNode(ctx, b, i, opts)
			if errs[i] != nil {
				return
			}
			pctx, cancel := context.WithTimeout(ctx, opts.ProbeTimeout)
			defer cancel()
			if ws, err := engines[i].bk.ListWorkers(pctx); err == nil {
				for _, w := range ws {
					served[i] = append(served[i], w.Platforms...)
				}
			}
		}()
	}
	wg.Wait()
	i := pickNode(b.Nodes, want, platforms.Only, served)
	if i < 0 {
		i = 0
	}
	return i, engines, errs
}

// NodeFor is the index of the node of b that builds for platform, as a
// build connected with that platform (Connect, Builder.Connect) would be
// sent to it: a caller whose targets have platforms of their own (bake
// targets) sends each to its node (ConnectNode). "" is the first node.
func NodeFor(ctx context.Context, b *Builder, platform string, opts Options) int {
	if opts.ProbeTimeout == 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	opts.Platform = platform
	i, engines, _ := chooseNode(ctx, b, opts)
	for _, e := range engines {
		if e != nil {
			e.Close()
		}
	}
	return i
}

// pickNode is buildx's choice of a node for platform p: of the nodes whose
// platforms (configured, and served when given) match p, the one whose
// matching platform matcher ranks best; -1 when none matches.
func pickNode(nodes []BuilderNode, p ocispecs.Platform, matcher func(ocispecs.Platform) platforms.MatchComparer, served [][]ocispecs.Platform) int {
	best := -1
	var bestPlatform ocispecs.Platform
	for i, n := range nodes {
		ps := n.Platforms
		if served != nil {
			ps = append(append([]ocispecs.Platform(nil), ps...), served[i]...)
		}
		for _, p2 := range ps {
			m := matcher(p2)
			if !m.Match(p) {
				continue
			}
			if best == -1 || m.Less(p, bestPlatform) {
				best, bestPlatform = i, p2
			}
		}
	}
	return best
}

// connectNode connects to node i of b.
func connectNode(ctx context.Context, b *Builder, i int, opts Options) (*Engine, error) {
	n := b.Nodes[i]
	t, err := nodeTarget(b, n)
	if err != nil {
		return nil, err
	}
	if t.kube != nil {
		pod, err := kubePod(ctx, t.kube, opts.ProbeTimeout)
		if err != nil {
			return nil, &BuilderError{Builder: b.Name, Node: n.Name, Msg: err.Error()}
		}
		t.addr = kubePodAddr(pod, t.kube.namespace)
	}
	var e *Engine
	if t.kind == KindDocker {
		e, err = connectDocker(ctx, t.addr, opts.ProbeTimeout)
	} else {
		o := opts
		o.TLSCACert, o.TLSCert, o.TLSKey, o.TLSServerName = t.caCert, t.cert, t.key, t.serverName
		e, err = connectBuildKit(ctx, t.addr, o, t.dial)
	}
	var u *UnreachableError
	if errors.As(err, &u) {
		u.Builder, u.Node = b.Name, n.Name
	}
	var a *AddressError
	if errors.As(err, &a) {
		return nil, &BuilderError{Builder: b.Name, Node: n.Name, Msg: a.Error()}
	}
	if err != nil {
		return nil, err
	}
	e.Builder, e.Node = b.Name, n.Name
	return e, nil
}

// kubePodAddr is BuildKit's address of a pod.
func kubePodAddr(pod, namespace string) string {
	addr := "kube-pod://" + pod
	if namespace != "" {
		addr += "?namespace=" + url.QueryEscape(namespace)
	}
	return addr
}

// kubePod returns the first running pod of deployment d by name, listing
// the pods with kubectl (as BuildKit's kube-pod:// helper execs kubectl).
func kubePod(ctx context.Context, d *kubeDeployment, timeout time.Duration) (string, error) {
	if timeout < 10*time.Second {
		timeout = 10 * time.Second // a cluster's API answers slower than a socket
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{"get", "pods", "--selector=app=" + d.name, "--output=json"}
	if d.namespace != "" {
		args = append(args, "--namespace="+d.namespace)
	}
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	where := "deployment " + d.name
	if d.namespace != "" {
		where += " in namespace " + d.namespace
	}
	if errors.Is(err, exec.ErrNotFound) {
		return "", errors.New("the kubectl command is not installed: kubernetes builders are reached with kubectl exec")
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("listing the pods of %s: %s", where, strings.ReplaceAll(msg, "\n", " "))
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name              string  `json:"name"`
				DeletionTimestamp *string `json:"deletionTimestamp"`
			} `json:"metadata"`
			Status struct {
				Phase string `json:"phase"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return "", fmt.Errorf("listing the pods of %s: kubectl printed no pod list: %v", where, err)
	}
	var running []string
	for _, p := range list.Items {
		if p.Status.Phase == "Running" && p.Metadata.DeletionTimestamp == nil {
			running = append(running, p.Metadata.Name)
		}
	}
	if len(running) == 0 {
		return "", fmt.Errorf("no running pod of %s (docker buildx inspect --bootstrap starts them)", where)
	}
	sort.Strings(running)
	return running[0], nil
}

// ConnectNode connects to node i of b, whatever the platforms it serves:
// `stagescope engines` asks every node, a bake's targets of different
// platforms build each on its node (NodeFor).
func ConnectNode(ctx context.Context, b *Builder, i int, opts Options) (*Engine, error) {
	if opts.ProbeTimeout == 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	e, err := connectNode(ctx, b, i, opts)
	if e != nil {
		memo := opts.LayerSizes
		if memo == nil {
			memo = &memMemo{}
		}
		e.layers = newLayerReader(memo, opts.LayerFiles)
	}
	return e, err
}

// NodeAddr is where node i of b answers, as far as it is known without
// reaching it (a kubernetes node's pod is chosen when connecting).
func (b *Builder) NodeAddr(i int) string {
	t, err := nodeTarget(b, b.Nodes[i])
	if err != nil {
		return ""
	}
	return t.addr
}

// Connect connects to the node of b that serves platform ("" for the first
// node), as Connect does for a builder named by the command line: a caller
// whose targets have platforms of their own (bake targets) resolves the
// builder once (ResolveBuilder, or Candidates' Builder) and connects once
// per platform.
func (b *Builder) Connect(ctx context.Context, platform string, opts Options) (*Engine, error) {
	if opts.ProbeTimeout == 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	opts.Platform = platform
	e, err := connectBuilder(ctx, b, opts)
	if e != nil {
		memo := opts.LayerSizes
		if memo == nil {
			memo = &memMemo{}
		}
		e.layers = newLayerReader(memo, opts.LayerFiles)
	}
	return e, err
}
