package pipeline

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A bake target's own settings make its project's request; the command
// line's --build-arg and --build-context apply over them, --platform
// replaces the target's.
func TestLoadBake(t *testing.T) {
	dir := t.TempDir()
	for path, data := range map[string]string{
		"app/Dockerfile": "FROM base AS build\nRUN true\nFROM scratch AS runtime\nCOPY --from=build / /\n",
		"base/keep":      "",
		"other/keep":     "",
		"docker-bake.hcl": `target "app" {
  context   = "app"
  target    = "build"
  args      = { A = "bake", B = "bake" }
  contexts  = { base = "base", extra = "docker-image://busybox" }
  platforms = ["linux/arm64"]
  no-cache  = true
}
target "last" {
  inherits = ["app"]
  target   = ""
  platforms = ["linux/amd64", "linux/arm64"]
}
`,
	} {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	projs, err := LoadBake(Input{BuildArgs: []string{"B=cli"}, Contexts: []string{"extra=other"}}, "", []string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	p := projs[0]
	if p.Name != "app" || p.Dockerfile != filepath.Join("app", "Dockerfile") || p.Base.ContextDir != "app" || p.Base.Platform != "linux/arm64" || !p.Base.NoCache {
		t.Errorf("project %s: %s, context %s, platform %s, no-cache %v", p.Name, p.Dockerfile, p.Base.ContextDir, p.Base.Platform, p.Base.NoCache)
	}
	if !reflect.DeepEqual(p.Base.BuildArgs, map[string]string{"A": "bake", "B": "cli"}) || !reflect.DeepEqual(p.Base.Contexts, map[string]string{"base": "base", "extra": "other"}) {
		t.Errorf("args %v, contexts %v", p.Base.BuildArgs, p.Base.Contexts)
	}
	if ts := p.Targets(); len(ts) != 1 || ts[0].Name != "build" {
		t.Errorf("targets %+v, want build alone", ts)
	}
	if plan, err := p.Plan("build", nil); err != nil || plan.Label() != "app:build" || plan.Request.Tags[0] != "stagescope/app:build" {
		t.Errorf("plan %+v, %v", plan, err)
	}

	// Several platforms: refused unless --platform picks one.
	if _, err := LoadBake(Input{}, "docker-bake.hcl", []string{"last"}); err == nil || !strings.Contains(err.Error(), "docker-bake.hcl:9: bake target last has 2 platforms") {
		t.Errorf("several platforms: %v", err)
	}
	projs, err = LoadBake(Input{Platform: "linux/amd64"}, "docker-bake.hcl", []string{"last"})
	if err != nil {
		t.Fatal(err)
	}
	if p := projs[0]; p.Base.Platform != "linux/amd64" || len(p.Targets()) != 1 || p.Targets()[0].Name != "runtime" {
		t.Errorf("last: platform %s, targets %+v", p.Base.Platform, p.Targets())
	}
}
