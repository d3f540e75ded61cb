package buildgraph

import "fmt"

// hasPlatforms reports whether the comparison's rows are per target and
// platform (a build for several platforms).
func (c Comparison) hasPlatforms() bool {
	for _, r := range c.Results {
		if r.Platform != "" {
			return true
		}
	}
	return false
}

// rowName names a row in the notes under a table: "stage-1" or
// "stage-1 (linux/arm64)".
func (r TargetResult) rowName() string {
	if r.Platform == "" {
		return r.Label()
	}
	return r.Label() + " (" + r.Platform + ")"
}

// attestationLines say, per row, what the index holds besides the image:
// "stage-1 (linux/arm64): provenance attestation, 1.2kB (sha256:0123456789ab), not a platform".
func (c Comparison) attestationLines() []string {
	var out []string
	for _, r := range c.Results {
		for _, a := range r.Attestations {
			out = append(out, fmt.Sprintf("%s: %s attestation, %s (%s), not a platform", r.rowName(), a.Kind, HumanSize(a.Size), shortDigest(a.Digest)))
		}
	}
	return out
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
