package buildgraph

import "testing"

func TestVertexStage(t *testing.T) {
	for name, want := range map[string]string{
		"[builder 2/4] RUN make":                 "builder",
		"[linux/arm64 stage-1 1/2] FROM busybox": "stage-1",
		"[internal] load build context":          "",
		"exporting to image":                     "",
		"[2/3] COPY . .":                         "",
		"[base] RUN x":                           "",
	} {
		got, ok := VertexStage(name)
		if got != want || ok != (want != "") {
			t.Errorf("VertexStage(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}
