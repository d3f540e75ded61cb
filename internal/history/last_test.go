package history

import (
	"encoding/binary"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

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

// A list of files is kept once however many records name it, Get gives
// it back, Last leaves it to LoadFiles, and it goes with the last record
// that names it.
func TestFileListsKeptOnce(t *testing.T) {
	s := newStore(t)
	s.Keep = 2
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	files := []buildgraph.FileDigest{{Path: "src/a.go", Digest: "sha256:aa", Mode: 0o644, Size: 2}}
	other := []buildgraph.FileDigest{{Path: "src/a.go", Digest: "sha256:bb", Mode: 0o644, Size: 2}}
	rec := func(i int, fs []buildgraph.FileDigest) *Record {
		r := sample("app", "build", at.Add(time.Duration(i)*time.Minute), 2)
		f := &buildgraph.StepFacts{Position: 1, Instruction: "COPY src/ .", Reads: []string{"src"}, Files: fs}
		r.Steps[0].Facts, r.Steps[1].Facts = f, f // two vertices of one instruction
		return r
	}
	r1, r2 := rec(1, files), rec(2, files)
	if err := s.Record([]*Record{r1, r2}); err != nil {
		t.Fatal(err)
	}
	if r1.Steps[0].Facts.Files == nil {
		t.Fatal("Record changed the caller's facts")
	}
	lists := func() (n int, refs []uint64) {
		s.view(func(tx *bolt.Tx) error {
			tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error { n++; return nil })
			tx.Bucket(bucketFileRefs).ForEach(func(k, v []byte) error {
				refs = append(refs, binary.BigEndian.Uint64(v))
				return nil
			})
			return nil
		})
		return n, refs
	}
	if n, refs := lists(); n != 1 || len(refs) != 1 || refs[0] != 2 {
		t.Errorf("%d lists, refs %v: want one list named by 2 records", n, refs)
	}
	got, err := s.Get(r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := got.Steps[1].Facts; len(f.Files) != 1 || f.Files[0] != files[0] || f.FilesDigest != buildgraph.FilesDigestOf(files) {
		t.Errorf("Get: %+v", f)
	}
	last, err := s.Last(r1.Dockerfile, "build", "", r1.Engine)
	if err != nil {
		t.Fatal(err)
	}
	if last.Steps[0].Facts.Files != nil {
		t.Error("Last read the list of files")
	}
	if err := s.LoadFiles(last, nil); err != nil || len(last.Steps[0].Facts.Files) != 1 {
		t.Errorf("LoadFiles: %v %+v", err, last.Steps[0].Facts)
	}
	// Two more records with other files: r1 and r2 are trimmed, and the
	// list they named goes with them.
	if err := s.Record([]*Record{rec(3, other), rec(4, other)}); err != nil {
		t.Fatal(err)
	}
	if n, refs := lists(); n != 1 || len(refs) != 1 || refs[0] != 2 {
		t.Errorf("after trimming: %d lists, refs %v: want the other list only", n, refs)
	}
}
