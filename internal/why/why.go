package why

import (
	"context"
	"regexp"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/internal/history"
)

// Facts are the facts of every step a build of target runs, with build
// arguments redacted as records keep them (secret-like names, passwords in
// URLs) and the digests of the context files each step reads. Secrets
// (--secret) are never read. The digests are remembered in CacheDir.
func Facts(ctx context.Context, g *buildgraph.Graph, target string, buildArgs map[string]string, contextDir, dockerfile string) ([]buildgraph.StageFacts, error) {
	facts, err := StepFacts(g, target, buildArgs)
	if err != nil {
		return nil, err
	}
	FilesCached(ctx, contextDir, dockerfile, facts, CacheDir())
	return facts, nil
}

// StepFacts are Facts without the context files (Digests.Fill adds them).
func StepFacts(g *buildgraph.Graph, target string, buildArgs map[string]string) ([]buildgraph.StageFacts, error) {
	facts, err := g.Facts(target, buildArgs)
	if err != nil {
		return nil, err
	}
	for si := range facts {
		for fi := range facts[si].Steps {
			f := &facts[si].Steps[fi]
			if len(f.Args) > 0 {
				f.Args = history.RedactArgs(f.Args)
			}
		}
	}
	ociDigests(facts)
	return facts, nil
}

// FileLists finds the lists of files a record keeps by digest
// (history.Store.LoadFiles).
type FileLists interface {
	LoadFiles(r *history.Record, want func(digest string) bool) error
}

// LoadPrevious puts back into prev, from lists, the lists of files that
// differ from those of facts: only they are compared file by file. Lists
// that cannot be read leave their steps' files unknown (FilesError), never
// a change guessed.
func LoadPrevious(lists FileLists, prev *history.Record, facts []buildgraph.StageFacts) {
	if prev == nil || lists == nil {
		return
	}
	type at struct {
		stage string
		pos   int
	}
	cur := map[at]string{}
	for _, sf := range facts {
		for _, f := range sf.Steps {
			cur[at{sf.Name, f.Position}] = f.FilesDigest
		}
	}
	need := map[string]bool{}
	for _, s := range prev.Steps {
		if f := s.Facts; f != nil && f.FilesDigest != "" && f.Files == nil && cur[at{s.StageName, f.Position}] != f.FilesDigest {
			need[f.FilesDigest] = true
		}
	}
	if len(need) == 0 {
		return
	}
	if err := lists.LoadFiles(prev, func(d string) bool { return need[d] }); err != nil {
		for i := range prev.Steps {
			if f := prev.Steps[i].Facts; f != nil && need[f.FilesDigest] && f.Files == nil {
				f.FilesError = err.Error()
			}
		}
	}
}

// Previous are the steps of a recorded build as the comparison sees them:
// those with facts, completed or not.
func Previous(rec *history.Record) []buildgraph.WhyStep {
	if rec == nil {
		return nil
	}
	var out []buildgraph.WhyStep
	for _, s := range rec.Steps {
		if s.Facts == nil {
			continue
		}
		done := s.State == string(buildgraph.StepCached) || s.State == string(buildgraph.StepDone)
		out = append(out, buildgraph.WhyStep{Stage: s.StageName, Text: s.Text, Ran: done, Facts: *s.Facts})
	}
	return out
}

// Step is a step of the current build: its facts and the vertices
// BuildKit ran for it.
type Step struct {
	buildgraph.WhyStep
	Vertices []digest.Digest
}

var baseDigest = regexp.MustCompile(`@(sha256:[0-9a-f]{64})`)

// Match pairs the facts of each step with the vertices of the build's
// progress that ran its instruction (by stage and line). A step ran when
// one of its vertices started and did not come from the cache. The
// digest of an image base that the FROM step names is added to the
// facts.
func Match(p *buildgraph.Progress, facts []buildgraph.StageFacts) []Step {
	var out []Step
	for _, sf := range facts {
		var sp *buildgraph.StageProgress
		if sf.Stage >= 0 && sf.Stage < len(p.Stages) {
			sp = p.Stages[sf.Stage]
		}
		digestOf := ""
		if sp != nil {
			for _, st := range sp.Steps {
				if strings.HasPrefix(st.Text, "FROM ") {
					if m := baseDigest.FindStringSubmatch(st.Text); m != nil {
						digestOf = m[1]
					}
				}
			}
		}
		for _, f := range sf.Steps {
			s := Step{WhyStep: buildgraph.WhyStep{Stage: sf.Name, Text: f.Instruction, Facts: f}}
			if strings.HasPrefix(f.Base, "image:") {
				s.Facts.BaseDigest = digestOf
			}
			if sp != nil {
				for _, st := range sp.Steps {
					if st.Line != f.Line || strings.HasPrefix(st.Text, "FROM ") || strings.HasPrefix(st.Text, "ONBUILD ") {
						continue
					}
					if len(s.Vertices) == 0 && st.Text != "" {
						s.Text = st.Text
					}
					s.Vertices = append(s.Vertices, st.Vertex)
					if !st.Cached() && !st.Started.IsZero() {
						s.Ran = true
					}
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// Explain says why each step of the build that ran did, compared with
// prev, the last record of the target (nil when none): the reason of each
// vertex that ran, and the facts of each vertex of an instruction, to be
// kept in this build's record.
func Explain(prev *history.Record, steps []Step, noCache bool) (map[digest.Digest]*buildgraph.Reason, map[digest.Digest]*buildgraph.StepFacts) {
	cur := make([]buildgraph.WhyStep, len(steps))
	for i, s := range steps {
		cur[i] = s.WhyStep
	}
	rs := buildgraph.Reasons(Previous(prev), prev != nil, cur, noCache)
	reasons := map[digest.Digest]*buildgraph.Reason{}
	facts := map[digest.Digest]*buildgraph.StepFacts{}
	for i, s := range steps {
		f := s.Facts
		for _, v := range s.Vertices {
			facts[v] = &f
			if rs[i] != nil {
				reasons[v] = rs[i]
			}
		}
	}
	return reasons, facts
}

// Prediction is a step that will run, and why.
type Prediction struct {
	Stage string
	Line  int
	Text  string
	Why   *buildgraph.Reason
}

// Predict says which steps of a build with facts will run after the build
// prev recorded (nil when none), and why; the other steps are expected
// from the cache, unless the engine lost it.
func Predict(prev *history.Record, facts []buildgraph.StageFacts, noCache bool) []Prediction {
	var cur []buildgraph.WhyStep
	for _, sf := range facts {
		for _, f := range sf.Steps {
			cur = append(cur, buildgraph.WhyStep{Stage: sf.Name, Text: f.Instruction, Facts: f})
		}
	}
	rs := buildgraph.Predict(Previous(prev), prev != nil, cur, noCache)
	var out []Prediction
	for i, r := range rs {
		if r != nil {
			out = append(out, Prediction{Stage: cur[i].Stage, Line: cur[i].Facts.Line, Text: cur[i].Text, Why: r})
		}
	}
	return out
}
