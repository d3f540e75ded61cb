package why

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/stagescope/stagescope/buildgraph"
)

// ociDigests sets the BaseDigest of the steps of stages whose base is a
// named context of an OCI layout (oci-layout://PATH[:TAG][@DIGEST]): the
// digest the layout's index gives the tag, read from the layout itself,
// so that a layout rebuilt in place counts as a changed base. A layout
// that cannot be read leaves the digest unknown.
func ociDigests(facts []buildgraph.StageFacts) {
	memo := map[string]string{}
	for si := range facts {
		for fi := range facts[si].Steps {
			f := &facts[si].Steps[fi]
			_, value, ok := strings.Cut(strings.TrimPrefix(f.Base, "context:"), "=")
			if !ok || !strings.HasPrefix(f.Base, "context:") || !strings.HasPrefix(value, "oci-layout://") {
				continue
			}
			d, seen := memo[value]
			if !seen {
				d = ociDigest(strings.TrimPrefix(value, "oci-layout://"))
				memo[value] = d
			}
			f.BaseDigest = d
		}
	}
}

// ociDigest resolves PATH[:TAG][@DIGEST] to a manifest digest.
func ociDigest(ref string) string {
	ref, dgst, ok := strings.Cut(ref, "@")
	if ok {
		return dgst
	}
	path, tag := ref, ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		path, tag = ref[:i], ref[i+1:]
	}
	data, err := os.ReadFile(filepath.Join(path, "index.json"))
	if err != nil {
		return ""
	}
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if json.Unmarshal(data, &index) != nil {
		return ""
	}
	for _, m := range index.Manifests {
		if tag != "" && m.Annotations["org.opencontainers.image.ref.name"] == tag {
			return m.Digest
		}
	}
	if tag == "" && len(index.Manifests) == 1 {
		return index.Manifests[0].Digest
	}
	return ""
}
