package pipeline

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/containerd/platforms"

	"github.com/stagescope/stagescope/bake"
	"github.com/stagescope/stagescope/buildgraph"
)

// BakeFiles reads the bake files a comparison is given: file, or when
// file is "" those of bake.DefaultFiles in the working folder that exist,
// merged in that order as buildx merges them.
func BakeFiles(file string) ([]bake.File, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, inputf("bake file %s does not exist", file)
			}
			return nil, inputf("cannot read bake file %s: %v", file, errors.Unwrap(err))
		}
		return []bake.File{{Name: file, Data: data}}, nil
	}
	var out []bake.File
	for _, name := range bake.DefaultFiles {
		data, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, inputf("cannot read bake file %s: %v", name, errors.Unwrap(err))
		}
		out = append(out, bake.File{Name: name, Data: data})
	}
	if len(out) == 0 {
		return nil, inputf("no bake file here: looked for %s (Compose files are not read)", strings.Join(bake.DefaultFiles, ", "))
	}
	return out, nil
}

// ParseBake reads and parses the bake file (see BakeFiles), with the
// environment's values for its variables and buildx's built-in ones
// (BAKE_CMD_CONTEXT, the working folder; BAKE_LOCAL_PLATFORM).
func ParseBake(file string) (*bake.Config, error) {
	files, err := BakeFiles(file)
	if err != nil {
		return nil, err
	}
	c, err := bake.Parse(files, os.LookupEnv, map[string]string{
		"BAKE_CMD_CONTEXT":    ".",
		"BAKE_LOCAL_PLATFORM": platforms.Format(platforms.DefaultSpec()),
	})
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	return c, nil
}

// LoadBake loads the targets and groups names of a bake file (none: its
// "default" group) as one project per bake target, named by it, in the
// order the names and groups list them. Each target brings its own build
// context, Dockerfile, stage, build arguments, named contexts and
// platform; in's --build-arg and --build-context are applied over every
// target's, and in's Platform, when set, replaces theirs. Paths in the
// file are relative to the working folder, as buildx takes them.
func LoadBake(in Input, file string, names []string) ([]*Project, error) {
	c, err := ParseBake(file)
	if err != nil {
		return nil, err
	}
	targets, err := c.Resolve(names)
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	out := make([]*Project, 0, len(targets))
	for _, t := range targets {
		p, err := loadBakeTarget(in, t)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// loadBakeTarget is Load for one bake target.
func loadBakeTarget(in Input, t *bake.Target) (*Project, error) {
	where := fmt.Sprintf("%s:%d: bake target %s", t.File, t.Line, t.Name)
	one := in
	one.ContextDir, one.File = t.Context, t.DockerfilePath()
	one.NoCache = in.NoCache || t.NoCache
	one.BuildArgs = append(sortedPairs(t.Args), in.BuildArgs...)
	for k, v := range t.Contexts {
		if strings.HasPrefix(v, "target:") {
			return nil, inputf("%s: its context %s is another bake target (%s); stagescope builds contexts that are folders or images", where, k, v)
		}
	}
	one.Contexts = append(sortedPairs(t.Contexts), in.Contexts...)
	if in.Platform == "" {
		switch len(t.Platforms) {
		case 0:
		case 1:
			one.Platform = t.Platforms[0]
		default:
			return nil, inputf("%s has %d platforms (%s): stagescope builds one platform per target; choose one with --platform", where, len(t.Platforms), strings.Join(t.Platforms, ", "))
		}
	}
	p, err := Load(one)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, inputf("%s: %s", where, ie.Msg)
		}
		return nil, err
	}
	p.Name = t.Name
	p.Bake = t
	p.Stage = len(p.Graph.Stages) - 1
	if t.Stage != "" {
		st, ok := p.Graph.Stage(t.Stage)
		if !ok {
			return nil, inputf("%s builds stage %s, which %s does not have", where, t.Stage, p.Dockerfile)
		}
		p.Stage = st.Index
	}
	return p, nil
}

// sortedPairs is m as KEY=VALUE, by key.
func sortedPairs(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+m[k])
	}
	return out
}

// Targets are the targets a comparison of the project builds: every
// target of its Dockerfile, or for a bake target the one stage it builds.
func (p *Project) Targets() []buildgraph.Target {
	if p.Bake == nil {
		return p.Graph.Targets()
	}
	st := p.Graph.Stages[p.Stage]
	t := buildgraph.Target{Stage: st.Index, Description: st.Doc, Default: st.Index == len(p.Graph.Stages)-1}
	if st.Named || !t.Default {
		t.Name = st.Name
	}
	if t.Description == "" {
		t.Description = p.Bake.Description
	}
	return []buildgraph.Target{t}
}
