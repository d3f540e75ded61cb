package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stagescope/stagescope/internal/testengine"
)

// buildxConfig points DOCKER_CONFIG at an empty folder and clears every
// variable that chooses an engine, for the rest of the test.
func buildxConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	for _, v := range []string{"BUILDX_CONFIG", "BUILDX_BUILDER", "BUILDKIT_HOST", "DOCKER_HOST", "DOCKER_CONTEXT"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	return dir
}

// An instance file exactly as buildx v0.38 writes it (docker buildx create
// --name multi --driver remote --driver-opt cacert=… tcp://… then
// --append a second node with --platform linux/arm64).
const storedMulti = `{"Name":"multi","Driver":"remote","Nodes":[{"Name":"multi0","Endpoint":"tcp://10.0.0.1:1234","Platforms":null,"DriverOpts":{"cacert":"/certs/ca.pem","cert":"/certs/cert.pem","key":"/certs/key.pem"},"Flags":null,"Files":null},{"Name":"multi1","Endpoint":"tcp://10.0.0.2:1234","Platforms":[{"architecture":"arm64","os":"linux"}],"DriverOpts":{},"Flags":["--debug"],"Files":{"buildkitd.toml":"ZGVidWcgPSB0cnVl"}}],"Dynamic":false}`

func TestBuildxStoreReadsWhatBuildxWrites(t *testing.T) {
	dir := buildxConfig(t)
	os.MkdirAll(filepath.Join(dir, "buildx", "instances"), 0o700)
	os.WriteFile(filepath.Join(dir, "buildx", "instances", "multi"), []byte(storedMulti), 0o600)
	// buildx's atomic writes leave temporary files beside the instances.
	os.WriteFile(filepath.Join(dir, "buildx", "instances", ".tmp-multi123"), []byte("{"), 0o600)

	b, ok, err := DefaultBuildxStore().Builder("Multi") // names are compared in lower case
	if err != nil || !ok {
		t.Fatalf("Builder = %v, %v, %v", b, ok, err)
	}
	if b.Name != "multi" || b.Driver != "remote" || len(b.Nodes) != 2 {
		t.Fatalf("builder = %+v", b)
	}
	if n := b.Nodes[0]; n.Endpoint != "tcp://10.0.0.1:1234" || n.DriverOpts["cacert"] != "/certs/ca.pem" || len(n.Platforms) != 0 {
		t.Errorf("node 0 = %+v", n)
	}
	if got := b.Nodes[1].PlatformNames(); !reflect.DeepEqual(got, []string{"linux/arm64"}) {
		t.Errorf("node 1 platforms = %v", got)
	}
	list, err := DefaultBuildxStore().List()
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}

	// BUILDX_CONFIG moves the store, as for buildx.
	other := t.TempDir()
	t.Setenv("BUILDX_CONFIG", other)
	if _, ok, _ := DefaultBuildxStore().Builder("multi"); ok {
		t.Error("BUILDX_CONFIG ignored")
	}
}

func TestCurrentBuilderAsBuildxResolvesIt(t *testing.T) {
	dir := buildxConfig(t)
	testengine.WriteBuildxBuilder(t, dir, "one", "remote", testengine.BuildxNode{Name: "one0", Endpoint: "tcp://127.0.0.1:1"})
	testengine.WriteBuildxBuilder(t, dir, "two", "remote", testengine.BuildxNode{Name: "two0", Endpoint: "tcp://127.0.0.1:2"})
	s := DefaultBuildxStore()
	current := func() string {
		t.Helper()
		b, err := s.Current()
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			return ""
		}
		return b.Name
	}
	if got := current(); got != "" {
		t.Errorf("no current file: %q", got)
	}
	// `docker buildx use one` with the default context: keyed by its host.
	testengine.UseBuildxBuilder(t, dir, defaultDockerHost, "one", false)
	if got := current(); got != "one" {
		t.Errorf("current for the default socket = %q, want one", got)
	}
	// Another Docker endpoint has its own choice.
	t.Setenv("DOCKER_HOST", "unix:///elsewhere.sock")
	if got := current(); got != "" {
		t.Errorf("current for another endpoint = %q, want none", got)
	}
	// `docker buildx use --global two`.
	testengine.UseBuildxBuilder(t, dir, defaultDockerHost, "two", true)
	if got := current(); got != "two" {
		t.Errorf("global current = %q, want two", got)
	}
	// `docker buildx use --default one` for this endpoint.
	testengine.UseBuildxBuilder(t, dir, "", "", false)
	os.MkdirAll(filepath.Join(dir, "buildx", "defaults"), 0o700)
	os.WriteFile(filepath.Join(dir, "buildx", "defaults", endpointHash("unix:///elsewhere.sock")), []byte("one"), 0o600)
	if got := current(); got != "one" {
		t.Errorf("default for the endpoint = %q, want one", got)
	}
	// A current builder that was removed: buildx falls back to Docker.
	testengine.UseBuildxBuilder(t, dir, "unix:///elsewhere.sock", "gone", false)
	if got := current(); got != "" {
		t.Errorf("removed current = %q, want none", got)
	}
}

func TestCandidatesOrderWithBuilders(t *testing.T) {
	dir := buildxConfig(t)
	testengine.WriteBuildxBuilder(t, dir, "flag", "remote", testengine.BuildxNode{Name: "flag0", Endpoint: "tcp://127.0.0.1:1"})
	testengine.WriteBuildxBuilder(t, dir, "env", "remote", testengine.BuildxNode{Name: "env0", Endpoint: "tcp://127.0.0.1:2"})
	testengine.WriteBuildxBuilder(t, dir, "cur", "docker-container", testengine.BuildxNode{Name: "cur0", Endpoint: "default"})
	testengine.UseBuildxBuilder(t, dir, defaultDockerHost, "cur", false)
	t.Setenv("BUILDKIT_HOST", "unix:///bk.sock")
	t.Setenv("BUILDX_BUILDER", "env")
	var got []string
	for _, c := range Candidates(Options{Addr: "tcp://127.0.0.1:9", Builder: "flag"}) {
		got = append(got, string(c.Source)+" "+c.Addr)
	}
	want := []string{
		"--addr tcp://127.0.0.1:9",
		"--builder tcp://127.0.0.1:1",
		"BUILDKIT_HOST unix:///bk.sock",
		"BUILDX_BUILDER tcp://127.0.0.1:2",
		"buildx current builder docker-container://buildx_buildkit_cur0",
		"default Docker socket " + defaultDockerHost,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("candidates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestUnknownBuilderIsOneSentence(t *testing.T) {
	dir := buildxConfig(t)
	testengine.WriteBuildxBuilder(t, dir, "known", "remote", testengine.BuildxNode{Name: "known0", Endpoint: "tcp://127.0.0.1:1"})
	_, err := Connect(context.Background(), Options{Builder: "nope"})
	var nb *NoBuilderError
	if !errors.As(err, &nb) {
		t.Fatalf("err = %v (%T), want *NoBuilderError", err, err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, `"nope"`) || !strings.Contains(msg, "known: known") {
		t.Errorf("message %q", msg)
	}
	// A Docker context name is a builder of the docker driver, as in buildx.
	b, err := ResolveBuilder("default", SourceBuilderFlag)
	if err != nil || b.Driver != "docker" || !b.DockerContext {
		t.Errorf("default = %+v, %v", b, err)
	}
}

func TestNodeTargets(t *testing.T) {
	buildxConfig(t)
	t.Setenv("DOCKER_HOST", "unix:///run/d.sock")
	for _, tc := range []struct {
		driver string
		node   BuilderNode
		kind   Kind
		addr   string
		dial   bool
	}{
		{"docker", BuilderNode{Name: "default", Endpoint: "default"}, KindDocker, "unix:///run/d.sock", false},
		{"docker", BuilderNode{Name: "x", Endpoint: "tcp://docker:2376"}, KindDocker, "tcp://docker:2376", false},
		{"docker-container", BuilderNode{Name: "dc0", Endpoint: "default"}, KindBuildKit, "docker-container://buildx_buildkit_dc0", false},
		{"docker-container", BuilderNode{Name: "dc0", Endpoint: "remote-ctx"}, KindBuildKit, "docker-container://buildx_buildkit_dc0?context=remote-ctx", false},
		{"docker-container", BuilderNode{Name: "dc0", Endpoint: "unix:///var/run/docker.sock"}, KindBuildKit, "docker-container://buildx_buildkit_dc0", true},
		{"remote", BuilderNode{Name: "r0", Endpoint: "tcp://10.1.2.3:1234", DriverOpts: map[string]string{"cacert": "/ca", "cert": "/c", "key": "/k", "servername": "bk"}}, KindBuildKit, "tcp://10.1.2.3:1234", false},
	} {
		got, err := nodeTarget(&Builder{Name: "b", Driver: tc.driver}, tc.node)
		if err != nil {
			t.Errorf("%s %s: %v", tc.driver, tc.node.Endpoint, err)
			continue
		}
		if got.kind != tc.kind || got.addr != tc.addr || (got.dial != nil) != tc.dial {
			t.Errorf("%s %s: %s %s dial=%v, want %s %s dial=%v", tc.driver, tc.node.Endpoint, got.kind, got.addr, got.dial != nil, tc.kind, tc.addr, tc.dial)
		}
		if tc.driver == "remote" && (got.caCert != "/ca" || got.cert != "/c" || got.key != "/k" || got.serverName != "bk") {
			t.Errorf("remote TLS = %+v", got)
		}
	}
	if _, err := nodeTarget(&Builder{Name: "c", Driver: "cloud"}, BuilderNode{Name: "c0"}); err == nil || !strings.Contains(err.Error(), "cloud driver") {
		t.Errorf("cloud driver: %v", err)
	}
}

// buildx's choice of node: a configured platform matched exactly wins;
// else a platform a node's workers serve, matched as they can run it; else
// the first node.
func TestPickNode(t *testing.T) {
	p := func(s string) []ocispecs.Platform { return []ocispecs.Platform{platforms.MustParse(s)} }
	nodes := []BuilderNode{{Name: "amd"}, {Name: "arm", Platforms: p("linux/arm64")}, {Name: "armv7", Platforms: p("linux/arm/v7")}}
	if i := pickNode(nodes, platforms.MustParse("linux/arm64"), platforms.OnlyStrict, nil); i != 1 {
		t.Errorf("linux/arm64 → %d, want 1", i)
	}
	if i := pickNode(nodes, platforms.MustParse("linux/arm/v7"), platforms.OnlyStrict, nil); i != 2 {
		t.Errorf("linux/arm/v7 → %d, want 2", i)
	}
	if i := pickNode(nodes, platforms.MustParse("linux/amd64"), platforms.OnlyStrict, nil); i != -1 {
		t.Errorf("linux/amd64 strictly → %d, want -1 (no node was created for it)", i)
	}
	served := [][]ocispecs.Platform{p("linux/amd64"), p("linux/arm64"), nil}
	if i := pickNode(nodes, platforms.MustParse("linux/386"), platforms.Only, served); i != 0 {
		t.Errorf("linux/386 on what the workers serve → %d, want 0", i)
	}
}

// NodeFor is the node a build for the platform connects to: the node
// created for it; the first for no platform, or one no platform parses
// from; with a platform no node was created for, once the nodes were asked
// (here none answers), the first.
func TestNodeFor(t *testing.T) {
	p := func(s string) []ocispecs.Platform { return []ocispecs.Platform{platforms.MustParse(s)} }
	b := &Builder{Name: "pair", Driver: "remote", Nodes: []BuilderNode{
		{Name: "arm", Endpoint: "tcp://127.0.0.1:1", Platforms: p("linux/arm64")},
		{Name: "amd", Endpoint: "tcp://127.0.0.1:1", Platforms: p("linux/amd64")}}}
	opts := Options{ProbeTimeout: time.Second}
	for platform, want := range map[string]int{"linux/amd64": 1, "linux/arm64": 0, "": 0, "not a platform!": 0, "linux/s390x": 0} {
		if i := NodeFor(context.Background(), b, platform, opts); i != want {
			t.Errorf("NodeFor(%q) = %d, want %d", platform, i, want)
		}
	}
}

// A kubernetes builder's node is a running pod of the deployment buildx
// named after the node, found with kubectl; the address is kube-pod://.
func TestKubernetesNodeAddress(t *testing.T) {
	buildxConfig(t)
	bin := t.TempDir()
	log := filepath.Join(bin, "kubectl.log")
	pods := `{"items":[
	 {"metadata":{"name":"kube-b0-7d9f-zzz"},"status":{"phase":"Running"}},
	 {"metadata":{"name":"kube-b0-7d9f-aaa","deletionTimestamp":"2026-01-01T00:00:00Z"},"status":{"phase":"Running"}},
	 {"metadata":{"name":"kube-b0-7d9f-bbb"},"status":{"phase":"Pending"}},
	 {"metadata":{"name":"kube-b0-7d9f-ccc"},"status":{"phase":"Running"}}]}`
	os.WriteFile(filepath.Join(bin, "pods.json"), []byte(pods), 0o600)
	os.WriteFile(filepath.Join(bin, "kubectl"), []byte("#!/bin/sh\necho \"$@\" >> "+log+"\ncat "+filepath.Join(bin, "pods.json")+"\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))

	b := &Builder{Name: "kube", Driver: "kubernetes", Nodes: []BuilderNode{{Name: "kube_b0", Endpoint: "default", DriverOpts: map[string]string{"namespace": "builds"}}}}
	tg, err := nodeTarget(b, b.Nodes[0])
	if err != nil || tg.kube == nil || tg.kube.name != "kube-b0" || tg.kube.namespace != "builds" {
		t.Fatalf("target = %+v, %v", tg, err)
	}
	pod, err := kubePod(context.Background(), tg.kube, 0)
	if err != nil {
		t.Fatal(err)
	}
	if addr := kubePodAddr(pod, tg.kube.namespace); addr != "kube-pod://kube-b0-7d9f-ccc?namespace=builds" {
		t.Errorf("address = %s", addr)
	}
	args, _ := os.ReadFile(log)
	if got := strings.TrimSpace(string(args)); got != "get pods --selector=app=kube-b0 --output=json --namespace=builds" {
		t.Errorf("kubectl %s", got)
	}

	os.WriteFile(filepath.Join(bin, "pods.json"), []byte(`{"items":[]}`), 0o600)
	_, err = Connect(context.Background(), Options{Builder: "kube"})
	if err == nil {
		t.Fatal("a builder that is not in the store connected")
	}
	_, err = connectBuilder(context.Background(), b, Options{ProbeTimeout: DefaultProbeTimeout})
	var be *BuilderError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "no running pod of deployment kube-b0 in namespace builds") {
		t.Errorf("no pods: %v", err)
	}
}
