package engine

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/stagescope/stagescope/buildgraph"
)

// WideContext is a local build context that is the filesystem root or the
// user's home folder: sending it would upload everything under it, so the
// user confirms first.
type WideContext struct {
	// Name is the named build context, "" for the main one.
	Name string
	// Dir is the folder as the user gave it.
	Dir string
	// What says what the folder is: "the filesystem root", "your home folder".
	What string
	// dockerfile is the Dockerfile, for <Dockerfile>.dockerignore.
	dockerfile string
}

// Label names the context in a sentence: "build context /root" or
// `build context "src" /root`.
func (w WideContext) Label() string {
	if w.Name == "" {
		return "build context " + w.Dir
	}
	return fmt.Sprintf("build context %q %s", w.Name, w.Dir)
}

// WideContexts returns the local contexts of req that are the filesystem
// root or the home folder.
func WideContexts(req BuildRequest) []WideContext {
	var out []WideContext
	if what := wide(req.ContextDir); what != "" {
		out = append(out, WideContext{Dir: req.ContextDir, What: what, dockerfile: req.DockerfilePath()})
	}
	for _, name := range sortedKeys(req.Contexts) {
		v := req.Contexts[name]
		if strings.Contains(v, "://") {
			continue
		}
		if what := wide(v); what != "" {
			out = append(out, WideContext{Name: name, Dir: v, What: what})
		}
	}
	return out
}

func wide(dir string) string {
	d := realPath(dir)
	if d == "" {
		return ""
	}
	if d == string(filepath.Separator) {
		return "the filesystem root"
	}
	if home, err := os.UserHomeDir(); err == nil && realPath(home) == d {
		return "your home folder"
	}
	return ""
}

func realPath(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}

// CountTime bounds how long a wide context is counted before the user is
// asked: a home folder may hold millions of files, and a lower bound is
// enough to decide.
const CountTime = 2 * time.Second

// ContextSize is how much a build context would send.
type ContextSize struct {
	Bytes int64
	Files int
	// Complete is false when counting stopped before the end (the context
	// was cancelled): the numbers are then a lower bound.
	Complete bool
}

// String says it in words: "3.2GB in 41,230 files", or "at least …".
func (s ContextSize) String() string {
	files := "files"
	if s.Files == 1 {
		files = "file"
	}
	out := fmt.Sprintf("%s in %s %s", buildgraph.HumanSize(s.Bytes), thousands(s.Files), files)
	if !s.Complete {
		out = "at least " + out
	}
	return out
}

// Count adds up the regular files the context would send, honouring its
// .dockerignore (and <Dockerfile>.dockerignore for the main context, which
// takes precedence as in BuildKit). It stops when ctx is done: a home folder
// can hold millions of files, so callers give it a deadline.
func (w WideContext) Count(ctx context.Context) ContextSize {
	root := realPath(w.Dir)
	pm := ignorePatterns(root, w.dockerfile)
	var size ContextSize
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || path == root {
			return nil // unreadable entries are not sent either
		}
		rel, rerr := filepath.Rel(root, path)
		if rerr != nil {
			return nil
		}
		if pm != nil {
			if ok, _ := pm.MatchesOrParentMatches(filepath.ToSlash(rel)); ok {
				if d.IsDir() && !pm.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size.Bytes += info.Size()
				size.Files++
			}
		}
		return nil
	})
	size.Complete = err == nil
	return size
}

func ignorePatterns(root, dockerfile string) *patternmatcher.PatternMatcher {
	var files []string
	if dockerfile != "" {
		files = append(files, dockerfile+".dockerignore")
	}
	files = append(files, filepath.Join(root, ".dockerignore"))
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil
		}
		return pm
	}
	return nil
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
