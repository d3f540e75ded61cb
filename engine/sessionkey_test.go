package engine

import "testing"

// Requests share a session when it serves them the same context, named
// contexts, secrets and SSH: Target, Tags and the Dockerfile may differ.
func TestSessionKey(t *testing.T) {
	base := BuildRequest{ContextDir: "ex/a", Dockerfile: "ex/a/Dockerfile", Contexts: map[string]string{"golang": "/bases/golang"}}
	same := []BuildRequest{
		{ContextDir: "ex/a", Dockerfile: "ex/a/Dockerfile", Target: "builder", Tags: []string{"x"}, Contexts: map[string]string{"golang": "/bases/golang"}},
		{ContextDir: "ex/a", Dockerfile: "ex/a/Dockerfile.build", Contexts: map[string]string{"golang": "/bases/golang"}},
		{ContextDir: "ex/a/.", Contexts: map[string]string{"golang": "/bases/golang"}},
		{ContextDir: "ex/a", Dockerfile: "ex/b/Dockerfile", Contexts: base.Contexts},
	}
	other := []BuildRequest{
		{ContextDir: "ex/b", Dockerfile: "ex/b/Dockerfile", Contexts: base.Contexts},
		{ContextDir: "ex/a", Dockerfile: "ex/a/Dockerfile", Contexts: map[string]string{"golang": "/bases/other"}},
		{ContextDir: "ex/a", Dockerfile: "ex/a/Dockerfile", Contexts: base.Contexts, Secrets: []string{"id=a,src=f"}},
	}
	for _, r := range same {
		if sessionKey(r) != sessionKey(base) {
			t.Errorf("%+v does not share the session of %+v", r, base)
		}
	}
	for _, r := range other {
		if sessionKey(r) == sessionKey(base) {
			t.Errorf("%+v shares the session of %+v", r, base)
		}
	}
}
