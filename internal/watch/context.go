package watch

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Context is a build context as a build would send it: its folder and the
// .dockerignore that applies (<Dockerfile>.dockerignore beside the
// Dockerfile first, else .dockerignore in the folder, as in BuildKit).
type Context struct {
	Dir string // clean and absolute
	// IgnoreFile is the .dockerignore that applies, "" when there is none.
	IgnoreFile string
	ignore     *patternmatcher.PatternMatcher
}

// IgnoreFiles are the files that can hold a context's .dockerignore, in
// the order BuildKit looks for them.
func IgnoreFiles(dir, dockerfile string) []string {
	var out []string
	if dockerfile != "" {
		abs, _ := filepath.Abs(dockerfile + ".dockerignore")
		out = append(out, abs)
	}
	abs, _ := filepath.Abs(filepath.Join(dir, ".dockerignore"))
	return append(out, abs)
}

// ReadContext reads the context's .dockerignore. A .dockerignore that
// cannot be read or parsed is an error naming it.
func ReadContext(dir, dockerfile string) (*Context, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Context{Dir: abs}
	for _, name := range IgnoreFiles(dir, dockerfile) {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
		c.IgnoreFile, c.ignore = name, pm
		break
	}
	return c, nil
}

// Rel is path relative to the context, with slashes; ok is false for a
// path outside it.
func (c *Context) Rel(path string) (rel string, ok bool) {
	r, err := filepath.Rel(c.Dir, path)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// Ignored reports whether the .dockerignore leaves the file out of what
// is sent (rel is relative to the context).
func (c *Context) Ignored(rel string) bool {
	if c.ignore == nil || rel == "." {
		return false
	}
	ok, _ := c.ignore.MatchesOrParentMatches(rel)
	return ok
}

// SkipDir reports whether no file below the folder is sent, so that it
// need not be looked at: it is ignored and no pattern that takes files
// back ("!logs/keep.txt") can reach below it.
func (c *Context) SkipDir(dir string) bool {
	rel, ok := c.Rel(dir)
	if !ok || c.ignore == nil || !c.Ignored(rel) {
		return false
	}
	return !c.takesBackBelow(rel)
}

// takesBackBelow reports whether a "!" pattern may match rel or a path
// below it: its text before the first wildcard is a path inside rel, or
// a start of rel's path (a wildcard may then reach into it). It errs on
// the side of yes.
func (c *Context) takesBackBelow(rel string) bool {
	if !c.ignore.Exclusions() {
		return false
	}
	for _, p := range c.ignore.Patterns() {
		if !p.Exclusion() {
			continue
		}
		text := filepath.ToSlash(p.String())
		if i := strings.IndexAny(text, "*?[\\"); i >= 0 {
			text = text[:i]
		}
		if strings.HasPrefix(text, rel+"/") || strings.HasPrefix(rel+"/", text) {
			return true
		}
	}
	return false
}

// Sources are the context paths a build reads with COPY and ADD, as the
// Dockerfile writes them (buildgraph.Closure.ContextSources).
type Sources struct {
	all bool
	pm  *patternmatcher.PatternMatcher
}

// NewSources matches the files below sources. A source of the whole
// context ("." or "/"), with a variable, or that is not a valid pattern
// reads every file.
func NewSources(sources []string) Sources {
	var patterns []string
	for _, s := range sources {
		s = strings.TrimPrefix(filepath.ToSlash(filepath.Clean("/"+s)), "/")
		if s == "" || strings.Contains(s, "$") {
			return Sources{all: true}
		}
		patterns = append(patterns, s)
	}
	if len(patterns) == 0 {
		return Sources{}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return Sources{all: true}
	}
	return Sources{pm: pm}
}

// Reads reports whether a COPY or ADD reads the file (rel is relative to
// the context): it is a source, or below a source folder.
func (s Sources) Reads(rel string) bool {
	if s.all {
		return true
	}
	if s.pm == nil {
		return false
	}
	ok, _ := s.pm.MatchesOrParentMatches(rel)
	return ok
}

// ReadsAny reports whether one of the changed paths is a file of the
// context that is sent (not left out by .dockerignore) and read by
// sources.
func (c *Context) ReadsAny(sources Sources, paths []string) bool {
	for _, path := range paths {
		if rel, ok := c.Rel(path); ok && !c.Ignored(rel) && sources.Reads(rel) {
			return true
		}
	}
	return false
}
