// Package testengine gives tests the real engines that the project's scripts
// start: a private buildkitd (scripts/buildkitd), a Docker daemon
// (scripts/dockerd), the same buildkitd inside a Docker container
// (scripts/buildkit-container) and the offline base folders
// (scripts/offline-bases).
//
// When an engine cannot be started a test is skipped, except under CI=true,
// where it fails: CI must never pass by skipping the engine-backed tests.
package testengine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// RepoRoot is the folder holding the top-level go.mod.
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(data, []byte("module github.com/stagescope/stagescope\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("testengine: no stagescope go.mod above the working directory")
		}
		dir = parent
	}
}

type once struct {
	once sync.Once
	vals map[string]string
	err  error
}

var (
	buildkit, docker, bases, buildctl, buildkitContainer once
)

// scriptTimeout bounds one engine script: longer than its own lock wait
// (20 minutes, the first buildkit build on a slow machine), shorter than the
// suite's 30-minute go test timeout, so a stuck script fails the test with
// its stderr instead of a goroutine dump.
const scriptTimeout = 22 * time.Minute

// script runs scripts/NAME with args and returns its KEY=VALUE output lines.
func script(name string, args ...string) (map[string]string, error) {
	return scriptEnv(nil, name, args...)
}

// scriptEnv is script with variables added to its environment.
func scriptEnv(env []string, name string, args ...string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(RepoRoot(), "scripts", name), args...)
	// A daemon the script leaves behind may hold the output pipes open.
	cmd.WaitDelay = 5 * time.Second
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		err = fmt.Errorf("still running after %s", scriptTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("scripts/%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vals[k] = v
		} else if line := strings.TrimSpace(sc.Text()); line != "" {
			vals[""] = line
		}
	}
	return vals, nil
}

func get(t testing.TB, o *once, what string, start func() (map[string]string, error)) map[string]string {
	t.Helper()
	o.once.Do(func() { o.vals, o.err = start() })
	if o.err != nil {
		Unavailable(t, "%s: %v", what, o.err)
	}
	return o.vals
}

// Unavailable skips the test, or fails it under CI=true.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("engine required under CI=true: "+format, args...)
	}
	t.Skipf("engine not available: "+format, args...)
}

// BuildKit returns the BUILDKIT_HOST address of the private buildkitd,
// starting it when needed.
func BuildKit(t testing.TB) string {
	t.Helper()
	return get(t, &buildkit, "buildkitd", func() (map[string]string, error) {
		return script("buildkitd", "start")
	})["BUILDKIT_HOST"]
}

// BuildKitContainer returns the docker-container:// address of the pinned
// buildkitd running inside a Docker container (scripts/buildkit-container),
// starting Docker and the container when needed: the engine of buildx's
// docker-container driver.
func BuildKitContainer(t testing.TB) string {
	t.Helper()
	return buildKitContainer(t)["BUILDKIT_HOST"]
}

// BuildKitImage returns the image the container of BuildKitContainer runs.
func BuildKitImage(t testing.TB) string {
	t.Helper()
	return buildKitContainer(t)["BUILDKIT_IMAGE"]
}

func buildKitContainer(t testing.TB) map[string]string {
	t.Helper()
	return get(t, &buildkitContainer, "buildkitd in a container", func() (map[string]string, error) {
		return script("buildkit-container", "start")
	})
}

var namedContainers sync.Map // name → *once

// BuildKitContainerNamed is BuildKitContainer with a container of the given
// name (buildx's docker-container driver names its own
// buildx_buildkit_NODE). The container is left running, as the shared
// one is.
func BuildKitContainerNamed(t testing.TB, name string) string {
	t.Helper()
	o, _ := namedContainers.LoadOrStore(name, &once{})
	return get(t, o.(*once), "buildkitd in container "+name, func() (map[string]string, error) {
		return scriptEnv([]string{"STAGESCOPE_BUILDKIT_CONTAINER=" + name}, "buildkit-container", "start")
	})["BUILDKIT_HOST"]
}

// Docker returns the DOCKER_HOST of a running Docker daemon, starting one
// when needed.
func Docker(t testing.TB) string {
	t.Helper()
	return get(t, &docker, "dockerd", func() (map[string]string, error) {
		return script("dockerd", "start")
	})["DOCKER_HOST"]
}

// Buildctl returns the path of the buildctl binary of the pinned buildkit.
func Buildctl(t testing.TB) string {
	t.Helper()
	dir := get(t, &buildctl, "buildctl", func() (map[string]string, error) {
		return script("buildkitd", "path")
	})[""]
	return filepath.Join(dir, "buildctl")
}

// Bases returns the offline base folders by name ("golang", "busybox").
func Bases(t testing.TB) map[string]string {
	t.Helper()
	return get(t, &bases, "offline bases", func() (map[string]string, error) {
		return script("offline-bases")
	})
}

var ociBases sync.Map // name → *once

// OCIBase returns a base packed as an OCI layout, as a named context value
// (oci-layout://DIR). A standalone buildkitd caches steps on it across
// builds; Docker 20.10 cannot read it (use Bases there).
func OCIBase(t testing.TB, name string) string {
	t.Helper()
	o, _ := ociBases.LoadOrStore(name, &once{})
	return get(t, o.(*once), "offline base "+name+" as an OCI layout", func() (map[string]string, error) {
		return script("offline-bases", "oci", name)
	})[""]
}

// Daemon is a throwaway buildkitd of the pinned version, for tests that
// kill it or give it options of its own (TLS). It has its own state folder.
type Daemon struct {
	Addr string
	Cmd  *exec.Cmd
	Log  string
}

// StartBuildkitd starts a throwaway buildkitd listening on addr with extra
// flags; it is stopped when the test ends. It does not wait for the daemon
// to answer.
func StartBuildkitd(t testing.TB, addr string, extra ...string) *Daemon {
	t.Helper()
	bin := filepath.Dir(Buildctl(t))
	dir := t.TempDir()
	args := append([]string{"--root", filepath.Join(dir, "root"), "--addr", addr,
		"--oci-worker=true", "--containerd-worker=false"}, extra...)
	cmd := exec.Command(filepath.Join(bin, "buildkitd"), args...)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	d := &Daemon{Addr: addr, Cmd: cmd, Log: filepath.Join(dir, "buildkitd.log")}
	logf, err := os.Create(d.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		Unavailable(t, "start buildkitd: %v", err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(waited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-waited
		}
		// A daemon that was killed leaves its mounts behind; the state
		// folder can only be removed once they are gone.
		unmountUnder(dir)
	})
	return d
}

// StartDockerd starts a throwaway Docker daemon of Debian's docker.io with
// its own data, exec root, socket, bridge interface (and the containerd it
// manages), for tests that stop it. It waits until the daemon answers, and
// stops it and everything it started when the test ends.
//
// The bridge is its own on purpose: a daemon started with --bridge=none
// deletes docker0, which breaks every build on the shared daemon.
//
// sock is the socket's path; "" puts it in the daemon's own folder. A
// daemon started again on the same path is a restart, as clients see it.
func StartDockerd(t testing.TB, sock string) *Daemon {
	t.Helper()
	Docker(t) // installs docker.io when missing
	dir, err := os.MkdirTemp("", "stagescope-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	n := dockerds.Add(1)
	bridge := fmt.Sprintf("ssbr%d%d", os.Getpid()%100000, n%10)
	for _, args := range [][]string{
		{"link", "add", "name", bridge, "type", "bridge"},
		{"addr", "add", fmt.Sprintf("10.213.%d.1/24", 70+n%100), "dev", bridge},
		{"link", "set", bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			exec.Command("ip", "link", "del", bridge).Run()
			Unavailable(t, "ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if sock == "" {
		sock = filepath.Join(dir, "docker.sock")
	}
	os.Remove(sock)
	cmd := exec.Command("dockerd", "--host", "unix://"+sock,
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--bridge", bridge, "--iptables=false", "--ip6tables=false")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d := &Daemon{Addr: "unix://" + sock, Cmd: cmd, Log: filepath.Join(dir, "dockerd.log")}
	logf, err := os.Create(d.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		Unavailable(t, "start dockerd: %v", err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(waited) }()
	t.Cleanup(func() {
		// The group holds dockerd and the containerd it started; the
		// shims of containers left running are found by their root.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
		exec.Command("pkill", "-KILL", "-f", dir).Run()
		unmountUnder(dir)
		os.RemoveAll(dir)
		exec.Command("ip", "link", "del", bridge).Run()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if out, err := exec.Command("docker", "-H", d.Addr, "version", "--format", "{{.Server.Version}}").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			return d
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.Log)
			Unavailable(t, "throwaway dockerd did not answer within 60 s:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dockerds counts the throwaway Docker daemons, for their bridges' names.
var dockerds atomic.Int64

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

var dockerBases sync.Map // name → *once

// DockerBase returns a base imported into the image store of the Docker
// daemon at DOCKER_HOST, as a named context value
// (docker-image://stagescope/offline-NAME:HASH).
func DockerBase(t testing.TB, name string) string {
	t.Helper()
	Docker(t)
	o, _ := dockerBases.LoadOrStore(name, &once{})
	return get(t, o.(*once), "offline base "+name+" in Docker's image store", func() (map[string]string, error) {
		return script("offline-bases", "docker", name)
	})[""]
}

// JavaBases returns the Java offline base folders ("jdk17", "jre17"),
// assembling them with debootstrap the first time (minutes).
func JavaBases(t testing.TB) map[string]string {
	t.Helper()
	return get(t, &javaBases, "offline Java bases", func() (map[string]string, error) {
		return script("offline-bases", "java")
	})
}

var javaBases once
