package engine_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/stagescope/stagescope/engine"
)

// A secret reaches the step that mounts it and nothing else: not the status
// stream, not the exporter response, not the image.
func TestSecretNeverLeaks(t *testing.T) {
	const secret = "s3cr3t-value-7f1c2b9a"
	sum := sha256.Sum256([]byte(secret))
	engines(t, func(t *testing.T, e *engine.Engine) {
		t.Setenv("STAGESCOPE_TEST_SECRET", secret)
		df := `FROM scratch
COPY --from=busybox / /
RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | grep -q ` + hex.EncodeToString(sum[:]) + ` && echo secret-was-there
`
		if e.Kind == engine.KindBuildKit { // Docker 20.10 cannot mount secrets as variables
			df += "RUN --mount=type=secret,id=envtok,env=TOK sh -c 'test ${#TOK} -eq " + strconv.Itoa(len(secret)) + "'\n"
		}
		req := project(t, map[string]string{"Dockerfile": df})
		secretFile := filepath.Join(t.TempDir(), "tok")
		if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
		req.Secrets = []string{"id=tok,src=" + secretFile, "id=envtok,env=STAGESCOPE_TEST_SECRET"}
		req.NoCache = true
		tarball := filepath.Join(t.TempDir(), "image.tar")
		if e.Kind == engine.KindDocker {
			// Docker's own BuildKit has no docker exporter: store the image,
			// then read it back with docker save.
			req.Tags = []string{"stagescope-test/secret:latest"}
		} else {
			req.Outputs = []string{"type=docker,name=stagescope-test/secret,dest=" + tarball}
		}

		var stream bytes.Buffer
		ch := make(chan *client.SolveStatus)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for s := range ch {
				for _, v := range s.Vertexes {
					stream.WriteString(v.Name + v.Error)
				}
				for _, l := range s.Logs {
					stream.Write(l.Data)
				}
			}
		}()
		res, err := e.Build(context.Background(), req, ch)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stream.String(), "secret-was-there") {
			t.Fatalf("the step did not see the secret; logs:\n%s", stream.String())
		}
		if strings.Contains(stream.String(), secret) {
			t.Error("the secret appears in the status stream")
		}
		for k, v := range res.Exporter {
			if strings.Contains(k+v, secret) {
				t.Errorf("the secret appears in the exporter response %s", k)
			}
		}
		if e.Kind == engine.KindDocker {
			if out, err := exec.Command("docker", "save", "-o", tarball, "stagescope-test/secret:latest").CombinedOutput(); err != nil {
				t.Fatalf("docker save: %v\n%s", err, out)
			}
		}
		if n := grepTar(t, tarball, secret); n != "" {
			t.Errorf("the secret appears in the image, in %s", n)
		}
	})
}

// grepTar looks for s in every file of a tarball and in nested layer
// tarballs; it returns the first place found.
func grepTar(t *testing.T, path, s string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return grepTarReader(t, f, path, s)
}

func grepTarReader(t *testing.T, r io.Reader, where, s string) string {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(s)) {
			return where + ":" + h.Name
		}
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if found := grepTarReader(t, zr, where+":"+h.Name, s); found != "" {
				return found
			}
		} else if tarLike(data) {
			if found := grepTarReader(t, bytes.NewReader(data), where+":"+h.Name, s); found != "" {
				return found
			}
		}
	}
}

func tarLike(data []byte) bool { return len(data) > 262 && string(data[257:262]) == "ustar" }
