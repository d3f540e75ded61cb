package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const targetArchDockerfile = `ARG TARGETARCH
FROM busybox AS base-amd64
RUN echo amd64 > /flavour
FROM busybox AS base-arm64
RUN echo arm64 > /flavour
FROM base-${TARGETARCH} AS final
RUN uname -m > /arch
`

func TestGraphPlatforms(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"graph", "-f", "-", "--platform", "linux/amd64,linux/arm64", "--format", "json"},
		strings.NewReader(targetArchDockerfile), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var doc struct {
		Platform  string `json:"platform"`
		Platforms []struct {
			Platform string `json:"platform"`
			Closure  struct {
				Stages []int `json:"stages"`
			} `json:"closure"`
		} `json:"platforms"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Platform != "linux/amd64" || len(doc.Platforms) != 2 ||
		!slices.Equal(doc.Platforms[0].Closure.Stages, []int{0, 2}) || !slices.Equal(doc.Platforms[1].Closure.Stages, []int{1, 2}) {
		t.Errorf("per platform: %+v", doc)
	}

	// One platform: the graph of that platform, as before.
	stdout.Reset()
	code = run(context.Background(), []string{"graph", "-f", "-", "--platform", "linux/arm64"},
		strings.NewReader(targetArchDockerfile), &stdout, &stderr)
	if code != exitOK || !strings.Contains(stdout.String(), "platform linux/arm64 · 2 of 3 stages build") {
		t.Errorf("one platform: exit %d\n%s", code, stdout.String())
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"graph", "-f", "-", "--platform", "linux/amd64,"}, "--platform: empty platform"},
		{[]string{"graph", "-f", "-", "--platform", "linux/amd64,what?"}, `--platform: invalid platform "what?"`},
		{[]string{"graph", "-f", "-", "--platform", "linux/amd64,linux/arm64", "--target", "nope"}, "nope"},
	} {
		stdout.Reset()
		stderr.Reset()
		code := run(context.Background(), tt.args, strings.NewReader(targetArchDockerfile), &stdout, &stderr)
		if code != exitBadInput || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line mentioning %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}
