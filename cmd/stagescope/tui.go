package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/pipeline"
	"github.com/stagescope/stagescope/tui"
)

// addTUI makes the root command open the interactive view on [CONTEXT],
// with the build flags every building command shares.
func addTUI(root *cobra.Command) {
	var f buildFlags
	var watchFlag bool
	root.Use = "stagescope [CONTEXT...]"
	root.Long = strings.Replace(root.Long, "Exit codes:", `Without a command, stagescope opens its interactive view of CONTEXT
(default "."): the stage graph, live builds of the target you pick, their
logs, the sizes of the images built and the files in them. It follows the
Dockerfile: a save redraws the graph (a Dockerfile that does not parse
keeps the last good graph, with the problem in a bar), and with
auto-rebuild (w, or --watch) a save of the Dockerfile or of a file the
focused target copies builds it again. It needs a terminal; in scripts use
stagescope graph, build, compare or files.

Several Dockerfiles open together as compare takes them (several CONTEXT
folders, a folder of examples, or -f A -f B): the graph, build and timeline
screens show the first, a builds every target of every file, and the
Compare screen puts them all in one table, each row naming its file. With
--bake the targets of a bake file open the same way, each bake target a
row of its own (see stagescope compare --help).

With --platform a,b one build makes an image index of those platforms: the
graph marks ≠ the stages that build differently per platform, the Build
screen says which stages each platform ran, and Compare has a row per
target and platform (attestations are named as such, never as a platform).
p chooses the platforms of the next build among those given and the
engine's.

Exit codes:`, 1)
	root.Args = cobra.ArbitraryArgs // CONTEXT folders, checked by LoadAll
	root.RunE = func(cmd *cobra.Command, args []string) error {
		return runTUI(cmd, &f, args, watchFlag)
	}
	f.register(root, false)
	root.Flags().StringVar(&f.target, "target", "", "stage to focus at start (default: the last stage)")
	_ = root.RegisterFlagCompletionFunc("target", completeTargets(&f))
	root.Flags().StringVar(&f.bake, "bake", "", "open the targets of a bake `FILE` (--bake alone looks up buildx's default files): arguments are then [FILE] [TARGET|GROUP...]")
	root.Flags().Lookup("bake").NoOptDefVal = bakeLookup
	_ = root.RegisterFlagCompletionFunc("bake", cobra.FixedCompletions([]cobra.Completion{"hcl", "json"}, cobra.ShellCompDirectiveFilterFileExt))
	root.ValidArgsFunction = completeBakeArgs(&f.bake)
	root.Flags().BoolVarP(&watchFlag, "watch", "w", false, "start with auto-rebuild on (w toggles it): a save of the Dockerfile or of a file the focused target copies builds it again")
}

func runTUI(cmd *cobra.Command, f *buildFlags, args []string, watching bool) error {
	// The root takes a folder, so a mistyped command arrives as one.
	bakeSet := cmd.Flags().Changed("bake")
	if len(args) == 1 && !bakeSet {
		if _, err := os.Stat(args[0]); err != nil {
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				return usagef("%q is neither a folder nor a command; did you mean %q?", args[0], s[0])
			}
		}
	}
	if !tui.IsTerminal(cmd.InOrStdin(), cmd.OutOrStdout()) {
		return usagef("%s", tui.ErrNotATerminal)
	}
	var projs []*pipeline.Project
	var err error
	if bakeSet {
		if len(f.files) > 0 {
			return usagef("--bake names its targets and groups after the file: -f goes without it")
		}
		projs, err = f.bakeProjects(f.bake, args)
	} else {
		projs, err = f.projects(args)
	}
	if err != nil {
		return err
	}
	proj := projs[0]
	if len(projs) > 1 && len(proj.Platforms) > 1 {
		return usagef("--platform %s: several platforms build the targets of one Dockerfile; give one platform with several Dockerfiles or bake targets", strings.Join(proj.Platforms, ","))
	}
	if f.target != "" {
		if _, err := proj.Plan(f.target, nil); err != nil {
			return err
		}
	}
	opts := tui.Options{
		Project: proj,
		Connect: func(ctx context.Context) (pipeline.Session, error) {
			return connectBake(ctx, f.engineOptions(), projs)
		},
		Target:  f.target,
		NoCache: f.noCache,
		Watch:   watching,
		Dark:    true,
	}
	if len(projs) > 1 || proj.Name != "" {
		opts.Projects = projs
	}
	// A test hook, not a feature: STAGESCOPE_DEBUG_STATS=FILE appends one
	// JSON line of process statistics (goroutines, RSS) after each build.
	if path := os.Getenv("STAGESCOPE_DEBUG_STATS"); path != "" {
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			defer f.Close()
			opts.Stats = f
		}
	}
	if opts.History, err = historyStore(); err != nil {
		return err
	}
	restore := quietStderr()
	err = tui.Run(cmd.Context(), opts, cmd.InOrStdin(), cmd.OutOrStdout())
	restore()
	if errors.Is(err, tui.ErrNotATerminal) {
		return usagef("%s", err)
	}
	if errors.Is(err, tui.ErrInterrupted) {
		return errInterrupted
	}
	return err
}

// quietStderr points the process's standard error at /dev/null while the
// TUI owns the terminal, and returns the function that puts it back.
// Libraries below stagescope write there on their own (BuildKit's shell
// lexer reports invalid UTF-8 in a Dockerfile that way), which would draw
// over the screen.
func quietStderr() func() {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		null.Close()
		return func() {}
	}
	if err := syscall.Dup3(int(null.Fd()), 2, 0); err != nil {
		syscall.Close(saved)
		null.Close()
		return func() {}
	}
	null.Close()
	return func() {
		syscall.Dup3(saved, 2, 0)
		syscall.Close(saved)
	}
}
