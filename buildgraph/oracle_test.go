package buildgraph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/internal/testengine"
)

// The oracle test builds Dockerfiles on a real buildkitd and checks that
// the stages BuildKit runs are exactly Closure(target), for every target,
// and that Dockerfiles BuildKit rejects are rejected too.
//
// Every stage of an oracle Dockerfile has exactly one step carrying a
// marker "@name" (RUN echo @name, or COPY <<EOT /@name for scratch stages);
// no other step mentions a marker. A stage ran when a vertex with its
// marker appears in the build's progress, and that vertex's prefix must be
// "[<ProgressName> i/n]" ("[i/n]" for a single-stage build).

// oracleCase is one Dockerfile, built once per target.
type oracleCase struct {
	name       string
	dockerfile string
	buildArgs  map[string]string
	// contexts maps a named-context key ("builder", "golang",
	// "alpine:3.19") to the busybox base folder; every FROM busybox uses
	// one too.
	contexts []string
	// wantErr: BuildKit rejects the build of target (and so must we).
	wantErr bool
	target  string // with wantErr: the target to build
}

var oracleCases = []oracleCase{
	{name: "global ARG in FROM, default", dockerfile: `
ARG SRC=one
FROM busybox AS one
RUN echo @one
FROM busybox AS two
RUN echo @two
FROM ${SRC} AS final
RUN echo @final
`},
	{name: "global ARG in FROM, build-arg override", buildArgs: map[string]string{"SRC": "two", "UNDECLARED": "one"}, dockerfile: `
ARG SRC=one
FROM busybox AS one
RUN echo @one
FROM busybox AS two
RUN echo @two
FROM ${SRC} AS final
RUN echo @final
`},
	{name: "undeclared build-arg does not reach FROM", buildArgs: map[string]string{"SRC": "two"}, dockerfile: `
FROM busybox AS one
RUN echo @one
FROM busybox AS two
RUN echo @two
FROM ${SRC:-one} AS final
RUN echo @final
`},
	{name: "numeric COPY --from", dockerfile: `
FROM scratch
COPY <<EOT /@zero
zero
EOT
FROM scratch AS mid
COPY <<EOT /@mid
mid
EOT
FROM busybox AS final
COPY --from=0 / /zero/
RUN echo @final
`},
	{name: "RUN --mount bind, cache and tmpfs from", dockerfile: `
FROM scratch AS bindsrc
COPY <<EOT /@bindsrc
b
EOT
FROM scratch AS cachesrc
COPY <<EOT /@cachesrc
c
EOT
FROM scratch AS tmpfssrc
COPY <<EOT /@tmpfssrc
t
EOT
FROM busybox AS final
RUN --mount=type=bind,from=bindsrc,target=/b --mount=type=cache,from=cachesrc,target=/c --mount=type=tmpfs,from=tmpfssrc,target=/t echo @final
`},
	{name: "inheritance chain", dockerfile: `
FROM busybox AS a
RUN echo @a
FROM a AS b
RUN echo @b
FROM b AS c
RUN echo @c
FROM c AS d
RUN echo @d
FROM a AS side
RUN echo @side
`},
	{name: "case-insensitive names", dockerfile: `
FROM busybox AS Builder
RUN echo @builder
FROM scratch AS Other
COPY <<EOT /@other
o
EOT
FROM busybox AS Final
COPY --from=BUILDER / /b/
RUN --mount=from=oThEr,target=/o echo @final
`},
	{name: "case-insensitive target", target: "BuIlDeR", dockerfile: `
FROM busybox AS builder
RUN echo @builder
FROM builder AS final
RUN echo @final
`},
	{name: "TARGETSTAGE in FROM", dockerfile: `
FROM busybox AS a-deps
RUN echo @adeps
FROM busybox AS b-deps
RUN echo @bdeps
FROM ${TARGETSTAGE}-deps AS a
RUN echo @a
FROM ${TARGETSTAGE}-deps AS b
RUN echo @b
`},
	{name: "unused stages", dockerfile: `
FROM busybox AS lint
RUN echo @lint
FROM busybox AS test
RUN echo @test
FROM scratch AS build
COPY <<EOT /@build
bin
EOT
FROM scratch
COPY --from=build / /
COPY <<EOT /@release
r
EOT
`},
	{name: "external image in COPY --from via named context", contexts: []string{"alpine:3.19"}, dockerfile: `
FROM scratch AS final
COPY --from=alpine:3.19 /bin/busybox /busybox
COPY <<EOT /@final
f
EOT
`},
	{name: "heredocs", dockerfile: `
FROM busybox AS gen
RUN <<EOT
echo @gen
echo more > /more
EOT
FROM busybox AS final
COPY --from=gen /more /more
RUN cat <<EOT > /out && echo @final
heredoc body
EOT
`},
	{name: "escape directive", dockerfile: "# escape=`\n" + `
FROM busybox AS a
RUN echo @a ` + "`" + `
    && echo continued
FROM busybox AS b
COPY --from=a / /a/
RUN echo @b
`},
	{name: "FROM --platform=$BUILDPLATFORM", dockerfile: `
FROM --platform=$BUILDPLATFORM busybox AS tools
RUN echo @tools
FROM --platform=$TARGETPLATFORM busybox AS final
COPY --from=tools /bin/busybox /tools
RUN echo @final
`},
	{name: "named context replaces a stage", contexts: []string{"builder"}, dockerfile: `
FROM scratch AS input
COPY <<EOT /@input
i
EOT
FROM busybox AS builder
COPY --from=input / /in/
RUN echo @builder
FROM busybox AS final
COPY --from=builder /bin/busybox /b
RUN echo @final
`},
	{name: "named context replaces images, :latest dropped", contexts: []string{"golang"}, dockerfile: `
FROM golang:latest AS a
RUN echo @a
FROM docker.io/library/golang AS b
RUN echo @b
FROM busybox:latest AS final
COPY --from=a /bin/busybox /a
COPY --from=b /bin/busybox /b
RUN echo @final
`},
	{name: "single stage", dockerfile: `
FROM busybox
RUN echo @only
`},
	{name: "single stage with a mount placeholder", dockerfile: `
FROM busybox
RUN --mount=type=tmpfs,target=/t echo @only
`},
	{name: "ONBUILD COPY --from", dockerfile: `
FROM scratch AS extra
COPY <<EOT /@extra
e
EOT
FROM busybox AS base
ONBUILD COPY --from=extra / /extra/
RUN echo @base
FROM base AS child
RUN echo @child
`},
	{name: "duplicate stage names: the last wins", dockerfile: `
FROM scratch AS a
COPY <<EOT /@first
1
EOT
FROM scratch AS a
COPY <<EOT /@second
2
EOT
FROM busybox
COPY --from=a / /a/
RUN echo @final
`},
	{name: "COPY --from a later stage in an unreached stage", dockerfile: `
FROM busybox AS early
COPY --from=late / /late/
RUN echo @early
FROM busybox AS late
RUN echo @late
`, target: "late"},
	{name: "COPY --from a later stage a named context replaces", contexts: []string{"late"}, dockerfile: `
FROM busybox AS early
COPY --from=late /bin/busybox /b
RUN echo @early
FROM busybox AS late
RUN echo @late
`, target: "early"},

	// BuildKit rejects these.
	{name: "error: FROM with an upper-case stage name", wantErr: true, dockerfile: `
FROM busybox AS builder
RUN echo @builder
FROM Builder
RUN echo @final
`},
	{name: "error: stage name that is no valid context name", wantErr: true, dockerfile: `
FROM busybox AS foo-
RUN echo @foo
`},
	{name: "error: COPY --from a later stage", wantErr: true, target: "early", dockerfile: `
FROM busybox AS early
COPY --from=late / /late/
RUN echo @early
FROM busybox AS late
RUN echo @late
`},
	{name: "error: RUN --mount from a later stage", wantErr: true, dockerfile: `
FROM busybox AS early
RUN --mount=from=late,target=/l echo @early
FROM busybox AS late
RUN echo @late
FROM early AS final
RUN echo @final
`},
	{name: "error: COPY --from a variable", wantErr: true, dockerfile: `
FROM busybox AS a
RUN echo @a
FROM busybox AS b
ARG SRC=a
COPY --from=$SRC / /a/
RUN echo @b
`},
	{name: "error: circular COPY --from", wantErr: true, target: "a", dockerfile: `
FROM busybox AS a
COPY --from=b / /b/
RUN echo @a
FROM busybox AS b
COPY --from=a / /a/
RUN echo @b
FROM busybox AS c
RUN echo @c
`},
	{name: "error: unknown target", wantErr: true, target: "biuld", dockerfile: `
FROM busybox AS build
RUN echo @build
`},
	{name: "error: broken ONBUILD trigger", wantErr: true, target: "child", dockerfile: `
FROM busybox AS base
ONBUILD NOSUCHINSTRUCTION x
RUN echo @base
FROM base AS child
RUN echo @child
`},
	{name: "error: ONBUILD COPY --from a later stage", wantErr: true, target: "child", dockerfile: `
FROM busybox AS base
ONBUILD COPY --from=late / /late/
RUN echo @base
FROM base AS child
RUN echo @child
FROM busybox AS late
RUN echo @late
`},
	{name: "error: invalid numeric COPY --from", wantErr: true, dockerfile: `
FROM busybox
COPY --from=3 / /x/
RUN echo @only
`},
	{name: "error: invalid check directive", wantErr: true, dockerfile: `# check=skip=all;bogus
FROM busybox
RUN echo @only
`},
	{name: "error: secret mount with from", wantErr: true, dockerfile: `
FROM busybox AS src
RUN echo @src
FROM busybox
RUN --mount=type=secret,id=x,from=src echo @final
`},
	{name: "error: bind mount with required", wantErr: true, dockerfile: `
FROM busybox
RUN --mount=type=bind,target=/x,required echo @only
`},
	{name: "error: ONBUILD RUN with a secret mount with from", wantErr: true, target: "child", dockerfile: `
FROM busybox AS src
RUN echo @src
FROM busybox AS base
ONBUILD RUN --mount=type=secret,id=x,from=src true
RUN echo @base
FROM base AS child
RUN echo @child
`},
	{name: "ssh mount with from: accepted, the source not built", dockerfile: `
FROM scratch AS sshsrc
COPY <<EOT /@sshsrc
s
EOT
FROM busybox AS final
RUN --mount=type=ssh,from=sshsrc,target=/ssh echo @final
`},
	{name: "invalid secret mount in a stage the target skips", target: "good", dockerfile: `
FROM busybox AS src
RUN echo @src
FROM busybox AS bad
RUN --mount=type=secret,id=x,from=src echo @bad
FROM busybox AS good
RUN echo @good
`},
}

var (
	markerRe = regexp.MustCompile(`@[a-z0-9_-]+`)
	prefixRe = regexp.MustCompile(`^\[(?:([a-z][a-z0-9_.-]*) +)? *\d+/\d+\] `)
)

func TestOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds on a real buildkitd")
	}
	addr := testengine.BuildKit(t)
	buildctl := testengine.Buildctl(t)
	busybox := testengine.Bases(t)["busybox"]
	if busybox == "" {
		testengine.Unavailable(t, "no busybox base")
	}
	// Two builds at a time: buildkitd and the runc containers share the
	// machine's two cores with the test binary.
	sem := make(chan struct{}, 2)
	for _, tc := range oracleCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := []byte(strings.TrimPrefix(tc.dockerfile, "\n"))
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), src, 0o644); err != nil {
				t.Fatal(err)
			}
			contexts := map[string]string{"busybox": "local:busybox"}
			for _, k := range tc.contexts {
				contexts[k] = "local:busybox"
			}
			opts := Options{BuildArgs: tc.buildArgs, Contexts: contexts}
			build := func(target string) (map[string]string, error) {
				sem <- struct{}{}
				defer func() { <-sem }()
				return oracleBuild(t, buildctl, addr, dir, busybox, target, tc)
			}

			if tc.wantErr {
				o := opts
				o.Target = tc.target
				g, perr := Parse(src, o)
				if perr == nil {
					_, perr = g.Closure(tc.target)
				}
				_, berr := build(tc.target)
				if berr == nil {
					t.Fatalf("BuildKit accepted the build; the case is wrong")
				}
				var e *Error
				if !errors.As(perr, &e) {
					t.Fatalf("BuildKit rejected the build (%v), buildgraph did not: %v", berr, perr)
				}
				t.Logf("BuildKit: %v\nbuildgraph: %v", berr, perr)
				return
			}

			g, err := Parse(src, opts)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			markers := map[string]int{}
			for _, s := range g.Stages {
				for _, in := range s.Instructions {
					for _, m := range markerRe.FindAllString(in.Text, -1) {
						markers[m] = s.Index
					}
				}
			}
			targets := []string{tc.target}
			if tc.target == "" {
				targets = nil
				for _, tg := range g.Targets() {
					targets = append(targets, tg.Name)
				}
			}
			for _, target := range targets {
				c, err := g.Closure(target)
				if err != nil {
					t.Fatalf("Closure(%q): %v", target, err)
				}
				// Replaced stages are used, not built: BuildKit runs none of
				// their steps.
				var want []string
				for _, i := range c.Stages {
					if !c.IsReplaced(i) {
						want = append(want, g.Stages[i].Name)
					}
				}
				if c.Built() != len(want) {
					t.Errorf("target %q: Built() = %d, want %d", target, c.Built(), len(want))
				}
				ran, err := build(target)
				if err != nil {
					t.Fatalf("target %q: buildctl: %v", target, err)
				}
				var got []string
				for vertex, marker := range ran {
					i, ok := markers[marker]
					if !ok {
						t.Errorf("target %q: vertex %q has an unknown marker", target, vertex)
						continue
					}
					s := g.Stages[i]
					if m := prefixRe.FindStringSubmatch(vertex); m == nil || m[1] != s.ProgressName {
						t.Errorf("target %q: vertex %q of stage %s: want progress name %q", target, vertex, s.Name, s.ProgressName)
					}
					if !slices.Contains(got, s.Name) {
						got = append(got, s.Name)
					}
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(want, got) {
					t.Errorf("target %q: BuildKit ran stages %v, Closure says %v", target, got, want)
				}
			}
		})
	}
}

// oracleBuild builds target with buildctl and returns the names of the
// vertices that carry a stage marker, mapped to the marker.
func oracleBuild(t *testing.T, buildctl, addr, dir, busybox, target string, tc oracleCase) (map[string]string, error) {
	t.Helper()
	args := []string{"--addr", addr, "build", "--no-cache",
		"--frontend", "dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir,
		"--local", "busybox=" + busybox,
		"--opt", "context:busybox=local:busybox",
		"--progress", "rawjson"}
	if target != "" {
		args = append(args, "--opt", "target="+target)
	}
	for _, k := range tc.contexts {
		args = append(args, "--opt", "context:"+k+"=local:busybox")
	}
	for _, k := range slices.Sorted(maps.Keys(tc.buildArgs)) {
		args = append(args, "--opt", "build-arg:"+k+"="+tc.buildArgs[k])
	}
	cmd := exec.Command(buildctl, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	ran := map[string]string{}
	var text []string
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var st struct {
			Vertexes []struct {
				Name  string `json:"name"`
				Error string `json:"error"`
			} `json:"vertexes"`
		}
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			text = append(text, sc.Text())
			continue
		}
		for _, v := range st.Vertexes {
			if m := markerRe.FindString(v.Name); m != "" {
				ran[v.Name] = m
			}
		}
	}
	if runErr != nil {
		msg := runErr.Error()
		for _, l := range text {
			if strings.HasPrefix(l, "error: ") {
				msg = strings.TrimPrefix(l, "error: ")
			}
		}
		if len(text) > 0 && strings.HasPrefix(text[0], "Dockerfile:") {
			msg = text[0] + ": " + msg
		}
		return nil, errors.New(msg)
	}
	return ran, nil
}
