package engine

import (
	"context"
	"errors"
	"io"

	"github.com/containerd/containerd/v2/core/content"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// blobChunk is how much of a blob one call of the content API asks for.
// Each ReaderAt call is a gRPC stream of its own: read through a small
// buffer (a decompressor reads 4 KiB at a time), a 150 MB blob took tens of
// thousands of round trips.
const blobChunk = 4 << 20

// blobReader reads a blob from a content store in large chunks, the next
// chunk arriving while the caller works on the last one.
type blobReader struct {
	cancel context.CancelFunc
	full   chan blobPiece
	free   chan []byte
	cur    []byte // what is left of the chunk being read
	held   []byte // the whole chunk being read, to give back
	err    error
	read   func(int64)
}

type blobPiece struct {
	data []byte
	err  error
}

// openBlob starts reading desc; read is told of each chunk's size as the
// caller reaches it.
func openBlob(ctx context.Context, store content.Provider, desc ocispecs.Descriptor, read func(int64)) (*blobReader, error) {
	ctx, cancel := context.WithCancel(ctx)
	ra, err := store.ReaderAt(ctx, desc)
	if err != nil {
		cancel()
		return nil, err
	}
	const buffers = 2
	b := &blobReader{cancel: cancel, full: make(chan blobPiece, buffers), free: make(chan []byte, buffers), read: read}
	for range buffers {
		b.free <- make([]byte, blobChunk)
	}
	go func() {
		defer ra.Close()
		defer close(b.full)
		size := ra.Size()
		for off := int64(0); off < size; {
			var buf []byte
			select {
			case buf = <-b.free:
			case <-ctx.Done():
				return
			}
			buf = buf[:min(int64(len(buf)), size-off)]
			n, err := ra.ReadAt(buf, off)
			if errors.Is(err, io.EOF) && n == len(buf) {
				err = nil
			}
			if err == nil && n == 0 {
				err = io.ErrUnexpectedEOF
			}
			off += int64(n)
			select {
			case b.full <- blobPiece{buf[:n], err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return b, nil
}

func (b *blobReader) Read(p []byte) (int, error) {
	for len(b.cur) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if b.held != nil {
			b.free <- b.held[:cap(b.held)] // never blocks: one slot per buffer
			b.held = nil
		}
		piece, ok := <-b.full
		if !ok {
			return 0, io.EOF
		}
		b.cur, b.held, b.err = piece.data, piece.data, piece.err
		b.read(int64(len(piece.data)))
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// Close stops the reading.
func (b *blobReader) Close() error {
	b.cancel()
	return nil
}
