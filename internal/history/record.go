package history

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
)

// SchemaVersion is the version of the records this stagescope writes and
// reads, in the store and in `stagescope history --format json`. A store
// written with a higher version is left alone.
const SchemaVersion = 1

// Record is one target built: what was asked, on which engine, what every
// step did and, when the image was measured, its size and layers. Values
// of secrets are never part of it, and build arguments whose names look
// like secrets are redacted.
type Record struct {
	// ID is 32 hex digits; any unique prefix names the record.
	ID string `json:"id"`
	// Time is when the build started; Finished when its outcome was known.
	Time     time.Time `json:"time"`
	Finished time.Time `json:"finished,omitzero"`
	Engine   Engine    `json:"engine"`
	// Dockerfile is the absolute path of the Dockerfile, DockerfileDigest
	// the sha256 of its text as built.
	Dockerfile       string `json:"dockerfile"`
	DockerfileDigest string `json:"dockerfileDigest,omitempty"`
	Target           string `json:"target"`
	// Bake is the bake target that asked for the build (compare --bake),
	// "" for other builds: bake targets of one Dockerfile and stage with
	// different arguments each have their own "last time".
	Bake     string `json:"bake,omitempty"`
	Platform string `json:"platform,omitempty"`
	// BuildArgs are --build-arg values; those of names like TOKEN or
	// PASSWORD are Redacted.
	BuildArgs map[string]string `json:"buildArgs,omitempty"`
	// Contexts are the named contexts, NAME → folder or reference.
	Contexts map[string]string `json:"contexts,omitempty"`
	// Secrets and SSH are the ids given with --secret and --ssh, never
	// where their values came from.
	Secrets []string `json:"secrets,omitempty"`
	SSH     []string `json:"ssh,omitempty"`
	NoCache bool     `json:"noCache,omitempty"`
	// Outcome is succeeded, failed or canceled; Error the build's or the
	// measurement's error, one line.
	Outcome Outcome `json:"outcome"`
	Error   string  `json:"error,omitempty"`
	Image   string  `json:"image,omitempty"`
	// ImageDigest is the digest the engine gave the image stored
	// (engine.Result.Digest): a buildkitd's manifest, Docker's image ID.
	ImageDigest string        `json:"imageDigest,omitempty"`
	Duration    time.Duration `json:"durationNs"`
	// StepsCached of StepsTotal steps of stages came from the cache.
	StepsCached int `json:"stepsCached"`
	StepsTotal  int `json:"stepsTotal"`
	// Steps are every vertex of the build, of stages and of none, in the
	// order the engine first reported them.
	Steps []Step `json:"steps"`
	// Size is the measured image with its layers, attributed to the
	// Dockerfile; nil when the build was not measured.
	Size      *buildgraph.ImageSize `json:"size,omitempty"`
	Breakdown *buildgraph.Breakdown `json:"breakdown,omitempty"`
	// Migrated records come from the results.json of earlier versions:
	// a size and a time, no steps.
	Migrated bool `json:"migrated,omitempty"`
}

// Engine is the engine a build ran on.
type Engine struct {
	Kind    string `json:"kind"`
	Address string `json:"address,omitempty"`
	Version string `json:"version,omitempty"`
}

// Outcome is how a build ended.
type Outcome string

const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Canceled  Outcome = "canceled"
)

// Step is one vertex of a recorded build.
type Step struct {
	// Vertex is the vertex digest; Inputs the digests of the vertices it
	// takes as inputs (client.Vertex.Inputs).
	Vertex string   `json:"vertex"`
	Inputs []string `json:"inputs,omitempty"`
	// Stage is the index of the Dockerfile stage the step belongs to, -1
	// for none ([internal] load…, exporting); StageName its name.
	Stage     int    `json:"stage"`
	StageName string `json:"stageName,omitempty"`
	// Line is the Dockerfile line of the instruction, 0 when unknown.
	Line int `json:"line,omitempty"`
	// Name is the vertex name as BuildKit sent it, Text without its
	// bracketed prefix.
	Name      string    `json:"name"`
	Text      string    `json:"text"`
	Started   time.Time `json:"started,omitzero"`
	Completed time.Time `json:"completed,omitzero"`
	Cached    bool      `json:"cached"`
	// State is waiting, running, cached, done, error or canceled
	// (buildgraph.StepState).
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Facts are what the step's instruction depends on (text, build
	// arguments, base, context files), kept to say why it runs in the
	// next build; absent for vertices of no instruction and in records of
	// earlier versions.
	Facts *buildgraph.StepFacts `json:"facts,omitempty"`
	// Why is why the step ran instead of coming from the cache; absent
	// for steps that did not run.
	Why *buildgraph.Reason `json:"why,omitempty"`
}

// Summary is what a list of records shows of one: kept beside the record
// so that listing thousands reads no steps.
type Summary struct {
	ID          string        `json:"id"`
	Time        time.Time     `json:"time"`
	Engine      string        `json:"engine"`
	Dockerfile  string        `json:"dockerfile"`
	Target      string        `json:"target"`
	Bake        string        `json:"bake,omitempty"`
	Outcome     Outcome       `json:"outcome"`
	Error       string        `json:"error,omitempty"`
	Duration    time.Duration `json:"durationNs"`
	StepsCached int           `json:"stepsCached"`
	StepsTotal  int           `json:"stepsTotal"`
	// Uncompressed and Compressed are the image's sizes, set when it was
	// measured (buildgraph.Unknown when the store could not tell).
	Uncompressed *int64 `json:"uncompressed,omitempty"`
	Compressed   *int64 `json:"compressed,omitempty"`
	Migrated     bool   `json:"migrated,omitempty"`
	// Platform is the record's --platform ("" for the engine's; the list
	// for several). Platforms are the sizes of each platform's image of an
	// image index the build made, in the index's order (the index's first
	// image is Uncompressed and Compressed); absent for an image alone.
	Platform  string         `json:"platform,omitempty"`
	Platforms []PlatformSize `json:"platforms,omitempty"`
}

// PlatformSize is the size of one platform's image of an image index.
type PlatformSize struct {
	Platform     string `json:"platform"`
	Uncompressed int64  `json:"uncompressed"`
	Compressed   int64  `json:"compressed"`
}

// Summary is the record's line in a list.
func (r *Record) Summary() Summary {
	s := Summary{
		ID: r.ID, Time: r.Time, Engine: r.Engine.Kind, Dockerfile: r.Dockerfile, Target: r.Target, Bake: r.Bake,
		Outcome: r.Outcome, Error: r.Error, Duration: r.Duration,
		StepsCached: r.StepsCached, StepsTotal: r.StepsTotal, Migrated: r.Migrated, Platform: r.Platform,
	}
	if r.Size != nil {
		u, c := r.Size.Uncompressed, r.Size.Compressed
		s.Uncompressed, s.Compressed = &u, &c
		for _, p := range r.Size.Platforms {
			if p != nil {
				s.Platforms = append(s.Platforms, PlatformSize{Platform: p.Platform, Uncompressed: p.Uncompressed, Compressed: p.Compressed})
			}
		}
	}
	return s
}

// platformSizes are the sizes of the platforms' images the record
// measured, platforms normalized: an image index's, or the image of a
// build for one platform given with --platform. A build for the engine's
// default platform names none.
func (s *Summary) platformSizes() []PlatformSize {
	if s.Uncompressed == nil || s.Compressed == nil {
		return nil
	}
	if len(s.Platforms) > 0 {
		out := make([]PlatformSize, 0, len(s.Platforms))
		for _, p := range s.Platforms {
			if name, ok := buildgraph.NormalizePlatform(p.Platform); ok {
				p.Platform = name
				out = append(out, p)
			}
		}
		return out
	}
	if name, ok := buildgraph.NormalizePlatform(s.Platform); ok {
		return []PlatformSize{{Platform: name, Uncompressed: *s.Uncompressed, Compressed: *s.Compressed}}
	}
	return nil
}

// Redacted replaces the value of a build argument whose name looks like a
// secret's.
const Redacted = buildgraph.Redacted

// SecretLike reports whether a build argument's name looks like a secret's.
func SecretLike(name string) bool { return buildgraph.SecretLike(name) }

// RedactArgs copies build arguments with the values of secret-like names
// replaced by Redacted, and a password in any URL's user information too
// (RedactURL).
func RedactArgs(args map[string]string) map[string]string {
	if len(args) == 0 {
		return nil
	}
	out := make(map[string]string, len(args))
	for k, v := range args {
		out[k] = buildgraph.RedactArg(k, v)
	}
	return out
}

// RedactContexts copies named contexts with RedactURL applied to each
// value (a Git URL can carry a token).
func RedactContexts(contexts map[string]string) map[string]string {
	if len(contexts) == 0 {
		return nil
	}
	out := make(map[string]string, len(contexts))
	for k, v := range contexts {
		out[k] = RedactURL(v)
	}
	return out
}

// RedactURL replaces the password of a URL's user information, or a user
// name given alone (often a token), with Redacted; any other value is
// returned as it is.
func RedactURL(v string) string { return buildgraph.RedactURL(v) }

// NewID makes a record id: 32 random hex digits.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported systems; a clock-based
		// id is unique enough should it.
		sum := sha256.Sum256([]byte(time.Now().String()))
		copy(b[:], sum[:])
	}
	return hex.EncodeToString(b[:])
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// CriticalPath is the record's critical path and what each stage cost
// the build (buildgraph.Critical); steps still running when the record
// was made end when the build did.
func (r *Record) CriticalPath() buildgraph.CriticalPath {
	steps := make([]buildgraph.TimedStep, 0, len(r.Steps))
	for _, s := range r.Steps {
		steps = append(steps, buildgraph.TimedStep{Vertex: s.Vertex, Inputs: s.Inputs, Stage: s.Stage,
			Started: s.Started, Completed: s.Completed, Cached: s.Cached})
	}
	var end time.Time
	if r.Duration > 0 {
		end = r.Time.Add(r.Duration)
	}
	return buildgraph.Critical(steps, end)
}
