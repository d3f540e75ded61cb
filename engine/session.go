package engine

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	bkbuild "github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

// attachables are the session services a build offers the engine:
// registry credentials from the docker config (as docker and buildx do),
// secrets, and SSH agent forwarding.
func attachables(req BuildRequest) ([]session.Attachable, error) {
	dockerConfig := config.LoadDefaultConfigFile(io.Discard)
	out := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
	})}
	if len(req.Secrets) > 0 {
		if err := checkSecrets(req.Secrets); err != nil {
			return nil, err
		}
		a, err := bkbuild.ParseSecret(req.Secrets)
		if err != nil {
			return nil, &InputError{Msg: "--secret: " + rootCause(err)}
		}
		out = append(out, a)
	}
	if len(req.SSH) > 0 {
		cfgs, err := bkbuild.ParseSSH(req.SSH)
		if err != nil {
			return nil, &InputError{Msg: "--ssh: " + rootCause(err)}
		}
		if err := checkSSH(cfgs); err != nil {
			return nil, err
		}
		a, err := sshprovider.NewSSHAgentProvider(cfgs)
		if err != nil {
			return nil, &InputError{Msg: "--ssh: " + rootCause(err)}
		}
		out = append(out, a)
	}
	return out, nil
}

// checkSSH gives one-sentence errors for the mistakes BuildKit's agent
// provider reports with its whole configuration: no agent socket in
// SSH_AUTH_SOCK for a bare id, a socket or key that does not exist.
func checkSSH(cfgs []sshprovider.AgentConfig) error {
	for _, c := range cfgs {
		if len(c.Paths) == 0 && os.Getenv("SSH_AUTH_SOCK") == "" {
			return &InputError{Msg: fmt.Sprintf("--ssh %s: SSH_AUTH_SOCK is not set; start an agent (eval $(ssh-agent) and ssh-add) or give a socket or key: --ssh %s=PATH", c.ID, c.ID)}
		}
		for _, p := range c.Paths {
			if _, err := os.Stat(p); err != nil {
				return &InputError{Msg: fmt.Sprintf("--ssh %s: %s does not exist", c.ID, p)}
			}
		}
	}
	return nil
}

// checkSecrets gives one-sentence errors for the mistakes BuildKit's parser
// reports tersely: no id, a missing file, an unset variable.
func checkSecrets(specs []string) error {
	for _, spec := range specs {
		fields := map[string]string{}
		for _, kv := range strings.Split(spec, ",") {
			k, v, _ := strings.Cut(kv, "=")
			fields[strings.ToLower(strings.TrimSpace(k))] = v
		}
		id := fields["id"]
		if id == "" {
			return &InputError{Msg: fmt.Sprintf("--secret %q: want id=NAME,src=FILE or id=NAME,env=VARIABLE", spec)}
		}
		src := fields["src"]
		if src == "" {
			src = fields["source"]
		}
		if env := fields["env"]; env != "" {
			if _, ok := os.LookupEnv(env); !ok {
				return &InputError{Msg: fmt.Sprintf("--secret %s: environment variable %s is not set", id, env)}
			}
			continue
		}
		if src == "" {
			if _, ok := os.LookupEnv(id); ok {
				continue // BuildKit reads the variable named like the id
			}
			return &InputError{Msg: fmt.Sprintf("--secret %s: give src=FILE or env=VARIABLE", id)}
		}
		if st, err := os.Stat(src); err != nil || st.IsDir() {
			return &InputError{Msg: fmt.Sprintf("--secret %s: file %s does not exist", id, src)}
		}
	}
	return nil
}

// exports turns --output specs into exporter entries (BuildKit's own
// parser, as buildctl), and adds the Docker image store export: the moby
// exporter on Docker, or the docker exporter piped into `docker load` when a
// standalone buildkitd is asked to --load.
//
// The returned finish function must be called with the solve's error once
// the solve returns; it waits for a --load to complete.
func (e *Engine) exports(ctx context.Context, req BuildRequest) ([]client.ExportEntry, func(error) error, error) {
	// BuildKit's parser creates file destinations up front; a failed build
	// must not leave an empty or partial file where none was.
	created := newDestinations(req.Outputs)
	entries, err := bkbuild.ParseOutput(req.Outputs)
	if err != nil {
		created.remove()
		return nil, nil, &InputError{Msg: "--output: " + rootCause(err)}
	}
	name := strings.Join(req.Tags, ",")
	images, wait, err := e.be.imageExports(ctx, req, name)
	if err != nil {
		return nil, nil, err
	}
	finish := func(solveErr error) error {
		if solveErr != nil {
			created.remove()
		}
		if wait != nil {
			return wait(solveErr)
		}
		return nil
	}
	return append(entries, images...), finish, nil
}

// destinations are the --output dest= paths that did not exist before the
// build, so they can be removed when it fails.
type destinations []string

func newDestinations(specs []string) destinations {
	var out destinations
	for _, spec := range specs {
		r := csv.NewReader(strings.NewReader(spec))
		fields, err := r.Read()
		if err != nil {
			continue
		}
		for _, f := range fields {
			if k, v, ok := strings.Cut(f, "="); ok && strings.TrimSpace(k) == "dest" && v != "" && v != "-" {
				if _, err := os.Lstat(v); errors.Is(err, os.ErrNotExist) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

func (d destinations) remove() {
	for _, p := range d {
		os.RemoveAll(p)
	}
}

// Check validates a request without an engine: the context and Dockerfile
// paths, named contexts, secrets and SSH specs. Commands call it before
// connecting, so bad input is reported as such even with no engine running.
func Check(req BuildRequest) error {
	_, cleanup, err := solveOpt(req)
	cleanup()
	return err
}
