package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stagescope/stagescope/internal/testengine"
)

// A secret given with --secret reaches its step and appears nowhere that
// stagescope writes: stdout and stderr of build (every progress mode) and
// compare (every format), the metadata file, the saved results and layer
// sizes in the state folder.
func TestSecretAppearsInNoOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("engine test")
	}
	const secret = "s3cr3t-cmd-9d8e7f6a"
	sum := sha256.Sum256([]byte(secret))
	addr := testengine.BuildKit(t)
	busybox := testengine.Bases(t)["busybox"]
	dir := t.TempDir()
	df := "FROM busybox AS uses\n" +
		"RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | grep -q " + hex.EncodeToString(sum[:]) + " && echo secret-was-there\n" +
		"RUN --mount=type=secret,id=envtok,env=TOK sh -c 'test -n \"$TOK\" && echo env-secret-was-there'\n" +
		"FROM scratch AS final\nCOPY --from=uses /bin/busybox /busybox\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	env := map[string]string{"BUILDKIT_HOST": addr, "XDG_STATE_HOME": state, "STAGESCOPE_TEST_SECRET": secret}
	flags := []string{"--build-context", "busybox=" + busybox, "--secret", "id=tok,src=" + secretFile, "--secret", "id=envtok,env=STAGESCOPE_TEST_SECRET"}
	meta := filepath.Join(t.TempDir(), "metadata.json")

	var produced strings.Builder
	sawStep := false
	for i, args := range [][]string{
		{"build", dir, "--target", "uses", "--no-cache", "--progress", "plain", "--metadata-file", meta},
		{"build", dir, "--target", "uses", "--no-cache", "--progress", "json"},
		{"build", dir, "--target", "uses", "--no-cache", "--progress", "rawjson"},
		{"compare", dir, "--all", "--format", "json"},
		{"compare", dir, "--all", "--format", "markdown"},
	} {
		code, stdout, stderr := stagescope(t, env, append(args, flags...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		if i < 3 && !strings.Contains(stdout+stderr, "secret-was-there") {
			t.Errorf("%v: the step did not see the secret:\n%s", args, stderr)
		}
		sawStep = sawStep || strings.Contains(stdout+stderr, "env-secret-was-there")
		produced.WriteString(stdout + stderr)
	}
	if !sawStep {
		t.Error("no build saw the secret passed by environment variable")
	}
	if strings.Contains(produced.String(), secret) {
		t.Error("the secret appears in the output of build or compare")
	}
	files := []string{meta}
	filepath.WalkDir(state, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) < 2 {
		t.Errorf("nothing was saved in the state folder %s", state)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), secret) {
			t.Errorf("the secret appears in %s", f)
		}
	}
}
