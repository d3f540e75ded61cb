package buildgraph

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// ContextSources are the paths of the build context that the COPY and ADD
// instructions of the stages the build runs read, as the Dockerfile writes
// them (variables not expanded). Copies from a stage, an image or a named
// context read no context file, nor do ADD's URLs and Git sources and
// heredoc files; a replaced stage runs none of its instructions.
func (c Closure) ContextSources() []string {
	var out []string
	if c.Graph == nil {
		return nil
	}
	for _, i := range c.Stages {
		if c.IsReplaced(i) {
			continue
		}
		for _, in := range c.Graph.Stages[i].Instructions {
			switch cmd := in.Command.(type) {
			case *instructions.CopyCommand:
				if cmd.From == "" {
					out = append(out, cmd.SourcePaths...)
				}
			case *instructions.AddCommand:
				for _, s := range cmd.SourcePaths {
					if !strings.Contains(s, "://") && !strings.HasPrefix(s, "git@") {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}
