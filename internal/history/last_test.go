package history

import (
	"testing"
	"time"

	"github.com/stagescope/stagescope/buildgraph"
)

func TestLastOfTargetEngineAndPlatform(t *testing.T) {
	s := newStore(t)
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	eng := sample("app", "x", at, 0).Engine
	if r, err := s.Last("/src/app/Dockerfile", "build", "", eng); r != nil || err != nil {
		t.Fatalf("empty store: %v %v", r, err)
	}
	old := sample("app", "build", at, 2)
	old.Steps[0].Facts = &buildgraph.StepFacts{Position: 1, Instruction: "RUN step 0", Base: "scratch"}
	old.Steps[0].Why = &buildgraph.Reason{Kind: buildgraph.ReasonFirstBuild}
	newer := sample("app", "build", at.Add(time.Minute), 1)
	arm := sample("app", "build", at.Add(2*time.Minute), 1)
	arm.Platform = "linux/arm64"
	docker := sample("app", "build", at.Add(3*time.Minute), 1)
	docker.Engine = Engine{Kind: "docker", Address: "unix:///var/run/docker.sock"}
	other := sample("app", "test", at.Add(4*time.Minute), 1)
	migrated := sample("app", "build", at.Add(5*time.Minute), 0)
	migrated.Migrated = true
	if err := s.Record([]*Record{old, newer, arm, docker, other, migrated}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		platform string
		eng      Engine
		want     *Record
	}{
		{"", eng, newer},
		{"linux/arm64", eng, arm},
		{"", docker.Engine, docker},
		{"", Engine{Kind: "buildkitd", Address: "tcp://elsewhere:1234"}, nil},
	} {
		got, err := s.Last("/src/app/Dockerfile", "build", tt.platform, tt.eng)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tt.want == nil && got != nil:
			t.Errorf("%s %+v: got %s, want none", tt.platform, tt.eng, got.ID)
		case tt.want != nil && (got == nil || got.ID != tt.want.ID):
			t.Errorf("%s %+v: got %v, want %s", tt.platform, tt.eng, got, tt.want.ID)
		}
	}
	if err := s.Record([]*Record{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := got.Steps[0].Facts; f == nil || f.Instruction != "RUN step 0" || got.Steps[0].Why.Kind != buildgraph.ReasonFirstBuild {
		t.Errorf("facts and reason not kept: %+v", got.Steps[0])
	}
}
