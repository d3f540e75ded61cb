package buildgraph

// VertexStage is the stage a vertex name gives without a Graph: the label
// of a numbered step's bracketed prefix ("builder" for "[builder 2/4] RUN
// make", "stage-1" for an unnamed stage), and false for a vertex of no
// stage ("[internal] load build context", "exporting to image"). It is how
// a build whose Dockerfile is not at hand (one of an engine's history) is
// laid out by stage.
func VertexStage(name string) (string, bool) {
	n := parseVertexName(name)
	if n.index == 0 || n.label == "" {
		return "", false
	}
	return n.label, true
}
