package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/testengine"
)

// engines runs fn once per real engine kind, as subtests.
func engines(t *testing.T, fn func(t *testing.T, e *engine.Engine)) {
	t.Helper()
	if testing.Short() {
		t.Skip("engine test")
	}
	t.Run("buildkitd", func(t *testing.T) { fn(t, connect(t, engine.Options{Addr: testengine.BuildKit(t)})) })
	t.Run("docker", func(t *testing.T) { fn(t, connect(t, engine.Options{DockerHost: testengine.Docker(t)})) })
	// buildx's docker-container driver: buildkitd in a container, reached
	// through `docker exec … buildctl dial-stdio`.
	t.Run("docker-container", func(t *testing.T) {
		fn(t, connect(t, engine.Options{Addr: testengine.BuildKitContainer(t)}))
	})
}

// project writes files into a fresh build context and returns a request for
// it with the offline busybox base.
func project(t *testing.T, files map[string]string) engine.BuildRequest {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return engine.BuildRequest{ContextDir: dir, Contexts: map[string]string{"busybox": testengine.Bases(t)["busybox"]}}
}

// statuses collects every vertex of a build.
type statuses struct {
	ch       chan *client.SolveStatus
	done     chan struct{}
	vertices map[string]*client.Vertex // by name, last state
}

func collect() *statuses {
	s := &statuses{ch: make(chan *client.SolveStatus), done: make(chan struct{}), vertices: map[string]*client.Vertex{}}
	go func() {
		defer close(s.done)
		for st := range s.ch {
			for _, v := range st.Vertexes {
				s.vertices[v.Name] = v
			}
		}
	}()
	return s
}

func (s *statuses) wait() map[string]*client.Vertex { <-s.done; return s.vertices }

func TestBuildCachedOnSecondRun(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		// A RUN directly on a folder context is never cached across sessions
		// (BuildKit keys local sources by session); copied content is.
		nonce := fmt.Sprint(time.Now().UnixNano()) // cached from no earlier run
		req := project(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY --from=busybox / /\nRUN echo cache-me-" + nonce + " > /out\n"})
		for run := 1; run <= 2; run++ {
			s := collect()
			if _, err := e.Build(context.Background(), req, s.ch); err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			var step *client.Vertex
			for name, v := range s.wait() {
				if strings.Contains(name, "RUN echo cache-me") {
					step = v
				}
			}
			if step == nil {
				t.Fatalf("run %d: no RUN step in the status stream", run)
			}
			if step.Cached != (run == 2) {
				t.Errorf("run %d: RUN step cached = %v", run, step.Cached)
			}
		}
	})
}

func TestBuildFailureReportsStepExitCodeAndSource(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		req := project(t, map[string]string{"Dockerfile": "FROM busybox AS base\nWORKDIR /w\nRUN echo before-failure && exit 3\nRUN echo never\n"})
		_, err := e.Build(context.Background(), req, nil)
		var be *engine.BuildError
		if !errors.As(err, &be) {
			t.Fatalf("err = %v (%T), want *BuildError", err, err)
		}
		if be.ExitCode != 3 {
			t.Errorf("exit code %d, want 3", be.ExitCode)
		}
		if !strings.Contains(be.Step, "RUN echo before-failure && exit 3") {
			t.Errorf("step %q", be.Step)
		}
		if !strings.Contains(strings.Join(be.Logs, "\n"), "before-failure") {
			t.Errorf("logs %q lack the step's output", be.Logs)
		}
		var src strings.Builder
		be.PrintSources(&src)
		// Docker 20.10's solver attaches no source locations to errors.
		if e.Kind == engine.KindBuildKit && !strings.Contains(src.String(), ">>> RUN echo before-failure && exit 3") {
			t.Errorf("source lines do not mark the failing line:\n%s", src.String())
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "exit code 3") {
			t.Errorf("message %q", msg)
		}
	})
}

// TestBadBaseLocated: a base image that cannot be resolved fails in a step
// of no stage (BuildKit's metadata load), and the error still says which
// Dockerfile line asked for it.
func TestBadBaseLocated(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		src := "FROM busybox AS tools\nRUN echo tools > /tools\n\nFROM example.invalid/runtime:1 AS app\nCOPY --from=tools /tools /\n"
		req := project(t, map[string]string{"Dockerfile": src})
		_, err := e.Build(context.Background(), req, nil)
		var be *engine.BuildError
		if !errors.As(err, &be) {
			t.Fatalf("err = %v (%T), want *BuildError", err, err)
		}
		if !strings.Contains(be.Step, "load metadata for example.invalid/runtime:1") {
			t.Errorf("step %q", be.Step)
		}
		data, start, end, ok := be.Location()
		if !ok || start != 4 || end != 4 {
			t.Errorf("location: lines %d-%d (found %v), want 4-4", start, end, ok)
		}
		if len(data) > 0 && string(data) != src {
			t.Errorf("the location's text is not the Dockerfile:\n%s", data)
		}
	})
}

func TestBuildArgsAndNamedContext(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		extra := t.TempDir()
		if err := os.WriteFile(filepath.Join(extra, "payload.txt"), []byte("from-extra\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		req := project(t, map[string]string{"Dockerfile": `FROM busybox
ARG MSG=default
COPY --from=extra /payload.txt /payload.txt
RUN test "$MSG" = hello-arg && grep -q from-extra /payload.txt
`})
		req.BuildArgs = map[string]string{"MSG": "hello-arg"}
		req.Contexts["extra"] = extra
		if _, err := e.Build(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
		req.BuildArgs["MSG"] = "other"
		var be *engine.BuildError
		if _, err := e.Build(context.Background(), req, nil); !errors.As(err, &be) {
			t.Fatalf("with MSG=other the test step must fail, got %v", err)
		}
	})
}

func TestDockerignoreKeepsFilesOut(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		req := project(t, map[string]string{
			"Dockerfile":    "FROM busybox\nCOPY . /ctx\nRUN test -f /ctx/kept.txt && test ! -e /ctx/ignored.txt && test ! -e /ctx/sub/deep.key\n",
			".dockerignore": "ignored.txt\n**/*.key\n",
			"kept.txt":      "kept",
			"ignored.txt":   "must not reach the build",
			"sub/deep.key":  "must not reach the build",
		})
		if _, err := e.Build(context.Background(), req, nil); err != nil {
			t.Fatalf(".dockerignore not honoured: %v", err)
		}
	})
}

// Cancelling the context stops the running step on the engine within 2 s.
func TestCancelStopsRunningStep(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		marker := "617"
		if e.Kind == engine.KindDocker {
			marker = "618"
		}
		req := project(t, map[string]string{"Dockerfile": "FROM busybox\nRUN sleep " + marker + "\n"})
		req.NoCache = true
		ctx, cancel := context.WithCancelCause(context.Background())
		ch := make(chan *client.SolveStatus)
		seen := make(chan bool, 1)
		go func() {
			started := false
			for st := range ch {
				for _, v := range st.Vertexes {
					if !started && strings.Contains(v.Name, "RUN sleep "+marker) && v.Started != nil && v.Completed == nil {
						// Started: wait until the process exists, then cancel.
						started = true
						go func() {
							seen <- waitFor(t, 30*time.Second, func() bool { return sleeping(marker) })
							cancel(errors.New("test cancels"))
						}()
					}
				}
			}
		}()
		errc := make(chan error, 1)
		go func() { _, err := e.Build(ctx, req, ch); errc <- err }()
		select {
		case <-ctx.Done():
		case err := <-errc:
			t.Fatalf("build ended before it was cancelled: %v", err)
		case <-time.After(2 * time.Minute):
			t.Fatal("the sleep step never started")
		}
		cancelled := time.Now()
		if !<-seen {
			t.Fatal("the step's sleep process never appeared")
		}
		if !waitFor(t, 2*time.Second, func() bool { return !sleeping(marker) }) {
			t.Errorf("the step's process still runs %s after cancelling", time.Since(cancelled))
		}
		select {
		case err := <-errc:
			if err == nil || ctx.Err() == nil {
				t.Errorf("Build returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Build did not return within 10 s of cancelling")
		}
	})
}

func sleeping(marker string) bool {
	return exec.Command("pgrep", "-f", "^sleep "+marker+"$").Run() == nil
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// buildLogs runs req and returns what its steps printed.
func buildLogs(e *engine.Engine, req engine.BuildRequest) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ch := make(chan *client.SolveStatus)
	var logs bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range ch {
			for _, l := range s.Logs {
				logs.Write(l.Data)
			}
		}
	}()
	_, err := e.Build(ctx, req, ch)
	<-done
	return logs.String(), err
}

// DockerfileSource is what is built, not what the file holds; the
// <Dockerfile>.dockerignore beside the file still applies.
func TestDockerfileSourceIsBuilt(t *testing.T) {
	engines(t, func(t *testing.T, e *engine.Engine) {
		req := project(t, map[string]string{
			"Dockerfile":              "FROM busybox\nRUN echo the file on disk is not built && exit 1\n",
			"Dockerfile.dockerignore": "ignored.txt\n",
			"kept.txt":                "kept",
			"ignored.txt":             "must not reach the build",
		})
		req.DockerfileSource = []byte("FROM busybox\nCOPY . /ctx\nRUN test -f /ctx/kept.txt && test ! -e /ctx/ignored.txt\n")
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp) // where the folder holding the source is made
		if _, err := e.Build(context.Background(), req, nil); err != nil {
			t.Fatalf("the source given was not built: %v", err)
		}
		if left, _ := filepath.Glob(filepath.Join(tmp, "stagescope-dockerfile-*")); len(left) > 0 {
			t.Errorf("%s left behind", left)
		}
	})
}
