package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/klauspost/compress/gzip"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// memStore is a content store in memory that counts the reads of each blob.
type memStore struct {
	blobs map[digest.Digest][]byte
	reads sync.Map // digest → *atomic.Int64
}

func (s *memStore) put(data []byte) ocispecs.Descriptor {
	d := digest.FromBytes(data)
	s.blobs[d] = data
	return ocispecs.Descriptor{Digest: d, Size: int64(len(data)), MediaType: ocispecs.MediaTypeImageLayerGzip}
}

func (s *memStore) readsOf(d digest.Digest) int64 {
	n, _ := s.reads.LoadOrStore(d, &atomic.Int64{})
	return n.(*atomic.Int64).Load()
}

func (s *memStore) ReaderAt(_ context.Context, desc ocispecs.Descriptor) (content.ReaderAt, error) {
	n, _ := s.reads.LoadOrStore(desc.Digest, &atomic.Int64{})
	return &memReaderAt{Reader: bytes.NewReader(s.blobs[desc.Digest]), reads: n.(*atomic.Int64)}, nil
}

type memReaderAt struct {
	*bytes.Reader
	reads *atomic.Int64
}

func (r *memReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.reads.Add(1)
	return r.Reader.ReadAt(p, off)
}
func (r *memReaderAt) Close() error { return nil }

// layer is a gzipped tar of files of the given sizes (random bytes, so
// that the blob is as large as the files).
func layer(t *testing.T, sizes ...int) ([]byte, int64) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	var total int64
	rng := rand.NewChaCha8([32]byte{1})
	for i, n := range sizes {
		data := make([]byte, n)
		_, _ = rng.Read(data)
		if err := tw.WriteHeader(&tar.Header{Name: "f" + string(rune('a'+i)), Mode: 0o644, Size: int64(n), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
		total += int64(n)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "d/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes(), total
}

// image stores a manifest of layers, with one history entry per layer.
func image(t *testing.T, s *memStore, layers ...ocispecs.Descriptor) digest.Digest {
	t.Helper()
	var cfg ocispecs.Image
	for range layers {
		cfg.History = append(cfg.History, ocispecs.History{CreatedBy: "COPY x / # buildkit"})
	}
	data, _ := json.Marshal(cfg)
	mf := ocispecs.Manifest{Config: s.put(data), Layers: layers}
	data, _ = json.Marshal(mf)
	return s.put(data).Digest
}

// Layer blobs are read in large chunks, at the same time, each once however
// many measurements want it, and not at all once their sizes are known;
// progress adds up to the blobs' sizes.
func TestMeasureContentReads(t *testing.T) {
	s := &memStore{blobs: map[digest.Digest][]byte{}}
	bigData, bigSize := layer(t, 9<<20, 3<<20) // more than two chunks
	smallData, smallSize := layer(t, 1000)
	big, small := s.put(bigData), s.put(smallData)
	imgA := image(t, s, big, small)
	imgB := image(t, s, big)
	lr := newLayerReader(&memMemo{}, nil)

	var wg sync.WaitGroup
	var mu sync.Mutex
	done := map[string][2]int64{}
	for name, img := range map[string]digest.Digest{"a": imgA, "b": imgB} {
		wg.Go(func() {
			size, err := lr.measureContent(context.Background(), s, name, img, func(d, total int64) {
				mu.Lock()
				done[name] = [2]int64{d, total}
				mu.Unlock()
			})
			if err != nil {
				t.Error(err)
				return
			}
			want := bigSize
			if name == "a" {
				want += smallSize
			}
			if size.Uncompressed != want || size.Layers[0].Size != bigSize {
				t.Errorf("%s: uncompressed %d (first layer %d), want %d (%d)", name, size.Uncompressed, size.Layers[0].Size, want, bigSize)
			}
		})
	}
	wg.Wait()
	// Each measurement counts the layers not remembered when it started:
	// on a busy machine one may start after the other has read the shared
	// layer, and then has only its own to read. Either way it ends at its
	// total.
	if d := done["a"]; d[0] != d[1] || (d[1] != big.Size+small.Size && d[1] != small.Size) {
		t.Errorf("a: progress %d of %d, want %d (or %d once b read the shared layer)", d[0], d[1], big.Size+small.Size, small.Size)
	}
	if d := done["b"]; d[0] != d[1] || (d[1] != big.Size && d[1] != 0) {
		t.Errorf("b: progress %d of %d, want %d (or 0 once a read the shared layer)", d[0], d[1], big.Size)
	}
	chunks := (big.Size + blobChunk - 1) / blobChunk
	if n := s.readsOf(big.Digest); n > chunks {
		t.Errorf("the shared %d-byte blob took %d reads, want %d chunks read once", big.Size, n, chunks)
	}
	before := s.readsOf(big.Digest) + s.readsOf(small.Digest)
	var total int64 = -1
	if _, err := lr.measureContent(context.Background(), s, "a", imgA, func(_, t int64) { total = t }); err != nil {
		t.Fatal(err)
	}
	if after := s.readsOf(big.Digest) + s.readsOf(small.Digest); after != before || total != 0 {
		t.Errorf("measuring again read %d times (%d bytes to read), want nothing", after-before, total)
	}
}
