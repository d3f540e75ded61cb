package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
	"github.com/stagescope/stagescope/internal/version"
)

// engineFlags are the flags that choose and reach an engine.
type engineFlags struct {
	addr, builder                         string
	tlsCACert, tlsCert, tlsKey, tlsServer string
}

func (f *engineFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "", "BuildKit address (default: see --builder)")
	fs.StringVar(&f.builder, "builder", "", "buildx builder `NAME` (default $BUILDKIT_HOST, then $BUILDX_BUILDER, then buildx's current builder, then Docker)")
	_ = cmd.RegisterFlagCompletionFunc("builder", completeBuilders)
	// --addr and --builder both name the engine: one at a time.
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if f.addr != "" && f.builder != "" {
			return usagef("--addr and --builder both choose the engine: give one")
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	fs.StringVar(&f.tlsCACert, "tlscacert", "", "CA certificate `FILE` for a tcp:// BuildKit address")
	fs.StringVar(&f.tlsCert, "tlscert", "", "client certificate `FILE` for a tcp:// BuildKit address")
	fs.StringVar(&f.tlsKey, "tlskey", "", "client key `FILE` for a tcp:// BuildKit address")
	fs.StringVar(&f.tlsServer, "tlsservername", "", "server name to verify (default: the address's host)")
}

func (f *engineFlags) options() engine.Options {
	o := engine.Options{
		Addr: f.addr, Builder: f.builder, TLSCACert: f.tlsCACert, TLSCert: f.tlsCert, TLSKey: f.tlsKey, TLSServerName: f.tlsServer,
	}
	// STAGESCOPE_PROBE_TIMEOUT lengthens the 2 s reachability check for
	// engines that answer slowly (a loaded CI machine, a remote daemon).
	if d, err := time.ParseDuration(os.Getenv("STAGESCOPE_PROBE_TIMEOUT")); err == nil && d > 0 {
		o.ProbeTimeout = d
	}
	if store, err := history.Default(); err == nil {
		o.LayerSizes = store.OpenLayerSizes()
		o.LayerFiles = store.OpenLayerFiles()
	}
	return o
}

// versionInfo is what `stagescope engines --format json` says of stagescope.
type versionInfo struct {
	Version  string `json:"version"`
	BuildKit string `json:"buildkit"`
}

// engineStatus is one row of `stagescope engines`.
type engineStatus struct {
	Source    string              `json:"source"`
	Context   string              `json:"context,omitempty"`
	Address   string              `json:"address"`
	Kind      engine.Kind         `json:"kind"`
	InUse     bool                `json:"inUse"`
	Reachable bool                `json:"reachable"`
	Error     string              `json:"error,omitempty"`
	Engine    *engine.Description `json:"engine,omitempty"`
}

func newEnginesCmd() *cobra.Command {
	var f engineFlags
	var format string
	cmd := &cobra.Command{
		Use:   "engines",
		Short: "List the engines stagescope can use and whether they answer",
		Long: `List every place stagescope looks for an engine, in order: --addr or
--builder, BUILDKIT_HOST, BUILDX_BUILDER, the builder buildx currently uses
(docker buildx use), DOCKER_HOST, the Docker context (DOCKER_CONTEXT or the
docker CLI's current context), the default Docker socket. The first one that
is set is the one builds use ("in use"); each is probed and described:
BuildKit and Docker versions, Docker's image store (classic or containerd),
platforms.

Then every builder of buildx's store ($BUILDX_CONFIG, else buildx in the
docker config folder), node by node: its driver, where the node answers,
whether it does, and the platforms it serves (* marks those it was created
for, which choose the node of a build for a --platform).

Exit code 3 when the engine in use does not answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usagef("--format %q: want text or json", format)
			}
			opts := f.options()
			var (
				rows     []engineStatus
				builders []builderStatus
			)
			done := make(chan struct{})
			goSafe(func() { builders = probeBuilders(cmd.Context(), opts); close(done) })
			rows = probeEngines(cmd.Context(), opts)
			<-done
			for _, c := range engine.Candidates(opts)[:1] {
				for i := range builders {
					builders[i].InUse = c.Builder != nil && !c.Builder.DockerContext && c.Builder.Name == builders[i].Name
				}
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					SchemaVersion int             `json:"schemaVersion"`
					Stagescope    versionInfo     `json:"stagescope"`
					Engines       []engineStatus  `json:"engines"`
					Builders      []builderStatus `json:"builders"`
				}{1, versionInfo{version.String(), version.BuildKit()}, rows, builders}); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(out, version.Long())
				fmt.Fprintln(out)
				printEngines(out, rows)
				printBuilders(out, builders)
			}
			if !rows[0].Reachable {
				return &silentError{code: exitNoEngine}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func probeEngines(ctx context.Context, opts engine.Options) []engineStatus {
	cands := engine.Candidates(opts)
	rows := make([]engineStatus, len(cands))
	done := make(chan struct{})
	for i, c := range cands {
		goSafe(func() {
			defer func() { done <- struct{}{} }()
			row := engineStatus{Source: string(c.Source), Context: c.Context, Address: c.Addr, Kind: c.Kind, InUse: i == 0}
			e, err := engine.ConnectTo(ctx, c, opts)
			if err == nil {
				row.Address, row.Kind = e.Addr, e.Kind // a builder's node is chosen when connecting
				row.Engine, err = e.Describe(ctx)
				e.Close()
			}
			if err != nil {
				row.Error = err.Error()
			} else {
				row.Reachable = true
			}
			rows[i] = row
		})
	}
	for range cands {
		<-done
	}
	return rows
}

func printEngines(w interface{ Write([]byte) (int, error) }, rows []engineStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tSOURCE\tADDRESS\tKIND\tSTATUS\tVERSION\tIMAGE STORE\tPLATFORMS")
	for _, r := range rows {
		mark := ""
		if r.InUse {
			mark = "*"
		}
		src := r.Source
		if r.Context != "" {
			src += " " + r.Context
		}
		status, version, store, plats := "unreachable", "-", "-", "-"
		if r.Reachable {
			status = "ok"
			d := r.Engine
			switch {
			case d.DockerVersion != "" && d.BuildKitVersion != "":
				version = "docker " + d.DockerVersion + ", buildkit " + d.BuildKitVersion
			case d.DockerVersion != "":
				version = "docker " + d.DockerVersion
			case d.BuildKitVersion != "":
				version = "buildkit " + d.BuildKitVersion
			}
			if d.ImageStore != "" {
				store = d.ImageStore + " (" + d.StorageDriver + ")"
			}
			plats = strings.Join(d.Platforms, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, src, r.Address, r.Kind, status, version, store, plats)
	}
	tw.Flush()
	for _, r := range rows {
		if !r.Reachable {
			fmt.Fprintf(w, "%s %s: %s\n", r.Source, r.Address, buildgraph.FirstLine(r.Error))
		}
	}
	fmt.Fprintln(w, "* the engine builds use")
}

// builderStatus is a builder of buildx's store in `stagescope engines`.
type builderStatus struct {
	Name   string `json:"name"`
	Driver string `json:"driver"`
	// Current: the builder buildx uses when none is named.
	Current bool `json:"current"`
	// InUse: the builder stagescope's builds use.
	InUse bool         `json:"inUse"`
	Nodes []nodeStatus `json:"nodes"`
}

// nodeStatus is one node of a builder.
type nodeStatus struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	Address  string `json:"address"`
	// Platforms it was created for (buildx create --platform).
	Platforms []string            `json:"platforms"`
	Reachable bool                `json:"reachable"`
	Error     string              `json:"error,omitempty"`
	Engine    *engine.Description `json:"engine,omitempty"`
}

// probeBuilders describes every node of every builder of buildx's store.
func probeBuilders(ctx context.Context, opts engine.Options) []builderStatus {
	store := engine.DefaultBuildxStore()
	list, err := store.List()
	if err != nil {
		return []builderStatus{{Name: "?", Nodes: []nodeStatus{{Error: err.Error()}}}}
	}
	current, _ := store.Current()
	out := make([]builderStatus, len(list))
	done := make(chan struct{})
	n := 0
	for bi, b := range list {
		out[bi] = builderStatus{Name: b.Name, Driver: b.Driver, Current: current != nil && current.Name == b.Name, Nodes: make([]nodeStatus, len(b.Nodes))}
		for i, nd := range b.Nodes {
			n++
			goSafe(func() {
				defer func() { done <- struct{}{} }()
				st := nodeStatus{Name: nd.Name, Endpoint: nd.Endpoint, Address: b.NodeAddr(i), Platforms: nd.PlatformNames()}
				e, err := engine.ConnectNode(ctx, b, i, opts)
				if err == nil {
					st.Address = e.Addr
					st.Engine, err = e.Describe(ctx)
					e.Close()
				}
				if err != nil {
					st.Error = err.Error()
				} else {
					st.Reachable = true
				}
				out[bi].Nodes[i] = st
			})
		}
	}
	for range n {
		<-done
	}
	return out
}

func printBuilders(w io.Writer, builders []builderStatus) {
	fmt.Fprintln(w)
	if len(builders) == 0 {
		fmt.Fprintf(w, "no buildx builders in %s\n", engine.DefaultBuildxStore().Dir)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tBUILDER\tDRIVER\tNODE\tADDRESS\tSTATUS\tVERSION\tPLATFORMS")
	for _, b := range builders {
		mark, name := "", b.Name
		if b.InUse {
			mark = "*"
		}
		if b.Current {
			name += " (current)"
		}
		for i, n := range b.Nodes {
			if i > 0 {
				mark, name = "", ""
			}
			status, ver, plats := "unreachable", "-", nodePlatforms(n)
			if n.Reachable {
				status = "ok"
				if n.Engine.BuildKitVersion != "" {
					ver = "buildkit " + n.Engine.BuildKitVersion
				} else if n.Engine.DockerVersion != "" {
					ver = "docker " + n.Engine.DockerVersion
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, name, b.Driver, n.Name, n.Address, status, ver, plats)
		}
	}
	tw.Flush()
	for _, b := range builders {
		for _, n := range b.Nodes {
			if !n.Reachable {
				fmt.Fprintf(w, "builder %s node %s: %s\n", b.Name, n.Name, buildgraph.FirstLine(n.Error))
			}
		}
	}
	fmt.Fprintln(w, "* the builder builds use · platforms with * are the ones a node was created for")
}

// nodePlatforms lists the platforms a node serves, those it was created
// for first and marked *, as docker buildx ls does.
func nodePlatforms(n nodeStatus) string {
	var out []string
	seen := map[string]bool{}
	for _, p := range n.Platforms {
		seen[p] = true
		out = append(out, p+"*")
	}
	if n.Engine != nil {
		for _, p := range n.Engine.Platforms {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}
