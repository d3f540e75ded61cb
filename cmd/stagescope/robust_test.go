package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
