package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stagescope/stagescope/buildgraph"
	"github.com/stagescope/stagescope/engine"
	"github.com/stagescope/stagescope/internal/history"
)

// engineFlags are the flags that choose and reach an engine.
type engineFlags struct {
	addr                                  string
	tlsCACert, tlsCert, tlsKey, tlsServer string
}

func (f *engineFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "", "BuildKit address (default $BUILDKIT_HOST, then Docker)")
	fs.StringVar(&f.tlsCACert, "tlscacert", "", "CA certificate `FILE` for a tcp:// BuildKit address")
	fs.StringVar(&f.tlsCert, "tlscert", "", "client certificate `FILE` for a tcp:// BuildKit address")
	fs.StringVar(&f.tlsKey, "tlskey", "", "client key `FILE` for a tcp:// BuildKit address")
	fs.StringVar(&f.tlsServer, "tlsservername", "", "server name to verify (default: the address's host)")
}

func (f *engineFlags) options() engine.Options {
	o := engine.Options{
		Addr: f.addr, TLSCACert: f.tlsCACert, TLSCert: f.tlsCert, TLSKey: f.tlsKey, TLSServerName: f.tlsServer,
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
		Long: `List every place stagescope looks for an engine, in order: --addr,
BUILDKIT_HOST, DOCKER_HOST, the Docker context (DOCKER_CONTEXT or the docker
CLI's current context), the default Docker socket. The first one that is set
is the one builds use ("in use"); each is probed and described: BuildKit and
Docker versions, Docker's image store (classic or containerd), platforms.

Exit code 3 when the engine in use does not answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usagef("--format %q: want text or json", format)
			}
			rows := probeEngines(cmd.Context(), f.options())
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					SchemaVersion int            `json:"schemaVersion"`
					Engines       []engineStatus `json:"engines"`
				}{1, rows}); err != nil {
					return err
				}
			} else {
				printEngines(out, rows)
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
