package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/testengine"
)

// builderEnv is a docker config folder of its own and no engine variable
// set but DOCKER_HOST (dockerHost, "" for none that answers).
func builderEnv(t *testing.T, dockerHost string) (string, map[string]string) {
	t.Helper()
	cfg := t.TempDir()
	if dockerHost == "" {
		dockerHost = "unix:///nonexistent/docker.sock"
	}
	return cfg, map[string]string{
		"DOCKER_CONFIG": cfg, "BUILDX_CONFIG": "", "BUILDX_BUILDER": "", "BUILDKIT_HOST": "",
		"DOCKER_CONTEXT": "", "DOCKER_HOST": dockerHost, "XDG_STATE_HOME": t.TempDir(),
	}
}

func smallProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	dockerfile := "FROM busybox AS base\nRUN echo built on a builder > /msg\n\n# final holds the message, alone\nFROM scratch AS final\nCOPY --from=base /msg /\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// build through --builder, BUILDX_BUILDER and buildx's current builder: a
// remote builder on a buildkitd over tcp+mTLS whose TLS files are in its
// driver options. stagescope engines lists it; the build says where it ran.
func TestBuildOnRemoteBuilder(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	d := testengine.StartMTLSBuildkitd(t)
	cfg, env := builderEnv(t, "")
	testengine.WriteBuildxBuilder(t, cfg, "secure", "remote", testengine.BuildxNode{Name: "secure0", Endpoint: d.Addr,
		Platforms:  []string{"linux/amd64"},
		DriverOpts: map[string]string{"cacert": d.CACert, "cert": d.ClientCert, "key": d.ClientKey}})
	dir := smallProject(t)
	busybox := "busybox=" + testengine.Bases(t)["busybox"]

	build := func(what string, extra ...string) {
		t.Helper()
		code, _, stderr := stagescope(t, env, append([]string{"build", dir, "--build-context", busybox, "--progress", "quiet"}, extra...)...)
		if code != exitOK || !strings.Contains(stderr, "on builder secure (node secure0)") {
			t.Fatalf("build by %s: exit %d\n%s", what, code, stderr)
		}
		t.Logf("%s: %s", what, strings.TrimSpace(stderr))
	}
	build("--builder", "--builder", "secure")
	env["BUILDX_BUILDER"] = "secure"
	build("BUILDX_BUILDER")
	env["BUILDX_BUILDER"] = ""
	// `docker buildx use secure` with the default Docker context: the
	// choice is filed under the context's host.
	testengine.UseBuildxBuilder(t, cfg, env["DOCKER_HOST"], "secure", false)
	build("buildx current", "--platform", "linux/amd64")

	// compare names the builder and node in its engine.
	code, stdout, stderr := stagescope(t, env, "compare", dir, "--all", "--build-context", busybox, "--format", "json", "--progress", "quiet")
	var cmp struct{ Engine string }
	if code != exitOK || json.Unmarshal([]byte(stdout), &cmp) != nil || cmp.Engine != "buildkitd "+d.Addr+" (builder secure, node secure0)" {
		t.Errorf("compare: exit %d, engine %q\n%s", code, cmp.Engine, stderr)
	}

	code, stdout, stderr = stagescope(t, env, "engines", "--format", "json")
	if code != exitOK {
		t.Fatalf("engines: exit %d\n%s", code, stderr)
	}
	var out struct {
		Stagescope struct{ Version string }
		Engines    []struct {
			Source, Context, Address string
			InUse, Reachable         bool
		}
		Builders []struct {
			Name, Driver   string
			Current, InUse bool
			Nodes          []struct {
				Name, Address string
				Reachable     bool
				Engine        struct{ Platforms []string }
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("engines --format json: %v\n%s", err, stdout)
	}
	if e := out.Engines[0]; e.Source != "buildx current builder" || e.Context != "secure" || e.Address != d.Addr || !e.Reachable || !e.InUse {
		t.Errorf("engine in use: %+v", e)
	}
	if len(out.Builders) != 1 || !out.Builders[0].Current || !out.Builders[0].InUse || out.Builders[0].Nodes[0].Address != d.Addr ||
		!out.Builders[0].Nodes[0].Reachable || len(out.Builders[0].Nodes[0].Engine.Platforms) == 0 || out.Stagescope.Version == "" {
		t.Errorf("builders: %+v", out)
	}
	_, text, _ := stagescope(t, env, "engines")
	if !strings.Contains(text, "secure (current)") || !strings.Contains(text, "linux/amd64*") {
		t.Errorf("engines:\n%s", text)
	} else {
		t.Logf("engines:\n%s", text)
	}
}

// A builder that does not exist, or does not answer: one sentence, exit 3.
// --addr and --builder together: exit 2.
func TestBuilderErrors(t *testing.T) {
	cfg, env := builderEnv(t, "")
	closed := "tcp://127.0.0.1:" + strconv.Itoa(testengine.FreePort(t))
	testengine.WriteBuildxBuilder(t, cfg, "down", "remote", testengine.BuildxNode{Name: "down0", Endpoint: closed})
	dir := smallProject(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"unknown --builder", nil, []string{"build", dir, "--builder", "nope"}, exitNoEngine, `no builder named "nope" (--builder); known: down`},
		{"unknown BUILDX_BUILDER", map[string]string{"BUILDX_BUILDER": "gone"}, []string{"build", dir}, exitNoEngine, `no builder named "gone" (BUILDX_BUILDER)`},
		{"builder down", nil, []string{"build", dir, "--builder", "down"}, exitNoEngine, "cannot reach builder down (node down0) at " + closed},
		{"compare on a builder down", nil, []string{"compare", dir, "--all", "--builder", "down"}, exitNoEngine, "cannot reach builder down"},
		{"engines with a builder down", nil, []string{"engines", "--builder", "down"}, exitNoEngine, ""},
		{"--addr and --builder", nil, []string{"build", dir, "--builder", "down", "--addr", closed}, exitBadInput, "--addr and --builder both choose the engine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			for k, v := range tc.env {
				e[k] = v
			}
			code, _, stderr := stagescope(t, e, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || (tc.want != "" && strings.Count(stderr, "\n") != 1) {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
		})
	}
}

// A docker-container builder on the test Docker: the pinned buildkitd in
// the container buildx names buildx_buildkit_NODE.
func TestBuildOnDockerContainerBuilder(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	host := testengine.Docker(t)
	testengine.BuildKitContainerNamed(t, "buildx_buildkit_dcb0")
	cfg, env := builderEnv(t, host)
	testengine.WriteBuildxBuilder(t, cfg, "dcb", "docker-container", testengine.BuildxNode{Name: "dcb0", Endpoint: host})
	dir := smallProject(t)
	code, _, stderr := stagescope(t, env, "build", dir, "--builder", "dcb", "--build-context", "busybox="+testengine.Bases(t)["busybox"], "--progress", "quiet")
	if code != exitOK || !strings.Contains(stderr, "on builder dcb (node dcb0)") {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
}

// Shell completion: --target with the Dockerfile's stages, --builder with
// buildx's builders; --version.
func TestCompletionAndVersion(t *testing.T) {
	cfg, env := builderEnv(t, "")
	testengine.WriteBuildxBuilder(t, cfg, "alpha", "remote", testengine.BuildxNode{Name: "alpha0", Endpoint: "tcp://127.0.0.1:1"})
	dir := smallProject(t)
	t.Chdir(dir)
	code, stdout, stderr := stagescope(t, env, "__complete", "build", "--target", "")
	if code != exitOK || !strings.Contains(stdout, "base\n") || !strings.Contains(stdout, "final\tholds the message, alone\n") || !strings.Contains(stdout, ":4\n") {
		t.Errorf("complete --target: exit %d\n%s%s", code, stdout, stderr)
	}
	_, stdout, _ = stagescope(t, env, "__complete", "build", "--target", "fi")
	if strings.Contains(stdout, "base") || !strings.Contains(stdout, "final") {
		t.Errorf("complete --target fi:\n%s", stdout)
	}
	// The folder argument and -f are honoured.
	t.Chdir(t.TempDir())
	_, stdout, _ = stagescope(t, env, "__complete", "build", dir, "--target", "")
	if !strings.Contains(stdout, "base") {
		t.Errorf("complete --target with CONTEXT:\n%s", stdout)
	}
	_, stdout, _ = stagescope(t, env, "__complete", "-f", filepath.Join(dir, "Dockerfile"), "--target", "")
	if !strings.Contains(stdout, "final") {
		t.Errorf("complete --target of the TUI with -f:\n%s", stdout)
	}
	_, stdout, _ = stagescope(t, env, "__complete", "compare", "--builder", "")
	if !strings.Contains(stdout, "alpha\tremote\n") || !strings.Contains(stdout, "default\tdocker\n") {
		t.Errorf("complete --builder:\n%s", stdout)
	}
	code, stdout, _ = stagescope(t, env, "--version")
	if code != exitOK || !strings.HasPrefix(stdout, "stagescope ") || !strings.Contains(stdout, "BuildKit v0.") {
		t.Errorf("--version: exit %d %q", code, stdout)
	}
}

// --platform completes with the platforms of the engine the command line
// chooses.
func TestCompletePlatforms(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	bk := testengine.BuildKit(t)
	cfg, env := builderEnv(t, "")
	_, stdout, stderr := stagescope(t, env, "__complete", "build", "--addr", bk, "--platform", "linux/")
	if !strings.Contains(stdout, "linux/amd64\n") {
		t.Errorf("complete --platform on %s:\n%s%s", bk, stdout, stderr)
	}
	// A builder of several nodes: what any node serves (the first one
	// does not answer here).
	closed := "tcp://127.0.0.1:" + strconv.Itoa(testengine.FreePort(t))
	testengine.WriteBuildxBuilder(t, cfg, "two", "remote",
		testengine.BuildxNode{Name: "two0", Endpoint: closed}, testengine.BuildxNode{Name: "two1", Endpoint: bk})
	_, stdout, stderr = stagescope(t, env, "__complete", "compare", "--builder", "two", "--platform", "")
	if !strings.Contains(stdout, "linux/amd64\n") {
		t.Errorf("complete --platform on builder two:\n%s%s", stdout, stderr)
	}
}

// compare --bake with targets of different platforms on a builder of two
// nodes, one created for each platform: each target is built by its
// platform's node, as buildx sends it (the amd64 node, a buildkitd of its
// own, holds the amd64 target's build and no other), its record names that
// node, and each row has its size and node.
func TestCompareBakeOnTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	bk := testengine.BuildKit(t)
	d := testengine.StartMTLSBuildkitd(t)
	cfg, env := builderEnv(t, "")
	testengine.WriteBuildxBuilder(t, cfg, "pair", "remote",
		testengine.BuildxNode{Name: "pair0", Endpoint: bk, Platforms: []string{"linux/arm64"}},
		testengine.BuildxNode{Name: "pair1", Endpoint: d.Addr, Platforms: []string{"linux/amd64"},
			DriverOpts: map[string]string{"cacert": d.CACert, "cert": d.ClientCert, "key": d.ClientKey}})
	dir := t.TempDir()
	for name, data := range map[string]string{
		"Dockerfile":    "FROM scratch AS on-arm\nCOPY arm.bin /\n\nFROM scratch AS on-amd\nCOPY amd.bin /\n",
		"arm.bin":       strings.Repeat("a", 30_000),
		"amd.bin":       strings.Repeat("b", 50_000),
		"two-nodes.hcl": "target \"app-arm64\" {\n  target = \"on-arm\"\n  platforms = [\"linux/arm64\"]\n}\n\ntarget \"app-amd64\" {\n  target = \"on-amd\"\n  platforms = [\"linux/amd64\"]\n}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)

	code, stdout, stderr := stagescope(t, env, "compare", "--bake", "two-nodes.hcl", "app-arm64", "app-amd64", "--builder", "pair", "--format", "json", "--progress", "quiet")
	if code != exitOK {
		t.Fatalf("compare --bake: exit %d\n%s", code, stderr)
	}
	var c struct {
		Engine  string
		Results []struct {
			Name, Target, Node, Error string
			Size                      struct{ Uncompressed int64 }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	wantEngine := "buildkitd (builder pair: node pair0 " + bk + " builds linux/arm64; node pair1 " + d.Addr + " builds linux/amd64)"
	if c.Engine != wantEngine {
		t.Errorf("engine %q, want %q", c.Engine, wantEngine)
	}
	var rows []string
	for _, r := range c.Results {
		rows = append(rows, r.Name+":"+r.Target+"@"+r.Node+"="+strconv.FormatInt(r.Size.Uncompressed, 10)+r.Error)
	}
	if got := strings.Join(rows, " "); got != "app-arm64:on-arm@pair0=30000 app-amd64:on-amd@pair1=50000" {
		t.Errorf("rows %s\n%s", got, stdout)
	}

	// The records name the address of the node that built each target.
	store, err := history.Default()
	if err != nil {
		t.Fatal(err)
	}
	sums, err := store.List(history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	for _, s := range sums {
		r, err := store.Get(s.ID)
		if err != nil {
			t.Fatal(err)
		}
		addrs[r.Target] = r.Engine.Address
	}
	if addrs["on-arm"] != bk || addrs["on-amd"] != d.Addr {
		t.Errorf("records name the engines %v, want on-arm on %s and on-amd on %s", addrs, bk, d.Addr)
	}

	// The amd64 node's own build history: the amd64 target alone.
	e, err := engine.Connect(context.Background(), engine.Options{Builder: "pair", Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	builds, err := e.Builds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, b := range builds {
		targets = append(targets, b.Attrs["target"])
	}
	if e.Addr != d.Addr || len(targets) == 0 || slices.ContainsFunc(targets, func(s string) bool { return s != "on-amd" }) {
		t.Errorf("node %s built %v, want on-amd alone", e.Addr, targets)
	}
}
