package buildgraph

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	lintpb "github.com/moby/buildkit/frontend/subrequests/lint"
)

// runMounts are RUN --mount option lists BuildKit accepts: every mount type
// with every option it takes.
var runMounts = []string{
	"type=bind,target=/x,rw",
	"type=bind,target=/x,rw=true",
	"type=bind,target=/x,readwrite",
	"type=bind,target=/x,ro",
	"type=bind,target=/x,readonly=true",
	"type=bind,target=/x,rw=false",
	"target=/x,rw",
	"type=bind,from=a,target=/x",
	"type=bind,from=a,source=/src,target=/x,rw",
	"type=bind,from=alpine,source=/etc,target=/x,rw",
	"type=bind,source=sub,target=/x,rw",
	"type=bind,src=/s,dst=/x,rw",
	"type=cache,target=/c",
	"type=cache,target=/c,sharing=shared",
	"type=cache,target=/c,sharing=private",
	"type=cache,target=/c,sharing=locked",
	"type=cache,target=/c,id=gocache",
	"type=cache,target=/c,from=a",
	"type=cache,target=/c,from=a,source=/cache",
	"type=cache,target=/c,mode=0700",
	"type=cache,target=/c,uid=1000,gid=1000",
	"type=cache,target=/c,ro",
	"type=cache,target=/c,id=x,sharing=locked,mode=0755,uid=1,gid=2,from=a,source=/s",
	"type=tmpfs,target=/t",
	"type=tmpfs,target=/t,size=64m",
	"type=secret,id=x",
	"type=secret,id=x,required",
	"type=secret,id=x,required=true",
	"type=secret,id=x,target=/run/x",
	"type=secret,id=x,env=TOKEN",
	"type=secret,id=x,env=TOKEN,target=/run/x,mode=0400,uid=1,gid=2",
	"type=secret,target=/run/secrets/x",
	"type=ssh",
	"type=ssh,id=default",
	"type=ssh,id=default,required",
	"type=ssh,target=/ssh,mode=0600,uid=1,gid=2",
}

// Every mount BuildKit accepts gives a graph in every format, and the
// linter (a whole dockerfile2llb conversion) runs through it.
func TestRunMountVariants(t *testing.T) {
	for _, m := range runMounts {
		t.Run(m, func(t *testing.T) {
			src := "FROM alpine AS a\nRUN true\nFROM alpine\nRUN --mount=" + m + " true\nRUN --mount=" + m + " --mount=type=tmpfs,target=/y true\n"
			g, err := Parse([]byte(src), fixed(Options{}))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if g.LintError != nil {
				t.Errorf("LintError: %v", g.LintError)
			}
			for _, f := range []Format{FormatText, FormatJSON, FormatDOT, FormatMermaid} {
				var out bytes.Buffer
				if err := Render(&out, g, f, RenderOptions{}); err != nil || out.Len() == 0 {
					t.Errorf("Render %s: %v (%d bytes)", f, err, out.Len())
				}
			}
		})
	}
}

// A linter that fails or panics is a lint problem; the graph stands.
func TestLintFailure(t *testing.T) {
	saved := dockerfileLint
	t.Cleanup(func() { dockerfileLint = saved })
	for _, tc := range []struct {
		name string
		lint func(context.Context, []byte, dockerfile2llb.ConvertOpt) (*lintpb.LintResults, error)
		want string
	}{
		{"panic", func(context.Context, []byte, dockerfile2llb.ConvertOpt) (*lintpb.LintResults, error) {
			panic("boom")
		}, "BuildKit's Dockerfile linter failed: boom"},
		{"error", func(context.Context, []byte, dockerfile2llb.ConvertOpt) (*lintpb.LintResults, error) {
			return nil, errors.New("no luck\nmore detail")
		}, "BuildKit's Dockerfile linter failed: no luck"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dockerfileLint = tc.lint
			g, err := Parse([]byte("FROM alpine AS a\nFROM a\n"), fixed(Options{Filename: "Dockerfile"}))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(g.Stages) != 2 || g.LintError == nil || g.LintError.Msg != tc.want {
				t.Fatalf("stages %d, LintError %v; want 2 stages and %q", len(g.Stages), g.LintError, tc.want)
			}
			var out bytes.Buffer
			if err := Render(&out, g, FormatText, RenderOptions{}); err != nil || !strings.Contains(out.String(), tc.want) {
				t.Errorf("text output lacks the lint problem (%v):\n%s", err, out.String())
			}
		})
	}
}

// BuildKit refuses invalid --mount options when it reaches the RUN: only
// in a stage the target builds, and not in one a named context replaces.
func TestRunMountRefusedWhenReached(t *testing.T) {
	src := []byte("FROM busybox AS src\nFROM busybox AS bad\nRUN --mount=type=secret,id=x,from=src true\nFROM busybox AS good\n")
	for _, tc := range []struct {
		target   string
		contexts map[string]string
		wantErr  bool
	}{
		{target: "bad", wantErr: true},
		{target: "good"},
		{target: "bad", contexts: map[string]string{"bad": "docker-image://busybox"}},
	} {
		g, err := Parse(src, fixed(Options{Target: tc.target, Contexts: tc.contexts}))
		var e *Error
		switch {
		case tc.wantErr && (!errors.As(err, &e) || e.Line != 3 || e.Msg != "secret mount should not have a from"):
			t.Errorf("target %s: %v, want line 3: secret mount should not have a from", tc.target, err)
		case !tc.wantErr && err != nil:
			t.Errorf("target %s, contexts %v: %v", tc.target, tc.contexts, err)
		case !tc.wantErr:
			if _, err := g.Closure(tc.target); err != nil {
				t.Errorf("Closure(%s): %v", tc.target, err)
			}
		}
	}
	// A value holding a variable is BuildKit's to judge, with the stage's
	// variables: buildgraph does not guess.
	if _, err := Parse([]byte("FROM busybox AS src\nFROM busybox\nARG T=secret\nRUN --mount=type=$T,id=x,from=src true\n"), fixed(Options{})); err != nil {
		t.Errorf("mount with a variable: %v", err)
	}
}
