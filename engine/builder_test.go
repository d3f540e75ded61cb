package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// isolate points DOCKER_CONFIG at an empty folder and clears the variables
// that choose an engine, keeping DOCKER_HOST as given.
func isolate(t *testing.T, dockerHost string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	for _, v := range []string{"BUILDX_CONFIG", "BUILDX_BUILDER", "BUILDKIT_HOST", "DOCKER_CONTEXT"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("DOCKER_HOST", dockerHost)
	if dockerHost == "" {
		os.Unsetenv("DOCKER_HOST")
	}
	return dir
}

func buildOn(t *testing.T, e *engine.Engine) {
	t.Helper()
	req := project(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY --from=busybox /bin/busybox /busybox\n"})
	if _, err := e.Build(context.Background(), req, nil); err != nil {
		t.Fatalf("build on %s (builder %s, node %s): %v", e.Addr, e.Builder, e.Node, err)
	}
}

// A remote builder on a buildkitd over tcp+mTLS, its TLS files in its
// driver options, reached by --builder, BUILDX_BUILDER and as buildx's
// current builder; with two nodes, the one created for the platform asked
// for builds.
func TestRemoteBuilderOverMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	d := testengine.StartMTLSBuildkitd(t)
	cfg := isolate(t, "")
	tlsOpts := map[string]string{"cacert": d.CACert, "cert": d.ClientCert, "key": d.ClientKey}
	testengine.WriteBuildxBuilder(t, cfg, "secure", "remote", testengine.BuildxNode{Name: "secure0", Endpoint: d.Addr, DriverOpts: tlsOpts})

	connect := func(opts engine.Options) *engine.Engine {
		t.Helper()
		e, err := engine.Connect(context.Background(), opts)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() { e.Close() })
		if e.Builder != "secure" || e.Node != "secure0" || e.Addr != d.Addr || e.Kind != engine.KindBuildKit {
			t.Errorf("engine = %s %s builder %q node %q", e.Kind, e.Addr, e.Builder, e.Node)
		}
		return e
	}
	buildOn(t, connect(engine.Options{Builder: "secure"}))

	t.Setenv("BUILDX_BUILDER", "secure")
	connect(engine.Options{})
	os.Unsetenv("BUILDX_BUILDER")

	testengine.UseBuildxBuilder(t, cfg, "unix:///var/run/docker.sock", "secure", false)
	buildOn(t, connect(engine.Options{}))

	// Two nodes: the first (arm64) does not answer, the second was created
	// for linux/amd64.
	closed := "tcp://127.0.0.1:" + strconv.Itoa(testengine.FreePort(t))
	testengine.WriteBuildxBuilder(t, cfg, "multi", "remote",
		testengine.BuildxNode{Name: "multi0", Endpoint: closed, Platforms: []string{"linux/arm64"}},
		testengine.BuildxNode{Name: "multi1", Endpoint: d.Addr, Platforms: []string{"linux/amd64"}, DriverOpts: tlsOpts})
	e, err := engine.Connect(context.Background(), engine.Options{Builder: "multi", Platform: "linux/amd64"})
	if err != nil {
		t.Fatalf("connect for linux/amd64: %v", err)
	}
	defer e.Close()
	if e.Node != "multi1" {
		t.Errorf("linux/amd64 went to node %s, want multi1", e.Node)
	}
	buildOn(t, e)
	b, err := engine.ResolveBuilder("multi", engine.SourceBuilderFlag)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := b.Connect(context.Background(), "linux/amd64", engine.Options{}); err != nil || e.Node != "multi1" {
		t.Errorf("Builder.Connect for linux/amd64: %v", err)
	} else {
		e.Close()
	}

	// With no platform asked for, the first node: it does not answer.
	_, err = engine.Connect(context.Background(), engine.Options{Builder: "multi"})
	var u *engine.UnreachableError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v (%T), want *UnreachableError", err, err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "builder multi (node multi0)") || !strings.Contains(msg, closed) {
		t.Errorf("message %q", msg)
	} else {
		t.Log(msg)
	}

	// Without its client certificate the builder is refused, in one sentence.
	testengine.WriteBuildxBuilder(t, cfg, "nocert", "remote", testengine.BuildxNode{Name: "nocert0", Endpoint: d.Addr, DriverOpts: map[string]string{"cacert": d.CACert}})
	_, err = engine.Connect(context.Background(), engine.Options{Builder: "nocert"})
	if !errors.As(err, &u) || strings.Contains(err.Error(), "\n") {
		t.Errorf("no client certificate: %v", err)
	}
}

// A kubernetes builder is reached through kube-pod://, which execs
// `kubectl exec POD -- buildctl dial-stdio`. There is no cluster here: a
// kubectl on PATH lists one pod and, for exec, runs buildctl dial-stdio
// against the test buildkitd, so everything but the cluster is real.
func TestKubernetesBuilderThroughKubectl(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	bk := testengine.BuildKit(t)
	buildctl := testengine.Buildctl(t)
	cfg := isolate(t, "")
	bin := t.TempDir()
	log := filepath.Join(bin, "kubectl.log")
	script := `#!/bin/sh
echo "$@" >> ` + log + `
case "$1" in
get) echo '{"items":[{"metadata":{"name":"kb0-5c7d-x2"},"status":{"phase":"Running"}}]}' ;;
*) exec ` + buildctl + ` --addr ` + bk + ` dial-stdio ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	testengine.WriteBuildxBuilder(t, cfg, "kb", "kubernetes",
		testengine.BuildxNode{Name: "kb0", Endpoint: "default", DriverOpts: map[string]string{"namespace": "ci", "replicas": "2"}})

	e, err := engine.Connect(context.Background(), engine.Options{Builder: "kb"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer e.Close()
	if e.Addr != "kube-pod://kb0-5c7d-x2?namespace=ci" || e.Node != "kb0" {
		t.Errorf("engine at %s node %s", e.Addr, e.Node)
	}
	buildOn(t, e)
	calls, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	if lines[0] != "get pods --selector=app=kb0 --output=json --namespace=ci" ||
		!strings.Contains(lines[len(lines)-1], "--namespace=ci exec --container= -i kb0-5c7d-x2 -- buildctl dial-stdio") {
		t.Errorf("kubectl calls:\n%s", calls)
	}
}

// A docker-container builder: the pinned buildkitd in the container buildx
// would have created for node dcb0 (buildx_buildkit_dcb0) on the test
// Docker, the node's endpoint given as buildx writes it for the default
// context (its host) and as a context name.
func TestDockerContainerBuilder(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	host := testengine.Docker(t)
	testengine.BuildKitContainerNamed(t, "buildx_buildkit_dcb0")
	cfg := isolate(t, host)
	for _, ep := range []string{host, "default"} {
		testengine.WriteBuildxBuilder(t, cfg, "dcb", "docker-container", testengine.BuildxNode{Name: "dcb0", Endpoint: ep})
		e, err := engine.Connect(context.Background(), engine.Options{Builder: "dcb"})
		if err != nil {
			t.Fatalf("endpoint %s: %v", ep, err)
		}
		if e.Addr != "docker-container://buildx_buildkit_dcb0" || e.Kind != engine.KindBuildKit {
			t.Errorf("endpoint %s: engine %s %s", ep, e.Kind, e.Addr)
		}
		buildOn(t, e)
		e.Close()
	}

	// "default", a Docker context and no store entry, is the docker
	// driver's builder: that context's Docker.
	e, err := engine.Connect(context.Background(), engine.Options{Builder: "default"})
	if err != nil {
		t.Fatalf("--builder default: %v", err)
	}
	if e.Kind != engine.KindDocker || e.Addr != host || e.Builder != "default" {
		t.Errorf("--builder default: %s %s builder %q", e.Kind, e.Addr, e.Builder)
	}
	e.Close()

	// A node whose container is gone: one sentence, about the builder.
	testengine.WriteBuildxBuilder(t, cfg, "gone", "docker-container", testengine.BuildxNode{Name: "gone0", Endpoint: host})
	_, err = engine.Connect(context.Background(), engine.Options{Builder: "gone"})
	var u *engine.UnreachableError
	if !errors.As(err, &u) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "builder gone") {
		t.Errorf("missing container: %v", err)
	} else {
		t.Log(err)
	}
}
