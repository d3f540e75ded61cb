package engine_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// helloRequest builds the article's example offline: the golang base as an
// OCI layout on buildkitd (cached across builds), as a folder on Docker.
func helloRequest(t *testing.T, e *engine.Engine, target string) engine.BuildRequest {
	t.Helper()
	golang := testengine.Bases(t)["golang"]
	if e.Kind == engine.KindBuildKit {
		golang = testengine.OCIBase(t, "golang")
	}
	return engine.BuildRequest{
		ContextDir: filepath.Join(testengine.RepoRoot(), "examples", "hello-multistage"),
		Target:     target,
		Contexts:   map[string]string{"golang": golang},
	}
}

// build runs req and returns the result and the names of the vertices seen.
func build(t *testing.T, e *engine.Engine, req engine.BuildRequest) (*engine.Result, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ch := make(chan *client.SolveStatus)
	var names []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := map[string]bool{}
		for s := range ch {
			for _, v := range s.Vertexes {
				if !seen[v.Name] {
					seen[v.Name] = true
					names = append(names, v.Name)
				}
			}
		}
	}()
	res, err := e.Build(ctx, req, ch)
	<-done
	if err != nil {
		t.Fatalf("build %s: %v", req.Target, err)
	}
	return res, names
}

func connect(t *testing.T, opts engine.Options) *engine.Engine {
	t.Helper()
	opts.ProbeTimeout = 10 * time.Second // a busy CI machine
	e, err := engine.Connect(context.Background(), opts)
	if err != nil {
		testengine.Unavailable(t, "%v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func hasVertex(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

func TestBuildHelloOnBuildKit(t *testing.T) {
	e := connect(t, engine.Options{Addr: testengine.BuildKit(t)})
	if e.Kind != engine.KindBuildKit {
		t.Fatalf("kind = %s", e.Kind)
	}
	_, names := build(t, e, helloRequest(t, e, "builder"))
	if !hasVertex(names, "[builder 3/4] RUN go build") {
		t.Errorf("builder target: no go build step among %q", names)
	}
	_, names = build(t, e, helloRequest(t, e, ""))
	if !hasVertex(names, "[stage-1 2/2] COPY --from=builder") {
		t.Errorf("final target: no COPY --from=builder step among %q", names)
	}
}

func TestBuildHelloOnDocker(t *testing.T) {
	e := connect(t, engine.Options{DockerHost: testengine.Docker(t)})
	if e.Kind != engine.KindDocker {
		t.Fatalf("kind = %s", e.Kind)
	}
	final := helloRequest(t, e, "")
	final.Tags = []string{"stagescope-test/hello:final"}
	builder := helloRequest(t, e, "builder")
	builder.Tags = []string{"stagescope-test/hello:builder"}
	build(t, e, builder)
	res, _ := build(t, e, final)
	if res.Image != "stagescope-test/hello:final" {
		t.Errorf("image = %q", res.Image)
	}
	out, err := exec.Command("docker", "run", "--rm", "--network=none", "stagescope-test/hello:final").CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	if want := "Hello, Docker! I am built using a multi-stage build."; strings.TrimSpace(string(out)) != want {
		t.Errorf("docker run printed %q, want %q", out, want)
	}
	finalSize, builderSize := imageSize(t, "stagescope-test/hello:final"), imageSize(t, "stagescope-test/hello:builder")
	t.Logf("final %d bytes, builder %d bytes (%.0fx)", finalSize, builderSize, float64(builderSize)/float64(finalSize))
	if builderSize < 50*finalSize {
		t.Errorf("builder image (%d B) is not at least 50x the final one (%d B)", builderSize, finalSize)
	}
}

func imageSize(t *testing.T, ref string) int64 {
	t.Helper()
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Size}}", ref).Output()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	var n int64
	for _, c := range strings.TrimSpace(string(out)) {
		n = n*10 + int64(c-'0')
	}
	return n
}

func TestConnectUnreachable(t *testing.T) {
	start := time.Now()
	_, err := engine.Connect(context.Background(), engine.Options{Addr: "unix:///nonexistent/buildkitd.sock"})
	var u *engine.UnreachableError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v (%T), want *UnreachableError", err, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s to report an unreachable engine", d)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "unix:///nonexistent/buildkitd.sock") {
		t.Errorf("message %q: want one line naming the address", msg)
	}
}

func TestConnectBadScheme(t *testing.T) {
	_, err := engine.Connect(context.Background(), engine.Options{Addr: "foo://bar"})
	var a *engine.AddressError
	if !errors.As(err, &a) {
		t.Fatalf("err = %v (%T), want *AddressError", err, err)
	}
}

// Failures of docker-container:// come from the docker CLI through
// BuildKit's connection helper; the sentence gives the CLI's reason.
func TestDockerContainerMessages(t *testing.T) {
	helper := func(stderr string) error {
		return errors.New(`error reading server preface: command [docker exec -i b buildctl dial-stdio] has exited with exit status 1, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=` + stderr + `\n`)
	}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errors.New(`exec: "docker": executable file not found in $PATH`), "(the docker command is not installed); install the Docker CLI"},
		{helper("Error response from daemon: No such container: b"), "(No such container: b); start the container"},
		{helper("Error response from daemon: Container 0123abcd is not running"), "(container b is not running); start it with docker start b"},
		{helper("Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"), "(Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?); start Docker or set DOCKER_HOST"},
		{helper(`OCI runtime exec failed: exec failed: unable to start container process: exec: "buildctl": executable file not found in $PATH: unknown`), "; check that container b runs buildkitd and has buildctl"},
	} {
		msg := (&engine.UnreachableError{Kind: engine.KindBuildKit, Addr: "docker-container://b", Err: tt.err}).Error()
		if !strings.Contains(msg, tt.want) || strings.Contains(msg, `\n`) || strings.Contains(msg, "dial-stdio") {
			t.Errorf("message %q, want %q and no helper command line", msg, tt.want)
		}
	}
}
