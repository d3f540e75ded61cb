package buildgraph

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzParse checks that no Dockerfile, build argument or target makes
// Parse, Closure, Levels or a renderer panic or hang, that every error is
// an *Error, and that closures are consistent. The seed corpus is in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("FROM scratch AS a\nFROM a\nCOPY --from=a /x /x\n"), "", "V=1")
	f.Fuzz(func(t *testing.T, dockerfile []byte, target, buildArg string) {
		opts := Options{
			Platform:      "linux/amd64",
			BuildPlatform: "linux/amd64",
			BuildArgs:     map[string]string{},
			Contexts:      map[string]string{"a": "local:a", "alpine": "docker-image://alpine"},
		}
		if k, v, ok := strings.Cut(buildArg, "="); ok {
			opts.BuildArgs[k] = v
		}
		g, err := Parse(dockerfile, opts)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error is %T, not *Error: %v", err, err)
			}
			return
		}
		for _, tg := range []string{"", target} {
			c, err := g.Closure(tg)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Closure error is %T, not *Error: %v", err, err)
				}
				continue
			}
			if len(c.Stages)+len(c.Skipped) != len(g.Stages) || !c.Contains(c.Target) {
				t.Fatalf("inconsistent closure %+v for %d stages", c, len(g.Stages))
			}
			n := 0
			for _, l := range c.Levels() {
				n += len(l)
			}
			if n != len(c.Stages) {
				t.Fatalf("levels %v do not cover closure %v", c.Levels(), c.Stages)
			}
			for _, fm := range Formats {
				if err := Render(io.Discard, g, fm, RenderOptions{Target: tg, Color: true, Instructions: true}); err != nil {
					t.Fatalf("Render %s: %v", fm, err)
				}
			}
		}
	})
}
