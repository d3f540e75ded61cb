package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	bkbuild "github.com/moby/buildkit/cmd/buildctl/build"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// ociLayoutContext turns a named context value oci-layout://PATH[:TAG][@DIGEST]
// into the frontend attribute value and the content store the session
// serves it from (BuildKit reads the image by digest from the client).
// Without a digest the layout's index.json must name exactly one image, or
// the one tagged TAG.
func ociLayoutContext(name, value string) (string, string, content.Store, error) {
	spec := strings.TrimPrefix(value, "oci-layout://")
	path, dgst := spec, ""
	if i := strings.LastIndex(spec, "@"); i >= 0 {
		path, dgst = spec[:i], spec[i+1:]
	}
	tag := ""
	if i := strings.LastIndex(path, ":"); i > strings.LastIndex(path, "/") {
		path, tag = path[:i], path[i+1:]
	}
	bad := func(format string, args ...any) (string, string, content.Store, error) {
		return "", "", nil, &InputError{Msg: fmt.Sprintf("--build-context %s: ", name) + fmt.Sprintf(format, args...)}
	}
	if _, err := os.Stat(filepath.Join(path, "index.json")); err != nil {
		return bad("%s is not an OCI layout (no index.json)", path)
	}
	if dgst == "" {
		var idx ocispecs.Index
		data, err := os.ReadFile(filepath.Join(path, "index.json"))
		if err == nil {
			err = json.Unmarshal(data, &idx)
		}
		if err != nil {
			return bad("reading %s/index.json: %v", path, err)
		}
		var found []string
		for _, m := range idx.Manifests {
			if tag == "" || m.Annotations[ocispecs.AnnotationRefName] == tag {
				found = append(found, m.Digest.String())
			}
		}
		switch {
		case len(found) == 0 && tag != "":
			return bad("no image tagged %q in %s", tag, path)
		case len(found) != 1:
			return bad("%s holds %d images; name one with @sha256:… or :TAG", path, len(found))
		}
		dgst = found[0]
	}
	if _, err := digest.Parse(dgst); err != nil {
		return bad("invalid digest %q", dgst)
	}
	// The store ID becomes the name part of a reference: only lower-case
	// letters, digits and separators, and unique per context name
	// ("eclipse-temurin:17-jdk" must not read as a tag).
	sum := sha256.Sum256([]byte(name))
	id := "ctx-" + strings.Trim(storeIDUnsafe.ReplaceAllString(strings.ToLower(name), "-"), "-") + "-" + hex.EncodeToString(sum[:4])
	stores, err := bkbuild.ParseOCILayout([]string{id + "=" + path})
	if err != nil {
		return bad("%v", rootCause(err))
	}
	return "oci-layout://" + id + "@" + dgst, id, stores[id], nil
}

var storeIDUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)
