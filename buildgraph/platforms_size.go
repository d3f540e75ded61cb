package buildgraph

import "strings"

// Attestation is a manifest of an image index that is no platform's image:
// a provenance or SBOM attestation BuildKit attaches to an image. Indexes
// list it with the platform unknown/unknown; it is never a platform.
type Attestation struct {
	// Digest is the attestation manifest's digest.
	Digest string `json:"digest"`
	// For is the platform of the image it attests, and ForDigest that
	// image's manifest digest ("" when the index does not say).
	For       string `json:"for,omitempty"`
	ForDigest string `json:"forDigest,omitempty"`
	// Kind is "provenance", "sbom", or "attestation" for another
	// predicate; PredicateTypes are the in-toto predicate types of its
	// layers, as given.
	Kind           string   `json:"kind"`
	PredicateTypes []string `json:"predicateTypes"`
	// Size is the bytes the attestation adds to the index: its manifest,
	// config and layers as stored.
	Size int64 `json:"size"`
}

// AttestationKind names an attestation by its in-toto predicate types.
func AttestationKind(predicateTypes []string) string {
	kind := ""
	for _, t := range predicateTypes {
		k := "attestation"
		switch {
		case strings.Contains(t, "slsa.dev/provenance"):
			k = "provenance"
		case strings.Contains(t, "spdx.dev") || strings.Contains(t, "cyclonedx"):
			k = "sbom"
		}
		if kind == "" {
			kind = k
		} else if kind != k {
			return "attestation"
		}
	}
	if kind == "" {
		return "attestation"
	}
	return kind
}

// ForPlatform returns the image of platform p in an index's measurement (the
// measurement itself when it is that platform's, or not of an index), nil
// when the index has no such platform.
func (s *ImageSize) ForPlatform(p string) *ImageSize {
	if s == nil {
		return nil
	}
	if len(s.Platforms) == 0 {
		if s.Platform == "" || s.Platform == p {
			return s
		}
		return nil
	}
	for _, ps := range s.Platforms {
		if ps.Platform == p {
			return ps
		}
	}
	return nil
}

// AttestationsFor are the attestations of the index that attest the image
// of platform p.
func (s *ImageSize) AttestationsFor(p string) []Attestation {
	var out []Attestation
	for _, a := range s.Attestations {
		if a.For == p {
			out = append(out, a)
		}
	}
	return out
}
