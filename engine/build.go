package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/tonistiigi/fsutil"

	"github.com/stagescope/stagescope/internal/crash"
)

// BuildRequest is one Dockerfile build of one target.
type BuildRequest struct {
	// ContextDir is the build context folder.
	ContextDir string
	// Dockerfile is the Dockerfile's path (default ContextDir/Dockerfile).
	Dockerfile string
	// DockerfileSource, when set, is sent as the Dockerfile instead of
	// what the file holds when the build starts: the bytes that were
	// parsed and shown are the ones built, even if the file is saved in
	// between. <Dockerfile>.dockerignore is still read from beside it.
	DockerfileSource []byte
	// Target is the stage to build; empty builds the last stage.
	Target string
	// BuildArgs are --build-arg values.
	BuildArgs map[string]string
	// Contexts are named build contexts: NAME → a folder, or a value BuildKit
	// understands as it is (docker-image://REF, oci-layout://PATH, …).
	Contexts map[string]string
	// Tags name the image in Docker's image store (Docker engines only).
	Tags []string
	// NoCache disables the build cache for every step.
	NoCache bool
	// Platform is the target platform (os/arch[/variant]), or several
	// separated by commas for an image index; empty: the engine's.
	Platform string
	// Provenance asks BuildKit for a provenance attestation
	// ("mode=min", "mode=max"), as buildx --provenance; "" for none.
	Provenance string
	// Secrets are --secret specs (id=NAME,src=FILE or id=NAME,env=VARIABLE).
	Secrets []string
	// SSH are --ssh specs (default, or ID=SOCKET|KEY…).
	SSH []string
	// Outputs are --output specs (type=local|tar|oci|docker|image,dest=…).
	Outputs []string
	// Load stores the image in a Docker image store: always the case on
	// Docker when no Outputs are given; on a buildkitd it pipes the docker
	// exporter into LoadDockerHost ("" = DOCKER_HOST or the default socket).
	Load           bool
	LoadDockerHost string
	// Keep asks a standalone buildkitd to store the result as an image in
	// its own content store (named by Tags), so that Measure can read it.
	// Docker always stores the image.
	Keep bool
	// Sent, when set, records what the uploads of the main context sent.
	Sent *SentContext

	// dockerfileKey names the session's local mount of the Dockerfile's
	// folder when a shared session serves several ("" for BuildKit's
	// default, "dockerfile"): see BuildAll.
	dockerfileKey string
}

// Result is what a finished build produced.
type Result struct {
	// Image is the first tag the image was stored under, if it was stored.
	Image string
	// Digest is the image (config or manifest) digest the exporter reported.
	Digest string
	// Exporter is the raw exporter response.
	Exporter map[string]string
	Duration time.Duration
	// Platform, set by the caller on a build for several platforms, is
	// the platform whose image of the index Files reads ("" the first).
	Platform string
}

// BuildError is a build that the engine ran and that failed (a step exited
// non-zero, a file to COPY was missing, a base could not be resolved…).
type BuildError struct {
	Err error
	// Step is the name of the failed step as BuildKit shows it
	// ("[builder 3/4] RUN go build …"), when known.
	Step string
	// ExitCode is the failed process's exit code, -1 when no process failed.
	ExitCode int
	// Logs are the last lines the failed step printed.
	Logs []string
	// Sources locate the failing instruction in the Dockerfile.
	Sources []*errdefs.Source
	// Hint says what to do when the failure has a known cause (a program
	// for another CPU without emulation: platforms.go).
	Hint string
}

func (e *BuildError) Error() string {
	msg := "build failed"
	if e.Step != "" {
		msg += " at " + e.Step
	}
	if e.ExitCode >= 0 {
		if e.Hint != "" {
			return fmt.Sprintf("%s: exit code %d: %s", msg, e.ExitCode, e.Hint)
		}
		return fmt.Sprintf("%s: exit code %d", msg, e.ExitCode)
	}
	cause := rootCause(e.Err)
	if m := noSSHKey.FindStringSubmatch(cause); m != nil {
		// BuildKit names the missing agent by its id, "" for the default.
		id := m[1]
		if id == "" {
			id = "default"
		}
		cause = fmt.Sprintf("no SSH agent was forwarded for id %q; pass --ssh %s (the agent at SSH_AUTH_SOCK) or --ssh %s=SOCKET|KEY", id, id, id)
	}
	return msg + ": " + cause
}
func (e *BuildError) Unwrap() error { return e.Err }

// noSSHKey is BuildKit's error for RUN --mount=type=ssh,required=true
// without an agent for its id.
var noSSHKey = regexp.MustCompile(`no SSH key "([^"]*)" forwarded from the client`)

// LostError says the engine went away during a build.
type LostError struct {
	Kind Kind
	Addr string
	Err  error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("lost the connection to %s at %s during the build (%s)", e.Kind, e.Addr, rootCause(e.Err))
}
func (e *LostError) Unwrap() error { return e.Err }

// InputError is a request that cannot be sent: a missing context folder,
// an unreadable Dockerfile.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// DockerfilePath returns the Dockerfile a request builds.
func (r BuildRequest) DockerfilePath() string {
	if r.Dockerfile != "" {
		return r.Dockerfile
	}
	return filepath.Join(r.ContextDir, "Dockerfile")
}

// solveOpt turns a request into the frontend attributes and local mounts the
// Dockerfile frontend expects (the same keys buildx and buildctl send).
// The returned function removes what it made (a folder holding
// DockerfileSource) once the solve is done.
func solveOpt(req BuildRequest) (client.SolveOpt, func(), error) {
	done := func() {}
	ctxFS, err := dirFS("build context", req.ContextDir)
	if err != nil {
		return client.SolveOpt{}, done, err
	}
	if req.Sent != nil {
		ctxFS = req.Sent.wrap(ctxFS)
	}
	df := req.DockerfilePath()
	if req.DockerfileSource == nil {
		if st, err := os.Stat(df); err != nil || st.IsDir() {
			if err == nil {
				return client.SolveOpt{}, done, &InputError{Msg: fmt.Sprintf("Dockerfile %s is a directory", df)}
			}
			return client.SolveOpt{}, done, &InputError{Msg: fmt.Sprintf("cannot read Dockerfile %s: %s", df, errors.Unwrap(err))}
		}
	}
	dfDir := filepath.Dir(df)
	if req.DockerfileSource != nil {
		if dfDir, err = dockerfileDir(df, req.DockerfileSource); err != nil {
			return client.SolveOpt{}, done, err
		}
		done = func() { os.RemoveAll(dfDir) }
	}
	dfFS, err := dirFS("Dockerfile folder", dfDir)
	if err != nil {
		done()
		return client.SolveOpt{}, func() {}, err
	}
	opt, err := solveAttrs(req, df, ctxFS, dfFS)
	if err != nil {
		done()
		return opt, func() {}, err
	}
	return opt, done, nil
}

// dockerfileDir makes a folder holding src under the Dockerfile's name,
// with the <Dockerfile>.dockerignore beside it if there is one.
func dockerfileDir(df string, src []byte) (string, error) {
	dir, err := os.MkdirTemp("", "stagescope-dockerfile-")
	if err != nil {
		return "", &InputError{Msg: fmt.Sprintf("cannot write the Dockerfile to send: %v", err)}
	}
	name := filepath.Base(df)
	err = os.WriteFile(filepath.Join(dir, name), src, 0o644)
	if ignore, rerr := os.ReadFile(df + ".dockerignore"); err == nil && rerr == nil {
		err = os.WriteFile(filepath.Join(dir, name+".dockerignore"), ignore, 0o644)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", &InputError{Msg: fmt.Sprintf("cannot write the Dockerfile to send: %v", err)}
	}
	return dir, nil
}

// solveAttrs is the rest of solveOpt: the frontend's attributes, the
// named contexts and the session's attachables.
func solveAttrs(req BuildRequest, df string, ctxFS, dfFS fsutil.FS) (client.SolveOpt, error) {
	attrs := map[string]string{"filename": filepath.Base(df)}
	if req.Target != "" {
		attrs["target"] = req.Target
	}
	if req.NoCache {
		attrs["no-cache"] = ""
	}
	if req.Platform != "" {
		attrs["platform"] = req.Platform
	}
	if req.Provenance != "" {
		attrs["attest:provenance"] = req.Provenance
	}
	for k, v := range req.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	mounts := map[string]fsutil.FS{"context": ctxFS}
	if req.dockerfileKey != "" {
		mounts[req.dockerfileKey] = dfFS
		attrs["dockerfilekey"] = req.dockerfileKey
	} else {
		mounts["dockerfile"] = dfFS
	}
	stores := map[string]content.Store{}
	for _, name := range sortedKeys(req.Contexts) {
		v := req.Contexts[name]
		if strings.HasPrefix(v, "oci-layout://") {
			attr, id, store, err := ociLayoutContext(name, v)
			if err != nil {
				return client.SolveOpt{}, err
			}
			attrs["context:"+name], stores[id] = attr, store
			continue
		}
		if strings.Contains(v, "://") {
			attrs["context:"+name] = v
			continue
		}
		fs, err := dirFS(fmt.Sprintf("build context %q", name), v)
		if err != nil {
			return client.SolveOpt{}, err
		}
		key := "ctx-" + name // local names must not clash with context/dockerfile
		mounts[key] = fs
		attrs["context:"+name] = "local:" + key
	}
	s, err := attachables(req)
	if err != nil {
		return client.SolveOpt{}, err
	}
	opt := client.SolveOpt{FrontendAttrs: attrs, LocalMounts: mounts, OCIStores: stores, Session: s}
	if f := sentFilters([]BuildRequest{req}); f != nil {
		opt.LocalFilterOpt = f
	}
	return opt, nil
}

func dirFS(what, dir string) (fsutil.FS, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("%s %s does not exist", what, dir)}
	}
	if !st.IsDir() {
		return nil, &InputError{Msg: fmt.Sprintf("%s %s is not a directory", what, dir)}
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("%s %s: %v", what, dir, err)}
	}
	return fs, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Build runs one build. Status updates go to status, which Build closes when
// the build ends (whatever the outcome); status may be nil.
//
// On a standalone buildkitd the daemon's own Dockerfile frontend runs, as with
// buildctl. On Docker the Dockerfile frontend pinned in stagescope's go.mod
// runs inside stagescope and sends LLB to the daemon: a Docker daemon's
// built-in frontend can be years older (Docker 20.10's has no named build
// contexts), and this way every Dockerfile feature stagescope shows in its
// graph is one the build understands.
func (e *Engine) Build(ctx context.Context, req BuildRequest, status chan *client.SolveStatus) (*Result, error) {
	return e.build(ctx, req, status, nil)
}

// build runs one solve, in its own session or in shared (set up by BuildAll).
func (e *Engine) build(ctx context.Context, req BuildRequest, status chan *client.SolveStatus, shared *session.Session) (*Result, error) {
	// A panic before the status channel is handed to the relay still
	// closes it, so whoever reads it (the pipeline) is not left waiting;
	// the panic goes on to the caller's recover.
	relaying := false
	defer func() {
		if r := recover(); r != nil {
			if status != nil && !relaying {
				close(status)
			}
			panic(r)
		}
	}()
	opt, cleanup, err := solveOpt(req)
	defer cleanup()
	if shared != nil {
		opt.SharedSession, opt.SessionPreInitialized = shared, true
	}
	var finish func(error) error
	if err == nil {
		opt.Exports, finish, err = e.exports(ctx, req)
	}
	if err != nil {
		if status != nil {
			relaying = true // closed here
			close(status)
		}
		return nil, err
	}
	start := time.Now()
	watch := newFailureWatch()
	inner := make(chan *client.SolveStatus)
	relayed := make(chan struct{})
	relaying = true
	go func() {
		watch.relay(inner, status)
		close(relayed)
	}()
	resp, frontendErr, err := e.be.solve(ctx, e.bk, opt, inner)
	<-relayed // both Build and Solve close inner before returning
	loadErr := finish(err)
	if err != nil {
		return nil, e.classify(ctx, err, frontendErr, watch)
	}
	if loadErr != nil {
		return nil, &BuildError{Err: loadErr, ExitCode: -1}
	}
	res := &Result{Exporter: resp.ExporterResponse, Duration: time.Since(start)}
	for _, x := range opt.Exports {
		if x.Attrs["name"] != "" && (x.Type == "moby" || x.Type == client.ExporterImage || x.Output != nil && x.Type == client.ExporterDocker) {
			res.Image, _, _ = strings.Cut(x.Attrs["name"], ",")
		}
	}
	res.Digest = resp.ExporterResponse["containerimage.digest"]
	return res, nil
}

// classify sorts a solve error into cancelled, engine lost, or build failed.
func (e *Engine) classify(ctx context.Context, err, frontendErr error, watch *failureWatch) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if isUnavailable(err) {
		return &LostError{Kind: e.Kind, Addr: e.Addr, Err: err}
	}
	var bug *crash.Error
	if errors.As(frontendErr, &bug) {
		return bug // a panic in the in-process frontend
	}
	return watch.buildError(err, frontendErr)
}
