package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/pipeline"
)

// Exit codes of every headless command (documented in README and --help).
const (
	exitOK          = 0
	exitFailed      = 1 // the build failed, or a budget was exceeded
	exitBadInput    = 2 // bad usage, flags, Dockerfile or paths
	exitNoEngine    = 3 // no engine reachable, or the engine was lost
	exitInterrupted = 130
)

// exitInternal (70) is a bug in stagescope: a panic, recovered.
const exitInternal = crash.ExitCode

// usageError is a problem with the command line itself.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// silentError carries an exit code for a failure the command already
// reported in its own output.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	var (
		usage       *usageError
		graphErr    *buildgraph.Error
		input       *engine.InputError
		loadErr     *pipeline.InputError
		address     *engine.AddressError
		unreachable *engine.UnreachableError
		lost        *engine.LostError
		build       *engine.BuildError
	)
	var silent *silentError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, new(*crash.Error)):
		return exitInternal
	case errors.As(err, &silent):
		return silent.code
	case errors.Is(err, context.Canceled), errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &usage), errors.As(err, &graphErr), errors.As(err, &input), errors.As(err, &loadErr), errors.As(err, &address):
		return exitBadInput
	case errors.As(err, &unreachable), errors.As(err, &lost),
		errors.As(err, new(*engine.NoBuilderError)), errors.As(err, new(*engine.BuilderError)):
		return exitNoEngine
	case errors.As(err, &build), errors.As(err, new(*budgetError)):
		return exitFailed
	}
	return exitFailed
}

var errInterrupted = errors.New("interrupted")

// goSafe runs f in a goroutine of its own. A panic there cannot reach the
// recover in run, so it is reported here the same way, and ends the process
// with exit code 70.
func goSafe(f func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				os.Exit(report(os.Stderr, crash.New(r), os.Args[1:]))
			}
		}()
		f()
	}()
}

// report prints err as one line (no stack trace, no usage dump) and returns
// its exit code. A panic (*crash.Error) is saved to a report file, which the
// line names; args are the command line, for that report.
func report(w io.Writer, err error, args []string) int {
	code := exitCode(err)
	var bug *crash.Error
	switch {
	case err == nil:
	case errors.As(err, &bug):
		fmt.Fprintf(w, "stagescope: %s\n", crash.Report(bug, args))
	case errors.As(err, new(*silentError)):
	case code == exitInterrupted:
		fmt.Fprintln(w, "stagescope: interrupted")
	default:
		// Messages can quote the input (a Dockerfile line, a flag): no
		// control character or escape sequence of it reaches the terminal.
		fmt.Fprintf(w, "stagescope: %s\n", buildgraph.SanitizeLine(buildgraph.FirstLine(err.Error())))
	}
	return code
}
