package tui

import (
	"strconv"
	"strings"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/pipeline"
)

// Several Dockerfiles opened together (Options.Projects): the graph screen
// shows the first; a build of targets of several files is one run, whose
// build and timeline screens show every file's steps (buildsections.go),
// and the compare screen every target of every file in one table. A
// target argument of a build names a target
// of one of them as NAME:TARGET (the project's Name; TARGET "" for its last
// stage); a bare target is one of the first.

// several reports whether the TUI was opened on several Dockerfiles.
func (o Options) several() bool {
	return len(o.Projects) > 1 || len(o.Projects) == 1 && o.Projects[0].Name != ""
}

// projects are the Dockerfiles opened: Projects, else Project alone.
func (o Options) projects() []*pipeline.Project {
	if len(o.Projects) > 0 {
		return o.Projects
	}
	return []*pipeline.Project{o.Project}
}

// resolveTarget finds the project and the target a build's target argument
// names.
func (o Options) resolveTarget(arg string) (*pipeline.Project, string) {
	if o.several() {
		if i := strings.LastIndex(arg, ":"); i >= 0 {
			for _, p := range o.projects() {
				if p.Name == arg[:i] {
					return p, arg[i+1:]
				}
			}
		}
	}
	return o.Project, arg
}

// allTargets are the target arguments of every target of every Dockerfile
// opened, in order (what a builds).
func (o Options) allTargets() []string {
	var out []string
	for _, p := range o.projects() {
		for _, t := range p.Targets() {
			if o.several() {
				out = append(out, p.Name+":"+t.Name)
			} else {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

// planArgs are the target arguments that build plans again (r).
func planArgs(plans []*pipeline.Plan) []string {
	var out []string
	for _, p := range plans {
		if p.Project != nil && p.Project.Name != "" {
			arg := p.Target
			if g := p.Graph; g != nil {
				if st, ok := g.Stage(p.Target); ok {
					if a, ok := targetArg(g, st); ok {
						arg = a
					}
				}
			}
			out = append(out, p.Project.Name+":"+arg)
			continue
		}
		out = append(out, p.Target)
	}
	return out
}

// filesLabel names what the TUI was opened on in its header: the
// Dockerfile, or how many (Dockerfiles, or targets of a bake file).
func (o Options) filesLabel() string {
	if o.several() {
		if o.projects()[0].Bake != nil {
			return strconv.Itoa(len(o.projects())) + " bake targets"
		}
		return strconv.Itoa(len(o.projects())) + " Dockerfiles"
	}
	return o.Project.Dockerfile
}

// ofGraph are the results of g's Dockerfile: all of them when they are of
// one Dockerfile (no File).
func ofGraph(results []buildgraph.TargetResult, g *buildgraph.Graph) []buildgraph.TargetResult {
	var out []buildgraph.TargetResult
	for _, r := range results {
		if r.File == "" || g == nil || r.File == g.File {
			out = append(out, r)
		}
	}
	return out
}
