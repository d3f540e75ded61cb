package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

// buildFlags are the flags every command that builds shares.
type buildFlags struct {
	file      string
	target    string
	buildArgs []string
	contexts  []string
	tags      []string
	noCache   bool
	platform  string
	secrets   []string
	ssh       []string
	outputs   []string
	load      bool
	yes       bool
	engine    engineFlags
}

// register adds the flags; single adds those that only make sense for one
// target (--target, --tag, --output, --load).
func (f *buildFlags) register(cmd *cobra.Command, single bool) {
	f.engine.register(cmd)
	fs := cmd.Flags()
	if single {
		fs.StringVar(&f.target, "target", "", "stage to build (default: the last stage)")
		fs.StringArrayVarP(&f.tags, "tag", "t", nil, "image `NAME[:TAG]` in Docker's image store (default stagescope/<context dir>:<target>)")
		fs.StringArrayVarP(&f.outputs, "output", "o", nil, "export the result: `type=local|tar|oci|docker,dest=PATH` (as buildctl)")
		fs.BoolVar(&f.load, "load", false, "also store the image in Docker's image store (a standalone buildkitd pipes it to DOCKER_HOST)")
	}
	fs.StringVarP(&f.file, "file", "f", "", "Dockerfile to build (default CONTEXT/Dockerfile)")
	fs.StringArrayVar(&f.buildArgs, "build-arg", nil, "build-time variable `KEY=VALUE` (KEY alone takes the value from the environment)")
	fs.StringArrayVar(&f.contexts, "build-context", nil, "named build context `NAME=DIR` (or NAME=docker-image://REF, oci-layout://PATH)")
	fs.BoolVar(&f.noCache, "no-cache", false, "do not use the build cache")
	fs.StringVar(&f.platform, "platform", "", "target platform `OS/ARCH[/VARIANT]` (default: the engine's)")
	fs.StringArrayVar(&f.secrets, "secret", nil, "secret for RUN --mount=type=secret: `id=NAME,src=FILE` or id=NAME,env=VARIABLE")
	fs.StringArrayVar(&f.ssh, "ssh", nil, "SSH agent socket or keys for RUN --mount=type=ssh: `default` or ID=SOCKET|KEY[,…]")
	fs.BoolVarP(&f.yes, "yes", "y", false, "send a build context that is the filesystem root or the home folder without asking")
}

// project is a validated build context and Dockerfile, before a target is
// chosen: what `build`, `compare` and the TUI share.
type project struct {
	flags      *buildFlags
	contextDir string
	dockerfile string
	data       []byte
	buildArgs  map[string]string
	contexts   map[string]string
	// graph is parsed without a target.
	graph *buildgraph.Graph
}

// plan is a validated build of one target.
type plan struct {
	req    engine.BuildRequest
	graph  *buildgraph.Graph
	target string // the stage that will be built, by BuildKit's name for it
}

// loadProject checks the CONTEXT argument and every flag, reads and parses
// the Dockerfile: all input problems are found before an engine is asked.
func (f *buildFlags) loadProject(args []string) (*project, error) {
	p := &project{flags: f, contextDir: "."}
	if len(args) > 0 {
		p.contextDir = args[0]
	}
	if st, err := os.Stat(p.contextDir); err != nil {
		return nil, usagef("build context %s does not exist", p.contextDir)
	} else if !st.IsDir() {
		return nil, usagef("build context %s is not a directory", p.contextDir)
	}
	p.dockerfile = f.file
	if p.dockerfile == "" {
		p.dockerfile = filepath.Join(p.contextDir, "Dockerfile")
	}
	var err error
	if p.data, err = readDockerfile(p.dockerfile); err != nil {
		return nil, err
	}
	if p.buildArgs, err = parseBuildArgs(f.buildArgs); err != nil {
		return nil, err
	}
	if p.contexts, err = parseContexts(f.contexts); err != nil {
		return nil, err
	}
	if err := engine.Check(p.request("")); err != nil {
		return nil, err
	}
	if p.graph, err = p.parse(""); err != nil {
		return nil, err
	}
	return p, nil
}

// checkWide refuses, without --yes, to send a local context that is the
// filesystem root or the home folder: the engine would receive everything
// in it. The sentence gives its size, counted for at most engine.CountTime.
// With --yes it says on stderr what is being sent.
func (p *project) checkWide(stderr io.Writer) error {
	for _, w := range engine.WideContexts(p.request("")) {
		ctx, cancel := context.WithTimeout(context.Background(), engine.CountTime)
		size := w.Count(ctx)
		cancel()
		if !p.flags.yes {
			return usagef("%s is %s: building would send everything in it to the engine (%s); give a smaller folder, or pass --yes to send it anyway", w.Label(), w.What, size)
		}
		fmt.Fprintf(stderr, "sending %s, %s (%s), as --yes allows\n", w.Label(), w.What, size)
	}
	return nil
}

// parse parses the Dockerfile for target without BuildKit's linter: a build
// does not use its findings (BuildKit's own frontend lints again), and the
// TUI lints its graph in the background.
func (p *project) parse(target string) (*buildgraph.Graph, error) {
	return buildgraph.Parse(p.data, buildgraph.Options{
		Filename:  p.dockerfile,
		BuildArgs: p.buildArgs,
		Contexts:  p.contexts,
		Target:    target,
		Platform:  p.flags.platform,
		SkipLint:  true,
	})
}

func (p *project) request(target string) engine.BuildRequest {
	f := p.flags
	return engine.BuildRequest{
		ContextDir: p.contextDir, Dockerfile: p.dockerfile, Target: target, NoCache: f.noCache,
		BuildArgs: p.buildArgs, Contexts: p.contexts,
		Platform: f.platform, Secrets: f.secrets, SSH: f.ssh, Outputs: f.outputs, Load: f.load,
	}
}

// planFor resolves a target ("" for the last stage) and makes its request.
// The last stage may also be named by the name BuildKit shows for it when
// it has none of its own ("stage-1"): BuildKit builds it when no target is
// given, which is what is sent then.
func (p *project) planFor(target string, tags []string) (*plan, error) {
	last := p.graph.Stages[len(p.graph.Stages)-1]
	g, name, send := p.graph, last.Name, ""
	if target != "" && !(!last.Named && strings.EqualFold(target, last.Name)) {
		var err error
		if g, err = p.parse(target); err != nil {
			return nil, err
		}
		st, _ := g.Stage(target)
		name, send = st.Name, target
	}
	req := p.request(send)
	req.Tags = tags
	if len(req.Tags) == 0 {
		req.Tags = []string{defaultTag(p.contextDir, name)}
	}
	return &plan{req: req, graph: g, target: name}, nil
}

// readDockerfile reads a Dockerfile with one-sentence errors.
func readDockerfile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, usagef("Dockerfile %s does not exist", path)
	case err != nil:
		return nil, usagef("cannot read Dockerfile %s: %v", path, errors.Unwrap(err))
	case st.IsDir():
		return nil, usagef("Dockerfile %s is a directory; give the file with -f", path)
	}
	if st.Size() > maxDockerfileSize {
		return nil, usagef("Dockerfile %s is larger than %d MiB", path, maxDockerfileSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("cannot read Dockerfile %s: %v", path, errors.Unwrap(err))
	}
	return data, nil
}

// maxDockerfileSize is the largest Dockerfile stagescope reads. BuildKit's
// own limit for the build definition is far below it.
const maxDockerfileSize = 8 << 20

func parseBuildArgs(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if k == "" {
			return nil, usagef("--build-arg %q: want KEY=VALUE", kv)
		}
		if !ok {
			env, set := os.LookupEnv(k)
			if !set {
				return nil, usagef("--build-arg %s has no value and %s is not set in the environment", k, k)
			}
			v = env
		}
		out[k] = v
	}
	return out, nil
}

func parseContexts(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, usagef("--build-context %q: want NAME=DIR or NAME=docker-image://REF", kv)
		}
		if !strings.Contains(v, "://") {
			st, err := os.Stat(v)
			if err != nil {
				return nil, usagef("--build-context %s: folder %s does not exist", k, v)
			}
			if !st.IsDir() {
				return nil, usagef("--build-context %s: %s is not a directory", k, v)
			}
		}
		out[k] = v
	}
	return out, nil
}

var tagUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)

// defaultTag is stagescope/<context dir>:<target>, made a valid reference.
func defaultTag(contextDir, target string) string {
	abs, err := filepath.Abs(contextDir)
	if err != nil {
		abs = contextDir
	}
	repo := strings.Trim(tagUnsafe.ReplaceAllString(strings.ToLower(filepath.Base(abs)), "-"), "-._")
	if repo == "" {
		repo = "context"
	}
	tag := strings.Trim(tagUnsafe.ReplaceAllString(strings.ToLower(target), "-"), "-.")
	if tag == "" {
		tag = "latest"
	}
	if len(tag) > 128 {
		tag = tag[:128]
	}
	return "stagescope/" + repo + ":" + tag
}

func newBuildCmd() *cobra.Command {
	var f buildFlags
	var progress, metadataFile string
	cmd := &cobra.Command{
		Use:   "build [CONTEXT]",
		Short: "Build one target of a Dockerfile with live progress",
		Long: `Build one target (stage) of a Dockerfile on a BuildKit engine, printing
BuildKit's progress on stderr.

On Docker the image is stored in Docker's image store under --tag (default
stagescope/<context dir>:<target>) unless --output sends it elsewhere. On a
standalone buildkitd the result stays in the engine's cache unless --output
or --load export it. Credentials for registries come from the docker config,
and .dockerignore (or <Dockerfile>.dockerignore) is honoured.

` + exitCodesHelp,
		Example: `  stagescope build examples/hello-multistage --target builder \
      --build-context golang=$(scripts/offline-bases dir golang)`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			conn := connectAhead(cmd.Context(), f.engine.options())
			defer func() {
				if err != nil {
					conn.abandon()
				}
			}()
			proj, err := f.loadProject(args)
			if err != nil {
				return err
			}
			p, err := proj.planFor(f.target, f.tags)
			if err != nil {
				return err
			}
			mode, err := progressMode(progress)
			if err != nil {
				return err
			}
			if err := proj.checkWide(cmd.ErrOrStderr()); err != nil {
				return err
			}
			return runBuild(cmd.Context(), cmd, conn, proj, p, mode, metadataFile)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&metadataFile, "metadata-file", "", "write the exporter's response (image digest, name…) as JSON to `FILE`")
	cmd.Flags().StringVar(&progress, "progress", "", "progress output: "+progressModes+" (default $BUILDKIT_PROGRESS, else auto)")
	return cmd
}

// connecting is a connection to the engine made while the input is
// checked: connecting costs a round trip to the engine (a dial and a
// probe), which overlaps reading and parsing the Dockerfile. Nothing of the
// build is sent before the input is valid, and bad input is reported as
// such whatever the engine answered.
type connecting struct {
	done   chan struct{}
	eng    *engine.Engine
	err    error
	cancel context.CancelFunc
	taken  bool // wait handed the engine over: its caller closes it
}

func connectAhead(ctx context.Context, opts engine.Options) *connecting {
	ctx, cancel := context.WithCancel(ctx)
	c := &connecting{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(c.done)
		c.eng, c.err = engine.Connect(ctx, opts)
	}()
	return c
}

// wait returns the engine, connected or not.
func (c *connecting) wait() (*engine.Engine, error) {
	<-c.done
	c.taken = true
	return c.eng, c.err
}

// abandon stops connecting, and closes the engine if it was reached,
// without waiting for it.
func (c *connecting) abandon() {
	c.cancel()
	if c.taken {
		return
	}
	go func() {
		<-c.done
		if c.eng != nil {
			c.eng.Close()
		}
	}()
}

func runBuild(ctx context.Context, cmd *cobra.Command, conn *connecting, proj *project, p *plan, mode, metadataFile string) error {
	stderr := cmd.ErrOrStderr()
	out := stderr
	if mode == "json" {
		out = cmd.OutOrStdout() // events are the command's output
	}
	sink, err := newProgressSink(out, mode, p.graph)
	if err != nil {
		return err
	}
	eng, err := conn.wait()
	if err != nil {
		return err
	}
	defer conn.cancel()
	defer eng.Close()

	ch := make(chan *client.SolveStatus)
	shown := make(chan struct{})
	go sink.consume(ctx, ch, shown)
	res, err := eng.Build(ctx, p.req, ch) // closes ch
	<-shown
	sink.finish(err, proj.data)
	if err != nil {
		return err
	}
	if metadataFile != "" {
		if err := writeMetadata(metadataFile, res.Exporter); err != nil {
			return err
		}
	}
	if mode != "json" {
		where := "in the engine's cache"
		if res.Image != "" {
			where = "as " + res.Image
		}
		fmt.Fprintf(stderr, "built target %s %s in %.1fs\n", p.target, where, res.Duration.Seconds())
	}
	return nil
}
