package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/watch"
)

// KeptReader is a Session that finds again an image an earlier build
// stored (a Session of Connect does: engine.Engine.Kept).
type KeptReader interface {
	Kept(ctx context.Context, ref, digest string) (*engine.Result, bool)
}

// Current is what CurrentImage found: the image of an earlier build that
// is still what building plan would make, or why there is none.
type Current struct {
	// Result is the image to read, nil when plan must be built.
	Result *engine.Result
	// Record is the build that made it.
	Record *history.Record
	// Why says, when Result is nil, why the target must be built.
	Why string
}

// currentLookback is how many records of a target CurrentImage reads the
// summaries of to find the newest successful build on this engine.
const currentLookback = 50

// CurrentImage looks in the records for the newest successful build of
// plan's target on this engine (same kind and address) and says whether
// its image is still what building plan would make: the same Dockerfile
// text, build arguments, named contexts and platform; no --no-cache,
// --secret or --ssh (what secrets held is not recorded); no file or folder
// of the build context or of a folder given as a named context changed
// since that build started (by change time, which a copy that keeps old
// modification times still sets); and the engine still holds the image
// (engine.Engine.Kept). A base image named by a reference is not looked up
// again. Nothing here builds.
func CurrentImage(ctx context.Context, s Session, h History, plan *Plan) Current {
	rs, ok := h.(Records)
	if !ok {
		return Current{Why: "no build records are kept"}
	}
	kr, ok := s.(KeptReader)
	if !ok {
		return Current{Why: "this engine session cannot find earlier images"}
	}
	req := plan.Request
	switch {
	case req.NoCache:
		return Current{Why: "--no-cache asks for a build"}
	case len(req.Secrets) > 0 || len(req.SSH) > 0:
		return Current{Why: "a build with --secret or --ssh is always run again (what they held is not recorded)"}
	}
	eng := engineFor(s, req.Platform)
	file := ""
	if plan.Project != nil {
		file = plan.Project.Dockerfile
	}
	sums, err := rs.List(history.Filter{Dockerfile: file, Target: plan.Target, Limit: currentLookback})
	if err != nil {
		return Current{Why: "the build records cannot be read: " + err.Error()}
	}
	var rec *history.Record
	for _, sm := range sums {
		if sm.Outcome != history.Succeeded || sm.Engine != eng.Kind {
			continue
		}
		r, err := rs.Get(sm.ID)
		if err != nil || r.Engine.Kind != eng.Kind || r.Engine.Address != eng.Address {
			continue
		}
		rec = r
		break
	}
	if rec == nil {
		return Current{Why: "no earlier build of " + plan.Target + " on this engine is recorded"}
	}
	if why := sameInputs(rec, plan); why != "" {
		return Current{Record: rec, Why: why}
	}
	if why := changedSince(rec.Time, plan); why != "" {
		return Current{Record: rec, Why: why}
	}
	res, ok := kr.Kept(ctx, rec.Image, rec.ImageDigest)
	if !ok {
		return Current{Record: rec, Why: "the engine no longer holds the image of the last build"}
	}
	return Current{Result: res, Record: rec}
}

// sameInputs says what differs between the inputs of rec and plan, "" when
// nothing does.
func sameInputs(rec *history.Record, plan *Plan) string {
	req := plan.Request
	src := req.DockerfileSource
	if plan.Project != nil {
		src = plan.Project.Source
	}
	args := history.RedactArgs(req.BuildArgs)
	switch {
	case rec.ImageDigest == "" || rec.Image == "":
		return "the last build's record does not say which image it stored"
	case rec.DockerfileDigest != dockerfileDigest(src):
		return "the Dockerfile changed since the last build"
	case rec.Platform != req.Platform:
		return "the platform differs from the last build's"
	case !maps.Equal(rec.BuildArgs, args):
		return "the build arguments differ from the last build's"
	case slices.Contains(slices.Collect(maps.Values(args)), history.Redacted):
		return "a build argument that looks like a secret is not recorded, so it cannot be compared"
	case !maps.Equal(rec.Contexts, history.RedactContexts(req.Contexts)):
		return "the named contexts differ from the last build's"
	case len(rec.Secrets) > 0 || len(rec.SSH) > 0:
		return "the last build used --secret or --ssh"
	}
	return ""
}

// dockerfileDigest is a Dockerfile's digest as records keep it.
func dockerfileDigest(src []byte) string {
	sum := sha256.Sum256(src)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// changedSince names the first file or folder of plan's local inputs (the
// build context, folders given as named contexts, the Dockerfile's own
// .dockerignore) changed after t, "" when none is. What the context's
// .dockerignore leaves out is not sent and not looked at: a folder no
// pattern takes files back from is skipped whole (.git, node_modules). A
// folder's own time, which an entry added or removed sets, still counts
// for every folder that is sent, the context's root included.
func changedSince(t time.Time, plan *Plan) string {
	req := plan.Request
	var sent *watch.Context
	if req.ContextDir != "" {
		// A .dockerignore that cannot be read leaves nothing out here:
		// the build will say what is wrong with it.
		sent, _ = watch.ReadContext(req.ContextDir, req.Dockerfile)
	}
	var roots []string
	if req.ContextDir != "" {
		roots = append(roots, req.ContextDir)
	}
	for _, name := range slices.Sorted(maps.Keys(req.Contexts)) {
		if dir, ok := localContext(req.Contexts[name]); ok {
			roots = append(roots, dir)
		}
	}
	if req.Dockerfile != "" {
		roots = append(roots, req.Dockerfile+".dockerignore")
	}
	errChanged := errors.New("changed")
	for _, root := range roots {
		var changed string
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == root {
					return nil
				}
				changed = p + " cannot be read"
				return errChanged
			}
			if sent != nil && root == req.ContextDir {
				if rel, ok := sent.Rel(p); ok && sent.Ignored(rel) {
					if !d.IsDir() {
						return nil
					}
					if sent.SkipDir(p) {
						return fs.SkipDir
					}
				}
			}
			info, err := d.Info()
			if err != nil {
				return nil // gone while walking: its folder's time says so
			}
			if info.ModTime().After(t) || changeTime(info).After(t) {
				changed = p
				return errChanged
			}
			return nil
		})
		if err != nil {
			if changed == "" {
				changed = root
			}
			return changed + " changed since the last build"
		}
	}
	return ""
}

// localContext is the folder a named context's value names, when it is a
// local one: a folder, or an OCI layout (oci-layout://PATH[:TAG][@DIGEST]).
func localContext(v string) (string, bool) {
	if rest, ok := strings.CutPrefix(v, "oci-layout://"); ok {
		rest, _, _ = strings.Cut(rest, "@")
		if st, err := os.Stat(rest); err == nil && st.IsDir() {
			return rest, true
		}
		if i := strings.LastIndex(rest, ":"); i > 0 {
			rest = rest[:i]
		}
		st, err := os.Stat(rest)
		return rest, err == nil && st.IsDir()
	}
	if strings.Contains(v, "://") {
		return "", false
	}
	st, err := os.Stat(v)
	return v, err == nil && st.IsDir()
}
