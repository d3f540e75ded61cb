package engine_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/layercheck"
	"github.com/stagescope/stagescope/internal/testengine"
)

var recordHistories = flag.Bool("record-histories", false,
	"write the measured layers of TestAttributionBaseForms to buildgraph/testdata/histories")

// An example built for attribution: the bases it needs and its targets,
// built together in one session.
type attributionExample struct {
	dir     string
	bases   map[string]string // context key → offline base name
	targets []attributionTarget
}

type attributionTarget struct {
	name   string   // "" for the last stage
	copied string   // path of the file COPY --from=builder brings ("" if none)
	rows   []string // keywords of the target chain's own history entries
}

var attributionExamples = []attributionExample{
	{dir: "hello-multistage", bases: map[string]string{"golang": "golang"}, targets: []attributionTarget{
		{name: "builder", rows: []string{"WORKDIR", "COPY", "RUN"}},
		{copied: "/app/hello", rows: []string{"WORKDIR", "COPY", "ENTRYPOINT"}},
	}},
	{dir: "java-multistage", bases: map[string]string{"eclipse-temurin:17-jdk": "jdk17", "eclipse-temurin:17-jre": "jre17"},
		targets: []attributionTarget{
			{name: "builder", rows: []string{"WORKDIR", "COPY", "RUN", "RUN"}},
			{name: "runtime", copied: "/app/HelloWorld.jar", rows: []string{"WORKDIR", "COPY", "CMD"}},
		}},
	{dir: "java-single-stage", bases: map[string]string{"eclipse-temurin:17-jdk": "jdk17"}, targets: []attributionTarget{
		{rows: []string{"WORKDIR", "COPY", "RUN", "CMD"}},
	}},
}

// The layer rows of the Java and Go examples name the instruction that made
// each layer, and "copied from builder" is the size of the jar or the binary,
// whatever form the base takes: a folder (one layer BuildKit makes without
// a history entry, which its exporter appends last), an OCI layout, an
// image in Docker's store, or scratch (the Go example's final stage).
func TestAttributionBaseForms(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	if raceDetector {
		// Minutes of builds whose work is the engine's; the normal pass
		// ran them, and the race pass has nothing of ours to find there.
		t.Skip("long end-to-end builds run in the normal pass only")
	}
	forms := map[engine.Kind][]string{
		engine.KindBuildKit: {"folder", "oci-layout"},
		engine.KindDocker:   {"folder", "docker-image"},
	}
	for _, kind := range []engine.Kind{engine.KindBuildKit, engine.KindDocker} {
		t.Run(string(kind), func(t *testing.T) {
			var e *engine.Engine
			if kind == engine.KindBuildKit {
				e = connect(t, engine.Options{Addr: testengine.BuildKit(t)})
			} else {
				e = connect(t, engine.Options{DockerHost: testengine.Docker(t)})
			}
			for _, form := range forms[kind] {
				for _, ex := range attributionExamples {
					t.Run(form+"/"+ex.dir, func(t *testing.T) { checkAttribution(t, e, form, ex) })
				}
			}
		})
	}
}

func baseValue(t *testing.T, form, name string) string {
	t.Helper()
	folder := func() string {
		if name == "jdk17" || name == "jre17" {
			return testengine.JavaBases(t)[name]
		}
		return testengine.Bases(t)[name]
	}
	switch form {
	case "folder":
		return folder()
	case "oci-layout":
		folder() // assembled first: the layout is packed from it
		return testengine.OCIBase(t, name)
	default:
		folder()
		return testengine.DockerBase(t, name)
	}
}

func checkAttribution(t *testing.T, e *engine.Engine, form string, ex attributionExample) {
	dir := filepath.Join(testengine.RepoRoot(), "examples", ex.dir)
	contexts := map[string]string{}
	for key, base := range ex.bases {
		contexts[key] = baseValue(t, form, base)
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := buildgraph.Parse(df, buildgraph.Options{Filename: "Dockerfile", Contexts: contexts, SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	// The targets of an example in one session: the context and a folder
	// base are sent once, and the steps they share run once.
	reqs := make([]engine.BuildRequest, len(ex.targets))
	for i, tg := range ex.targets {
		name := tg.name
		if name == "" {
			name = "final"
		}
		reqs[i] = engine.BuildRequest{ContextDir: dir, Target: tg.name, Contexts: contexts, Keep: true,
			Tags: []string{"stagescope-test/attribution-" + ex.dir + "-" + name + ":" + form}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	results, errs := e.BuildAll(ctx, reqs, nil)
	for i, tg := range ex.targets {
		if errs[i] != nil {
			t.Fatalf("build %s: %v", tg.name, errs[i])
		}
		target := tg.name
		if target == "" {
			target = g.Stages[len(g.Stages)-1].Name
		}
		t.Run(target, func(t *testing.T) {
			checkTarget(t, e, g, form, ex.dir, target, tg, results[i], reqs[i].Tags[0], contexts)
		})
	}
}

func checkTarget(t *testing.T, e *engine.Engine, g *buildgraph.Graph, form, example, target string, tg attributionTarget, res *engine.Result, tag string, contexts map[string]string) {
	ctx := context.Background()
	size, err := e.Measure(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	raw := append([]buildgraph.Layer(nil), size.Layers...)
	var copied int64
	if tg.copied != "" {
		if copied, err = fileSize(ctx, e, res, tag, tg.copied); err != nil {
			t.Fatalf("size of %s in the image: %v", tg.copied, err)
		}
	}
	if *recordHistories {
		rec := layercheck.Recorded{
			Engine: string(e.Kind), Form: form, Example: example, Target: target,
			Contexts: map[string]string{}, Layers: raw, CopiedBytes: copied, Rows: tg.rows,
		}
		for key, v := range contexts { // the form, without this machine's paths
			rec.Contexts[key] = strings.Replace(v, filepath.Dir(v), "/bases", 1)
		}
		data, _ := json.MarshalIndent(rec, "", "  ")
		out := filepath.Join(testengine.RepoRoot(), "buildgraph", "testdata", "histories",
			fmt.Sprintf("%s-%s-%s-%s.json", e.Kind, example, target, form))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := buildgraph.Attribute(g, target, size)
	for _, msg := range layercheck.Check(size, b, tg.rows, copied) {
		t.Error(msg)
	}
	if t.Failed() {
		for _, l := range raw {
			t.Logf("recorded: empty=%v size=%d %q %q", l.Empty, l.Size, l.CreatedBy, l.Comment)
		}
		for _, l := range size.Layers {
			t.Logf("attributed: base=%v size=%d %s line %d %q", l.Base, l.Size, l.StageName, l.Line, l.Instruction)
		}
	}
}

// fileSize is the size of path in the image, read apart from its history.
func fileSize(ctx context.Context, e *engine.Engine, res *engine.Result, tag, path string) (int64, error) {
	if e.Kind != engine.KindDocker {
		return engine.FileSizeInContent(ctx, e, res, path)
	}
	out, err := exec.Command("docker", "create", tag).Output()
	if err != nil {
		return 0, fmt.Errorf("docker create: %w", err)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", id).Run()
	data, err := exec.Command("docker", "cp", id+":"+path, "-").Output()
	if err != nil {
		return 0, fmt.Errorf("docker cp: %w", err)
	}
	h, err := tar.NewReader(bytes.NewReader(data)).Next()
	if err != nil {
		return 0, err
	}
	return h.Size, nil
}
