package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/buildgraph"
)

// A read-write bind mount, as many real Dockerfiles have, once crashed
// BuildKit's linter: every format prints the graph with exit code 0.
func TestGraphRunMounts(t *testing.T) {
	for _, mount := range []string{
		"type=bind,target=/x,rw",
		"type=bind,target=/x,readwrite",
		"type=bind,from=a,source=/s,target=/x,rw",
		"type=cache,target=/c,from=a,sharing=locked,id=x,mode=0700,uid=1",
		"type=tmpfs,target=/t,size=1g",
		"type=secret,id=x,required,env=X,target=/run/x",
		"type=ssh,id=default,required",
	} {
		for _, format := range []string{"text", "json", "dot", "mermaid"} {
			var stdout, stderr bytes.Buffer
			src := "FROM alpine AS a\nFROM alpine\nRUN --mount=" + mount + " true\n"
			code := run(context.Background(), []string{"graph", "-f", "-", "--format", format}, strings.NewReader(src), &stdout, &stderr)
			if code != exitOK || stdout.Len() == 0 || stderr.Len() != 0 {
				t.Errorf("%s, %s: exit %d, %d bytes out, stderr %q", mount, format, code, stdout.Len(), stderr.String())
			}
		}
	}
}

// A panic inside a command is one sentence naming the saved report, exit
// code 70, and no stack trace.
func TestPanicIsReported(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	saved := renderGraph
	t.Cleanup(func() { renderGraph = saved })
	renderGraph = func(io.Writer, *buildgraph.Graph, buildgraph.Format, buildgraph.RenderOptions) error {
		var m map[string]int
		m["x"]++ // a nil map: a real runtime panic
		return nil
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"graph", "-f", "-", "--format", "json"}, strings.NewReader("FROM scratch\n"), &stdout, &stderr)
	if code != exitInternal {
		t.Errorf("exit %d, want %d", code, exitInternal)
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "stagescope: internal error: this is a bug in stagescope") {
		t.Errorf("stderr %q, want one sentence", msg)
	}
	for _, bad := range []string{"goroutine", "panic:", ".go:"} {
		if strings.Contains(msg, bad) {
			t.Errorf("stderr shows %q: %s", bad, msg)
		}
	}
	path := strings.TrimSpace(msg[strings.LastIndex(msg, " ")+1:])
	if filepath.Dir(path) != filepath.Join(state, "stagescope") {
		t.Fatalf("report %q is not under %s", path, state)
	}
	report, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"assignment to entry in nil map", "goroutine ", "command: stagescope graph -f - --format json"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

// A mount BuildKit refuses is bad input: its sentence with file and line,
// exit code 2, nothing on standard output.
func TestGraphRefusedMount(t *testing.T) {
	for _, tc := range []struct{ mount, want string }{
		{"type=secret,id=x,from=a", "<stdin>:3: secret mount should not have a from"},
		{"type=secret,id=x,sharing=locked", "<stdin>:3: secret mount should not define sharing"},
		{"type=bind,target=/x,required", "<stdin>:3: unexpected key 'required' for mount type 'bind'"},
	} {
		for _, format := range []string{"text", "json", "dot", "mermaid"} {
			var stdout, stderr bytes.Buffer
			src := "FROM alpine AS a\nFROM alpine\nRUN --mount=" + tc.mount + " true\n"
			code := run(context.Background(), []string{"graph", "-f", "-", "--format", format}, strings.NewReader(src), &stdout, &stderr)
			if code != exitBadInput || stdout.Len() != 0 || stderr.String() != "stagescope: "+tc.want+"\n" {
				t.Errorf("%s, %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.mount, format, code, stdout.String(), stderr.String(), tc.want)
			}
		}
	}
}

// A panic in a goroutine cmd starts ends the process the same way: one
// sentence, exit code 70, the report saved.
func TestGoSafe(t *testing.T) {
	if os.Getenv("STAGESCOPE_TEST_GOSAFE") == "1" {
		goSafe(func() { panic("boom in a goroutine") })
		select {} // the goroutine ends the process
	}
	state := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGoSafe$")
	cmd.Env = append(os.Environ(), "STAGESCOPE_TEST_GOSAFE=1", "XDG_STATE_HOME="+state)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInternal {
		t.Fatalf("exit %v, want %d:\n%s", err, exitInternal, out)
	}
	msg := string(out)
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "stagescope: internal error: this is a bug in stagescope") || strings.Contains(msg, "goroutine") {
		t.Errorf("output %q, want one sentence", msg)
	}
	path := strings.TrimSpace(msg[strings.LastIndex(msg, " ")+1:])
	if report, err := os.ReadFile(path); err != nil || !strings.Contains(string(report), "panic: boom in a goroutine") {
		t.Errorf("report %s: %v\n%s", path, err, report)
	}
}
