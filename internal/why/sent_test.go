package why

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"

	"github.com/stagescope/stagescope/buildgraph"
)

// upload lists what BuildKit's context upload sends for a filter: the
// folder walked by fsutil under the filter, owners reset to root as
// BuildKit's client does, each entry recorded by the filter's Map as the
// engine records it.
func upload(t testing.TB, dir string, include, exclude []string) Sent {
	t.Helper()
	base, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	base, err = fsutil.NewFilterFS(base, &fsutil.FilterOpt{Map: func(_ string, st *types.Stat) fsutil.MapResult {
		st.Uid, st.Gid = 0, 0
		return fsutil.MapResultKeep
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := Sent{IncludePatterns: include, ExcludePatterns: exclude}
	sent, err := fsutil.NewFilterFS(base, &fsutil.FilterOpt{IncludePatterns: include, ExcludePatterns: exclude,
		Map: func(_ string, st *types.Stat) fsutil.MapResult {
			s.Entries = append(s.Entries, &types.Stat{Path: st.Path, Mode: st.Mode, Size: st.Size, ModTime: st.ModTime, Linkname: st.Linkname})
			return fsutil.MapResultKeep
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sent.Walk(context.Background(), "/", func(string, fs.DirEntry, error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	return s
}

// A generated context: folders, files and links, a .dockerignore with
// exceptions, and steps reading folders, files and patterns.
func generated(t *testing.T, r *rand.Rand) (string, [][]string) {
	dir := t.TempDir()
	names := []string{"a", "b", "src", "src.bak", "x.go", "y.txt", "node_modules", "lib", "z", "a.b"}
	var files []string
	var walk func(prefix string, depth int)
	walk = func(prefix string, depth int) {
		for _, n := range names {
			p := filepath.Join(prefix, n)
			switch k := r.IntN(6); {
			case k == 0 && depth < 3:
				if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
					t.Fatal(err)
				}
				walk(p, depth+1)
			case k == 1:
				if err := os.Symlink(n+"-target", filepath.Join(dir, p)); err != nil {
					t.Fatal(err)
				}
				files = append(files, p)
			case k <= 3:
				if err := os.WriteFile(filepath.Join(dir, p), fmt.Appendf(nil, "%s %d", p, r.IntN(3)), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, p)
			}
		}
	}
	walk("", 0)
	ignores := []string{"node_modules", "**/*.txt", "!src/y.txt", "*.bak", "a/*/x.go", "lib/**", "!lib/a", "z"}
	var ignore []string
	for _, p := range ignores {
		if r.IntN(3) == 0 {
			ignore = append(ignore, p)
		}
	}
	if len(ignore) > 0 {
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(strings.Join(ignore, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	patterns := []string{".", "src", "a", "a/b", "*.go", "src/*", "lib/a", "b/**/x.go", "missing", "a.b"}
	if len(files) > 0 {
		patterns = append(patterns, filepath.ToSlash(files[r.IntN(len(files))]))
	}
	var reads [][]string
	for range 1 + r.IntN(4) {
		var rs []string
		for range 1 + r.IntN(2) {
			rs = append(rs, patterns[r.IntN(len(patterns))])
		}
		reads = append(reads, rs)
	}
	return dir, reads
}

func stepsReading(reads [][]string) []buildgraph.StageFacts {
	var steps []buildgraph.StepFacts
	for i, rs := range reads {
		steps = append(steps, buildgraph.StepFacts{Position: i + 1, Reads: rs})
	}
	return []buildgraph.StageFacts{{Steps: steps}}
}

// The files of each step listed from what an upload sent are those a walk
// of the folder lists, on generated contexts, whether the upload sent
// everything or only what the steps read.
func TestFilesFromUploadAsWalked(t *testing.T) {
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		dir, reads := generated(t, r)
		exclude, err := Ignore(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		var union []string // as the Dockerfile frontend asks: nothing when a step reads everything
		for _, rs := range reads {
			union = append(union, rs...)
		}
		if slices.Contains(union, ".") {
			union = nil
		}
		for _, include := range [][]string{nil, union} {
			walked := stepsReading(reads)
			Files(context.Background(), dir, "", walked)
			sent := stepsReading(reads)
			OpenDigests(dir, "", "").Fill(context.Background(), sent, []Sent{
				upload(t, dir, []string{".dockerignore"}, nil), // the frontend reading .dockerignore
				upload(t, dir, include, exclude),
			})
			if !reflect.DeepEqual(walked, sent) {
				t.Fatalf("seed %d, upload including %q, reads %q, .dockerignore %q:\nwalked %s\nsent   %s",
					seed, include, reads, exclude, listed(walked), listed(sent))
			}
		}
	}
}

func listed(facts []buildgraph.StageFacts) string {
	var b strings.Builder
	for _, f := range facts[0].Steps {
		fmt.Fprintf(&b, "\n  %q: %s %s", f.Reads, paths(f.Files), f.FilesError)
	}
	return b.String()
}

// The files come from the upload, not from a walk: a file written after
// it is not listed; an upload that does not cover a step (other patterns,
// other exclusions) is not used for it.
func TestFilesFromUploadNotWalked(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{".dockerignore": "*.log\n", "src/a.go": "a", "doc/r.md": "r"})
	sends := []Sent{upload(t, dir, []string{"src"}, []string{"*.log"})}
	writeFiles(t, dir, map[string]string{"src/b.go": "b", "doc/s.md": "s"})
	facts := stepsReading([][]string{{"src"}, {"src/*.go"}, {"doc"}, {"."}})
	OpenDigests(dir, "", "").Fill(context.Background(), facts, sends)
	for i, want := range []string{"src/a.go", "src/a.go", "doc/r.md doc/s.md", ".dockerignore doc/r.md doc/s.md src/a.go src/b.go"} {
		if got := paths(facts[0].Steps[i].Files); got != want {
			t.Errorf("step reading %q: %q, want %q", facts[0].Steps[i].Reads, got, want)
		}
	}
	other := stepsReading([][]string{{"src"}})
	OpenDigests(dir, "", "").Fill(context.Background(), other, []Sent{upload(t, dir, []string{"src"}, nil)})
	if got := paths(other[0].Steps[0].Files); got != "src/a.go src/b.go" {
		t.Errorf("an upload with other exclusions was used: %q", got)
	}
}

func TestWalkOrder(t *testing.T) {
	in := []string{"a.txt", "a/b", "a", "a/b/c", "b", "a-b", "a/a"}
	l := newListFS(func() []*types.Stat {
		var out []*types.Stat
		for _, p := range in {
			out = append(out, &types.Stat{Path: p})
		}
		return out
	}())
	var got []string
	for _, e := range l.entries {
		got = append(got, e.Path)
	}
	if want := "a a/a a/b a/b/c a-b a.txt b"; strings.Join(got, " ") != want {
		t.Errorf("%q, want %s", got, want)
	}
}
