package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/internal/testengine"
)

// bakeDir writes a bake file with two targets of two Dockerfiles in two
// folders, a group, a variable and an inherited target, and makes it the
// working folder (bake files' paths are relative to it, as buildx takes
// them). busybox is the base the app's builder runs on ("" when the test
// does not build).
func bakeDir(t *testing.T, busybox string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(path, data string) {
		t.Helper()
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app/Dockerfile", "FROM busybox AS build\nARG SIZE=1\nRUN head -c \"$SIZE\" /dev/zero > /blob\n\nFROM scratch AS runtime\nCOPY --from=build /blob /blob\n")
	write("tool/Dockerfile.tool", "FROM scratch\nCOPY two.bin /\n")
	write("tool/two.bin", string(bytes.Repeat([]byte("2"), 100_000)))
	if busybox == "" {
		busybox = dir
	}
	write("docker-bake.hcl", `variable "APP_SIZE" {
  default = "200000"
}

group "default" {
  targets = ["app", "tool"]
}

# What every target of the project shares.
target "_common" {
  contexts = { busybox = "`+busybox+`" }
  args     = { SIZE = "1" }
}

target "app" {
  description = "the application"
  inherits    = ["_common"]
  context     = "app"
  target      = "runtime"
  args        = { SIZE = "${APP_SIZE}" }
}

target "tool" {
  context    = "tool"
  dockerfile = "Dockerfile.tool"
  platforms  = [BAKE_LOCAL_PLATFORM]
}
`)
	t.Chdir(dir)
	return dir
}

// compare --bake builds the bake file's targets on a real buildkitd and on
// Docker, each with its own Dockerfile, context, stage, arguments and named
// contexts, and prints both sizes.
func TestCompareBake(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	for _, kind := range []string{"buildkitd", "docker"} {
		t.Run(kind, func(t *testing.T) {
			env := map[string]string{"XDG_STATE_HOME": t.TempDir(), "BUILDKIT_HOST": "", "DOCKER_HOST": ""}
			if kind == "buildkitd" {
				env["BUILDKIT_HOST"] = testengine.BuildKit(t)
			} else {
				env["DOCKER_HOST"] = testengine.Docker(t)
			}
			bakeDir(t, testengine.Bases(t)["busybox"])
			os.Unsetenv("APP_SIZE")

			// The default files, the default group, the variable's default.
			code, stdout, stderr := stagescope(t, env, "compare", "--bake", "--format", "json", "--progress", "quiet")
			if code != exitOK {
				t.Fatalf("compare --bake: exit %d\n%s", code, stderr)
			}
			var c severalJSON
			if err := json.Unmarshal([]byte(stdout), &c); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			var got []string
			for _, r := range c.Results {
				got = append(got, r.Name+":"+r.Target)
				if r.Error != "" {
					t.Errorf("%s:%s: %s", r.Name, r.Target, r.Error)
				}
			}
			if strings.Join(got, " ") != "app:runtime tool:stage-0" || len(c.Files) != 2 || c.Files[0] != filepath.Join("app", "Dockerfile") || c.Files[1] != filepath.Join("tool", "Dockerfile.tool") {
				t.Fatalf("compare --bake: %v, files %v\n%s", got, c.Files, stdout)
			}
			if a, b := c.Results[0].Size.Uncompressed, c.Results[1].Size.Uncompressed; a != 200_000 || b != 100_000 {
				t.Errorf("sizes %d and %d, want 200000 (the variable's default) and 100000", a, b)
			}
			if kind == "docker" {
				return
			}

			// The file and a target named, the variable from the
			// environment, a budget of the bake target by its name.
			env["APP_SIZE"] = "300000"
			code, stdout, stderr = stagescope(t, env, "compare", "--bake", "docker-bake.hcl", "app", "--budget", "app=250kB", "--progress", "quiet")
			if code != exitFailed || !strings.Contains(stderr, "app:runtime is 300kB, over its budget of 250kB") {
				t.Errorf("budget of app: exit %d, stderr %q", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines) < 2 || !strings.HasPrefix(lines[0], "FILE") || !strings.HasPrefix(lines[1], "app ") || !strings.Contains(lines[1], "runtime") || strings.Contains(stdout, "tool") {
				t.Errorf("table of app alone:\n%s", stdout)
			}
		})
	}
}

// Bad bake input: one sentence naming the file and line (or the target),
// exit code 2, before any engine is asked.
func TestCompareBakeBadInput(t *testing.T) {
	dir := bakeDir(t, "")
	write := func(name, data string) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	bad := write("bad.hcl", "target \"app\" {\n  context = \"app\"\n  args = { SIZE = }\n}\n")
	typo := write("typo.hcl", "target \"app\" {\n  context = \"app\"\n  dockerfil = \"Dockerfile\"\n}\n")
	badJSON := write("bad.json", "{\"target\": {\"app\": {\"context\": \"app\",}}}")
	plats := write("plats.hcl", "target \"app\" {\n  context = \"app\"\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n}\n")
	stage := write("stage.hcl", "target \"app\" {\n  context = \"app\"\n  target = \"runtme\"\n}\n")
	noDefault := write("nodefault.hcl", "target \"app\" {\n  context = \"app\"\n}\n")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"bad HCL", []string{"compare", "--bake=" + bad}, "bad.hcl:3: "},
		{"bad HCL, file as argument", []string{"compare", "--bake", bad, "app"}, "bad.hcl:3: "},
		{"unknown attribute", []string{"compare", "--bake", typo}, `typo.hcl:3: target "app" has an attribute "dockerfil" that bake files do not have`},
		{"bad JSON", []string{"compare", "--bake", badJSON}, "bad.json:1: "},
		{"unknown target", []string{"compare", "--bake", "nosuch"}, `the bake file has no target or group "nosuch"; it has default, _common, app, tool`},
		{"no default group", []string{"compare", "--bake", noDefault}, `the bake file has no group "default": name a target or group (app)`},
		{"missing file", []string{"compare", "--bake=nothere.hcl"}, "bake file nothere.hcl does not exist"},
		{"several platforms", []string{"compare", "--bake", plats, "app"}, "plats.hcl:1: bake target app has 2 platforms (linux/amd64, linux/arm64): stagescope builds one platform per target; choose one with --platform"},
		{"unknown stage", []string{"compare", "--bake", stage, "app"}, "stage.hcl:1: bake target app builds stage runtme, which app/Dockerfile does not have"},
		{"with --targets", []string{"compare", "--bake", "--targets", "app"}, "--targets, --all and -f go without it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := stagescope(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent.sock", "BUILDKIT_HOST": ""}, tt.args...)
			if code != exitBadInput || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, stdout, stderr, tt.want)
			}
		})
	}
	t.Run("no bake file", func(t *testing.T) {
		t.Chdir(t.TempDir())
		code, _, stderr := stagescope(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent.sock", "BUILDKIT_HOST": ""}, "compare", "--bake")
		if code != exitBadInput || !strings.Contains(stderr, "no bake file here: looked for docker-bake.json, docker-bake.hcl") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// The arguments of compare --bake complete with the bake file's groups and
// targets.
func TestCompleteBake(t *testing.T) {
	bakeDir(t, "")
	for _, args := range [][]string{
		{"__complete", "compare", "--bake", ""},
		{"__complete", "compare", "--bake=docker-bake.hcl", "a"},
		{"__complete", "--bake", ""},
	} {
		code, stdout, stderr := stagescope(t, nil, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		want := []string{"app\tthe application", "tool", "default\tgroup"}
		if args[len(args)-1] == "a" {
			want = []string{"app\tthe application"}
		}
		for _, w := range want {
			if !strings.Contains(stdout, w+"\n") {
				t.Errorf("%v: no %q in\n%s", args, w, stdout)
			}
		}
		if args[len(args)-1] == "a" && strings.Contains(stdout, "tool") {
			t.Errorf("%v: tool does not start with a:\n%s", args, stdout)
		}
	}
}
