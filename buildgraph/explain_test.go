package buildgraph

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainInstructions checks the words for every instruction: each has
// its own explanation, and the Dockerfile's own arguments appear in it.
func TestExplainInstructions(t *testing.T) {
	src := `ARG VERSION=1
FROM alpine:3.20 AS base
RUN --mount=type=cache,target=/root/.cache echo hi
FROM base AS tools
ENV MODE=prod
LABEL org.opencontainers.image.source=x
USER app
EXPOSE 8080
VOLUME /data
SHELL ["/bin/bash", "-c"]
STOPSIGNAL SIGTERM
HEALTHCHECK CMD true
ONBUILD RUN true
ADD app.tar.gz /opt/
COPY --from=base --chown=app /etc/os-release rel
RUN --mount=from=base,target=/b ls /b
WORKDIR src
ENTRYPOINT ["/bin/app"]
CMD ["--serve"]
FROM scratch
COPY --from=tools /opt /opt
`
	g, err := Parse([]byte(src), Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"RUN --mount=type=cache": {"`echo hi`", "cache, secret or folder"},
		"ENV":                    {"MODE=prod", "no secrets"},
		"LABEL":                  {"key=value"},
		"USER":                   {"as app instead of root"},
		"EXPOSE":                 {"8080", "docker run -p"},
		"VOLUME":                 {"/data"},
		"SHELL":                  {"shell form"},
		"STOPSIGNAL":             {"SIGTERM"},
		"HEALTHCHECK":            {"still works"},
		"ONBUILD":                {"not in this one"},
		"ADD":                    {"app.tar.gz", "unpacks"},
		"COPY --from=base":       {"from stage base", "/etc/os-release", "/rel", "--chown=app"},
		"RUN --mount=from":       {"files of base during this step only"},
		"WORKDIR":                {"/src"},
		"ENTRYPOINT":             {"/bin/app", "not replaced"},
		"CMD":                    {"--serve", "default arguments"},
	}
	seen := map[string]bool{}
	for _, st := range g.Stages {
		workdir := "/"
		for _, in := range st.Instructions {
			text := explainInstruction(g, st, in, workdir)
			if in.Keyword == "WORKDIR" {
				workdir = "/src"
			}
			if strings.Contains(text, "no plain words") {
				t.Errorf("%s: no explanation", in.Text)
			}
			for prefix, words := range want {
				if !strings.HasPrefix(in.Text, prefix) {
					continue
				}
				seen[prefix] = true
				for _, w := range words {
					if !strings.Contains(text, w) {
						t.Errorf("%s: %q lacks %q", in.Text, text, w)
					}
				}
			}
		}
	}
	for prefix := range want {
		if !seen[prefix] {
			t.Errorf("no instruction starts with %q", prefix)
		}
	}
	// The unnamed last stage, tools in its closure, base reached through tools.
	if s := explainTarget(g, g.Stages[0]); !strings.Contains(s, "It skips tools, stage-2") {
		t.Errorf("--target base: %q", s)
	}
	var all []string
	for _, b := range carried(g, g.Stages[0], Measured{}) {
		all = append(all, b.Text)
	}
	if s := strings.Join(all, " "); !strings.Contains(s, "tools uses it") {
		t.Errorf("base into the final image: %q", s)
	}
}

// TestFindBuilderPair finds the other half of the builder pattern beside
// a Dockerfile, and nothing beside an ordinary one.
func TestFindBuilderPair(t *testing.T) {
	isFile := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.Mode().IsRegular()
	}
	dir := filepath.Join("..", "examples", "java-builder-pattern")
	if p := FindBuilderPair(filepath.Join(dir, "Dockerfile"), isFile); p.Role != "runtime" || p.Other != "Dockerfile.build" || p.Script != "build.sh" {
		t.Errorf("runtime half: %+v", p)
	}
	if p := FindBuilderPair(filepath.Join(dir, "Dockerfile.build"), isFile); p.Role != "build" || p.Other != "Dockerfile" {
		t.Errorf("build half: %+v", p)
	}
	if p := FindBuilderPair(filepath.Join("..", "examples", "java-multistage", "Dockerfile"), isFile); p.Role != "" {
		t.Errorf("multi-stage: %+v", p)
	}
	if p := FindBuilderPair("-", isFile); p.Role != "" {
		t.Errorf("stdin: %+v", p)
	}
}
