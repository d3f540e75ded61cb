package buildgraph

import (
	"slices"
	"testing"
)

func TestContextSources(t *testing.T) {
	src := []byte(`FROM busybox AS deps
COPY go.mod go.sum ./
ADD https://example.com/x.tgz /x.tgz
FROM busybox AS build
COPY --from=deps /go.mod /
COPY cmd/ ./cmd/
ADD vendor.tar /v/
FROM busybox AS docs
COPY docs/ /docs/
FROM scratch
COPY --from=build /bin/app /app
COPY <<EOF /etc/motd
hello
EOF
`)
	g, err := Parse(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Closure("")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"go.mod", "go.sum", "cmd/", "vendor.tar"}
	if got := c.ContextSources(); !slices.Equal(got, want) {
		t.Errorf("ContextSources() = %q, want %q", got, want)
	}
	c, _ = g.Closure("docs")
	if got := c.ContextSources(); !slices.Equal(got, []string{"docs/"}) {
		t.Errorf("docs: ContextSources() = %q", got)
	}
}
