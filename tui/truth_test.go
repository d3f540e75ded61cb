package tui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestStepCountsAgree checks that the graph, the build's header and its
// rows count steps one way: the instructions after FROM.
func TestStepCountsAgree(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 40)
	graph := ansi.Strip(m.render())
	for _, want := range []string{"3 steps"} {
		if !strings.Contains(graph, want) {
			t.Fatalf("graph lacks %q:\n%s", want, graph)
		}
	}
	press(t, m, "enter")
	drain(t, m, -1)
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "6/6 steps") {
		t.Errorf("header should count 6 instructions:\n%s", screen)
	}
	nums := regexp.MustCompile(`\b\d+/(\d+) (WORKDIR|COPY|RUN|ENTRYPOINT)`).FindAllStringSubmatch(screen, -1)
	if len(nums) != 6 {
		t.Fatalf("want 6 numbered rows, got %d:\n%s", len(nums), screen)
	}
	for _, n := range nums {
		if n[1] != "3" {
			t.Errorf("row %q is not numbered of 3", n[0])
		}
	}
}

// TestNoCacheSaysWhatWasCached checks the header of a build with the cache
// off: what BuildKit still answered from its cache is named, so "cached"
// never reads as a contradiction of no-cache.
func TestNoCacheSaysWhatWasCached(t *testing.T) {
	m, _ := newModel(t, modelOpts{proj: project(t, "hello-final", "golang"), session: helloSession(t)}, 120, 40)
	press(t, m, "n", "enter")
	drain(t, m, -1)
	screen := ansi.Strip(m.render())
	header := strings.Split(screen, "\n")[1]
	if !strings.Contains(header, "no-cache") || !strings.Contains(header, "1 cached anyway: COPY") {
		t.Errorf("header should say which step was cached despite no-cache:\n%s", header)
	}
}
