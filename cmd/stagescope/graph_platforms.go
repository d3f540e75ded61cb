package main

import (
	"io"

	"github.com/stagescope/stagescope/buildgraph"
)

// graphPlatforms draws the Dockerfile resolved for several platforms.
func graphPlatforms(w io.Writer, data []byte, opts buildgraph.Options, plats []string, f buildgraph.Format, ropts buildgraph.RenderOptions) error {
	set, err := buildgraph.ParsePlatforms(data, opts, plats)
	if err != nil {
		return err
	}
	return buildgraph.RenderPlatforms(w, set, f, ropts)
}
