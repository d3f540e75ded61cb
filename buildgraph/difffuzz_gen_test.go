package buildgraph

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The generator of the differential fuzzer (difffuzz_test.go): it turns
// bytes into a multi-stage Dockerfile and the inputs of a build (build
// arguments, named contexts, platforms, targets) from a small grammar of
// what real Dockerfiles use.
//
// The first two bytes are a feature mask (genFeature); every later byte is
// one choice. When the bytes run out every choice takes its first option,
// which is the plain one, so short inputs give short, valid files and the
// fuzzer's mutations flip features and choices one at a time.

// genFeature enables one part of the grammar.
type genFeature uint16

const (
	// featArgs: global ARGs before FROM, ${VAR} and ${VAR:-default} in
	// FROM, build arguments (declared, undeclared, overriding a default).
	featArgs genFeature = 1 << iota
	// featPlatform: FROM --platform=$BUILDPLATFORM and friends, target and
	// build platforms other than linux/amd64, FROM base-${TARGETARCH}.
	featPlatform
	// featCopy: COPY --from by name (case varied), by index and from an
	// image; COPY and ADD from the build context.
	featCopy
	// featMount: RUN --mount of every type with every option, from= a
	// stage or an image; a mount type given by a variable.
	featMount
	// featHeredoc: RUN and COPY heredocs.
	featHeredoc
	// featOnbuild: ONBUILD RUN, ONBUILD COPY --from, ONBUILD RUN --mount.
	featOnbuild
	// featEscape: the escape=` directive and continuation lines.
	featEscape
	// featContext: named contexts replacing stages and images, with and
	// without a platform in the key.
	featContext
	// featMeta: ENV, LABEL, WORKDIR, USER, ... and stages with only those.
	featMeta
	// featErr: input BuildKit rejects (or rejects for some targets):
	// unknown and invalid references, cycles, stages used before they are
	// defined, variables in --from, invalid names, broken ONBUILD, a secret
	// mount with from=, unknown targets.
	featErr
	// featTargetStage: FROM ${TARGETSTAGE}-..., which depends on the
	// target.
	featTargetStage

	genFeatures = iota
)

var featNames = []string{"args", "platform", "copy", "mount", "heredoc", "onbuild", "escape", "context", "meta", "errors", "targetstage"}

// genCase is one generated build: a Dockerfile and the inputs every target
// of it is checked with.
type genCase struct {
	dockerfile    string
	buildArgs     map[string]string
	contexts      map[string]string
	platform      string // target platform
	buildPlatform string
	// targets are the targets to check besides "" and every stage name:
	// case variants, unknown names.
	targets  []string
	features genFeature
}

func (c genCase) String() string {
	var b strings.Builder
	var feats []string
	for i, n := range featNames {
		if c.features&(1<<i) != 0 {
			feats = append(feats, n)
		}
	}
	fmt.Fprintf(&b, "features: %s\nplatform %s, build platform %s\n", strings.Join(feats, ","), c.platform, c.buildPlatform)
	for _, k := range slices.Sorted(maps.Keys(c.buildArgs)) {
		fmt.Fprintf(&b, "--build-arg %s=%s\n", k, c.buildArgs[k])
	}
	for _, k := range slices.Sorted(maps.Keys(c.contexts)) {
		fmt.Fprintf(&b, "--build-context %s=%s\n", k, c.contexts[k])
	}
	b.WriteString("----- Dockerfile\n")
	for i, l := range strings.Split(strings.TrimSuffix(c.dockerfile, "\n"), "\n") {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, l)
	}
	return b.String()
}

// chooser reads choices from the fuzzer's bytes.
type chooser struct {
	data []byte
	pos  int
}

func (c *chooser) next() byte {
	if c.pos >= len(c.data) {
		return 0
	}
	b := c.data[c.pos]
	c.pos++
	return b
}

// intn returns a choice in [0, n); 0 once the bytes run out.
func (c *chooser) intn(n int) int {
	if n <= 1 {
		return 0
	}
	return int(c.next()) % n
}

// chance is true k times in n; false once the bytes run out.
func (c *chooser) chance(k, n int) bool {
	return c.intn(n) >= n-k
}

func pick[T any](c *chooser, xs []T) T {
	return xs[c.intn(len(xs))]
}

var (
	// Stage names; "alpine" and "golang" are image names too, and
	// "context" the name BuildKit never looks up as a named context.
	genStageNames = []string{"base", "builder", "deps", "gen", "test", "tools", "final", "app", "a", "b", "c", "go-mod.cache_1", "alpine", "golang", "context"}
	genImages     = []string{"alpine", "alpine:3.20", "golang:1.22", "docker.io/library/busybox:latest", "ghcr.io/acme/tool:v1",
		"debian:bookworm-slim", "registry.local:5000/team/img", "busybox@sha256:" + strings.Repeat("ab", 32)}
	// genContextImages are the keys that replace images of genImages.
	genContextImages = []string{"alpine", "alpine:3.20", "golang", "golang:1.22", "busybox", "ghcr.io/acme/tool:v1", "registry.local:5000/team/img"}
	genBadRefs       = []string{"Alpine", "UPPER/case:1", "bad..ref", "-x", "foo::bar"}
	genArgNames      = []string{"BASE", "SRC", "VERSION", "VARIANT"}
	genTargetPlats   = []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}
	genBuildPlats    = []string{"linux/amd64", "linux/arm64"}
	genFlagPlats     = []string{"$BUILDPLATFORM", "${TARGETPLATFORM}", "linux/arm64", "$TARGETOS/$TARGETARCH", "${BUILDOS}/${BUILDARCH}", "$TARGETPLATFORM"}
)

// gen holds the state of one generation.
type gen struct {
	c      *chooser
	f      genFeature
	b      strings.Builder
	escape string
	// names[i] is the lowercase name of stage i, "" when unnamed.
	names      []string
	globalArgs []string
	stage      int // the stage being written
	marker     int
	heredoc    int
}

func (g *gen) has(f genFeature) bool { return g.f&f != 0 }

func (g *gen) line(format string, a ...any) {
	fmt.Fprintf(&g.b, format, a...)
	g.b.WriteByte('\n')
}

// generate turns data into a build.
func generate(data []byte) genCase {
	c := &chooser{data: data}
	f := genFeature(c.next()) | genFeature(c.next())<<8
	f &= 1<<genFeatures - 1
	g := &gen{c: c, f: f, escape: `\`}
	gc := genCase{buildArgs: map[string]string{}, contexts: map[string]string{}, platform: "linux/amd64", buildPlatform: "linux/amd64", features: f}

	n := 1 + c.intn(7)
	// TARGETARCH branches: stages base-amd64, base-arm64, then FROM
	// base-${TARGETARCH}.
	archGroup := g.has(featPlatform) && n >= 3 && c.chance(1, 2)
	g.names = make([]string, n)
	for i := range g.names {
		if i == n-1 && c.chance(1, 3) || c.chance(1, 8) {
			continue // unnamed
		}
		g.names[i] = pick(c, genStageNames)
	}
	if archGroup {
		g.names[0], g.names[1] = "base-amd64", "base-arm64"
	}
	if g.has(featErr) && c.chance(1, 6) {
		g.names[c.intn(n)] = pick(c, []string{"foo-", "bar_", "x."}) // valid stage names, invalid context names
	}

	// Directives.
	if g.has(featEscape) && c.chance(3, 4) {
		if c.chance(1, 5) {
			g.line("# escape=\\")
		} else {
			g.escape = "`"
			g.line("%s", pick(c, []string{"# escape=`", "#escape=`", "# ESCAPE = `"}))
		}
	}
	if c.chance(1, 16) {
		g.line("# syntax=docker/dockerfile:1")
	}
	if c.chance(1, 8) {
		g.line("# a comment")
	}

	// Global ARGs.
	if g.has(featArgs) {
		for k := 1 + c.intn(3); k > 0; k-- {
			name := pick(c, genArgNames)
			if c.chance(1, 2) {
				g.line("ARG %s=%s", name, g.argValue())
			} else {
				g.line("ARG %s", name)
			}
			g.globalArgs = append(g.globalArgs, name)
		}
		if c.chance(1, 4) {
			g.line("ARG %s", pick(c, []string{"TARGETARCH", "BUILDPLATFORM", "TARGETPLATFORM"}))
		}
		for k := c.intn(3); k > 0; k-- {
			name := pick(c, append([]string{"UNDECLARED"}, genArgNames...))
			gc.buildArgs[name] = g.argValue()
		}
	}
	if g.has(featPlatform) {
		gc.platform = pick(c, genTargetPlats)
		gc.buildPlatform = pick(c, genBuildPlats)
		if c.chance(1, 8) {
			// Platform ARGs take build arguments without a declaration.
			gc.buildArgs["TARGETARCH"] = pick(c, []string{"arm64", "riscv64"})
		}
	}
	if g.has(featTargetStage) && c.chance(1, 8) {
		gc.buildArgs["TARGETSTAGE"] = pick(c, []string{"a", "base"})
	}

	for i := range n {
		g.stage = i
		g.writeStage(archGroup)
	}

	if g.has(featContext) {
		for k := 1 + c.intn(3); k > 0; k-- {
			var key string
			if c.chance(1, 2) {
				if key = g.names[c.intn(n)]; key == "" {
					key = "app"
				}
			} else {
				key = pick(c, genContextImages)
			}
			if c.chance(1, 4) {
				key += "::" + gc.platform
			}
			if c.chance(1, 3) {
				gc.contexts[key] = fmt.Sprintf("local:ctx%d", k)
			} else {
				gc.contexts[key] = fmt.Sprintf("docker-image://ctx-%d", k)
			}
		}
	}

	// Targets besides "" and every stage name.
	if c.chance(1, 3) {
		if i := c.intn(n); g.names[i] != "" {
			gc.targets = append(gc.targets, strings.ToUpper(g.names[i][:1])+g.names[i][1:])
		}
	}
	if g.has(featErr) && c.chance(1, 2) {
		gc.targets = append(gc.targets, pick(c, []string{"nosuch", "stage-0", "biuld", "Final"}))
	}
	gc.dockerfile = g.b.String()
	return gc
}

// argValue is a value for a global ARG or build argument: a stage name, an
// image, a tag, or empty.
func (g *gen) argValue() string {
	c := g.c
	switch c.intn(5) {
	case 0:
		if s := g.names[c.intn(len(g.names))]; s != "" {
			return s
		}
		return "builder"
	case 1:
		return pick(g.c, genImages)
	case 2:
		return pick(g.c, []string{"3.20", "1.22", "latest", "slim"})
	case 3:
		return ""
	}
	if g.has(featErr) {
		return pick(g.c, genBadRefs)
	}
	return "alpine"
}

// earlier returns the lowercase name of a named stage before the current
// one, "" if there is none.
func (g *gen) earlier() string {
	var names []string
	for _, n := range g.names[:g.stage] {
		if n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return pick(g.c, names)
}

// caseVaried returns name with some letters in upper case.
func (g *gen) caseVaried(name string) string {
	switch g.c.intn(3) {
	case 1:
		return strings.ToUpper(name)
	case 2:
		return strings.ToUpper(name[:1]) + name[1:]
	}
	return name
}

func (g *gen) writeStage(archGroup bool) {
	c := g.c
	i := g.stage
	var from []string
	from = append(from, "FROM")
	if g.has(featPlatform) && c.chance(1, 3) {
		p := pick(c, genFlagPlats)
		if len(g.globalArgs) > 0 && c.chance(1, 4) {
			p = "${" + pick(c, g.globalArgs) + ":-linux/arm64}"
		}
		if g.has(featErr) && c.chance(1, 6) {
			p = pick(c, []string{"$NOPE", "linux/arm64/v8/x", "not a platform"})
		}
		from = append(from, "--platform="+p)
	}
	base := g.base(archGroup)
	from = append(from, base)
	if g.names[i] != "" {
		as := pick(c, []string{"AS", "as", "As"})
		name := g.names[i]
		if c.chance(1, 4) {
			name = g.caseVaried(name)
		}
		from = append(from, as, name)
	}
	g.line("%s", strings.Join(from, " "))

	metaOnly := g.has(featMeta) && c.chance(1, 4)
	if !metaOnly && !c.chance(1, 10) {
		g.marker++
		if g.has(featEscape) && c.chance(1, 3) {
			g.line("RUN echo @s%d %s", g.marker, g.escape)
			g.line("    && echo continued")
		} else {
			g.line("RUN echo @s%d", g.marker)
		}
	}
	for k := c.intn(5); k > 0; k-- {
		g.instruction(metaOnly)
	}
}

// base returns the reference of a FROM line.
func (g *gen) base(archGroup bool) string {
	c := g.c
	i := g.stage
	if archGroup && i == 2 {
		return "base-${TARGETARCH}"
	}
	switch c.intn(8) {
	case 0, 1:
		return pick(c, genImages)
	case 2:
		return "scratch"
	case 3, 4:
		if e := g.earlier(); e != "" {
			return e
		}
		return pick(c, genImages)
	case 5:
		if len(g.globalArgs) > 0 {
			a := pick(c, g.globalArgs)
			switch c.intn(5) {
			case 0:
				return "${" + a + "}"
			case 1:
				return "$" + a
			case 2:
				def := g.earlier()
				if def == "" {
					def = "alpine"
				}
				return "${" + a + ":-" + def + "}"
			case 3:
				return "alpine:${" + a + "}"
			}
			return "golang:${" + a + ":-1.22}"
		}
		return pick(c, genImages)
	case 6:
		if g.has(featTargetStage) {
			return pick(c, []string{"${TARGETSTAGE}", "${TARGETSTAGE}-deps", "base-${TARGETSTAGE}"})
		}
		if g.has(featPlatform) {
			return pick(c, []string{"base-${TARGETARCH}", "alpine:${TARGETARCH}", "golang:1.22-${TARGETOS}"})
		}
		return "scratch"
	}
	if g.has(featErr) {
		switch c.intn(4) {
		case 0:
			if e := g.earlier(); e != "" {
				return strings.ToUpper(e) // an invalid image reference, not the stage
			}
		case 1:
			return "${UNSET_BASE}"
		case 2:
			// A stage defined later: an image reference to BuildKit.
			if i+1 < len(g.names) && g.names[i+1] != "" {
				return g.names[i+1]
			}
		}
		return pick(c, genBadRefs)
	}
	return pick(c, genImages)
}

// ref returns the source of a COPY --from or a mount's from=.
func (g *gen) ref(numeric bool) string {
	c := g.c
	switch c.intn(8) {
	case 0, 1, 2:
		if e := g.earlier(); e != "" {
			return e
		}
	case 3:
		if e := g.earlier(); e != "" {
			return g.caseVaried(e)
		}
	case 4:
		if numeric && g.stage > 0 {
			return fmt.Sprint(c.intn(g.stage))
		}
	case 5:
		return pick(c, genImages)
	}
	if g.has(featErr) && c.chance(1, 3) {
		switch c.intn(5) {
		case 0:
			return fmt.Sprint(len(g.names) + c.intn(3)) // out of range (or an external state)
		case 1:
			if g.names[g.stage] != "" {
				return g.names[g.stage] // itself: a cycle
			}
		case 2:
			if j := g.stage + 1 + c.intn(3); j < len(g.names) && g.names[j] != "" {
				return g.names[j] // defined later
			}
		case 3:
			return pick(c, genBadRefs)
		}
		return "$SRC"
	}
	if g.stage+1 < len(g.names) && g.names[g.stage+1] != "" && c.chance(1, 8) {
		return g.names[g.stage+1] // later: fine while the stage is not reached
	}
	if e := g.earlier(); e != "" {
		return e
	}
	return pick(c, genImages)
}

// instruction writes one instruction of the enabled kinds.
func (g *gen) instruction(metaOnly bool) {
	c := g.c
	kinds := []func(){}
	if g.has(featMeta) || metaOnly || !g.has(featCopy|featMount|featHeredoc|featOnbuild) {
		kinds = append(kinds, g.meta)
	}
	if !metaOnly {
		kinds = append(kinds, func() {
			g.marker++
			g.line("RUN echo @r%d", g.marker)
		})
		if g.has(featCopy) {
			kinds = append(kinds, g.copyFrom, g.copyFrom, g.copyContext)
		}
		if g.has(featMount) {
			kinds = append(kinds, g.runMount, g.runMount)
		}
		if g.has(featHeredoc) {
			kinds = append(kinds, g.heredocs)
		}
	}
	if g.has(featOnbuild) {
		kinds = append(kinds, g.onbuild)
	}
	if g.has(featErr) && !metaOnly {
		kinds = append(kinds, func() { g.line("COPY --from=%s /x /x", g.ref(true)) })
	}
	pick(c, kinds)()
}

func (g *gen) meta() {
	c := g.c
	switch c.intn(12) {
	case 0:
		g.line("ENV A=%d B=\"two words\"", c.intn(10))
	case 1:
		g.line("LABEL org.example.stage=\"%d\"", g.stage)
	case 2:
		g.line("WORKDIR %s", pick(c, []string{"/src", "/", "rel", "/w/${A:-x}"}))
	case 3:
		g.line("USER %s", pick(c, []string{"1000", "nobody:nogroup"}))
	case 4:
		g.line("EXPOSE 8080/tcp")
	case 5:
		g.line(`CMD ["/app", "--flag"]`)
	case 6:
		g.line("ENTRYPOINT /bin/sh -c true")
	case 7:
		g.line("ARG %s=%s", pick(c, genArgNames), pick(c, []string{"1", "alpine", ""}))
	case 8:
		g.line("STOPSIGNAL SIGTERM")
	case 9:
		g.line("HEALTHCHECK NONE")
	case 10:
		g.line(`SHELL ["/bin/sh", "-eu", "-c"]`)
	default:
		g.line("VOLUME /data")
	}
}

func (g *gen) copyFrom() {
	c := g.c
	flags := ""
	if c.chance(1, 4) {
		flags = pick(c, []string{" --link", " --chown=1000:1000", " --chmod=0755", " --link --chown=0:0"})
	}
	g.line("COPY%s --from=%s %s %s", flags, g.ref(true), pick(c, []string{"/out", "/", "/bin/app", "/a /b"}), pick(c, []string{"/dst/", "/usr/local/bin/"}))
}

func (g *gen) copyContext() {
	c := g.c
	switch c.intn(3) {
	case 0:
		g.line("COPY . /src")
	case 1:
		g.line("ADD go.mod go.sum /src/")
	default:
		g.line("COPY --parents ./cmd/ /src/")
	}
}

func (g *gen) heredocs() {
	c := g.c
	g.heredoc++
	switch c.intn(4) {
	case 0:
		g.line("RUN <<EOF")
		g.line("echo @h%d", g.heredoc)
		g.line("echo second line")
		g.line("EOF")
	case 1:
		g.line("COPY <<EOT /etc/h%d.conf", g.heredoc)
		g.line("key = value")
		g.line("EOT")
	case 2:
		g.line("RUN <<-EOT sh")
		g.line("\techo @h%d", g.heredoc)
		g.line("\tEOT")
	default:
		g.line("RUN cat <<A > /a && cat <<\"B\" > /b")
		g.line("a %d", g.heredoc)
		g.line("A")
		g.line("b $NOT_EXPANDED")
		g.line("B")
	}
}

func (g *gen) onbuild() {
	c := g.c
	switch c.intn(5) {
	case 0, 1:
		g.marker++
		g.line("ONBUILD RUN echo @o%d", g.marker)
	case 2:
		g.line("ONBUILD COPY --from=%s /o /o", g.ref(false))
	case 3:
		g.line("ONBUILD RUN --mount=type=bind,from=%s,target=/o true", g.ref(false))
	default:
		if g.has(featErr) {
			g.line("ONBUILD %s", pick(c, []string{"NOSUCH x", "ONBUILD RUN x", "FROM alpine", "COPY --from=$X / /"}))
		} else {
			g.line("ONBUILD ENV O=1")
		}
	}
}

// runMount writes a RUN with one to three mounts.
func (g *gen) runMount() {
	c := g.c
	var mounts []string
	if c.chance(1, 20) {
		// The type in a variable, which BuildKit expands when the
		// instruction runs. buildgraph does not know the stage's
		// variables and takes such a mount (and every mount of its RUN)
		// for a bind mount; the types whose from= builds agree with that.
		typ := pick(c, []string{"bind", "cache"})
		g.line("ARG MT=%s", typ)
		mounts = append(mounts, "--mount=type=$MT,target=/v,from="+g.ref(false))
	} else {
		for k := 1 + c.intn(3); k > 0; k-- {
			mounts = append(mounts, "--mount="+strings.Join(g.mount(), ","))
		}
	}
	g.marker++
	sep := " "
	if c.chance(1, 4) {
		sep = " " + g.escape + "\n    "
	}
	g.line("RUN %s%secho @m%d", strings.Join(mounts, sep), sep, g.marker)
}

// mount returns the fields of one --mount, in a varied order.
func (g *gen) mount() []string {
	c := g.c
	var typ string
	var fields []string
	opt := func(k, n int, choices ...string) {
		if c.chance(k, n) {
			fields = append(fields, pick(c, choices))
		}
	}
	from := func(k, n int) {
		if c.chance(k, n) {
			fields = append(fields, "from="+g.ref(false))
		}
	}
	rw := []string{"rw", "readwrite", "rw=true", "readwrite=true", "ro", "readonly", "ro=false", "readonly=true", "rw=false"}
	switch c.intn(6) {
	case 0, 1:
		typ = "bind"
		fields = append(fields, pick(c, []string{"target=/ctx", "dst=/ctx", "destination=/ctx", "target=rel", "Target=/t"}))
		opt(1, 2, "source=/", "src=/sub", "source=go.mod")
		from(2, 3)
		opt(1, 2, rw...)
	case 2:
		typ = "cache"
		fields = append(fields, pick(c, []string{"target=/root/.cache", "dst=/go/pkg/mod"}))
		opt(1, 2, "id=gomod", "id=${VERSION:-x}")
		opt(1, 3, "sharing=locked", "sharing=private", "sharing=shared")
		from(1, 3)
		opt(1, 4, "source=/", "source=/cache")
		opt(1, 4, "mode=0755", "uid=1000", "gid=1000", "mode=0700,uid=1,gid=2")
		opt(1, 4, rw...)
	case 3:
		typ = "tmpfs"
		fields = append(fields, "target=/tmp")
		opt(1, 3, "size=64m", "size=1g")
		from(1, 8)
	case 4:
		typ = "secret"
		fields = append(fields, pick(c, []string{"id=token", "target=/run/secrets/x", "id=npmrc,target=/root/.npmrc", "id=tok,env=TOKEN"}))
		opt(1, 3, "required", "required=true", "required=false")
		opt(1, 4, "mode=0400", "uid=1000", "gid=1000")
		if g.has(featErr) {
			from(1, 3)
		}
	default:
		typ = "ssh"
		opt(1, 2, "id=default", "id=github", "target=/run/ssh.sock")
		opt(1, 3, "required", "required=true")
		opt(1, 4, "mode=0600", "uid=1000", "gid=1000")
		from(1, 3)
	}
	// Rotate the fields; the type comes first, as BuildKit reads "size"
	// and "required" against the type seen so far.
	if r := c.intn(len(fields)); r > 0 {
		fields = append(fields[r:], fields[:r]...)
	}
	switch {
	case typ == "bind" && c.chance(1, 3):
		// bind is the default type
	case c.chance(1, 6):
		fields = append([]string{"type=" + strings.ToUpper(typ[:1]) + typ[1:]}, fields...)
	default:
		fields = append([]string{"type=" + typ}, fields...)
	}
	return fields
}
