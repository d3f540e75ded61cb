package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/internal/version"
)

const exitCodesHelp = `Exit codes:
  0    success
  1    the build failed, or a target is over its --budget
  2    bad usage or bad input (flags, Dockerfile, paths)
  3    no engine reachable (or no such buildx builder), or the engine
       was lost
  70   internal error: a bug in stagescope (the message names the file
       holding the details)
  130  interrupted`

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "stagescope",
		Short: "Explore, build and compare the stages of multi-stage Dockerfiles",
		Long: `stagescope reads a Dockerfile into its stage graph, builds the --target you
pick on a real BuildKit engine (a buildkitd, or the BuildKit inside Docker)
with live progress, and compares the sizes of the images it built.

Engines, first that is set wins: --addr or --builder, BUILDKIT_HOST,
BUILDX_BUILDER, the builder buildx currently uses (docker buildx use), then
Docker (DOCKER_HOST, the Docker context, the default socket). stagescope
engines lists them all, and buildx's builders.

` + exitCodesHelp,
		Version:       version.Long(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Mistyped commands get a suggestion (see runTUI).
		SuggestionsMinimumDistance: 2,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	addTUI(root) // the root command is the interactive view
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{msg: err.Error()}
	})
	root.AddCommand(newGraphCmd(), newBuildCmd(), newCompareCmd(), newFilesCmd(), newEnginesCmd(), newHistoryCmd())
	return root
}

// maxArgs is cobra.MaximumNArgs with an error that maps to exit code 2.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes at most %d argument(s), got %d: %q", cmd.CommandPath(), n, len(args), args)
		}
		return nil
	}
}
