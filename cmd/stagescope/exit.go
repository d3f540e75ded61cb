package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
)

// Exit codes of every headless command (documented in README and --help).
const (
	exitOK          = 0
	exitFailed      = 1 // the build failed, or a budget was exceeded
	exitBadInput    = 2 // bad usage, flags, Dockerfile or paths
	exitNoEngine    = 3 // no engine reachable, or the engine was lost
	exitInterrupted = 130
)

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
		address     *engine.AddressError
		unreachable *engine.UnreachableError
		lost        *engine.LostError
		build       *engine.BuildError
	)
	var silent *silentError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &silent):
		return silent.code
	case errors.Is(err, context.Canceled), errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &usage), errors.As(err, &graphErr), errors.As(err, &input), errors.As(err, &address):
		return exitBadInput
	case errors.As(err, &unreachable), errors.As(err, &lost):
		return exitNoEngine
	case errors.As(err, &build), errors.As(err, new(*budgetError)):
		return exitFailed
	}
	return exitFailed
}

var errInterrupted = errors.New("interrupted")

// report prints err as one line (no stack trace, no usage dump) and returns
// its exit code.
func report(w io.Writer, err error) int {
	code := exitCode(err)
	switch {
	case err == nil:
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
