package tui

import (
	"strings"
	"testing"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// A stage a named context replaces reads as replaced on the graph screen,
// and the target's count of stages that build leaves it out.
func TestGraphShowsReplacedStage(t *testing.T) {
	src := []byte("FROM alpine AS base\nRUN apk add git\nFROM base AS tools\nRUN git --version\nFROM scratch AS final\nCOPY --from=tools / /\n")
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: "Dockerfile", Contexts: map[string]string{"base": "./prebuilt"}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := newModel(t, modelOpts{proj: &pipeline.Project{Dockerfile: "Dockerfile", Source: src, Graph: g}}, 160, 48)
	screen := screenText(m)
	for _, want := range []string{
		"target final builds 2, replaced 1, skips 0",
		"context ./prebuilt · no step runs",
		" replaced ",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the graph screen lacks %q:\n%s", want, screen)
		}
	}
	m.graph().cursor = 0
	if screen := screenText(m); !strings.Contains(screen, "replaced by the named context base=./prebuilt: none of its steps run") {
		t.Errorf("the details of the replaced stage do not say so:\n%s", screen)
	}
}

// A lint error (here # check=error=true; also a linter that failed) is
// shown in the details; the graph is drawn as always.
func TestGraphShowsLintError(t *testing.T) {
	src := []byte("# check=error=true\nFROM alpine as base\nFROM base AS final\n")
	g, err := buildgraph.Parse(src, buildgraph.Options{Filename: "Dockerfile"})
	if err != nil || g.LintError == nil {
		t.Fatalf("Parse: %v, LintError %v", err, g.LintError)
	}
	m, _ := newModel(t, modelOpts{proj: &pipeline.Project{Dockerfile: "Dockerfile", Source: src, Graph: g}}, 160, 48)
	screen := screenText(m)
	for _, want := range []string{"Lint error", "lint violation found for rules: FromAsCasing", "target final builds 2"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the graph screen lacks %q:\n%s", want, screen)
		}
	}
}
