package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeDockerContext makes a docker CLI context the way `docker context
// create NAME --docker host=HOST` stores it.
func writeDockerContext(t *testing.T, configDir, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	dir := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := `{"Name":"` + name + `","Metadata":{},"Endpoints":{"docker":{"Host":"` + host + `","SkipTLSVerify":false}}}`
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCandidatesOrder(t *testing.T) {
	cfg := t.TempDir()
	writeDockerContext(t, cfg, "remote", "tcp://10.0.0.1:2375")
	writeDockerContext(t, cfg, "other", "unix:///other.sock")
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"currentContext":"remote"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)

	addrs := func(cs []Candidate) []string {
		var out []string
		for _, c := range cs {
			out = append(out, string(c.Source)+" "+c.Addr)
		}
		return out
	}
	tests := []struct {
		name string
		env  map[string]string
		opts Options
		want []string
	}{
		{"current context", map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": "", "DOCKER_CONTEXT": ""}, Options{},
			[]string{"docker context tcp://10.0.0.1:2375", "default Docker socket unix:///var/run/docker.sock"}},
		{"DOCKER_CONTEXT wins over current", map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": "", "DOCKER_CONTEXT": "other"}, Options{},
			[]string{"docker context unix:///other.sock", "default Docker socket unix:///var/run/docker.sock"}},
		{"DOCKER_HOST before contexts", map[string]string{"BUILDKIT_HOST": "", "DOCKER_HOST": "unix:///d.sock", "DOCKER_CONTEXT": ""}, Options{},
			[]string{"DOCKER_HOST unix:///d.sock", "docker context tcp://10.0.0.1:2375", "default Docker socket unix:///var/run/docker.sock"}},
		{"BuildKit first", map[string]string{"BUILDKIT_HOST": "tcp://b:1234", "DOCKER_HOST": "", "DOCKER_CONTEXT": "default"}, Options{Addr: "unix:///a.sock"},
			[]string{"--addr unix:///a.sock", "BUILDKIT_HOST tcp://b:1234", "default Docker socket unix:///var/run/docker.sock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if got := addrs(Candidates(tt.opts)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}
