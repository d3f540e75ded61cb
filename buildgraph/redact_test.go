package buildgraph

import (
	"bytes"
	"encoding/json"
	"testing"
)

// A value given with --build-arg to an ARG named like a secret's is never
// printed by graph --format json, nor a password in a URL; the
// Dockerfile's own default, which is in the file anyway, is.
func TestJSONRedactsSecretBuildArgs(t *testing.T) {
	src := []byte("ARG GITHUB_TOKEN=dflt\nARG MIRROR\nARG VERSION\nARG API_KEY=fromfile\nFROM scratch\n")
	g, err := Parse(src, Options{BuildArgs: map[string]string{
		"GITHUB_TOKEN": "s3cr3t",
		"MIRROR":       "https://bob:hunter2@example.com/x",
		"VERSION":      "2",
	}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, g, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"s3cr3t", "hunter2"} {
		if bytes.Contains(out.Bytes(), []byte(leak)) {
			t.Errorf("graph JSON prints %q:\n%s", leak, out.String())
		}
	}
	var doc struct {
		Args []struct {
			Name  string  `json:"name"`
			Value *string `json:"value"`
		} `json:"args"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"GITHUB_TOKEN": Redacted,
		"MIRROR":       "https://bob:" + Redacted + "@example.com/x",
		"VERSION":      "2",
		"API_KEY":      "fromfile",
	}
	for _, a := range doc.Args {
		if a.Value == nil || *a.Value != want[a.Name] {
			t.Errorf("arg %s = %v, want %q", a.Name, a.Value, want[a.Name])
		}
	}
}
