// Command stagescope explores multi-stage Docker builds: it reads a
// Dockerfile into its stage graph, builds a chosen --target on a real
// BuildKit engine with live progress, and compares the images it built.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/stagescope/stagescope/internal/crash"
	"github.com/stagescope/stagescope/pipeline"
)

func main() {
	// A debugging aid, not a feature: STAGESCOPE_CPUPROFILE=FILE writes a
	// Go CPU profile of the whole run.
	if path := os.Getenv("STAGESCOPE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}

// run executes one command line and returns the process exit code. It is the
// whole program but for the process: tests call it directly. A panic in the
// command is reported as an internal error (exit code 70), never as a Go
// stack trace.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			code = report(stderr, crash.New(r), args)
		}
	}()
	// BuildKit's and containerd's libraries log through logrus; their
	// warnings (such as a filesystem without fs-verity under an OCI layout)
	// are not the user's business. Errors reach the user as errors.
	logrus.SetLevel(logrus.ErrorLevel)
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	// Builds are recorded behind their outcomes: the process ends once
	// their records are written.
	pipeline.WaitRecorded()
	return report(stderr, err, args)
}
