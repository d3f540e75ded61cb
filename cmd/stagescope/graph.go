package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

func newGraphCmd() *cobra.Command {
	var (
		file, target, format string
		platform             string
		buildArgs, contexts  []string
		instructions         bool
		predict, noCache     bool
		addr                 string
	)
	cmd := &cobra.Command{
		Use:   "graph [CONTEXT]",
		Short: "Print a Dockerfile's stage graph",
		Long: `Print the stage graph of a Dockerfile as BuildKit resolves it: stages,
their bases, COPY --from and RUN --mount from= edges, external images, the
stages a --target builds and the ones it skips, and lint warnings.

With --why, it predicts instead which steps a build of the target will run
and why, compared with the last record of the target on the engine a build
would use (--addr, else BUILDKIT_HOST, else Docker): edited instructions,
changed build arguments, bases and context files are known before building;
an engine that lost its cache is not (docs/graph-json.md).

With --platform a,b the graph is resolved once per platform, as a
multi-platform build does (TARGETARCH, FROM --platform=$BUILDPLATFORM): a
row per stage and a column per platform, the stages that build differently
marked (docs/platforms.md).

No engine is needed. Formats: text (colour on a terminal unless NO_COLOR is
set), json (docs/graph-json.md), dot (Graphviz) and mermaid.

Exit codes: 0 ok, 2 bad input (the message names file and line), 70 internal
error (a bug in stagescope; the message names the file with the details).`,
		Example: `  stagescope graph examples/hello-multistage
  stagescope graph -f Dockerfile --target builder --format dot | dot -Tsvg > graph.svg
  cat Dockerfile | stagescope graph -f - --format json
  stagescope graph --why examples/hello-multistage --build-context golang=DIR
  stagescope graph examples/hello-crossplatform --platform linux/amd64,linux/arm64`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := buildgraph.ParseFormat(format)
			if err != nil {
				return usagef("--format: %v", err)
			}
			contextDir := "."
			if len(args) > 0 {
				contextDir = args[0]
			}
			if predict {
				return graphWhy(cmd.Context(), cmd.OutOrStdout(), whyInput{contextDir: contextDir, file: file, target: target,
					buildArgs: buildArgs, contexts: contexts, noCache: noCache, format: f, addr: addr})
			}
			name, data, err := readGraphInput(cmd.InOrStdin(), contextDir, file)
			if err != nil {
				return err
			}
			ba, err := pipeline.ParseBuildArgs(buildArgs)
			if err != nil {
				return err
			}
			bc, err := pipeline.ParseContexts(contexts)
			if err != nil {
				return err
			}
			// A short-lived process: the default collector would run
			// once or twice on a large Dockerfile for memory the exit
			// frees anyway. Four times the live heap bounds growth.
			debug.SetGCPercent(400)
			opts := buildgraph.Options{Filename: name, BuildArgs: ba, Contexts: bc, Target: target}
			out := cmd.OutOrStdout()
			ropts := buildgraph.RenderOptions{
				Target:       target,
				Color:        f == buildgraph.FormatText && colorFor(out),
				Instructions: instructions,
			}
			if platform != "" {
				plats, err := buildgraph.ParsePlatformList(platform)
				if err != nil {
					return usagef("--platform: %v", err)
				}
				if len(plats) > 1 {
					return graphPlatforms(out, data, opts, plats, f, ropts)
				}
				opts.Platform = plats[0]
			}
			g, err := buildgraph.Parse(data, opts)
			if err != nil {
				return err
			}
			return renderGraph(out, g, f, ropts)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "", "Dockerfile (default CONTEXT/Dockerfile; - reads standard input)")
	fs.StringVar(&target, "target", "", "stage whose build to show (default: the last stage)")
	fs.StringArrayVar(&buildArgs, "build-arg", nil, "build-time variable `KEY=VALUE`, as the build would get it")
	fs.StringArrayVar(&contexts, "build-context", nil, "named build context `NAME=DIR` (or NAME=docker-image://REF, oci-layout://PATH)")
	fs.StringVar(&format, "format", "text", "output: text, json, dot or mermaid")
	fs.BoolVar(&instructions, "instructions", false, "list every stage's instructions (text format)")
	fs.BoolVar(&predict, "why", false, "predict which steps a build will run and why, from the last record of the target (text or json)")
	fs.BoolVar(&noCache, "no-cache", false, "with --why: predict a build with --no-cache")
	fs.StringVar(&addr, "addr", "", "with --why: the BuildKit address the build would use (default $BUILDKIT_HOST, then Docker)")
	fs.StringVar(&platform, "platform", "", "target platform(s) `OS/ARCH[,OS/ARCH…]`: with several, which stages each platform builds, side by side (default: linux on this machine's architecture)")
	return cmd
}

// renderGraph draws the graph; tests replace it.
var renderGraph = buildgraph.Render

// readGraphInput reads the Dockerfile from -f, standard input (-f -) or
// CONTEXT/Dockerfile, and names it for messages.
func readGraphInput(stdin io.Reader, contextDir, file string) (string, []byte, error) {
	if file == "-" {
		data, err := io.ReadAll(io.LimitReader(stdin, pipeline.MaxDockerfileSize+1))
		if err != nil {
			return "", nil, usagef("reading the Dockerfile from standard input: %v", err)
		}
		if len(data) > pipeline.MaxDockerfileSize {
			return "", nil, usagef("the Dockerfile on standard input is larger than %d MiB", pipeline.MaxDockerfileSize>>20)
		}
		return "<stdin>", data, nil
	}
	if file == "" {
		if st, err := os.Stat(contextDir); err != nil {
			return "", nil, usagef("build context %s does not exist", contextDir)
		} else if !st.IsDir() {
			return "", nil, usagef("build context %s is not a directory", contextDir)
		}
		file = filepath.Join(contextDir, "Dockerfile")
	}
	data, err := pipeline.ReadDockerfile(file)
	return file, data, err
}

// colorFor says whether human output to w may use colour: w is a terminal
// and NO_COLOR is not set.
func colorFor(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}
