package testengine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BuildxNode is a node of a buildx builder, as buildx's store keeps it.
type BuildxNode struct {
	Name, Endpoint string
	// Platforms as OS/ARCH[/VARIANT].
	Platforms  []string
	DriverOpts map[string]string
}

// WriteBuildxBuilder writes a builder into the buildx store of the docker
// config folder dockerConfig (DOCKER_CONFIG), in the JSON buildx v0.38
// writes (its store.NodeGroup, instances/NAME).
func WriteBuildxBuilder(t testing.TB, dockerConfig, name, driver string, nodes ...BuildxNode) {
	t.Helper()
	type platform struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Variant      string `json:"variant,omitempty"`
	}
	type node struct {
		Name       string
		Endpoint   string
		Platforms  []platform
		DriverOpts map[string]string
		Flags      []string
		Files      map[string][]byte
	}
	ng := struct {
		Name    string
		Driver  string
		Nodes   []node
		Dynamic bool
	}{Name: name, Driver: driver}
	for _, n := range nodes {
		nn := node{Name: n.Name, Endpoint: n.Endpoint, DriverOpts: n.DriverOpts, Platforms: []platform{}}
		for _, p := range n.Platforms {
			f := strings.Split(p, "/")
			pl := platform{OS: f[0], Architecture: f[1]}
			if len(f) > 2 {
				pl.Variant = f[2]
			}
			nn.Platforms = append(nn.Platforms, pl)
		}
		ng.Nodes = append(ng.Nodes, nn)
	}
	writeJSON(t, filepath.Join(dockerConfig, "buildx", "instances", name), ng)
}

// UseBuildxBuilder writes buildx's `current` file as `docker buildx use
// NAME` does for the Docker endpoint key (a context name, or the default
// context's host), or for every endpoint with global.
func UseBuildxBuilder(t testing.TB, dockerConfig, key, name string, global bool) {
	t.Helper()
	writeJSON(t, filepath.Join(dockerConfig, "buildx", "current"), struct {
		Key    string
		Name   string
		Global bool
	}{key, name, global})
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
