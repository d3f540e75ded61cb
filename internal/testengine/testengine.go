// Package testengine gives tests the real engines that the project's scripts
// start: a private buildkitd (scripts/buildkitd), a Docker daemon
// (scripts/dockerd) and the offline base folders (scripts/offline-bases).
//
// When an engine cannot be started a test is skipped, except under CI=true,
// where it fails: CI must never pass by skipping the engine-backed tests.
package testengine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
	buildkit, docker, bases, buildctl once
)

// script runs scripts/NAME with args and returns its KEY=VALUE output lines.
func script(name string, args ...string) (map[string]string, error) {
	cmd := exec.Command(filepath.Join(RepoRoot(), "scripts", name), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
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
