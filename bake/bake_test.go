package bake

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const hclFile = `variable "TAG" {
  default = "v1"
}

group "default" {
  targets = ["app", "tool"]
}

target "common" {
  args = { BASE = "busybox", TAG = "${TAG}" }
  contexts = { base = "bases/busybox" }
}

target "app" {
  inherits   = ["common"]
  context    = "app"
  target     = "runtime"
  platforms  = ["linux/amd64"]
  tags       = ["example/app:${TAG}"]
  labels     = { a = "b" }
}

target "tool" {
  inherits   = ["common"]
  context    = "tool"
  dockerfile = "build/Dockerfile"
  args       = { TAG = "tool-${upper(TAG)}" }
}
`

func parse(t *testing.T, name, data string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse([]File{{Name: name, Data: []byte(data)}}, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResolveDefaultGroup(t *testing.T) {
	c := parse(t, "docker-bake.hcl", hclFile, map[string]string{"TAG": "v2"})
	ts, err := c.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "app" || ts[1].Name != "tool" {
		t.Fatalf("targets %+v", ts)
	}
	app, tool := ts[0], ts[1]
	if app.Context != "app" || app.DockerfilePath() != "app/Dockerfile" || app.Stage != "runtime" {
		t.Errorf("app: %+v", app)
	}
	if !reflect.DeepEqual(app.Args, map[string]string{"BASE": "busybox", "TAG": "v2"}) {
		t.Errorf("app args (inherited, variable from the environment): %v", app.Args)
	}
	if !reflect.DeepEqual(app.Contexts, map[string]string{"base": "bases/busybox"}) || !reflect.DeepEqual(app.Platforms, []string{"linux/amd64"}) {
		t.Errorf("app contexts %v platforms %v", app.Contexts, app.Platforms)
	}
	if tool.DockerfilePath() != "tool/build/Dockerfile" || tool.Stage != "" {
		t.Errorf("tool: %+v", tool)
	}
	if tool.Args["TAG"] != "tool-V2" || tool.Args["BASE"] != "busybox" {
		t.Errorf("tool args (its own over the inherited, a function): %v", tool.Args)
	}
	if app.File != "docker-bake.hcl" || app.Line != 14 {
		t.Errorf("app defined at %s:%d", app.File, app.Line)
	}
}

func TestResolveNamesAndOrder(t *testing.T) {
	c := parse(t, "docker-bake.hcl", hclFile, nil)
	ts, err := c.Resolve([]string{"tool", "default"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "tool" || ts[1].Name != "app" || ts[0].Args["TAG"] != "tool-V1" {
		t.Fatalf("targets %+v", ts)
	}
	var names []string
	for _, n := range c.Names() {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "default,common,app,tool" {
		t.Errorf("names %v", names)
	}
}

func TestJSONForm(t *testing.T) {
	c := parse(t, "docker-bake.json", `{
  "variable": {"TAG": {"default": "j"}},
  "group": {"default": {"targets": ["app"]}},
  "target": {
    "base": {"args": {"A": "1"}},
    "app": {"inherits": ["base"], "context": "app", "args": {"TAG": "${TAG}"}}
  }
}`, nil)
	ts, err := c.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || !reflect.DeepEqual(ts[0].Args, map[string]string{"A": "1", "TAG": "j"}) {
		t.Fatalf("targets %+v", ts[0])
	}
}

func TestOverrideFileMerges(t *testing.T) {
	c, err := Parse([]File{
		{Name: "docker-bake.hcl", Data: []byte("target \"app\" {\n  context = \"app\"\n  args = { A = \"1\" }\n}\n")},
		{Name: "docker-bake.override.hcl", Data: []byte(`target "app" { args = { B = "2" } }`)},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.Resolve([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Context != "app" || !reflect.DeepEqual(ts[0].Args, map[string]string{"A": "1", "B": "2"}) {
		t.Fatalf("%+v", ts[0])
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, file, data, want string }{
		{"syntax", "docker-bake.hcl", "target \"a\" {\n  context = \"x\"\n  args = {\n}\n", "docker-bake.hcl:"},
		{"bad value", "docker-bake.hcl", "target \"a\" {\n  context = nope\n}\n", "docker-bake.hcl:2: "},
		{"unknown attribute", "docker-bake.hcl", "target \"a\" {\n  contxt = \"x\"\n}\n", `docker-bake.hcl:2: target "a" has an attribute "contxt"`},
		{"json", "docker-bake.json", "{\"target\": {\"a\": {\"context\": }}}", "docker-bake.json:1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]File{{Name: tc.file, Data: []byte(tc.data)}}, nil, nil)
			var be *Error
			if !errors.As(err, &be) || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line starting %q", err, tc.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	extra := `
target "loop" { inherits = ["loop2"] }
target "loop2" { inherits = ["loop"] }
target "orphan" { inherits = ["nothing"] }
group "bad" { targets = ["app", "nosuch"] }
`
	c := parse(t, "docker-bake.hcl", hclFile+extra, nil)
	orphanLine := strings.Count(hclFile, "\n") + 4
	for name, want := range map[string]string{
		"nosuch": `the bake file has no target or group "nosuch"; it has default, bad,`,
		"bad":    `the bake file has no target or group "nosuch" (listed in group bad)`,
		"loop":   "inherits from itself (loop → loop2 → loop)",
		"orphan": fmt.Sprintf("docker-bake.hcl:%d: target orphan", orphanLine) + " inherits from nothing, which the bake file does not define",
	} {
		_, err := c.Resolve([]string{name})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", name, err, want)
		}
	}
	c = parse(t, "docker-bake.hcl", `target "a" {}`, nil)
	if _, err := c.Resolve(nil); err == nil || !strings.Contains(err.Error(), `no group "default"`) {
		t.Errorf("no default group: %v", err)
	}
}

func TestBuiltins(t *testing.T) {
	c, err := Parse([]File{{Name: "docker-bake.hcl", Data: []byte(`target "a" {
  context   = BAKE_CMD_CONTEXT
  platforms = [BAKE_LOCAL_PLATFORM]
}`)}}, nil, map[string]string{"BAKE_CMD_CONTEXT": ".", "BAKE_LOCAL_PLATFORM": "linux/riscv64"})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.Resolve([]string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Context != "." || !reflect.DeepEqual(ts[0].Platforms, []string{"linux/riscv64"}) {
		t.Errorf("%+v", ts[0])
	}
}

// A matrix makes one target per combination, named by its name attribute,
// and a group of its label.
func TestMatrix(t *testing.T) {
	c := parse(t, "docker-bake.hcl", `target "base" {
  context = "app"
}
target "app" {
  inherits = ["base"]
  matrix = {
    size = ["1", "2"]
    flavor = ["a", "b"]
  }
  name = "app-${flavor}-${size}"
  args = { SIZE = size, FLAVOR = flavor }
}
`, nil)
	ts, err := c.Resolve([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tt := range ts {
		got = append(got, tt.Name+"="+tt.Args["FLAVOR"]+tt.Args["SIZE"]+"@"+tt.Context)
	}
	if strings.Join(got, " ") != "app-a-1=a1@app app-a-2=a2@app app-b-1=b1@app app-b-2=b2@app" {
		t.Errorf("matrix: %v", got)
	}
	_, err = Parse([]File{{Name: "docker-bake.hcl", Data: []byte("target \"x\" {\n  matrix = { v = \"one\" }\n  name = \"x-${v}\"\n}\n")}}, nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "docker-bake.hcl:2: the matrix value v is not a list") {
		t.Errorf("matrix of a string: %v", err)
	}
}
