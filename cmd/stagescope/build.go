package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/pipeline"
)

// buildFlags are the flags every command that builds shares.
type buildFlags struct {
	file      string
	files     []string // -f of the commands that take several Dockerfiles
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
	bake      string // --bake of the TUI
	engine    engineFlags

	// --provenance: an attestation in the image index.
	provenance string
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
	if single {
		fs.StringVarP(&f.file, "file", "f", "", "Dockerfile to build (default CONTEXT/Dockerfile)")
	} else {
		fs.StringArrayVarP(&f.files, "file", "f", nil, "Dockerfile (default CONTEXT/Dockerfile); repeat for several Dockerfiles with the one CONTEXT")
	}
	fs.StringArrayVar(&f.buildArgs, "build-arg", nil, "build-time variable `KEY=VALUE` (KEY alone takes the value from the environment)")
	fs.StringArrayVar(&f.contexts, "build-context", nil, "named build context `NAME=DIR` (or NAME=docker-image://REF, oci-layout://PATH)")
	fs.BoolVar(&f.noCache, "no-cache", false, "do not use the build cache")
	fs.StringVar(&f.platform, "platform", "", "target platform `OS/ARCH[/VARIANT]`, or several separated by commas for one image index (default: the engine's; on a builder of several nodes, it picks the node)")
	fs.StringVar(&f.provenance, "provenance", "", "attach a provenance attestation, as buildx: `min`, max or false (default: none)")
	_ = cmd.RegisterFlagCompletionFunc("platform", completePlatforms(f))
	if single {
		_ = cmd.RegisterFlagCompletionFunc("target", completeTargets(f))
	}
	fs.StringArrayVar(&f.secrets, "secret", nil, "secret for RUN --mount=type=secret: `id=NAME,src=FILE` or id=NAME,env=VARIABLE")
	fs.StringArrayVar(&f.ssh, "ssh", nil, "SSH agent socket or keys for RUN --mount=type=ssh: `default` or ID=SOCKET|KEY[,…]")
	fs.BoolVarP(&f.yes, "yes", "y", false, "send a build context that is the filesystem root or the home folder without asking")
}

// engineOptions says where the engine is, and the platform the builds are
// for, which chooses the node of a builder.
func (f *buildFlags) engineOptions() engine.Options {
	o := f.engine.options()
	o.Platform = f.platform
	return o
}

// project checks the CONTEXT argument and every flag, reads and parses the
// Dockerfile: all input problems are found before an engine is asked.
func (f *buildFlags) project(args []string) (*pipeline.Project, error) {
	in := f.input()
	in.File = f.file
	if len(args) > 0 {
		in.ContextDir = args[0]
	}
	return pipeline.Load(in)
}

// projects checks the CONTEXT arguments and every flag of a command that
// takes several Dockerfiles (pipeline.LoadAll): one project, or one per
// Dockerfile, each named.
func (f *buildFlags) projects(args []string) ([]*pipeline.Project, error) {
	return pipeline.LoadAll(f.input(), args, f.files)
}

// input is what every Dockerfile of a command is loaded with: the build
// flags, the same for one Dockerfile, several, or a bake file's targets.
func (f *buildFlags) input() pipeline.Input {
	return pipeline.Input{
		BuildArgs: f.buildArgs, Contexts: f.contexts, NoCache: f.noCache,
		Platform: f.platform, Provenance: f.provenance, Secrets: f.secrets, SSH: f.ssh, Outputs: f.outputs, Load: f.load,
		AllowWide: f.yes,
	}
}

func newBuildCmd() *cobra.Command {
	var f buildFlags
	var progress, metadataFile string
	var watching bool
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

With --watch, build keeps running: a save of the Dockerfile, of its
.dockerignore or of a file of the context that a COPY or ADD of the target
reads builds the target again once the saves stop for 300 ms (a build that
runs is canceled), and each build prints one line on stdout: the target,
its size and its change since the previous build (by layer), its time and
the steps that ran, each with the kind of its reason. Other files start no
build. At most 1000 folders of
the context are watched; past that, stderr says so and saves deeper in it
start no build. Ctrl-C ends it (exit code 130).

Every build is recorded (stagescope history). After the build, each step
that ran instead of coming from the cache gets one "why:" line (plain,
tty and auto) or a "why" object in its step event (json): compared with the
last record of the same target, platform and engine, it ran because of a
first build, --no-cache, an edited instruction, a changed build argument,
base, context files, a source stage or an earlier step that ran, or the
engine's cache no longer had it (docs/progress-json.md).

` + exitCodesHelp,
		Example: `  stagescope build examples/hello-multistage --target builder \
      --build-context golang=$(scripts/offline-bases dir golang)`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Connecting overlaps reading and parsing the input; nothing
			// of the build is sent before the input is valid.
			conn := pipeline.ConnectAhead(cmd.Context(), f.engineOptions())
			defer conn.Abandon()
			proj, err := f.project(args)
			if err != nil {
				return err
			}
			p, err := proj.Plan(f.target, f.tags)
			if err != nil {
				return err
			}
			mode, err := progressMode(progress)
			if err != nil {
				return err
			}
			if err := proj.CheckWide(cmd.ErrOrStderr(), "--yes"); err != nil {
				return err
			}
			if watching {
				if metadataFile != "" {
					return usagef("--metadata-file and --watch: a file per build would be overwritten; give one of them")
				}
				if progress != "" {
					return usagef("--progress and --watch: build --watch prints one line per build, not BuildKit's progress; give one of them")
				}
				return runWatch(cmd.Context(), cmd, conn, proj, f.target, f.tags)
			}
			return runBuild(cmd.Context(), cmd, conn, proj, p, mode, metadataFile)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&metadataFile, "metadata-file", "", "write the exporter's response (image digest, name…) as JSON to `FILE`")
	cmd.Flags().StringVar(&progress, "progress", "", "progress output: "+progressModes+" (default $BUILDKIT_PROGRESS, else auto; not with --watch, which prints one line per build)")
	cmd.Flags().BoolVarP(&watching, "watch", "w", false, "build again on every save of the Dockerfile, its .dockerignore or a file the target's COPY and ADD read, printing one line per build (target, time, size, what changed); Ctrl-C ends")
	return cmd
}

func runBuild(ctx context.Context, cmd *cobra.Command, conn *pipeline.Connecting, proj *pipeline.Project, p *pipeline.Plan, mode, metadataFile string) error {
	stderr := cmd.ErrOrStderr()
	out := stderr
	if mode == "json" {
		out = cmd.OutOrStdout() // events are the command's output
	}
	sink, err := newProgressSink(out, mode)
	if err != nil {
		return err
	}
	store, err := historyStore()
	if err != nil {
		return err
	}
	sess, err := conn.Wait()
	if err != nil {
		return err
	}
	defer sess.Close()

	run := pipeline.Start(ctx, sess, proj, []*pipeline.Plan{p}, pipeline.Options{History: store})
	o := sink.follow(ctx, run)
	err = o.Err()
	sink.finish(run.Progress, err, proj.Source)
	// The record is written behind the outcome, which is shown first.
	notRecorded(stderr, o.Recorded())
	if err != nil {
		return err
	}
	res := o.Built[0]
	if res == nil {
		return &engine.BuildError{Err: errors.New(o.Results[0].Error), ExitCode: -1}
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
		on := ""
		if bn, ok := sess.(interface{ BuilderNode() (string, string) }); ok {
			if b, n := bn.BuilderNode(); b != "" {
				on = " on builder " + b
				if n != b {
					on += " (node " + n + ")"
				}
			}
		}
		fmt.Fprintf(stderr, "built target %s %s in %.1fs%s\n", p.Target, where, res.Duration.Seconds(), on)
		printPlatforms(stderr, proj, run.Progress)
	}
	return nil
}
