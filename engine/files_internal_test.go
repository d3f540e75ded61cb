package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// bytesMemo is a FileMemo in memory.
type bytesMemo struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (b *bytesMemo) Get(k string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

func (b *bytesMemo) Put(k string, v []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[k] = v
}

// Files on a content store reads each layer once, pairs the entries with
// the history, and reads nothing the second time.
func TestContentFilesRemembered(t *testing.T) {
	s := &memStore{blobs: map[digest.Digest][]byte{}}
	aData, aSize := layer(t, 5<<20, 1000)
	bData, bSize := layer(t, 300)
	a, b := s.put(aData), s.put(bData)
	img := image(t, s, a, b)
	memo := &bytesMemo{m: map[string][]byte{}}
	lr := newLayerReader(&memMemo{}, memo)
	var done, total int64
	f, err := lr.contentFiles(context.Background(), s, "img", img, func(d, t int64) { done, total = d, t })
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Layers) != 2 || f.Layers[0].Files.Size != aSize || f.Layers[1].Files.Size != bSize {
		t.Fatalf("layers %+v", f.Layers)
	}
	if n := len(f.Layers[0].Files.Entries); n != 3 {
		t.Errorf("first layer: %d entries, want 3", n)
	}
	if f.Size.Uncompressed != aSize+bSize || len(f.Size.Layers) != 2 || f.Size.Layers[1].Size != bSize {
		t.Errorf("size %+v", f.Size)
	}
	if done != total || total != a.Size+b.Size {
		t.Errorf("progress %d of %d, want %d", done, total, a.Size+b.Size)
	}
	// The image's config has no DiffIDs: nothing to remember by. With
	// them, the second reading reads no blob.
	var cfg ocispecs.Image
	for range 2 {
		cfg.History = append(cfg.History, ocispecs.History{CreatedBy: "COPY x / # buildkit"})
	}
	cfg.RootFS.DiffIDs = []digest.Digest{digest.FromString("a"), digest.FromString("b")}
	data, _ := json.Marshal(cfg)
	mf := ocispecs.Manifest{Config: s.put(data), Layers: []ocispecs.Descriptor{a, b}}
	data, _ = json.Marshal(mf)
	img2 := s.put(data).Digest
	if _, err := lr.contentFiles(context.Background(), s, "img", img2, func(int64, int64) {}); err != nil {
		t.Fatal(err)
	}
	before := s.readsOf(a.Digest) + s.readsOf(b.Digest)
	f, err = lr.contentFiles(context.Background(), s, "img", img2, func(_, t int64) { total = t })
	if err != nil {
		t.Fatal(err)
	}
	if after := s.readsOf(a.Digest) + s.readsOf(b.Digest); after != before || total != 0 {
		t.Errorf("reading again read blobs %d times (%d bytes to read)", after-before, total)
	}
	if f.Layers[0].Files.Size != aSize || len(f.Layers[1].Files.Entries) != 2 {
		t.Errorf("remembered layers %+v", f.Layers)
	}
}

// savedTar is an image as Docker 20.10's `docker save` writes it: layer
// folders, one linking to another's layer, then the config and the
// manifest.
func savedTar(t *testing.T, big int) ([]byte, string) {
	t.Helper()
	l1 := layerTarOf(t, map[string]int{"bin/tool": big})
	l2 := layerTarOf(t, map[string]int{"app": 10})
	var cfg ocispecs.Image
	cfg.History = []ocispecs.History{{CreatedBy: "base"}, {CreatedBy: "ENV A=b", EmptyLayer: true}, {CreatedBy: "COPY app / # buildkit"}, {CreatedBy: "COPY app / # buildkit"}}
	cfg.RootFS.DiffIDs = []digest.Digest{digest.FromBytes(l1), digest.FromBytes(l2), digest.FromBytes(l2)}
	cfgData, _ := json.Marshal(cfg)
	id := digest.FromBytes(cfgData)
	manifest, _ := json.Marshal([]map[string]any{{
		"Config": id.Encoded() + ".json", "RepoTags": []string{"img:latest"},
		"Layers": []string{"aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"},
	}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) {
		_ = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(data)), Mode: 0o644})
		_, _ = tw.Write(data)
	}
	add("aaa/VERSION", []byte("1.0"))
	add("aaa/json", []byte(`{"id":"aaa"}`))
	add("aaa/layer.tar", l1)
	add("bbb/layer.tar", l2)
	_ = tw.WriteHeader(&tar.Header{Name: "ccc/layer.tar", Typeflag: tar.TypeSymlink, Linkname: "../bbb/layer.tar"})
	add(id.Encoded()+".json", cfgData)
	add("manifest.json", manifest)
	add("repositories", []byte(`{}`))
	_ = tw.Close()
	return buf.Bytes(), id.String()
}

func layerTarOf(t *testing.T, files map[string]int) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, n := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(n), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(make([]byte, n))
	}
	_ = tw.Close()
	return buf.Bytes()
}

// A saved image is read as it streams: large layers too, linked layers,
// the history paired with the layers; then it is remembered.
func TestSavedFiles(t *testing.T) {
	data, id := savedTar(t, smallBlob+1000)
	memo := &bytesMemo{m: map[string][]byte{}}
	lr := newLayerReader(&memMemo{}, memo)
	f, err := lr.savedFiles("img:latest", id, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Layers) != 3 || f.Layers[0].Files.Size != smallBlob+1000 || f.Layers[2].Files.Entries[0].Path != "app" {
		t.Fatalf("layers %+v", f.Layers)
	}
	if len(f.Size.Layers) != 4 || !f.Size.Layers[1].Empty || f.Size.Layers[3].Size != 10 {
		t.Errorf("history %+v", f.Size.Layers)
	}
	var diffIDs []string
	for _, l := range f.Layers {
		diffIDs = append(diffIDs, l.DiffID)
	}
	again, ok := lr.rememberedImage("img:latest", id, diffIDs)
	if !ok || len(again.Layers) != 3 || again.Layers[0].Files.Size != smallBlob+1000 {
		t.Errorf("not remembered: %v", ok)
	}
	if _, err := lr.savedFiles("img:latest", id, bytes.NewReader(data[:len(data)/2])); err == nil {
		t.Error("a truncated image was read without an error")
	}
}
