// Package engine connects to a BuildKit engine — a standalone buildkitd or
// the BuildKit inside a Docker daemon — and runs builds on it. It is the only
// package that talks gRPC or the Docker API.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/connhelper"

	// Registered address schemes beyond unix:// and tcp://.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)

// Kind says which sort of engine answered.
type Kind string

const (
	// KindBuildKit is a standalone buildkitd reached at a BuildKit address.
	KindBuildKit Kind = "buildkitd"
	// KindDocker is the BuildKit inside a Docker daemon.
	KindDocker Kind = "docker"
)

// DefaultProbeTimeout bounds the first call that proves an engine answers.
const DefaultProbeTimeout = 2 * time.Second

// Options says where to find an engine.
type Options struct {
	// Addr is a BuildKit address (unix://, tcp://, docker-container://,
	// kube-pod://, ssh://). Empty means the next source of Candidates.
	Addr string
	// Builder names a buildx builder (--builder); see Candidates.
	Builder string
	// Platform is the platform the builds are for (OS/ARCH[/VARIANT]):
	// it chooses the node of a builder that has several.
	Platform string
	// DockerHost overrides DOCKER_HOST and Docker contexts when Addr and
	// BUILDKIT_HOST are empty.
	DockerHost string
	// TLS material for tcp:// BuildKit addresses (mutual TLS).
	TLSCACert, TLSCert, TLSKey, TLSServerName string
	// ProbeTimeout bounds the reachability check (DefaultProbeTimeout if 0).
	ProbeTimeout time.Duration
	// LayerSizes remembers the unpacked sizes of layer blobs between runs
	// (nil: for the life of the Engine only). See Measure.
	LayerSizes SizeMemo
	// LayerFiles remembers the entries of layers and the configs of
	// images between runs (nil: nothing is remembered). See Files.
	LayerFiles FileMemo
}

// SizeMemo keeps unpacked layer sizes by blob digest. Blobs are addressed
// by content, so an entry never goes stale.
type SizeMemo interface {
	Get(digest string) (int64, bool)
	Put(digest string, size int64)
	// Flush saves what Put added; it is called after each measurement.
	Flush() error
}

// memMemo is the SizeMemo of an Engine given none.
type memMemo struct{ m sync.Map }

func (m *memMemo) Get(d string) (int64, bool) {
	v, ok := m.m.Load(d)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}
func (m *memMemo) Put(d string, n int64) { m.m.Store(d, n) }
func (m *memMemo) Flush() error          { return nil }

// Engine is a connected BuildKit engine.
type Engine struct {
	Kind Kind
	// Addr is where the engine was reached, as the user would write it.
	Addr string
	// Version is the engine's version when it says (Docker's engine version,
	// or buildkitd's); empty when the daemon does not implement Info.
	Version string
	// Builder and Node name the buildx builder and its node when the
	// engine was reached through one.
	Builder, Node string

	bk *client.Client
	be backend // what this kind of engine does its own way
	// layers reads layer blobs and remembers their unpacked sizes by
	// digest (Measure).
	layers *layerReader
}

// UnreachableError says no engine answered at an address.
type UnreachableError struct {
	Kind Kind
	Addr string
	Err  error
	// Builder and Node name the buildx builder and node that did not
	// answer, when the engine was one.
	Builder, Node string
}

func (e *UnreachableError) Error() string {
	what := "BuildKit"
	hint := "start buildkitd or Docker, or point --addr or BUILDKIT_HOST at a running buildkitd"
	if e.Kind == KindDocker {
		what = "Docker"
		hint = "start Docker, or point --addr or BUILDKIT_HOST at a running buildkitd"
	}
	cause := rootCause(e.Err)
	if strings.Contains(cause, "tls") || strings.Contains(cause, "x509") || strings.Contains(cause, "certificate") {
		hint = "check --tlscacert, --tlscert and --tlskey against the daemon's certificates"
	}
	if errors.Is(e.Err, fs.ErrPermission) || strings.Contains(cause, "permission denied") {
		// The socket is there and the daemon may well run: the user may
		// not use it. Say so instead of quoting the dialer.
		cause = "permission denied on its socket"
		hint = "run as a member of the socket's group (for Docker usually docker) or as root, or point --addr or BUILDKIT_HOST at an engine you may use"
		if owner := socketOwner(e.Addr); owner != "" {
			cause += ", owned by " + owner
		}
	}
	if c, h, ok := dockerContainerCause(e.Addr, cause); ok {
		cause, hint = c, h
	}
	if e.Builder != "" {
		if strings.HasPrefix(hint, "check --tls") {
			hint = "check the builder's cacert, cert and key driver options (docker buildx inspect " + e.Builder + ") against the daemon's certificates"
		} else {
			hint = "start it (docker buildx inspect --bootstrap " + e.Builder + "), or choose another builder with --builder or BUILDX_BUILDER (stagescope engines lists them)"
		}
		what = "builder " + e.Builder
		if e.Node != "" && e.Node != e.Builder {
			what += " (node " + e.Node + ")"
		}
	}
	return fmt.Sprintf("cannot reach %s at %s (%s); %s", what, e.Addr, cause, hint)
}

// dockerContainerCause rewords a failure of docker-container://NAME, which
// BuildKit's connection helper reaches through `docker exec -i NAME buildctl
// dial-stdio` and reports with that command line and the docker CLI's
// stderr: the stderr is the cause, and the hint is about the container.
func dockerContainerCause(addr, cause string) (string, string, bool) {
	name, ok := strings.CutPrefix(addr, "docker-container://")
	if !ok {
		return "", "", false
	}
	name, _, _ = strings.Cut(name, "?")
	if strings.Contains(cause, `exec: "docker": executable file not found`) || strings.Contains(cause, `exec: \"docker\": executable file not found`) {
		return "the docker command is not installed", "install the Docker CLI: docker-container:// addresses are reached with docker exec", true
	}
	if _, after, found := strings.Cut(cause, "stderr="); found {
		cause = strings.TrimSpace(strings.NewReplacer(`\n`, " ", "\n", " ").Replace(after))
		cause = strings.TrimPrefix(cause, "Error response from daemon: ")
	}
	switch {
	case strings.Contains(cause, "No such container"):
		return cause, "start the container, or point --addr at one that runs buildkitd (docker ps lists them; docker buildx create --driver docker-container makes one)", true
	case strings.Contains(cause, "is not running"):
		return "container " + name + " is not running", "start it with docker start " + name, true
	case strings.Contains(cause, "Cannot connect to the Docker daemon"):
		return cause, "start Docker or set DOCKER_HOST: docker-container:// addresses are reached through Docker", true
	}
	return cause, "check that container " + name + " runs buildkitd and has buildctl (docker exec " + name + " buildctl debug workers)", true
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// socketOwner describes a unix socket's owner, group and mode
// ("root:docker, mode 0660"), or "" when addr is not a local socket.
func socketOwner(addr string) string {
	path, ok := strings.CutPrefix(addr, "unix://")
	if !ok {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	name := func(id uint32, lookup func(string) (string, error)) string {
		if n, err := lookup(strconv.FormatUint(uint64(id), 10)); err == nil {
			return n
		}
		return strconv.FormatUint(uint64(id), 10)
	}
	owner := name(sys.Uid, func(id string) (string, error) {
		u, err := user.LookupId(id)
		if err != nil {
			return "", err
		}
		return u.Username, nil
	})
	group := name(sys.Gid, func(id string) (string, error) {
		g, err := user.LookupGroupId(id)
		if err != nil {
			return "", err
		}
		return g.Name, nil
	})
	return fmt.Sprintf("%s:%s, mode %#o", owner, group, st.Mode().Perm())
}

// AddressError says an address cannot be used at all (unknown scheme, bad form).
type AddressError struct {
	Addr string
	Msg  string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("invalid engine address %q: %s", e.Addr, e.Msg)
}

// Connect connects to the first engine of Candidates that is set: an
// explicit BuildKit address is used or fails, it never falls back to Docker.
// It proves the engine answers with a real call bounded by the probe timeout.
func Connect(ctx context.Context, opts Options) (*Engine, error) {
	return ConnectTo(ctx, Candidates(opts)[0], opts)
}

// ConnectTo connects to one candidate.
func ConnectTo(ctx context.Context, c Candidate, opts Options) (*Engine, error) {
	if opts.ProbeTimeout == 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	var (
		e   *Engine
		err error
	)
	switch {
	case c.err != nil:
		return nil, c.err
	case c.Builder != nil:
		e, err = connectBuilder(ctx, c.Builder, opts)
	case c.Kind == KindBuildKit:
		e, err = connectBuildKit(ctx, c.Addr, opts, nil)
	default:
		e, err = connectDocker(ctx, c.Addr, opts.ProbeTimeout)
	}
	if e != nil {
		memo := opts.LayerSizes
		if memo == nil {
			memo = &memMemo{}
		}
		e.layers = newLayerReader(memo, opts.LayerFiles)
	}
	return e, err
}

// checkAddr rejects addresses no dialer would accept, before dialing.
func checkAddr(addr string) error {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme == "" {
		return &AddressError{Addr: addr, Msg: "want SCHEME://…, for example unix:///run/buildkit/buildkitd.sock or tcp://host:1234"}
	}
	switch u.Scheme {
	case "unix", "tcp":
		return nil
	}
	if h, err := connhelper.GetConnectionHelper(addr); err == nil && h != nil {
		return nil
	}
	return &AddressError{Addr: addr, Msg: fmt.Sprintf("unknown scheme %q (use unix, tcp, docker-container, kube-pod or ssh)", u.Scheme)}
}

// connectBuildKit connects to the buildkitd at addr, through dial when it
// is not nil (the address then only names the engine).
func connectBuildKit(ctx context.Context, addr string, opts Options, dial func(context.Context, string) (net.Conn, error)) (*Engine, error) {
	if err := checkAddr(addr); err != nil {
		return nil, err
	}
	var copts []client.ClientOpt
	if dial != nil {
		copts = append(copts, client.WithContextDialer(dial))
	}
	if opts.TLSCACert != "" || opts.TLSCert != "" || opts.TLSKey != "" {
		if !strings.HasPrefix(addr, "tcp://") {
			return nil, &AddressError{Addr: addr, Msg: "TLS flags need a tcp:// address"}
		}
		if (opts.TLSCert == "") != (opts.TLSKey == "") {
			return nil, &AddressError{Addr: addr, Msg: "--tlscert and --tlskey go together"}
		}
		for _, f := range []string{opts.TLSCACert, opts.TLSCert, opts.TLSKey} {
			if f == "" {
				continue
			}
			if _, err := os.Stat(f); err != nil {
				return nil, &AddressError{Addr: addr, Msg: fmt.Sprintf("TLS file %s does not exist", f)}
			}
		}
		server := opts.TLSServerName
		if server == "" {
			if u, err := url.Parse(addr); err == nil {
				server = u.Hostname()
			}
		}
		if opts.TLSCACert != "" {
			copts = append(copts, client.WithServerConfig(server, opts.TLSCACert))
		} else {
			copts = append(copts, client.WithServerConfigSystem(server))
		}
		if opts.TLSCert != "" {
			copts = append(copts, client.WithCredentials(opts.TLSCert, opts.TLSKey))
		}
	}
	c, err := client.New(ctx, addr, copts...)
	if err != nil {
		return nil, &UnreachableError{Kind: KindBuildKit, Addr: addr, Err: err}
	}
	e := &Engine{Kind: KindBuildKit, Addr: addr, bk: c, be: buildkitd{}}
	if err := e.probe(ctx, opts.ProbeTimeout); err != nil {
		c.Close()
		return nil, &UnreachableError{Kind: KindBuildKit, Addr: addr, Err: err}
	}
	return e, nil
}

func connectDocker(ctx context.Context, host string, timeout time.Duration) (*Engine, error) {
	d, err := newDockerAPI(host)
	if err != nil {
		if host == "" {
			host = dockerHostFromEnv()
		}
		return nil, &AddressError{Addr: host, Msg: rootCause(err)}
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	version, err := d.ping(pctx)
	if err != nil {
		d.close()
		return nil, &UnreachableError{Kind: KindDocker, Addr: d.host, Err: err}
	}
	c, err := client.New(ctx, "",
		client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return d.dialGRPC(ctx)
		}),
		client.WithSessionDialer(d.dialSession),
	)
	if err != nil {
		d.close()
		return nil, &UnreachableError{Kind: KindDocker, Addr: d.host, Err: err}
	}
	e := &Engine{Kind: KindDocker, Addr: d.host, Version: version, bk: c, be: dockerd{api: d, version: version}}
	if err := e.probe(ctx, timeout); err != nil {
		e.Close()
		return nil, &UnreachableError{Kind: KindDocker, Addr: d.host, Err: fmt.Errorf("its BuildKit does not answer: %w", err)}
	}
	return e, nil
}

// probe makes one real call: client.New connects lazily, so without it an
// unreachable engine would only show up at the first build.
func (e *Engine) probe(ctx context.Context, timeout time.Duration) error {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	info, err := e.bk.Info(pctx)
	if err == nil {
		if e.Version == "" && info.BuildkitVersion.Version != "" {
			e.Version = info.BuildkitVersion.Version
		}
		return nil
	}
	// Older daemons (Docker 20.10's BuildKit among them) do not implement
	// Info; ListWorkers is as real a call and every version has it.
	if isUnimplemented(err) {
		_, err = e.bk.ListWorkers(pctx)
	}
	return err
}

// Close releases the connections.
func (e *Engine) Close() error {
	return errors.Join(e.bk.Close(), e.be.close())
}

// rootCause keeps the innermost useful sentence of a wrapped gRPC or dial
// error, so messages stay on one line.
func rootCause(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if s, ok := grpcStatusMessage(err); ok {
		msg = s
	}
	for _, marker := range []string{"connection error: desc = ", "transport: Error while dialing: "} {
		if i := strings.LastIndex(msg, marker); i >= 0 {
			msg = msg[i+len(marker):]
		}
	}
	msg = strings.Trim(msg, `" `)
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "context deadline exceeded") {
		return "no answer within the probe timeout"
	}
	return msg
}
