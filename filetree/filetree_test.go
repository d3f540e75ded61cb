package filetree

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

var writeLayers = flag.Bool("write-layers", false, "write the test layers to testdata/layers as tar files")

// ent is one tar entry of a test layer.
type ent struct {
	name string
	typ  byte
	size int64
	link string
	mode int64
}

func reg(name string, size int64) ent {
	return ent{name: name, typ: tar.TypeReg, size: size, mode: 0o644}
}
func dir(name string) ent      { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func sym(name, to string) ent  { return ent{name: name, typ: tar.TypeSymlink, link: to, mode: 0o777} }
func hard(name, to string) ent { return ent{name: name, typ: tar.TypeLink, link: to, mode: 0o644} }
func wh(name string) ent       { return ent{name: name, typ: tar.TypeReg} }

// layerTar is a layer's tar stream, with file data of the sizes given.
func layerTar(t testing.TB, entries ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Size: e.size, Linkname: e.link, Mode: e.mode}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testLayers are the layers of an image that exercise every rule: each is
// also kept as a tar file in testdata/layers (-write-layers rewrites them).
func testLayers(t testing.TB) [][]byte {
	return [][]byte{
		// 0: a base
		layerTar(t,
			dir("bin/"), reg("bin/busybox", 1000), hard("bin/sh", "bin/busybox"), sym("bin/ls", "busybox"),
			dir("etc/"), reg("etc/passwd", 10),
			dir("usr/"), dir("usr/lib/"), reg("usr/lib/a.so", 200), reg("usr/lib/b.so", 300),
			dir("var/"), dir("var/cache/"), reg("var/cache/x", 50), dir("var/cache/sub/"), reg("var/cache/sub/y", 60),
		),
		// 1: RUN writes a big file and odd names
		layerTar(t,
			dir("tmp/"), reg("tmp/big", 10_000),
			reg("tmp/esc\x1b[31mred", 5), reg("tmp/bad\xff\xfename", 7), reg("tmp/tab\tname", 1),
		),
		// 2: RUN rm /tmp/big; overwrites /etc/passwd; rm -rf /usr/lib
		layerTar(t, dir("tmp/"), wh("tmp/.wh.big"), dir("etc/"), reg("etc/passwd", 20), wh(".wh.usr")),
		// 3: the cache directory made opaque: its old contents hidden, a new file in it
		// (the new file before the marker: order in the stream does not matter)
		layerTar(t, dir("var/cache/"), reg("var/cache/new", 3), wh("var/cache/.wh..wh..opq")),
		// 4: COPY --from=builder: a file where a directory was, a dir where a file was
		layerTar(t, reg("app", 4000), reg("var/cache/new/inner", 9)),
	}
}

func testOrigins() []Origin {
	return []Origin{
		{Base: true, Stage: -1, Digest: "sha256:0", CreatedBy: "base"},
		{Stage: 1, StageName: "final", Line: 4, Instruction: "RUN make"},
		{Stage: 1, StageName: "final", Line: 5, Instruction: "RUN rm /tmp/big"},
		{Stage: 1, StageName: "final", Line: 6, Instruction: "RUN clean"},
		{Stage: 1, StageName: "final", Line: 7, Instruction: "COPY --from=builder /app /app", From: "builder"},
	}
}

func testTree(t testing.TB) *Tree {
	t.Helper()
	raw := testLayers(t)
	if w, ok := t.(*testing.T); ok && *writeLayers {
		for i, b := range raw {
			if err := os.MkdirAll("testdata/layers", 0o755); err != nil {
				w.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("testdata/layers", strconv.Itoa(i)+".tar"), b, 0o644); err != nil {
				w.Fatal(err)
			}
		}
	}
	var in []Input
	for i, b := range raw {
		l, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, Input{Origin: testOrigins()[i], Layer: l})
	}
	return Build(in)
}

func TestReadKinds(t *testing.T) {
	l, err := Read(bytes.NewReader(layerTar(t,
		dir("./"), dir("/a/"), reg("a/f", 3), sym("a/s", "../x"), hard("a/h", "/a/f"),
		wh("a/.wh.gone"), wh("a/.wh..wh..opq"), wh("a/.wh..wh.plnk"), wh("a/.wh."), reg("../../esc", 1),
	)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range l.Entries {
		got = append(got, string(e.Kind)+":"+e.Path+">"+e.Link)
	}
	want := []string{"dir:a>", "file:a/f>", "symlink:a/s>../x", "hardlink:a/h>a/f", "whiteout:a/gone>", "opaque:a>", "file:esc>"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("entries\n got %v\nwant %v", got, want)
	}
	if l.Size != 4 {
		t.Errorf("size %d, want 4 (regular files only)", l.Size)
	}
}

func TestReadDamaged(t *testing.T) {
	b := layerTar(t, reg("a", 100))
	if _, err := Read(bytes.NewReader(b[:600])); err == nil {
		t.Error("a truncated layer was read without an error")
	}
}

func TestBuild(t *testing.T) {
	tr := testTree(t)
	cases := []struct {
		path string
		kind Kind
		size int64
		// layer that wrote it; -2: absent
		layer int
	}{
		{"tmp/big", "", 0, -2},
		{"usr", "", 0, -2},
		{"usr/lib/a.so", "", 0, -2},
		{"etc/passwd", File, 20, 2},
		{"bin/sh", Hardlink, 0, 0},
		{"bin/ls", Symlink, 0, 0},
		{"var/cache/x", "", 0, -2},
		{"var/cache/sub", "", 0, -2},
		{"var/cache/new", Dir, 9, 4},
		{"var/cache/new/inner", File, 9, 4},
		{"app", File, 4000, 4},
		{"tmp/esc\x1b[31mred", File, 5, 1},
		{"tmp/bad\xff\xfename", File, 7, 1},
	}
	for _, c := range cases {
		n := tr.Lookup(c.path)
		if c.layer == -2 {
			if n != nil {
				t.Errorf("%q is in the tree, written by layer %d; it was deleted", c.path, n.Layer)
			}
			continue
		}
		if n == nil {
			t.Errorf("%q is missing", c.path)
			continue
		}
		if n.Kind != c.kind || n.Weight() != c.size || n.Layer != c.layer {
			t.Errorf("%q: %s %d B from layer %d, want %s %d B from layer %d", c.path, n.Kind, n.Weight(), n.Layer, c.kind, c.size, c.layer)
		}
	}
	if got := tr.Lookup("bin/sh").Link; got != "bin/busybox" {
		t.Errorf("hard link to %q", got)
	}
	// Hidden: tmp/big 10 kB deleted, etc/passwd 10 B overwritten, usr
	// (500 B in 2 files) deleted, var/cache/x and var/cache/sub (110 B)
	// hidden by the opaque directory, var/cache/new (3 B) overwritten by
	// a directory.
	var want int64 = 10_000 + 10 + 500 + 50 + 60 + 3
	if tr.Wasted != want {
		t.Errorf("wasted %d, want %d; hidden %+v", tr.Wasted, want, tr.Hidden)
	}
	hows := map[string]string{}
	for _, h := range tr.Hidden {
		hows[h.Path] = h.How + " by " + strconv.Itoa(h.By)
	}
	for p, how := range map[string]string{
		"tmp/big": "deleted by 2", "etc/passwd": "overwritten by 2", "usr": "deleted by 2",
		"var/cache/x": "deleted by 3", "var/cache/sub": "deleted by 3", "var/cache/new": "overwritten by 4",
	} {
		if hows[p] != how {
			t.Errorf("%s: %q, want %q", p, hows[p], how)
		}
	}
	if tr.Root.Files != 7 { // regular files: links are not counted
		t.Errorf("%d files, want 7", tr.Root.Files)
	}
}

func TestWastedDeleteAndOverwrite(t *testing.T) {
	big := int64(10 << 20)
	build := func(second []byte) *Tree {
		l1, _ := Read(bytes.NewReader(layerTar(t, dir("data/"), reg("data/blob", big))))
		l2, _ := Read(bytes.NewReader(second))
		return Build([]Input{{Layer: l1}, {Layer: l2}})
	}
	del := build(layerTar(t, dir("data/"), wh("data/.wh.blob")))
	if del.Wasted != big || del.Lookup("data/blob") != nil {
		t.Errorf("deleted: wasted %d, want %d", del.Wasted, big)
	}
	if del.Efficiency != 0 || del.DiveWasted != big {
		t.Errorf("deleted: dive's score %v and wasted %d, want 0 and %d", del.Efficiency, del.DiveWasted, big)
	}
	over := build(layerTar(t, reg("data/blob", 1)))
	if over.Wasted != big || over.Lookup("data/blob").Size != 1 {
		t.Errorf("overwritten: wasted %d, want %d", over.Wasted, big)
	}
	if want := 1 / float64(big+1); over.Efficiency != want || over.DiveWasted != big+1 {
		t.Errorf("overwritten: dive's score %v and wasted %d, want %v and %d", over.Efficiency, over.DiveWasted, want, big+1)
	}
	// A directory deleted is waste here; dive sees its whiteout as the
	// path's only occurrence (the directory was no leaf of the layer that
	// wrote it), so not as waste.
	dd := build(layerTar(t, wh(".wh.data")))
	if dd.Wasted != big || dd.DiveWasted != 0 {
		t.Errorf("directory deleted: wasted %d, dive %d, want %d and 0", dd.Wasted, dd.DiveWasted, big)
	}
}

func TestFilterAndStages(t *testing.T) {
	tr := testTree(t)
	only := tr.Root.Filter(func(n *Node) bool { return n.Layer == 4 })
	if only.Files != 2 || only.Total != 4009 {
		t.Errorf("layer 4: %d files, %d B; want 2, 4009", only.Files, only.Total)
	}
	var got []string
	for _, s := range tr.StageTotals() {
		got = append(got, s.Stage+":"+itoa(s.Files)+":"+itoa(int(s.Bytes))+":"+itoa(int(s.Wasted)))
	}
	want := "base:1:1000:620 final:6:4042:10003"
	if strings.Join(got, " ") != want {
		t.Errorf("stage totals %v, want %s", got, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDiff(t *testing.T) {
	tr := testTree(t)
	l, _ := Read(bytes.NewReader(layerTar(t, reg("app", 4000))))
	final := Build([]Input{{Layer: l}})
	d := Diff(tr, final)
	if d.Find("app") != nil {
		t.Error("app is in both, but in the diff")
	}
	if d.Files != 6 || d.Total != tr.Root.Total-4000 {
		t.Errorf("diff %d files %d B, want 6 and %d", d.Files, d.Total, tr.Root.Total-4000)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain.txt":      "plain.txt",
		"héllo wörld":    "héllo wörld",
		"esc\x1b[31mred": `"esc\x1b[31mred"`,
		"bad\xff":        `"bad\xff"`,
		"tab\tname":      `"tab\tname"`,
		"c1\u009bx":      `"c1\u009bx"`,
		`"quoted"`:       `"\"quoted\""`,
		"new\nline":      `"new\nline"`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTextGolden(t *testing.T) {
	tr := testTree(t)
	v := &View{Image: "example:final", Target: "final", Tree: tr}
	var buf bytes.Buffer
	if err := v.WriteText(&buf, TextOptions{Sort: BySize}); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(buf.Bytes(), 0x1b) {
		t.Error("the text holds an escape character")
	}
	golden.RequireEqual(t, buf.Bytes())
}

func TestJSON(t *testing.T) {
	tr := testTree(t)
	l, _ := Read(bytes.NewReader(layerTar(t, reg("app", 4000))))
	v := &View{Image: "example:final", Target: "final", Tree: tr, Diff: Diff(tr, Build([]Input{{Layer: l}})), DiffLayers: tr.Layers, DiffTarget: "other", DiffImage: "example:other"}
	var buf bytes.Buffer
	if err := v.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var out struct {
		SchemaVersion int
		Totals        struct{ Files, Wasted int64 }
		Files         []struct {
			Path    string
			RawPath []byte
			Layer   int
		}
		Diff struct{ Files int }
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.SchemaVersion != SchemaVersion || out.Totals.Files != 7 || out.Totals.Wasted != 10_623 || out.Diff.Files != 6 {
		t.Errorf("totals %+v, diff %+v", out.Totals, out.Diff)
	}
	found := false
	for _, f := range out.Files {
		if string(f.RawPath) == "tmp/bad\xff\xfename" {
			found = true
		}
	}
	if !found {
		t.Error("the non-UTF-8 name is not given as rawPath")
	}
	if bytes.ContainsRune(buf.Bytes(), 0x1b) {
		t.Error("the JSON holds a raw escape character")
	}
}

// The tar files in testdata/layers are the test layers, for other tools
// and as a check that Read takes them as written.
func TestTestdataLayers(t *testing.T) {
	raw := testLayers(t)
	for i, want := range raw {
		got, err := os.ReadFile(filepath.Join("testdata/layers", strconv.Itoa(i)+".tar"))
		if err != nil {
			t.Skipf("run with -write-layers to write them: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/layers/%d.tar differs from the layer the test builds (run with -write-layers)", i)
		}
	}
}

// FuzzStack reads two layers of any bytes and stacks them: never a panic,
// and the totals add up.
func FuzzStack(f *testing.F) {
	raw := testLayers(f)
	f.Add(raw[0], raw[2])
	f.Add(raw[3], raw[4])
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var in []Input
		for _, data := range [][]byte{a, b} {
			l, err := Read(bytes.NewReader(data))
			if err != nil {
				return
			}
			in = append(in, Input{Layer: l})
		}
		tr := Build(in)
		var files int
		var total int64
		tr.Root.Walk(func(n *Node) bool {
			if n.Kind == File {
				files++
				total += n.Size
			}
			return true
		})
		if files != tr.Root.Files || total != tr.Root.Total {
			t.Errorf("walked %d files %d B, root says %d and %d", files, total, tr.Root.Files, tr.Root.Total)
		}
		if tr.Efficiency < 0 || tr.Efficiency > 1 {
			t.Errorf("efficiency %v", tr.Efficiency)
		}
	})
}

// A directory deleted whole counts each of its files as wasted by the
// stage whose layer wrote it, not by the stage that last wrote the
// directory's own entry.
func TestStageWastedByWriter(t *testing.T) {
	l0, _ := Read(bytes.NewReader(layerTar(t, dir("d/"), reg("d/base", 100))))
	l1, _ := Read(bytes.NewReader(layerTar(t, dir("d/"), reg("d/mine", 7))))
	l2, _ := Read(bytes.NewReader(layerTar(t, wh(".wh.d"))))
	tr := Build([]Input{
		{Origin: Origin{Base: true, Stage: -1}, Layer: l0},
		{Origin: Origin{Stage: 1, StageName: "app"}, Layer: l1},
		{Origin: Origin{Stage: 1, StageName: "app"}, Layer: l2},
	})
	got := map[string]int64{}
	for _, s := range tr.StageTotals() {
		got[s.Stage] = s.Wasted
	}
	if got["base"] != 100 || got["app"] != 7 || tr.Wasted != 107 {
		t.Errorf("wasted by stage %v (total %d), want base 100 and app 7", got, tr.Wasted)
	}
}
