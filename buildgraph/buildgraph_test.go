package buildgraph

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// fixed pins the platforms so tests do not depend on the host.
func fixed(o Options) Options {
	if o.Platform == "" {
		o.Platform = "linux/amd64"
	}
	if o.BuildPlatform == "" {
		o.BuildPlatform = "linux/amd64"
	}
	return o
}

// df trims the leading newline of a raw-string Dockerfile.
func df(s string) []byte { return []byte(strings.TrimPrefix(s, "\n")) }

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		dockerfile string
		opts       Options
		closure    string // also call Closure for this target
		line       int
		msg        string // a substring of Error.Msg
	}{
		{name: "empty", dockerfile: "", msg: "the Dockerfile cannot be empty"},
		{name: "only comments", dockerfile: "# nothing\n", line: 1, msg: "file with no instructions"},
		{name: "no stage", dockerfile: "ARG A=1\n", msg: "dockerfile contains no stages to build"},
		{name: "unknown instruction", dockerfile: "FROM scratch\nFROBNICATE x\n", line: 2, msg: "unknown instruction: FROBNICATE"},
		{name: "instruction before FROM", dockerfile: "RUN true\nFROM scratch\n", line: 1, msg: "no build stage in current context"},
		{name: "unterminated heredoc", dockerfile: "FROM scratch\nCOPY <<EOF /x\nhello\n", line: 2, msg: "unterminated heredoc"},
		{name: "invalid stage name", dockerfile: "FROM scratch AS 1st\n", line: 1, msg: "invalid name for build stage"},
		{name: "invalid check directive", dockerfile: "# check=skip=all;oops\nFROM scratch\n", line: 1, msg: `failed to parse check options: invalid check option "oops"`},
		{name: "invalid escape directive", dockerfile: "# escape=x\nFROM scratch\n", line: 1, msg: "invalid escape token"},
		{name: "blank base", dockerfile: "FROM ${NOTHING}\n", line: 1, msg: "base name (${NOTHING}) should not be blank"},
		{name: "bad substitution in FROM", dockerfile: "FROM ${A:?needA}\n", line: 1, msg: "needA"},
		{name: "bad global ARG default", dockerfile: "ARG A=${B:?Brequired}\nFROM scratch\n", line: 1, msg: "Brequired"},
		{name: "empty platform", dockerfile: "FROM --platform=$NOPE scratch\n", line: 1, msg: "empty platform value"},
		{name: "invalid platform", dockerfile: "FROM --platform=linux/amd64/v3/x scratch\n", line: 1, msg: "failed to parse platform"},
		{name: "invalid target platform option", dockerfile: "FROM scratch\n", opts: Options{Platform: "not a platform/"}, msg: "invalid target platform"},
		{name: "upper-case base reference", dockerfile: "FROM scratch AS builder\nFROM Builder\n", line: 2, msg: `failed to parse stage name "Builder"`},
		{name: "invalid image reference", dockerfile: "FROM scratch\nCOPY --from=Not/Valid:: /a /b\n", line: 2, msg: "failed to parse stage name"},
		{name: "stage name no context name", dockerfile: "FROM scratch AS a..b\n", line: 1, msg: "invalid context name a..b"},
		{name: "COPY --from variable", dockerfile: "FROM scratch AS a\nFROM scratch\nARG S=a\nCOPY --from=$S /x /x\n", line: 4, msg: "variable expansion is not supported for --from"},
		{name: "COPY --from braced variable", dockerfile: "FROM scratch AS a\nFROM scratch\nCOPY --from=${S:-a} /x /x\n", line: 3, msg: "variable expansion is not supported for --from"},
		{name: "mount from variable", dockerfile: "FROM scratch AS a\nFROM busybox\nRUN --mount=from=$S,target=/s true\n", line: 3, msg: "'from' doesn't support variable expansion"},
		{name: "invalid stage index", dockerfile: "FROM scratch\nCOPY --from=1 /x /x\n", line: 2, msg: "invalid stage index 1"},
		{name: "negative stage index", dockerfile: "FROM scratch\nCOPY --from=-1 /x /x\n", line: 2, msg: "invalid stage index -1"},
		{name: "self copy", dockerfile: "FROM scratch AS a\nCOPY --from=a /x /x\n", line: 2, msg: "circular dependency detected on stage: a"},
		{name: "cycle", dockerfile: "FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY --from=a /x /x\n", line: 4, msg: "circular dependency detected on stage: a (a -> b -> a)"},
		{name: "unknown target", dockerfile: "FROM scratch AS build\nFROM scratch AS release\n", opts: Options{Target: "relase"}, msg: `target stage "relase" could not be found (did you mean release?); valid targets: build, release`},
		{name: "unknown target, no names", dockerfile: "FROM scratch\n", opts: Options{Target: "x"}, msg: "the Dockerfile has no named stages"},
		{name: "stage-N is no target", dockerfile: "FROM scratch\nFROM scratch AS b\n", opts: Options{Target: "stage-0"}, msg: `target stage "stage-0" could not be found`},
		{name: "copy from later stage", dockerfile: "FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\n", opts: Options{Target: "a"}, line: 2, msg: `cannot copy from stage "b", it needs to be defined before current stage "a"`},
		{name: "copy from later stage by index", dockerfile: "FROM scratch AS a\nCOPY --from=1 /x /x\nFROM scratch AS b\n", opts: Options{Target: "a"}, line: 2, msg: `cannot copy from stage "1"`},
		{name: "mount from later stage", dockerfile: "FROM busybox AS a\nRUN --mount=type=cache,from=b,target=/c true\nFROM scratch AS b\n", closure: "a", line: 2, msg: `cannot mount from stage "b" to "/c"`},
		{name: "later stage reached through base", dockerfile: "FROM scratch AS a\nCOPY --from=c /x /x\nFROM a AS b\nFROM scratch AS c\n", closure: "b", line: 2, msg: `cannot copy from stage "c"`},
		{name: "onbuild unknown instruction", dockerfile: "FROM busybox AS base\nONBUILD BOGUS x\nFROM base AS child\n", closure: "child", line: 3, msg: "ONBUILD trigger of stage base (line 2): unknown instruction: BOGUS"},
		{name: "onbuild copy from later stage", dockerfile: "FROM busybox AS base\nONBUILD COPY --from=late /x /x\nFROM base AS child\nFROM scratch AS late\n", closure: "child", line: 3, msg: `cannot copy from stage "late"`},
		{name: "secret mount from", dockerfile: "FROM busybox AS src\nFROM busybox\nRUN --mount=type=secret,id=x,from=src true\n", line: 3, msg: "secret mount should not have a from"},
		{name: "secret mount sharing", dockerfile: "FROM busybox\nRUN --mount=type=secret,id=x,sharing=locked true\n", line: 2, msg: "secret mount should not define sharing"},
		{name: "secret mount without id or target", dockerfile: "FROM busybox\nRUN --mount=type=secret,required true\n", line: 2, msg: "invalid secret mount. one of source, target required"},
		{name: "bind mount sharing", dockerfile: "FROM busybox\nRUN --mount=type=bind,target=/x,sharing=locked true\n", line: 2, msg: "invalid cache sharing set for bind mount"},
		{name: "bind mount mode", dockerfile: "FROM busybox\nRUN --mount=type=bind,target=/x,mode=0700 true\n", line: 2, msg: `mode not allowed for "bind" type mounts`},
		{name: "bind mount required", dockerfile: "FROM busybox\nRUN --mount=type=bind,target=/x,required true\n", line: 2, msg: "unexpected key 'required' for mount type 'bind'"},
		{name: "bind mount size", dockerfile: "FROM busybox\nRUN --mount=type=bind,target=/x,size=1m true\n", line: 2, msg: "unexpected key 'size' for mount type 'bind'"},
		{name: "unknown mount type", dockerfile: "FROM busybox\nRUN --mount=type=volume,target=/x true\n", line: 2, msg: `unsupported mount type "volume"`},
		{name: "invalid cache mode", dockerfile: "FROM busybox\nRUN --mount=type=cache,target=/x,mode=rwx true\n", line: 2, msg: "invalid value rwx for mode"},
		{name: "invalid mount uid", dockerfile: "FROM busybox\nRUN --mount=type=cache,target=/x,uid=root true\n", line: 2, msg: "invalid value root for uid"},
		{name: "unknown sharing", dockerfile: "FROM busybox\nRUN --mount=type=cache,target=/x,sharing=none true\n", line: 2, msg: `unsupported sharing value "none"`},
		{name: "onbuild secret mount from", dockerfile: "FROM busybox AS base\nONBUILD RUN --mount=type=secret,id=x,from=base true\nFROM base\n", line: 3, msg: "secret mount should not have a from"},
		{name: "secret mount from, reached stage", dockerfile: "FROM busybox AS a\nRUN --mount=type=secret,id=x,from=b true\nFROM busybox AS b\nFROM a\n", line: 2, msg: "secret mount should not have a from"},
		{name: "onbuild copy from variable", dockerfile: "FROM busybox AS base\nONBUILD COPY --from=$X /x /x\nFROM base\n", line: 3, msg: "variable expansion is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := fixed(tc.opts)
			opts.Filename = "dir/Dockerfile"
			g, err := Parse([]byte(tc.dockerfile), opts)
			if err == nil {
				_, err = g.Closure(tc.closure)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %T: %v", err, err)
			}
			if e.File != "dir/Dockerfile" || e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %q (line %d)\nwant line %d and message containing %q", e.Error(), e.Line, tc.line, tc.msg)
			}
			want := fmt.Sprintf("dir/Dockerfile:%d: ", tc.line)
			if tc.line == 0 {
				want = "dir/Dockerfile: "
			}
			if !strings.HasPrefix(e.Error(), want) || strings.Contains(e.Msg, "dockerfile parse error on line") {
				t.Errorf("Error() = %q, want prefix %q and no repeated location", e.Error(), want)
			}
		})
	}
}

// summary describes a graph and a closure in one line per aspect, for
// compact table tests.
func summary(t *testing.T, g *Graph, target string) string {
	t.Helper()
	c, err := g.Closure(target)
	if err != nil {
		t.Fatalf("Closure(%q): %v", target, err)
	}
	var b strings.Builder
	for _, s := range c.Graph.Stages {
		fmt.Fprintf(&b, "%s:%s", s.Name, s.Base.Kind)
		switch s.Base.Kind {
		case BaseStage:
			fmt.Fprintf(&b, "=%s", c.Graph.Stages[s.Base.Stage].Name)
		case BaseImage, BaseContext:
			fmt.Fprintf(&b, "=%s", c.Graph.Images[s.Base.Image].Normalized)
		}
		if s.Context != nil {
			fmt.Fprintf(&b, "[ctx %s]", s.Context.Key)
		}
		b.WriteString(" ")
	}
	b.WriteString("|")
	for _, e := range c.Graph.Edges {
		if e.Kind == EdgeBase {
			continue
		}
		fmt.Fprintf(&b, " %s-%s->%s", c.Graph.nodeLabel(e.From), e.Kind, c.Graph.Stages[e.To].Name)
	}
	b.WriteString(" | build:")
	for _, i := range c.Stages {
		b.WriteString(" " + c.Graph.Stages[i].Name)
	}
	b.WriteString(" | skip:")
	for _, i := range c.Skipped {
		b.WriteString(" " + c.Graph.Stages[i].Name)
	}
	b.WriteString(" | images:")
	for _, i := range c.Images {
		b.WriteString(" " + c.Graph.Images[i].Ref)
		if nc := c.Graph.Images[i].Context; nc != nil {
			fmt.Fprintf(&b, "[ctx %s]", nc.Key)
		}
	}
	return b.String()
}

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		name       string
		dockerfile string
		opts       Options
		target     string
		want       string
		// upstreamRace: BuildKit's linter races with itself on this input
		// (dockerfile2llb.resolveReachableStages reads dispatchState.dispatched
		// while resolveBaseImage goroutines write it); the race detector
		// reports it, so the case is left out of -race runs.
		upstreamRace bool
	}{
		{
			name:       "global ARG default",
			dockerfile: "ARG V=1.22\nFROM golang:${V} AS b\nFROM scratch\nCOPY --from=b /x /x\n",
			want:       "b:image=docker.io/library/golang:1.22 stage-1:scratch | b-copy-from->stage-1 | build: b stage-1 | skip: | images: golang:1.22",
		},
		{
			name:       "declared ARG overridden",
			dockerfile: "ARG V=1.22\nFROM golang:${V} AS b\n",
			opts:       Options{BuildArgs: map[string]string{"V": "1.23"}},
			want:       "b:image=docker.io/library/golang:1.23 | | build: b | skip: | images: golang:1.23",
		},
		{
			name:       "undeclared build arg ignored",
			dockerfile: "FROM golang:${V:-1.21} AS b\n",
			opts:       Options{BuildArgs: map[string]string{"V": "1.23"}},
			want:       "b:image=docker.io/library/golang:1.21 | | build: b | skip: | images: golang:1.21",
		},
		{
			name:       "ARG after first FROM is not global",
			dockerfile: "FROM scratch AS a\nARG V=x\nFROM alpine${V:+:}${V}\n",
			want:       "a:scratch stage-1:image=docker.io/library/alpine:latest | | build: stage-1 | skip: a | images: alpine",
		},
		{
			name:       "platform args",
			dockerfile: "FROM --platform=$BUILDPLATFORM tools-$BUILDARCH AS t\nFROM img-${TARGETOS}-${TARGETARCH}${TARGETVARIANT}\nCOPY --from=t /x /x\n",
			opts:       Options{Platform: "linux/arm/v7"},
			want:       "t:image=docker.io/library/tools-amd64:latest stage-1:image=docker.io/library/img-linux-armv7:latest | t-copy-from->stage-1 | build: t stage-1 | skip: | images: tools-amd64 img-linux-armv7",
		},
		{
			name:       "platform build arg overrides without declaration",
			dockerfile: "FROM img-$TARGETARCH\n",
			opts:       Options{BuildArgs: map[string]string{"TARGETARCH": "riscv64"}},
			want:       "stage-0:image=docker.io/library/img-riscv64:latest | | build: stage-0 | skip: | images: img-riscv64",
		},
		{
			name:       "TARGETSTAGE follows the target",
			dockerfile: "FROM scratch AS a-deps\nFROM scratch AS b-deps\nFROM ${TARGETSTAGE}-deps AS a\nFROM ${TARGETSTAGE}-deps AS b\n",
			target:     "a",
			want:       "a-deps:scratch b-deps:scratch a:stage=a-deps b:stage=a-deps | | build: a-deps a | skip: b-deps b | images:",
		},
		{
			name:       "TARGETSTAGE default is the last stage",
			dockerfile: "FROM scratch AS a-deps\nFROM scratch AS b-deps\nFROM ${TARGETSTAGE}-deps AS a\nFROM ${TARGETSTAGE}-deps AS b\n",
			want:       "a-deps:scratch b-deps:scratch a:stage=b-deps b:stage=b-deps | | build: b-deps b | skip: a-deps a | images:",
		},
		{
			name:       "stage names case-insensitive in COPY, mount and target",
			dockerfile: "FROM scratch AS Build\nFROM scratch AS Other\nFROM busybox AS Final\nCOPY --from=BUILD /x /x\nRUN --mount=from=oThEr,target=/o true\n",
			target:     "FINAL",
			want:       "build:scratch other:scratch final:image=docker.io/library/busybox:latest | build-copy-from->final other-mount-from->final | build: build other final | skip: | images: busybox",
		},
		{
			name:       "FROM a later name is an image",
			dockerfile: "FROM later AS first\nFROM scratch AS later\n",
			target:     "first",
			want:       "first:image=docker.io/library/later:latest later:scratch | | build: first | skip: later | images: later",
		},
		{
			name:       "duplicate names: FROM sees the latest earlier one, COPY the last",
			dockerfile: "FROM scratch AS a\nFROM a AS b\nFROM scratch AS a\nFROM b AS c\nCOPY --from=a /x /x\n",
			want:       "a:scratch b:stage=a a:scratch c:stage=b | a-copy-from->c | build: a b a c | skip: | images:",
		},
		{
			name:       "numeric COPY --from",
			dockerfile: "FROM scratch\nFROM scratch AS mid\nFROM scratch\nCOPY --from=0 /x /x\n",
			want:       "stage-0:scratch mid:scratch stage-2:scratch | stage-0-copy-from->stage-2 | build: stage-0 stage-2 | skip: mid | images:",
		},
		{
			// dockerfile2llb adds a source that is no stage to its list
			// again each time an index names it.
			name:         "numeric COPY --from an external source named by index before",
			dockerfile:   "FROM scratch\nCOPY --from=alpine /x /x\nCOPY --from=1 /y /y\nCOPY --from=2 /z /z\n",
			want:         "stage-0:scratch | alpine-copy-from->stage-0 alpine-copy-from->stage-0 alpine-copy-from->stage-0 | build: stage-0 | skip: | images: alpine",
			upstreamRace: true,
		},
		{
			name:         "numeric COPY --from an earlier external source",
			dockerfile:   "FROM scratch\nCOPY --from=alpine /x /x\nCOPY --from=1 /y /y\n",
			want:         "stage-0:scratch | alpine-copy-from->stage-0 alpine-copy-from->stage-0 | build: stage-0 | skip: | images: alpine",
			upstreamRace: true,
		},
		{
			name:       "mount types: tmpfs and ssh from= do not run the source",
			dockerfile: "FROM scratch AS b\nFROM scratch AS c\nFROM scratch AS t\nFROM scratch AS s\nFROM busybox\nRUN --mount=type=bind,from=b,target=/b --mount=type=cache,from=c,target=/c --mount=type=tmpfs,from=t,target=/t --mount=type=ssh,from=s true\n",
			want:       "b:scratch c:scratch t:scratch s:scratch stage-4:image=docker.io/library/busybox:latest | b-mount-from->stage-4 c-mount-from->stage-4 t-mount-from->stage-4 s-mount-from->stage-4 | build: b c stage-4 | skip: t s | images: busybox",
		},
		{
			name:       "a stage named scratch",
			dockerfile: "FROM busybox AS scratch\nFROM scratch AS b\nFROM busybox AS c\nRUN --mount=type=cache,target=/c true\n",
			target:     "c",
			want:       "scratch:image=docker.io/library/busybox:latest b:stage=scratch c:image=docker.io/library/busybox:latest | scratch-mount-from->c | build: scratch c | skip: b | images: busybox",
		},
		{
			name:       "external images via COPY and mounts",
			dockerfile: "FROM scratch\nCOPY --from=ghcr.io/x/y:1 /a /a\nRUN --mount=from=alpine:3.19,target=/a true\nCOPY --from=scratch /b /b\n",
			want:       "stage-0:scratch | ghcr.io/x/y:1-copy-from->stage-0 alpine:3.19-mount-from->stage-0 scratch-copy-from->stage-0 | build: stage-0 | skip: | images: ghcr.io/x/y:1 alpine:3.19 scratch",
		},
		{
			name:       "named context replaces a stage and its dependencies",
			dockerfile: "FROM scratch AS input\nFROM golang AS builder\nCOPY --from=input /x /x\nFROM scratch\nCOPY --from=builder /x /x\n",
			opts:       Options{Contexts: map[string]string{"builder": "./prebuilt"}},
			want:       "input:scratch builder:image=docker.io/library/golang:latest[ctx builder] stage-2:scratch | input-copy-from->builder builder-copy-from->stage-2 | build: builder stage-2 | skip: input | images:",
		},
		{
			name:       "named context replaces images; :latest dropped; platform key first",
			dockerfile: "FROM golang:latest AS a\nFROM docker.io/library/golang AS b\nFROM alpine:3.19 AS c\nFROM --platform=linux/arm64 alpine:3.19 AS d\n",
			opts:       Options{Contexts: map[string]string{"golang": "docker-image://golang:1.22", "alpine:3.19": "local:a", "alpine:3.19::linux/arm64": "local:arm"}},
			target:     "d",
			want:       "a:context=docker.io/library/golang:latest b:context=docker.io/library/golang:latest c:context=docker.io/library/alpine:3.19 d:context=docker.io/library/alpine:3.19 | | build: d | skip: a b c | images: alpine:3.19[ctx alpine:3.19::linux/arm64]",
		},
		{
			name:       "copy from a later stage a named context replaces",
			dockerfile: "FROM scratch AS early\nCOPY --from=late /x /x\nFROM scratch AS late\n",
			opts:       Options{Contexts: map[string]string{"late": "local:late"}},
			target:     "early",
			want:       "early:scratch late:scratch[ctx late] | late-copy-from->early | build: early late | skip: | images:",
		},
		{
			name:       "copy from a later stage in an unreached stage",
			dockerfile: "FROM scratch AS early\nCOPY --from=late /x /x\nFROM scratch AS late\n",
			want:       "early:scratch late:scratch | late-copy-from->early | build: late | skip: early | images:",
		},
		{
			name:       "onbuild",
			dockerfile: "FROM scratch AS extra\nFROM busybox AS base\nONBUILD COPY --from=extra /x /x\nONBUILD RUN --mount=from=alpine,target=/a true\nFROM base AS child\n",
			target:     "child",
			want:       "extra:scratch base:image=docker.io/library/busybox:latest child:stage=base | extra-onbuild->child alpine-onbuild->child | build: extra base child | skip: | images: busybox alpine",
		},
		{
			name:       "onbuild only for direct children",
			dockerfile: "FROM scratch AS extra\nFROM busybox AS base\nONBUILD COPY --from=extra /x /x\nFROM base AS child\nFROM child AS grandchild\n",
			target:     "base",
			want:       "extra:scratch base:image=docker.io/library/busybox:latest child:stage=base grandchild:stage=child | extra-onbuild->child | build: base | skip: extra child grandchild | images: busybox",
		},
		{
			// dockerfile2llb.resolveStages resolves sources before ONBUILD
			// triggers add dependencies: COPY --from=alpine of tools, which
			// app reaches only through a trigger, skips the named context.
			name:       "source reached only through ONBUILD uses the image as written",
			dockerfile: "FROM scratch AS tools\nCOPY --from=alpine /t /t\nFROM busybox AS base\nONBUILD COPY --from=tools /t /t\nFROM base AS app\nCOPY --from=alpine /a /a\n",
			opts:       Options{Contexts: map[string]string{"alpine": "docker-image://alpine:3.20"}},
			target:     "app",
			want:       "tools:scratch base:image=docker.io/library/busybox:latest app:stage=base | alpine-copy-from->tools tools-onbuild->app alpine-copy-from->app | build: tools base app | skip: | images: busybox alpine[ctx alpine] alpine",
		},
		{
			name:       "source reached without ONBUILD uses the named context",
			dockerfile: "FROM scratch AS tools\nCOPY --from=alpine /t /t\nFROM busybox AS base\nONBUILD COPY --from=tools /t /t\nFROM base AS app\nCOPY --from=alpine /a /a\n",
			opts:       Options{Contexts: map[string]string{"alpine": "docker-image://alpine:3.20"}},
			target:     "tools",
			want:       "tools:scratch base:image=docker.io/library/busybox:latest app:stage=base | alpine-copy-from->tools tools-onbuild->app alpine-copy-from->app | build: tools | skip: base app | images: alpine[ctx alpine]",
		},
		{
			name:       "escape directive and continuation",
			dockerfile: "# escape=`\nFROM scratch AS a\nFROM busybox\nCOPY --from=a `\n  C:\\x C:\\y\n",
			want:       "a:scratch stage-1:image=docker.io/library/busybox:latest | a-copy-from->stage-1 | build: a stage-1 | skip: | images: busybox",
		},
		{
			name:       "heredoc with a FROM-looking line",
			dockerfile: "FROM busybox AS a\nRUN <<EOF\nFROM nothing\nEOF\nFROM scratch\nCOPY <<EOF /x\nCOPY --from=a\nEOF\n",
			want:       "a:image=docker.io/library/busybox:latest stage-1:scratch | | build: stage-1 | skip: a | images:",
		},
		{
			// The stage is marked dispatched before its instructions run,
			// so a trigger may copy from the stage running it.
			name:       "ONBUILD COPY --from the stage running the trigger",
			dockerfile: "FROM scratch AS base\nONBUILD COPY --from=tools /o /o\nFROM base AS tools\nRUN true\n",
			target:     "tools",
			want:       "base:scratch tools:stage=base | tools-onbuild->tools | build: base tools | skip: | images:",
		},
		{
			name:       "BOM and CRLF",
			dockerfile: "\ufeffFROM scratch AS a\r\nFROM scratch\r\nCOPY --from=a /x /x\r\n",
			want:       "a:scratch stage-1:scratch | a-copy-from->stage-1 | build: a stage-1 | skip: | images:",
		},
		{
			name:       "check comment above an instruction",
			dockerfile: "FROM scratch\n# check=skip=all\nCOPY a b\n",
			want:       "stage-0:scratch | | build: stage-0 | skip: | images:",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.upstreamRace && raceDetector {
				t.Skip("BuildKit's linter has a data race on this input (dockerfile2llb.resolveReachableStages)")
			}
			g, err := Parse(df(tc.dockerfile), fixed(tc.opts))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, st := range g.Stages {
				for _, in := range st.Instructions {
					if strings.ContainsAny(in.Text, "\r\ufeff") || !strings.HasPrefix(strings.ToUpper(in.Text), in.Keyword) {
						t.Errorf("instruction text %q (keyword %s)", in.Text, in.Keyword)
					}
				}
			}
			if got := summary(t, g, tc.target); got != tc.want {
				t.Errorf("got\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

func TestStageDetails(t *testing.T) {
	src := df(`
# syntax=docker/dockerfile:1.7
ARG BASE=alpine
ARG UNSET

# builder compiles everything
# (a second comment line)
FROM --platform=$BUILDPLATFORM ${BASE} AS builder
RUN <<EOF
echo hi
EOF
COPY a \
     b

FROM builder AS next
FROM scratch
`)
	g, err := Parse(src, fixed(Options{Filename: "Dockerfile.x", Platform: "linux/arm64", BuildArgs: map[string]string{"BASE": "debian"}}))
	if err != nil {
		t.Fatal(err)
	}
	if g.Syntax != "docker/dockerfile:1.7" || g.EscapeToken != '\\' || g.Platform != "linux/arm64" || g.BuildPlatform != "linux/amd64" {
		t.Errorf("graph header: %q %q %q %q", g.Syntax, g.EscapeToken, g.Platform, g.BuildPlatform)
	}
	wantArgs := []Arg{
		{Name: "BASE", Value: "debian", HasValue: true, FromBuildArg: true, Line: 2},
		{Name: "UNSET", Line: 3},
	}
	if !slices.Equal(g.Args, wantArgs) {
		t.Errorf("Args = %+v", g.Args)
	}
	b := g.Stages[0]
	if b.Name != "builder" || !b.Named || b.Doc != "compiles everything" || b.StartLine != 7 || b.EndLine != 12 ||
		b.PlatformFlag != "$BUILDPLATFORM" || b.Platform != "linux/amd64" || b.Base.Raw != "${BASE}" || b.Base.Ref != "debian" {
		t.Errorf("builder = %+v", b)
	}
	wantIns := []Instruction{
		{Keyword: "RUN", Text: "RUN <<EOF\necho hi\nEOF", StartLine: 8, EndLine: 10},
		{Keyword: "COPY", Text: "COPY a \\\n     b", StartLine: 11, EndLine: 12},
	}
	gotIns := slices.Clone(b.Instructions)
	for i := range gotIns {
		gotIns[i].Command = nil
	}
	if !slices.Equal(gotIns, wantIns) {
		t.Errorf("Instructions = %+v", b.Instructions)
	}
	if c, ok := b.Instructions[1].Command.(*instructions.CopyCommand); !ok || !slices.Equal(c.SourcePaths, []string{"a"}) || c.DestPath != "b" {
		t.Errorf("COPY command = %#v", b.Instructions[1].Command)
	}
	if n := g.Stages[1]; n.Platform != "linux/amd64" || n.Base.Kind != BaseStage {
		t.Errorf("next inherits the builder's platform: %+v", n)
	}
	if s := g.Stages[2]; s.Name != "stage-2" || s.Named || s.Platform != "linux/arm64" || s.ProgressName != "stage-2" {
		t.Errorf("stage-2 = %+v", s)
	}
	if g.DefaultTarget != "" {
		t.Errorf("DefaultTarget = %q", g.DefaultTarget)
	}
	wantTargets := []Target{{Name: "builder", Stage: 0, Description: "compiles everything"}, {Name: "next", Stage: 1}, {Stage: 2, Default: true}}
	if got := g.Targets(); !slices.Equal(got, wantTargets) {
		t.Errorf("Targets = %+v", got)
	}
	for _, q := range []struct {
		key  string
		want int
	}{{"builder", 0}, {"BUILDER", 0}, {"1", 1}, {"stage-2", 2}, {"2", 2}, {"3", -1}, {"nope", -1}, {"-1", -1}} {
		s, ok := g.Stage(q.key)
		if got := -1; ok {
			got = s.Index
			if got != q.want {
				t.Errorf("Stage(%q) = %d, want %d", q.key, got, q.want)
			}
		} else if q.want != -1 {
			t.Errorf("Stage(%q) not found", q.key)
		}
	}
}

func TestProgressName(t *testing.T) {
	for _, tc := range []struct {
		dockerfile, want string
	}{
		{"FROM scratch AS only\n", ""},
		{"FROM busybox\nRUN true\n", ""},
		{"FROM busybox\nRUN --mount=type=tmpfs,target=/t true\n", "stage-0"},
		{"FROM scratch\nCOPY --from=alpine /a /a\n", "stage-0"},
		{"FROM scratch AS a\nFROM a\n", "a"},
	} {
		g, err := Parse([]byte(tc.dockerfile), fixed(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Stages[0].ProgressName; got != tc.want {
			t.Errorf("%q: ProgressName = %q, want %q", tc.dockerfile, got, tc.want)
		}
	}
}

func TestLevels(t *testing.T) {
	src := df(`
FROM scratch AS a
FROM scratch AS b
FROM a AS c
COPY --from=b /x /x
FROM scratch AS d
COPY --from=c /x /x
COPY --from=a /x /x
FROM scratch AS unused
`)
	g, err := Parse(src, fixed(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	levels, err := g.Levels("d")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0, 1}, {2}, {3}}
	if fmt.Sprint(levels) != fmt.Sprint(want) {
		t.Errorf("Levels = %v, want %v", levels, want)
	}
	if _, err := g.Levels("nope"); err == nil {
		t.Error("Levels of an unknown target succeeded")
	}
	c, _ := g.Closure("d")
	if !c.Contains(2) || c.Contains(4) {
		t.Errorf("Contains: %+v", c)
	}
}

func TestLint(t *testing.T) {
	src := df(`
FROM scratch as Build
ENV A $B
COPY a b

FROM busybox AS img
ENV C=$UNDEFINED_IN_IMAGE
`)
	g, err := Parse(src, fixed(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range g.Warnings {
		if w.URL == "" || w.Description == "" {
			t.Errorf("warning without URL or description: %+v", w)
		}
		got = append(got, fmt.Sprintf("%d:%d:%s", w.Line, w.Stage, w.Rule))
	}
	want := []string{"1:0:StageNameCasing", "1:0:FromAsCasing", "2:0:UndefinedVar", "2:0:LegacyKeyValueFormat"}
	if !slices.Equal(got, want) {
		t.Errorf("warnings = %v, want %v", got, want)
	}
	if g.LintError != nil {
		t.Errorf("LintError = %v", g.LintError)
	}

	skipped, err := Parse(append([]byte("# check=skip=StageNameCasing,FromAsCasing\n"), src...), fixed(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range skipped.Warnings {
		if w.Rule == "StageNameCasing" || w.Rule == "FromAsCasing" {
			t.Errorf("skipped rule reported: %+v", w)
		}
	}

	strict, err := Parse(append([]byte("# check=error=true\n"), src...), fixed(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if strict.LintError == nil || strict.LintError.Msg != "lint violation found for rules: FromAsCasing, LegacyKeyValueFormat, StageNameCasing, UndefinedVar" {
		t.Errorf("LintError = %v", strict.LintError)
	}

	none, err := Parse(src, fixed(Options{SkipLint: true}))
	if err != nil || len(none.Warnings) != 0 {
		t.Errorf("SkipLint: %v %v", err, none.Warnings)
	}
}

// A graph parsed without lint and linted afterwards (as the TUI does, in
// the background) gets the findings Parse gives, and Lint leaves it as it
// was.
func TestLintLater(t *testing.T) {
	for _, src := range [][]byte{
		df("FROM scratch as Build\nENV A $B\nFROM busybox AS img\nENV C=$UNDEFINED_IN_IMAGE\n"),
		df("# check=error=true\nFROM scratch as build\nENV A $B\n"),
	} {
		full, err := Parse(src, fixed(Options{}))
		if err != nil {
			t.Fatal(err)
		}
		g, err := Parse(src, fixed(Options{SkipLint: true}))
		if err != nil {
			t.Fatal(err)
		}
		if !full.Linted() || g.Linted() {
			t.Fatalf("Linted() = %v with lint, %v without", full.Linted(), g.Linted())
		}
		warnings, lintErr := g.Lint()
		if !reflect.DeepEqual(warnings, full.Warnings) || !reflect.DeepEqual(lintErr, full.LintError) {
			t.Errorf("Lint() = %+v, %v; Parse gives %+v, %v", warnings, lintErr, full.Warnings, full.LintError)
		}
		if len(full.Warnings) == 0 || g.Warnings != nil || g.LintError != nil {
			t.Errorf("want warnings from Parse and none on the graph Lint read, got %d and %v, %v", len(full.Warnings), g.Warnings, g.LintError)
		}
	}
}

func TestNamedContextKind(t *testing.T) {
	for v, want := range map[string]string{
		"docker-image://alpine": "docker-image",
		"oci-layout://dir@sha":  "oci-layout",
		"local:name":            "local",
		"./dir":                 "local",
		"/abs/dir":              "local",
		"https://x/y.tar":       "http",
		"https://x/y.git":       "git",
		"git@github.com:a/b":    "git",
		"input:foo":             "input",
		"target:foo":            "target",
		"":                      "unknown",
	} {
		if got := (&NamedContext{Value: v}).Kind(); got != want {
			t.Errorf("Kind(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestIsPlainName checks the fast path of named-context lookups against
// the reference parser it stands in for.
func TestIsPlainName(t *testing.T) {
	const alphabet = "ab1-_.A/:"
	var names []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		names = append(names, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+string(c), n-1)
		}
	}
	gen("", 5)
	names = append(names, strings.Repeat("a", 128), strings.Repeat("a", 129), strings.Repeat("a", 300))
	for _, name := range names {
		if !isPlainName(name) {
			continue
		}
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			t.Errorf("isPlainName(%q) but the reference parser says %v", name, err)
			continue
		}
		if got := strings.TrimSuffix(reference.FamiliarString(named), ":latest"); got != name {
			t.Errorf("isPlainName(%q) but its familiar form is %q", name, got)
		}
	}
	for _, name := range []string{"builder", "a-b", "a--b", "a__b", "a.b", "a_b", "x1"} {
		if !isPlainName(name) {
			t.Errorf("isPlainName(%q) = false", name)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(strings.ToUpper(string(f))); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("ParseFormat(yaml) succeeded")
	}
}
