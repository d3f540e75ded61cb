package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	"github.com/docker/cli/cli/config"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The buildx store, read, never written.
//
// buildx keeps its builders under $BUILDX_CONFIG, else the buildx folder
// beside the docker config file ($DOCKER_CONFIG/buildx, ~/.docker/buildx).
// stagescope reads this subset of it, as buildx v0.38 writes it (its
// store package):
//
//	instances/NAME  one JSON object per builder: Name, Driver, Dynamic, and
//	                Nodes, each with Name, Endpoint, Platforms (OCI
//	                platform objects), DriverOpts and Flags
//	current         {"Key", "Name", "Global"}: the builder `docker buildx
//	                use` chose, for the Docker endpoint Key, or for every
//	                endpoint when Global
//	defaults/HASH   the name of the builder `docker buildx use --default`
//	                chose for an endpoint; HASH is the first 20 hex digits
//	                of the SHA-256 of the endpoint
//
// The Docker endpoint is the current Docker context's name, or for the
// context "default" its host (DOCKER_HOST, else the default socket).
//
// buildx's own store package is not imported: it links the docker CLI's
// command package, the moby API client and OpenTelemetry exporters into
// the binary (about 95 packages), and it writes while it reads (it creates
// its folders, takes a lock file, and rewrites `current`), which would fail
// on a read-only docker config folder and is not a reader's business.

// Builder is a buildx builder: a named group of BuildKit nodes, all of one
// driver.
type Builder struct {
	Name string `json:"name"`
	// Driver is docker, docker-container, remote or kubernetes (buildx
	// has others that stagescope does not reach).
	Driver string        `json:"driver"`
	Nodes  []BuilderNode `json:"nodes"`
	// DockerContext: not a store entry but a Docker context used as a
	// builder of the docker driver, as buildx does with any context name.
	DockerContext bool `json:"dockerContext,omitempty"`
	// Dynamic node groups (buildx's cloud driver) are not reachable here.
	Dynamic bool `json:"-"`
}

// BuilderNode is one BuildKit of a builder.
type BuilderNode struct {
	Name string `json:"name"`
	// Endpoint is the driver's: a Docker context name or host for the
	// docker and docker-container drivers, a BuildKit address for remote.
	Endpoint string `json:"endpoint"`
	// Platforms the node was created for (--platform of buildx create);
	// the node may serve more, which its workers say.
	Platforms  []ocispecs.Platform `json:"-"`
	DriverOpts map[string]string   `json:"driverOpts,omitempty"`
}

// PlatformNames formats the node's configured platforms.
func (n BuilderNode) PlatformNames() []string {
	out := make([]string, 0, len(n.Platforms))
	for _, p := range n.Platforms {
		out = append(out, platforms.Format(p))
	}
	return out
}

// storedBuilder is the subset of buildx's store.NodeGroup read here.
type storedBuilder struct {
	Name    string
	Driver  string
	Dynamic bool
	Nodes   []struct {
		Name       string
		Endpoint   string
		Platforms  []ocispecs.Platform
		DriverOpts map[string]string
	}
}

// storedCurrent is buildx's `current` file.
type storedCurrent struct {
	Key    string
	Name   string
	Global bool
}

// BuildxStore is buildx's store folder.
type BuildxStore struct{ Dir string }

// DefaultBuildxStore is the store buildx uses: $BUILDX_CONFIG, else
// buildx beside the docker config file.
func DefaultBuildxStore() BuildxStore {
	if d := os.Getenv("BUILDX_CONFIG"); d != "" {
		return BuildxStore{Dir: d}
	}
	return BuildxStore{Dir: filepath.Join(dockerConfigDir(), "buildx")}
}

// buildxName is buildx's rule for builder names (store.ValidateName):
// names are compared in lower case.
var buildxName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9\.\-_]*$`)

// NoBuilderError says a builder named on the command line or in
// BUILDX_BUILDER does not exist.
type NoBuilderError struct {
	Name   string
	Source Source
	Known  []string
}

func (e *NoBuilderError) Error() string {
	known := "there are none in " + DefaultBuildxStore().Dir
	if len(e.Known) > 0 {
		known = "known: " + strings.Join(e.Known, ", ")
	}
	return fmt.Sprintf("no builder named %q (%s); %s (stagescope engines lists them, docker buildx create makes one)", e.Name, e.Source, known)
}

// BuilderError says a builder exists but cannot be used as it is.
type BuilderError struct {
	Builder string
	Node    string
	Msg     string
}

func (e *BuilderError) Error() string {
	if e.Node != "" && e.Node != e.Builder {
		return fmt.Sprintf("builder %s (node %s): %s", e.Builder, e.Node, e.Msg)
	}
	return fmt.Sprintf("builder %s: %s", e.Builder, e.Msg)
}

// Builder reads the builder named name from the store. ok is false when
// there is no such entry.
func (s BuildxStore) Builder(name string) (b *Builder, ok bool, err error) {
	if !buildxName.MatchString(name) {
		return nil, false, nil
	}
	name = strings.ToLower(name)
	data, err := os.ReadFile(filepath.Join(s.Dir, "instances", name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading builder %s: %w", name, err)
	}
	var st storedBuilder
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, false, &BuilderError{Builder: name, Msg: fmt.Sprintf("its store entry %s is not buildx's JSON: %v", filepath.Join(s.Dir, "instances", name), err)}
	}
	b = &Builder{Name: st.Name, Driver: st.Driver, Dynamic: st.Dynamic}
	if b.Name == "" {
		b.Name = name
	}
	for _, n := range st.Nodes {
		b.Nodes = append(b.Nodes, BuilderNode{Name: n.Name, Endpoint: n.Endpoint, Platforms: n.Platforms, DriverOpts: n.DriverOpts})
	}
	return b, true, nil
}

// List returns the builders of the store by name.
func (s BuildxStore) List() ([]*Builder, error) {
	ents, err := os.ReadDir(filepath.Join(s.Dir, "instances"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Builder
	for _, ent := range ents {
		if ent.IsDir() || strings.HasPrefix(ent.Name(), ".") {
			continue // buildx's atomic writes leave temporary files
		}
		b, ok, err := s.Builder(ent.Name())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Names returns the names of the store's builders.
func (s BuildxStore) Names() []string {
	bs, _ := s.List()
	names := make([]string, 0, len(bs))
	for _, b := range bs {
		names = append(names, b.Name)
	}
	return names
}

// Current returns the builder buildx uses when none is named: the one
// `docker buildx use` chose for the current Docker endpoint (or globally),
// else the endpoint's default. nil means none was chosen, or the chosen
// one is a Docker context: buildx then builds on the current Docker
// context, as stagescope's Docker engines do.
func (s BuildxStore) Current() (*Builder, error) {
	key := dockerEndpointKey()
	data, err := os.ReadFile(filepath.Join(s.Dir, "current"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		var c storedCurrent
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("%s is not buildx's JSON: %w", filepath.Join(s.Dir, "current"), err)
		}
		if c.Name != "" {
			if c.Global {
				if b, ok, err := s.Builder(c.Name); err != nil || ok {
					return b, err
				}
			}
			if c.Key == key {
				b, _, err := s.Builder(c.Name)
				return b, err
			}
		}
	}
	data, err = os.ReadFile(filepath.Join(s.Dir, "defaults", endpointHash(key)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, _, err := s.Builder(strings.TrimSpace(string(data)))
	return b, err
}

func endpointHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:20]
}

// currentDockerContext is the docker CLI's choice of context: DOCKER_HOST
// means "default", then DOCKER_CONTEXT, then the config file's.
func currentDockerContext() string {
	if os.Getenv("DOCKER_HOST") != "" {
		return "default"
	}
	if name := os.Getenv("DOCKER_CONTEXT"); name != "" {
		return name
	}
	if cf, err := config.Load(dockerConfigDir()); err == nil && cf != nil && cf.CurrentContext != "" {
		return cf.CurrentContext
	}
	return "default"
}

// dockerEndpointKey is the key buildx files the current builder under.
func dockerEndpointKey() string {
	if name := currentDockerContext(); name != "default" {
		return name
	}
	return defaultContextHost()
}

// defaultContextHost is the host of the Docker context "default".
func defaultContextHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return defaultDockerHost
}

// ResolveBuilder finds the builder called name, as buildx does: an entry
// of the store, else a Docker context of that name (a builder of the docker
// driver; "default" always exists), else a *NoBuilderError.
func ResolveBuilder(name string, source Source) (*Builder, error) {
	s := DefaultBuildxStore()
	b, ok, err := s.Builder(name)
	if err != nil || ok {
		return b, err
	}
	if name == "default" || contextHost(name) != "" {
		return &Builder{Name: name, Driver: "docker", DockerContext: true, Nodes: []BuilderNode{{Name: name, Endpoint: name}}}, nil
	}
	return nil, &NoBuilderError{Name: name, Source: source, Known: s.Names()}
}

// dockerConfigDir is the docker CLI's configuration folder: $DOCKER_CONFIG,
// else ~/.docker. It is read each time (the docker CLI's config.Dir keeps
// the first answer for the life of the process).
func dockerConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return config.Dir()
	}
	return filepath.Join(home, ".docker")
}
