// Package filetree reads the files of an image's layers and stacks them
// into the file system the image holds: every path with the layer that
// wrote it, and what later layers overwrote or deleted. It is pure: tar
// streams and the layers' attribution in, values out. The engine hands it
// the layer data it reads (streamed, never a whole layer in memory); the
// faces draw what it returns.
package filetree

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Kind is what an entry is.
type Kind string

const (
	File     Kind = "file"
	Dir      Kind = "dir"
	Symlink  Kind = "symlink"
	Hardlink Kind = "hardlink"
	// Whiteout deletes the path of lower layers (a ".wh.NAME" entry).
	Whiteout Kind = "whiteout"
	// Opaque hides everything lower layers put in a directory (a
	// ".wh..wh..opq" entry inside it); the entry's path is the directory.
	Opaque Kind = "opaque"
	// Other is a device, a FIFO or a socket.
	Other Kind = "other"
)

// The OCI image layout's whiteout names (image-spec layer.md, "Whiteouts"),
// which BuildKit, containerd and Docker write.
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// Entry is one entry of one layer, as the layer wrote it.
type Entry struct {
	// Path is cleaned and relative to the root ("usr/bin/go"), the bytes
	// of the layer's name: it may be invalid UTF-8 or hold control
	// characters (see Printable).
	Path string `json:"path"`
	Kind Kind   `json:"kind"`
	// Size is a regular file's size; 0 for every other kind (a hard link
	// shares its target's data).
	Size int64 `json:"size,omitempty"`
	// Mode is the permission and special bits (0o755, setuid…).
	Mode int64 `json:"mode,omitempty"`
	// Link is a symlink's target or a hard link's path.
	Link string `json:"link,omitempty"`
	UID  int    `json:"uid,omitempty"`
	GID  int    `json:"gid,omitempty"`
}

// Layer is the entries of one layer, in the order of its tar stream.
type Layer struct {
	Entries []Entry `json:"entries"`
	// Size is the sum of the regular files' sizes, as Docker's classic
	// store counts a layer (and the engine's size measurement).
	Size int64 `json:"size"`
}

// Read reads a layer's tar stream (uncompressed), keeping the headers and
// skipping the file data.
func Read(r io.Reader) (*Layer, error) {
	l := &Layer{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return l, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the layer's tar stream: %w", err)
		}
		e, ok := entryOf(h)
		if !ok {
			continue
		}
		l.Size += e.Size
		l.Entries = append(l.Entries, e)
	}
}

// entryOf turns a tar header into an entry; ok is false for entries that
// are not part of the file system (the root itself, AUFS metadata).
func entryOf(h *tar.Header) (Entry, bool) {
	p := Clean(h.Name)
	if p == "" {
		return Entry{}, false // the root
	}
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	e := Entry{Path: p, Mode: h.Mode &^ 0o170000, UID: h.Uid, GID: h.Gid}
	switch {
	case base == whiteoutOpaque:
		e.Path, e.Kind, e.Mode = dir, Opaque, 0
		return e, true
	case strings.HasPrefix(base, whiteoutMeta):
		return Entry{}, false // .wh..wh.plnk and the like: AUFS bookkeeping
	case base == whiteoutPrefix:
		return Entry{}, false // names nothing
	case strings.HasPrefix(base, whiteoutPrefix):
		e.Path, e.Kind, e.Mode = path.Join(dir, base[len(whiteoutPrefix):]), Whiteout, 0
		return e, true
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		e.Kind, e.Size = File, h.Size
	case tar.TypeDir:
		e.Kind = Dir
	case tar.TypeSymlink:
		e.Kind, e.Link = Symlink, h.Linkname
	case tar.TypeLink:
		e.Kind, e.Link = Hardlink, Clean(h.Linkname)
	default:
		e.Kind = Other
	}
	return e, true
}

// Clean makes a tar entry's name a path relative to the root: no leading
// "/" or "./", no ".." above the root, no trailing "/". The root is "".
func Clean(name string) string {
	p := path.Clean("/" + name)
	return strings.TrimPrefix(p, "/")
}
