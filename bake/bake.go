// Package bake reads the targets of a bake file (docker-bake.hcl or its
// JSON form, as `docker buildx bake` reads them): each target brings its
// own build context, Dockerfile, stage, build arguments, named contexts
// and platforms. Variables, functions and expressions are evaluated by
// buildx's own HCL parser (github.com/docker/buildx/bake/hclparser);
// groups, inheritance and matrices are resolved here as buildx resolves
// them.
// The package touches no file system: files in, targets out.
package bake

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/docker/buildx/bake/hclparser"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// DefaultFiles are the bake files looked up when none is given, in the
// order buildx reads them (later files override earlier ones). buildx
// also reads Compose files; stagescope does not.
var DefaultFiles = []string{
	"docker-bake.json",
	"docker-bake.hcl",
	"docker-bake.override.json",
	"docker-bake.override.hcl",
}

// DefaultGroup is what is built when no target or group is named.
const DefaultGroup = "default"

// File is a bake file's name and contents.
type File struct {
	Name string
	Data []byte
}

// Error is a problem with a bake file, placed at its file and line when
// the parser knows them.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	}
	return e.Msg
}

// Target is a bake target with its inherited attributes applied.
type Target struct {
	Name        string
	Description string
	// Context is the build context as the file gives it ("." by default),
	// relative to the working folder as buildx takes it.
	Context string
	// Dockerfile is the Dockerfile's path, relative to Context unless
	// absolute ("Dockerfile" by default).
	Dockerfile string
	// Stage is the Dockerfile stage the target builds (its `target`
	// attribute; "" for the last stage).
	Stage     string
	Args      map[string]string
	Contexts  map[string]string
	Platforms []string
	NoCache   bool
	// File and Line are where the target is defined.
	File string
	Line int
}

// DockerfilePath is the Dockerfile joined to the context, as buildx
// resolves it.
func (t *Target) DockerfilePath() string {
	if path.IsAbs(t.Dockerfile) {
		return t.Dockerfile
	}
	return path.Join(t.Context, t.Dockerfile)
}

// Name is a target or a group a bake file defines.
type Name struct {
	Name        string
	Description string
	Group       bool
}

// Config is a parsed bake file (or several, merged).
type Config struct {
	groups  []*group
	targets []*target
}

type group struct {
	Name        string   `hcl:"name,label" cty:"name"`
	Description string   `hcl:"description,optional" cty:"description"`
	Targets     []string `hcl:"targets" cty:"targets"`
}

type target struct {
	Name             string             `hcl:"name,label" cty:"name"`
	Description      string             `hcl:"description,optional" cty:"description"`
	Inherits         []string           `hcl:"inherits,optional" cty:"inherits"`
	Context          *string            `hcl:"context,optional" cty:"context"`
	Contexts         map[string]string  `hcl:"contexts,optional" cty:"contexts"`
	Dockerfile       *string            `hcl:"dockerfile,optional" cty:"dockerfile"`
	DockerfileInline *string            `hcl:"dockerfile-inline,optional" cty:"dockerfile-inline"`
	Args             map[string]*string `hcl:"args,optional" cty:"args"`
	Target           *string            `hcl:"target,optional" cty:"target"`
	Platforms        []string           `hcl:"platforms,optional" cty:"platforms"`
	NoCache          *bool              `hcl:"no-cache,optional" cty:"no-cache"`
	Tags             []string           `hcl:"tags,optional" cty:"tags"`
	// Rest holds the attributes of a build that a comparison does not use
	// (labels, outputs, caches, secrets…): they are not evaluated.
	Rest hcl.Body `hcl:",remain"`

	file string
	line int
}

// Merge applies a later definition of the same target (an override file)
// over this one, as buildx does.
func (t *target) Merge(t2 *target) {
	if t2.Description != "" {
		t.Description = t2.Description
	}
	if t2.Inherits != nil {
		t.Inherits = append(t.Inherits, t2.Inherits...)
	}
	t.merge(t2)
}

// merge applies t2's attributes over t's: maps are merged key by key,
// lists and values replaced.
func (t *target) merge(t2 *target) {
	if t2.Context != nil {
		t.Context = t2.Context
	}
	if t2.Dockerfile != nil {
		t.Dockerfile = t2.Dockerfile
	}
	if t2.DockerfileInline != nil {
		t.DockerfileInline = t2.DockerfileInline
	}
	for k, v := range t2.Args {
		if v == nil {
			continue
		}
		if t.Args == nil {
			t.Args = map[string]*string{}
		}
		t.Args[k] = v
	}
	for k, v := range t2.Contexts {
		if t.Contexts == nil {
			t.Contexts = map[string]string{}
		}
		t.Contexts[k] = v
	}
	if t2.Target != nil {
		t.Target = t2.Target
	}
	if t2.Platforms != nil {
		t.Platforms = t2.Platforms
	}
	if t2.NoCache != nil {
		t.NoCache = t2.NoCache
	}
	if t2.Tags != nil {
		t.Tags = t2.Tags
	}
}

// GetEvalContexts expands a target's matrix: one evaluation context per
// combination of its values, each variable of the matrix set to one of its
// values (keys in name order, the first varying slowest). A target without
// a matrix has the one context it is given.
func (t *target) GetEvalContexts(ectx *hcl.EvalContext, block *hcl.Block, loadDeps func(hcl.Expression) hcl.Diagnostics) ([]*hcl.EvalContext, error) {
	content, _, diags := block.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "matrix"}}})
	if diags.HasErrors() {
		return nil, diags
	}
	attr, ok := content.Attributes["matrix"]
	if !ok {
		return []*hcl.EvalContext{ectx}, nil
	}
	if diags := loadDeps(attr.Expr); diags.HasErrors() {
		return nil, diags
	}
	v, diags := attr.Expr.Value(ectx)
	if diags.HasErrors() {
		return nil, diags
	}
	if !v.Type().IsMapType() && !v.Type().IsObjectType() {
		return nil, matrixError(attr, "a matrix maps names to lists of values")
	}
	m := v.AsValueMap()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	combos := []map[string]cty.Value{{}}
	for _, k := range keys {
		if !m[k].CanIterateElements() {
			return nil, matrixError(attr, fmt.Sprintf("the matrix value %s is not a list", k))
		}
		var next []map[string]cty.Value
		for _, c := range combos {
			for _, val := range m[k].AsValueSlice() {
				c2 := maps.Clone(c)
				c2[k] = val
				next = append(next, c2)
			}
		}
		combos = next
	}
	out := make([]*hcl.EvalContext, 0, len(combos))
	for _, c := range combos {
		child := ectx.NewChild()
		child.Variables = c
		out = append(out, child)
	}
	return out, nil
}

// GetName is a target's name: its label, or for a target with a matrix
// its name attribute evaluated for one combination.
func (t *target) GetName(ectx *hcl.EvalContext, block *hcl.Block, loadDeps func(hcl.Expression) hcl.Diagnostics) (string, error) {
	content, _, diags := block.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "matrix"}}})
	if diags.HasErrors() {
		return "", diags
	}
	attr, ok := content.Attributes["name"]
	if !ok {
		return block.Labels[0], nil
	}
	if _, ok := content.Attributes["matrix"]; !ok {
		return "", matrixError(attr, "a target's name attribute goes with a matrix")
	}
	if diags := loadDeps(attr.Expr); diags.HasErrors() {
		return "", diags
	}
	v, diags := attr.Expr.Value(ectx)
	if diags.HasErrors() {
		return "", diags
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil || v.IsNull() || !v.IsKnown() {
		return "", matrixError(attr, "a target's name must be a string")
	}
	return v.AsString(), nil
}

// matrixError is a diagnostic at attr.
func matrixError(attr *hcl.Attribute, msg string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: msg, Subject: attr.Range.Ptr()}}
}

// SetBlockSource records where a target is defined.
func (t *target) SetBlockSource(b *hcl.Block) {
	if t.file == "" {
		t.file, t.line = b.DefRange.Filename, b.DefRange.Start.Line
	}
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// ValidName reports whether s can name a bake target or group.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// Parse reads bake files, HCL (docker-bake.hcl) or JSON (docker-bake.json),
// merged in order. lookup gives a variable's value from the environment
// (nil: none), as buildx lets an environment variable of a variable's name
// override its default; builtins are variables every file has (buildx's
// BAKE_CMD_CONTEXT and BAKE_LOCAL_PLATFORM).
func Parse(files []File, lookup func(string) (string, bool), builtins map[string]string) (*Config, error) {
	if len(files) == 0 {
		return nil, &Error{Msg: "no bake file"}
	}
	var parsed []*hcl.File
	p := hclparse.NewParser()
	for _, f := range files {
		var hf *hcl.File
		var diags hcl.Diagnostics
		if strings.HasSuffix(f.Name, ".json") {
			hf, diags = p.ParseJSON(f.Data, f.Name)
		} else {
			hf, diags = p.ParseHCL(f.Data, f.Name)
		}
		if diags.HasErrors() {
			return nil, diagError(diags, f.Name)
		}
		parsed = append(parsed, hf)
	}
	var raw struct {
		Groups  []*group  `hcl:"group,block" cty:"group"`
		Targets []*target `hcl:"target,block" cty:"target"`
	}
	meta, diags := hclparser.Parse(hclparser.MergeFiles(parsed), hclparser.Opt{
		LookupVar: lookup,
		Vars:      builtins,
		ValidateLabel: func(s string) error {
			if !ValidName(s) {
				return errors.New("a target or group name is made of letters, digits, _ and -")
			}
			return nil
		},
	}, &raw)
	if diags.HasErrors() {
		return nil, diagError(diags, files[0].Name)
	}
	c := &Config{groups: raw.Groups, targets: raw.Targets}
	// A target with a matrix is several, and its label a group of them,
	// as buildx makes it.
	labels := make([]string, 0, len(meta.Renamed["target"]))
	for label := range meta.Renamed["target"] {
		labels = append(labels, label)
	}
	sort.Strings(labels)
	for _, label := range labels {
		names := slices.Compact(meta.Renamed["target"][label])
		if len(names) == 1 && names[0] == label {
			continue
		}
		if c.group(label) == nil {
			c.groups = append(c.groups, &group{Name: label, Targets: names})
		}
	}
	for _, t := range c.targets {
		if err := checkRest(t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// known are the target attributes of buildx's bake files that a
// comparison reads or may leave aside.
var known = map[string]bool{
	"annotations": true, "attest": true, "cache-from": true, "cache-to": true,
	"call": true, "entitlements": true, "extra-hosts": true, "labels": true,
	"network": true, "no-cache-filter": true, "output": true, "policy": true,
	"pull": true, "resources": true, "secret": true, "shm-size": true,
	"ssh": true, "ulimits": true, "matrix": true, "name": true,
}

// checkRest refuses an attribute buildx would not know either (a typo).
func checkRest(t *target) error {
	if t.Rest == nil {
		return nil
	}
	attrs, _ := t.Rest.JustAttributes()
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !known[n] {
			r := attrs[n].NameRange
			return &Error{File: r.Filename, Line: r.Start.Line, Msg: fmt.Sprintf("target %q has an attribute %q that bake files do not have", t.Name, n)}
		}
	}
	return nil
}

// diagError is the first error of diags, placed at its file and line.
func diagError(diags hcl.Diagnostics, file string) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		msg = strings.TrimSuffix(strings.Join(strings.Fields(msg), " "), ".")
		if d.Subject != nil {
			return &Error{File: d.Subject.Filename, Line: d.Subject.Start.Line, Msg: msg}
		}
		return &Error{File: file, Msg: msg}
	}
	return &Error{File: file, Msg: diags.Error()}
}

// Names lists the groups and targets a bake file defines, groups first,
// each in the order of the file.
func (c *Config) Names() []Name {
	var out []Name
	for _, g := range c.groups {
		out = append(out, Name{Name: g.Name, Description: g.Description, Group: true})
	}
	for _, t := range c.targets {
		out = append(out, Name{Name: t.Name, Description: t.Description})
	}
	return out
}

// Resolve expands names (targets or groups; none means the "default"
// group) into targets with their inheritance applied, each once, in the
// order the names and groups list them.
func (c *Config) Resolve(names []string) ([]*Target, error) {
	if len(names) == 0 {
		names = []string{DefaultGroup}
	}
	var order []string
	seen := map[string]bool{}
	var expand func(name string, via []string) error
	expand = func(name string, via []string) error {
		if g := c.group(name); g != nil {
			if slices.Contains(via, name) {
				return &Error{Msg: fmt.Sprintf("group %s includes itself (%s)", name, strings.Join(append(via, name), " → "))}
			}
			for _, t := range g.Targets {
				if err := expand(t, append(via, name)); err != nil {
					return err
				}
			}
			return nil
		}
		if c.target(name) == nil {
			return c.unknown(name, via)
		}
		if !seen[name] {
			seen[name] = true
			order = append(order, name)
		}
		return nil
	}
	for _, n := range names {
		if err := expand(n, nil); err != nil {
			return nil, err
		}
	}
	out := make([]*Target, 0, len(order))
	for _, n := range order {
		t, err := c.resolve(n, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// unknown says that name is neither a target nor a group.
func (c *Config) unknown(name string, via []string) error {
	var all []string
	for _, n := range c.Names() {
		all = append(all, n.Name)
	}
	where := ""
	if len(via) > 0 {
		where = fmt.Sprintf(" (listed in group %s)", via[len(via)-1])
	}
	if name == DefaultGroup && len(via) == 0 {
		return &Error{Msg: fmt.Sprintf("the bake file has no group %q: name a target or group (%s)", DefaultGroup, strings.Join(all, ", "))}
	}
	return &Error{Msg: fmt.Sprintf("the bake file has no target or group %q%s; it has %s", name, where, strings.Join(all, ", "))}
}

func (c *Config) group(name string) *group {
	for _, g := range c.groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

func (c *Config) target(name string) *target {
	for _, t := range c.targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// merged is target name with the targets it inherits applied first, in
// the order listed, as buildx merges them.
func (c *Config) merged(name string, via []string) (*target, error) {
	t := c.target(name)
	if t == nil {
		return nil, c.unknown(name, nil)
	}
	if slices.Contains(via, name) {
		return nil, &Error{File: t.file, Line: t.line, Msg: fmt.Sprintf("target %s inherits from itself (%s)", name, strings.Join(append(via, name), " → "))}
	}
	out := &target{Name: name, Description: t.Description, file: t.file, line: t.line}
	for _, parent := range t.Inherits {
		if c.target(parent) == nil {
			return nil, &Error{File: t.file, Line: t.line, Msg: fmt.Sprintf("target %s inherits from %s, which the bake file does not define", name, parent)}
		}
		p, err := c.merged(parent, append(via, name))
		if err != nil {
			return nil, err
		}
		out.merge(p)
	}
	out.merge(t)
	return out, nil
}

// resolve is target name, inherited and with buildx's defaults.
func (c *Config) resolve(name string, via []string) (*Target, error) {
	m, err := c.merged(name, via)
	if err != nil {
		return nil, err
	}
	if m.DockerfileInline != nil {
		return nil, &Error{File: m.file, Line: m.line, Msg: fmt.Sprintf("target %s has dockerfile-inline: stagescope compares Dockerfiles it can read from a file", name)}
	}
	out := &Target{
		Name: name, Description: m.Description, Context: ".", Dockerfile: "Dockerfile",
		Args: map[string]string{}, Contexts: map[string]string{},
		Platforms: m.Platforms, File: m.file, Line: m.line,
	}
	if m.Context != nil && *m.Context != "" {
		out.Context = *m.Context
	}
	if m.Dockerfile != nil && *m.Dockerfile != "" {
		out.Dockerfile = *m.Dockerfile
	}
	if m.Target != nil {
		out.Stage = *m.Target
	}
	if m.NoCache != nil {
		out.NoCache = *m.NoCache
	}
	for k, v := range m.Args {
		if v != nil {
			out.Args[k] = *v
		}
	}
	for k, v := range m.Contexts {
		if v != "" {
			out.Contexts[k] = v
		}
	}
	return out, nil
}
