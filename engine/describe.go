package engine

import (
	"context"

	"github.com/containerd/platforms"
)

// Description is what `stagescope engines` shows of one engine.
type Description struct {
	Kind Kind   `json:"kind"`
	Addr string `json:"address"`
	// BuildKitVersion is empty when the daemon does not implement Info
	// (Docker 20.10's BuildKit, for one).
	BuildKitVersion string `json:"buildkitVersion,omitempty"`
	DockerVersion   string `json:"dockerVersion,omitempty"`
	// ImageStore is "classic" (graph drivers) or "containerd" (the
	// containerd snapshotter), on Docker only.
	ImageStore    string   `json:"imageStore,omitempty"`
	StorageDriver string   `json:"storageDriver,omitempty"`
	Platforms     []string `json:"platforms"`
}

// Describe asks the engine what it is.
func (e *Engine) Describe(ctx context.Context) (*Description, error) {
	d := &Description{Kind: e.Kind, Addr: e.Addr, Platforms: []string{}}
	if info, err := e.bk.Info(ctx); err == nil {
		d.BuildKitVersion = info.BuildkitVersion.Version
	} else if !isUnimplemented(err) {
		return nil, err
	}
	workers, err := e.bk.ListWorkers(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, w := range workers {
		for _, p := range w.Platforms {
			s := platforms.Format(p)
			if !seen[s] {
				seen[s] = true
				d.Platforms = append(d.Platforms, s)
			}
		}
	}
	if err := e.be.describe(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}
