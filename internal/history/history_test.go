package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/stagescope/stagescope/buildgraph"
)

// The test binary doubles as a writer process for the tests of several
// processes: STAGESCOPE_TEST_WRITER=PATH,N,NAME records N builds into PATH
// (N=0: forever), printing each id once it is committed.
func TestMain(m *testing.M) {
	if spec := os.Getenv("STAGESCOPE_TEST_WRITER"); spec != "" {
		parts := strings.Split(spec, ",")
		n, _ := strconv.Atoi(parts[1])
		s := Open(parts[0])
		s.Keep = 1 << 30
		s.Timeout = time.Minute
		for i := 0; n == 0 || i < n; i++ {
			r := sample(parts[2], "t", time.Now(), 200)
			if err := s.Record([]*Record{r}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Println(r.ID)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var t0 = time.Date(2026, 11, 27, 7, 22, 30, 0, time.UTC)

// sample is a record of a build of target of /src/<name>/Dockerfile with
// steps steps.
func sample(name, target string, at time.Time, steps int) *Record {
	r := &Record{
		Time: at, Finished: at.Add(3 * time.Second),
		Engine:     Engine{Kind: "buildkitd", Address: "unix:///run/buildkit/buildkitd.sock", Version: "v0.34.2"},
		Dockerfile: "/src/" + name + "/Dockerfile", DockerfileDigest: "sha256:0123",
		Target: target, Outcome: Succeeded, Duration: 3 * time.Second,
		BuildArgs: map[string]string{"GOOS": "linux", "NPM_TOKEN": "tok-123"},
		Contexts:  map[string]string{"golang": "/bases/golang"},
	}
	for i := range steps {
		r.Steps = append(r.Steps, Step{
			Vertex: fmt.Sprintf("sha256:%064d", i), Inputs: []string{fmt.Sprintf("sha256:%064d", max(i-1, 0))},
			Stage: 0, StageName: target, Line: i + 2, Name: fmt.Sprintf("[%s %d/%d] RUN step %d", target, i+1, steps, i),
			Text: fmt.Sprintf("RUN step %d", i), Started: at.Add(time.Duration(i) * time.Millisecond),
			Completed: at.Add(time.Duration(i+1) * time.Millisecond), State: "done",
		})
	}
	r.StepsTotal = steps
	return r
}

func newStore(t testing.TB) *Store {
	return Open(filepath.Join(t.TempDir(), "state", FileName))
}

func TestRecordListGet(t *testing.T) {
	s := newStore(t)
	if got, err := s.List(Filter{}); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Error("reading an empty store created the file")
	}
	a := sample("app", "builder", t0, 3)
	b := sample("app", "runtime", t0.Add(time.Minute), 2)
	c := sample("other", "builder", t0.Add(2*time.Minute), 1)
	if err := s.Record([]*Record{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.Record([]*Record{c}); err != nil {
		t.Fatal(err)
	}
	if len(a.ID) != 32 || a.ID == b.ID {
		t.Fatalf("ids %q %q", a.ID, b.ID)
	}
	list, err := s.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != c.ID || list[2].ID != a.ID {
		t.Fatalf("not newest first: %+v", list)
	}
	if got, _ := s.List(Filter{Dockerfile: "/src/app/../app/Dockerfile"}); len(got) != 2 {
		t.Errorf("by Dockerfile: %d", len(got))
	}
	if got, _ := s.List(Filter{Target: "BUILDER"}); len(got) != 2 {
		t.Errorf("by target: %d", len(got))
	}
	if got, _ := s.List(Filter{Limit: 1}); len(got) != 1 || got[0].ID != c.ID {
		t.Errorf("limit: %+v", got)
	}
	got, err := s.Get(a.ID[:6])
	if err != nil {
		t.Fatal(err)
	}
	if got.Target != "builder" || len(got.Steps) != 3 || got.Steps[1].Inputs[0] != a.Steps[0].Vertex || !got.Time.Equal(t0) {
		t.Errorf("got %+v", got)
	}
	if got.BuildArgs["NPM_TOKEN"] != Redacted || got.BuildArgs["GOOS"] != "linux" {
		t.Errorf("build args %v", got.BuildArgs)
	}
	var nf *NotFoundError
	if _, err := s.Get("zzzz"); !errors.As(err, &nf) {
		t.Errorf("unknown prefix: %v", err)
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	s := newStore(t)
	var recs []*Record
	for i, id := range []string{"abc1" + strings.Repeat("0", 28), "abc2" + strings.Repeat("0", 28), "abd0" + strings.Repeat("0", 28)} {
		r := sample("app", "t", t0.Add(time.Duration(i)*time.Second), 1)
		r.ID = id
		recs = append(recs, r)
	}
	if err := s.Record(recs); err != nil {
		t.Fatal(err)
	}
	var amb *AmbiguousError
	_, err := s.Get("abc")
	if !errors.As(err, &amb) || len(amb.Candidates) != 2 {
		t.Fatalf("ambiguous: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "abc100000000") || !strings.Contains(msg, "abc200000000") {
		t.Errorf("the sentence does not name the candidates: %s", msg)
	}
	if r, err := s.Get("ABD"); err != nil || r.ID != recs[2].ID {
		t.Errorf("unique prefix: %v", err)
	}
	if ids, err := s.Resolve([]string{"abc1", "abd"}); err != nil || len(ids) != 2 {
		t.Errorf("resolve: %v %v", ids, err)
	}
}

func TestKeepPerTarget(t *testing.T) {
	s := newStore(t)
	s.Keep = 3
	for i := range 5 {
		if err := s.Record([]*Record{sample("app", "a", t0.Add(time.Duration(i)*time.Second), 1), sample("app", "b", t0.Add(time.Duration(i)*time.Second), 1)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, target := range []string{"a", "b"} {
		got, err := s.List(Filter{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || !got[2].Time.Equal(t0.Add(2*time.Second)) {
			t.Errorf("%s: kept %d, oldest %v", target, len(got), got[len(got)-1].Time)
		}
	}
}

func TestPrune(t *testing.T) {
	s := newStore(t)
	var recs []*Record
	for i := range 4 {
		recs = append(recs, sample("app", "a", t0.Add(time.Duration(i)*time.Hour), 1), sample("other", "a", t0.Add(time.Duration(i)*time.Hour), 1))
	}
	if err := s.Record(recs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(Prune{Dockerfile: "/src/app/Dockerfile"}); err == nil {
		t.Error("a prune without a selector must be refused")
	}
	gone, err := s.Prune(Prune{Keep: 2, Dockerfile: "/src/app/Dockerfile"})
	if err != nil || len(gone) != 2 {
		t.Fatalf("keep 2: %d %v", len(gone), err)
	}
	gone, err = s.Prune(Prune{Before: t0.Add(90 * time.Minute)})
	if err != nil || len(gone) != 2 { // other's first two; app's are gone already
		t.Fatalf("before: %d %v", len(gone), err)
	}
	gone, err = s.Prune(Prune{IDs: []string{recs[7].ID}})
	if err != nil || len(gone) != 1 || gone[0].ID != recs[7].ID {
		t.Fatalf("by id: %v %v", gone, err)
	}
	left, _ := s.List(Filter{})
	if len(left) != 3 {
		t.Errorf("left %d", len(left))
	}
	if _, err := s.Get(recs[7].ID); err == nil {
		t.Error("a pruned record is still there")
	}
	if gone, err := s.Prune(Prune{All: true}); err != nil || len(gone) != 3 {
		t.Errorf("all: %d %v", len(gone), err)
	}
}

func TestLoadPrevious(t *testing.T) {
	s := newStore(t)
	measured := func(r *Record, kind string, size int64) *Record {
		r.Engine.Kind = kind
		r.Size = &buildgraph.ImageSize{Uncompressed: size, Compressed: size / 2}
		return r
	}
	if err := s.Record([]*Record{
		measured(sample("app", "builder", t0, 1), "buildkitd", 100),
		measured(sample("app", "builder", t0.Add(time.Hour), 1), "buildkitd", 200),
		measured(sample("app", "builder", t0.Add(2*time.Hour), 1), "docker", 300),
		sample("app", "builder", t0.Add(3*time.Hour), 1), // not measured
		measured(sample("other", "builder", t0, 1), "buildkitd", 400),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("/src/app/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["buildkitd/builder"].Uncompressed != 200 || got["docker/builder"].Compressed != 150 ||
		!got["buildkitd/builder"].At.Equal(t0.Add(time.Hour)) || got["docker/builder"].Engine != "docker" {
		t.Errorf("loaded %+v", got)
	}
}

func TestNoSecretValueStored(t *testing.T) {
	s := newStore(t)
	r := sample("app", "t", t0, 1)
	r.BuildArgs = map[string]string{"API_KEY": "v-9f8e7d", "DB_PASSWORD": "v-9f8e7d", "GITHUB_TOKEN": "v-9f8e7d", "AWS_SECRET_ACCESS_KEY": "v-9f8e7d", "VERSION": "1.2"}
	if err := s.Record([]*Record{r}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("v-9f8e7d")) {
		t.Error("a secret-like build argument's value is in the file")
	}
	got, _ := s.Get(r.ID)
	if got.BuildArgs["VERSION"] != "1.2" || got.BuildArgs["API_KEY"] != Redacted {
		t.Errorf("args %v", got.BuildArgs)
	}
}

// results.json of earlier versions is copied in when the database is
// created, and left as it was.
func TestMigrateResultsJSON(t *testing.T) {
	dir := t.TempDir()
	legacy := `{
  "schemaVersion": 1,
  "results": {
    "/src/app/Dockerfile": {
      "buildkitd/builder": {"uncompressed": 283400000, "compressed": 98200000, "at": "2026-11-25T10:00:00Z", "engine": "buildkitd"},
      "docker/stage-1": {"uncompressed": 2400000, "compressed": 1150000, "at": "2026-11-26T10:00:00Z", "engine": "docker"},
      "old": {"uncompressed": 5, "compressed": 4, "at": "2026-11-20T10:00:00Z"}
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Open(filepath.Join(dir, FileName))
	got, err := s.Load("/src/app/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if got["buildkitd/builder"].Uncompressed != 283400000 || got["docker/stage-1"].Compressed != 1150000 || got["/old"].Uncompressed != 5 {
		t.Errorf("migrated sizes %+v", got)
	}
	list, err := s.List(Filter{})
	if err != nil || len(list) != 3 || !list[0].Migrated || list[0].Target != "stage-1" {
		t.Fatalf("list %+v %v", list, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "results.json")); string(data) != legacy {
		t.Error("results.json was changed")
	}
	// Copied once: a later record does not copy it again.
	if err := s.Record([]*Record{sample("app", "builder", t0, 1)}); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(Filter{}); len(list) != 4 {
		t.Errorf("after a record: %d", len(list))
	}
}

// unusable checks the store at path cannot be used, with one sentence
// naming the file that says why, that Record says so once, and that the
// file is unchanged.
func unusable(t *testing.T, path, why string) {
	t.Helper()
	before, _ := os.ReadFile(path)
	s := Open(path)
	s.Timeout = time.Second
	err := s.Record([]*Record{sample("app", "t", t0, 3)})
	var u *UnusableError
	if !errors.As(err, &u) {
		t.Fatalf("record: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, why) || strings.Contains(msg, "\n") {
		t.Errorf("sentence %q does not name %s and %q", msg, path, why)
	}
	if err := s.Record([]*Record{sample("app", "t", t0, 3)}); err != nil {
		t.Errorf("said twice: %v", err)
	}
	if _, err := s.List(Filter{}); !errors.As(err, &u) {
		t.Errorf("list: %v", err)
	}
	if _, err := s.Load("/src/app/Dockerfile"); !errors.As(err, &u) {
		t.Errorf("load: %v", err)
	}
	if _, err := s.Prune(Prune{All: true}); !errors.As(err, &u) {
		t.Errorf("prune: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the file was changed")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files beside it: %v", entries)
	}
}

func TestCorruptStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	unusable(t, path, "damaged")
}

func TestDamagedPagesStore(t *testing.T) {
	// A real database whose pages after the meta pages were overwritten.
	path := filepath.Join(t.TempDir(), FileName)
	s := Open(path)
	for i := range 5 {
		if err := s.Record([]*Record{sample("app", "t", t0.Add(time.Duration(i)*time.Second), 50)}); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	for i := 2 * 4096; i < len(data); i++ {
		data[i] = 0xA5
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	unusable(t, path, "damaged")
}

func TestUnreadableStore(t *testing.T) {
	t.Run("directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), FileName)
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		s := Open(path)
		err := s.Record([]*Record{sample("app", "t", t0, 1)})
		var u *UnusableError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), path) {
			t.Fatalf("record: %v", err)
		}
		if _, err := s.List(Filter{}); !errors.As(err, &u) || !strings.Contains(err.Error(), "directory") {
			t.Errorf("list: %v", err)
		}
	})
	t.Run("permissions", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads files whatever their mode")
		}
		path := filepath.Join(t.TempDir(), FileName)
		if err := Open(path).Record([]*Record{sample("app", "t", t0, 1)}); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		unusable(t, path, "permission denied")
	})
}

func TestNewerStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := Open(path).Record([]*Record{sample("app", "t", t0, 1)}); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion+1)))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	unusable(t, path, "newer stagescope")
}

// Two goroutines, each with a Store of its own on one file, lose nothing.
func TestConcurrentGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := Open(path)
			s.Keep = 1000
			for i := range n {
				errs <- s.Record([]*Record{sample(fmt.Sprintf("g%d", g), "t", t0.Add(time.Duration(i)*time.Second), 20)})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if list, err := Open(path).List(Filter{}); err != nil || len(list) != 2*n {
		t.Fatalf("%d records, want %d (%v)", len(list), 2*n, err)
	}
}

func writer(t *testing.T, path string, n int, name string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("STAGESCOPE_TEST_WRITER=%s,%d,%s", path, n, name))
	return cmd
}

// Two processes recording at once lose nothing.
func TestConcurrentProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	const n = 15
	cmds := []*exec.Cmd{writer(t, path, n, "p1"), writer(t, path, n, "p2")}
	outs := make([]bytes.Buffer, 2)
	for i, c := range cmds {
		c.Stdout, c.Stderr = &outs[i], &outs[i]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, outs[i].String())
		}
	}
	s := Open(path)
	for i := range cmds {
		for _, id := range strings.Fields(outs[i].String()) {
			if r, err := s.Get(id); err != nil || len(r.Steps) != 200 {
				t.Errorf("record %s of writer %d: %v", id, i, err)
			}
		}
	}
	if list, _ := s.List(Filter{}); len(list) != 2*n {
		t.Errorf("%d records, want %d", len(list), 2*n)
	}
}

// A process killed while it records leaves every record it had committed
// readable, and the store usable.
func TestKillMidWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	for round := range 3 {
		cmd := writer(t, path, 0, fmt.Sprintf("k%d", round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var ids []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ids = append(ids, sc.Text())
			if len(ids) == 8+round*3 { // kill at a different point each round
				break
			}
		}
		// The writer is in the middle of its next record.
		time.Sleep(time.Duration(round) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		s := Open(path)
		for _, id := range ids {
			r, err := s.Get(id)
			if err != nil || len(r.Steps) != 200 {
				t.Fatalf("round %d: record %s: %v", round, id, err)
			}
		}
		if err := s.Record([]*Record{sample("after", "t", t0, 1)}); err != nil {
			t.Fatalf("round %d: the store is not usable after the kill: %v", round, err)
		}
	}
}

func TestRecordJSONFields(t *testing.T) {
	r := sample("app", "builder", t0, 1)
	r.ID = "0123456789abcdef0123456789abcdef"
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"vertex"`, `"inputs"`, `"stage"`, `"line"`, `"text"`, `"started"`, `"completed"`, `"cached"`, `"state"`, `"engine"`, `"dockerfileDigest"`, `"buildArgs"`, `"contexts"`, `"outcome"`} {
		if !bytes.Contains(data, []byte(field)) {
			t.Errorf("no %s in %s", field, data)
		}
	}
}

func TestLayerSizes(t *testing.T) {
	s := newStore(t)
	l := s.OpenLayerSizes()
	if _, ok := l.Get("sha256:a"); ok {
		t.Fatal("empty memo has an entry")
	}
	l.Put("sha256:a", 42)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, ok := s.OpenLayerSizes().Get("sha256:a"); !ok || n != 42 {
		t.Errorf("reloaded: %d %v", n, ok)
	}
}

func TestSummaryForm(t *testing.T) {
	baked := sample("app", "t", t0, 2)
	baked.Bake = "app-alpine"
	arm := sample("app", "t", t0, 2)
	arm.Platform = "linux/arm64"
	index := sample("app", "t", t0, 2)
	index.Platform, index.Bake = "linux/amd64,linux/arm64", "app-multi"
	for _, r := range []*Record{sample("app", "t", t0, 2), baked, arm, index, {ID: "x", Migrated: true, Outcome: Failed, Error: "e"}} {
		r.ID += "0123"
		if r.Dockerfile != "" {
			r.Size = &buildgraph.ImageSize{Uncompressed: 5, Compressed: buildgraph.Unknown}
		}
		if r == index {
			r.Size.Platforms = []*buildgraph.ImageSize{
				{Platform: "linux/amd64", Uncompressed: 5, Compressed: 3}, {Platform: "linux/arm64", Uncompressed: 4, Compressed: 2},
			}
		}
		want := r.Summary()
		if r == index && (want.Platform != index.Platform || len(want.Platforms) != 2 || want.Platforms[1] != (PlatformSize{Platform: "linux/arm64", Uncompressed: 4, Compressed: 2})) {
			t.Errorf("summary of an index: %+v", want)
		}
		var got Summary
		if err := got.unmarshal(want.marshal()); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(got)
		if string(a) != string(b) {
			t.Errorf("round trip:\n%s\n%s", a, b)
		}
		data := want.marshal()
		// The platforms follow the older form, which an older reader
		// (ignoring flags it does not know and what follows) reads as it was.
		older := want
		older.Platform, older.Platforms = "", nil
		if o := older.marshal(); !bytes.Equal(o[2:], data[2:len(o)]) || o[1] != data[1]&^(flagPlatform|flagPlatforms) {
			t.Errorf("the platforms changed the older form:\n%x\n%x", o, data)
		}
		for i := range data {
			var s Summary
			_ = s.unmarshal(data[:i]) // never panics on a cut entry
		}
	}
}

// The sizes of each platform's image: from the index of a build for
// several platforms and from a build for one, newest first, per engine
// kind, for the bake target's and the default target's keys too; a build
// for the engine's default platform names none.
func TestLoadPlatforms(t *testing.T) {
	s := newStore(t)
	index := func(r *Record, kind string, amd, arm int64) *Record {
		r.Engine.Kind, r.Platform = kind, "linux/amd64,linux/arm64"
		a := &buildgraph.ImageSize{Platform: "linux/amd64", Uncompressed: amd, Compressed: amd / 2}
		b := &buildgraph.ImageSize{Platform: "linux/arm64", Uncompressed: arm, Compressed: arm / 2}
		first := *a
		first.Platforms = []*buildgraph.ImageSize{a, b}
		r.Size = &first
		return r
	}
	one := func(r *Record, platform string, size int64) *Record {
		r.Platform = platform
		r.Size = &buildgraph.ImageSize{Uncompressed: size, Compressed: size / 2}
		return r
	}
	baked := index(sample("app", "stage-1", t0.Add(4*time.Hour), 1), "buildkitd", 70, 60)
	baked.Bake = "app-multi"
	if err := s.Record([]*Record{
		index(sample("app", "app", t0, 1), "buildkitd", 200, 180),
		one(sample("app", "app", t0.Add(time.Hour), 1), "linux/arm64/v8", 170), // newer: arm64's size now
		index(sample("app", "app", t0.Add(2*time.Hour), 1), "docker", 210, 190),
		one(sample("app", "app", t0.Add(3*time.Hour), 1), "", 999), // the engine's platform: none named
		baked,
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("/src/app/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	on := func(key, platform string) int64 {
		s, ok := got[buildgraph.PlatformSavedKey(key, platform)]
		if !ok {
			return -1
		}
		return s.Uncompressed
	}
	for _, tt := range []struct {
		key, platform string
		want          int64
	}{
		{"buildkitd/app", "linux/amd64", 200},
		{"buildkitd/app", "linux/arm64", 170},
		{"docker/app", "linux/amd64", 210},
		{"docker/app", "linux/arm64", 190},
		{"buildkitd/app", "", 999},
		{"buildkitd/app", "linux/arm/v7", -1},
		{buildgraph.BakeSavedKey("buildkitd", "app-multi"), "linux/arm64", 60},
		{buildgraph.DefaultSavedKey("buildkitd"), "linux/amd64", 70},
		{"buildkitd/stage-1", "linux/arm64", 60},
	} {
		if n := on(tt.key, tt.platform); n != tt.want {
			t.Errorf("%s on %q: %d, want %d", tt.key, tt.platform, n, tt.want)
		}
	}
	if at := got[buildgraph.PlatformSavedKey("buildkitd/app", "linux/arm64")]; !at.At.Equal(t0.Add(time.Hour)) || at.Compressed != 85 || at.Engine != "buildkitd" {
		t.Errorf("arm64 saved %+v", at)
	}
}

// The unnamed last stage was stage-1, then a stage inserted above it made it
// stage-2: its newest size is also under the default key, and the old keys
// are still read.
func TestLoadDefaultTargetRenumbered(t *testing.T) {
	s := newStore(t)
	measured := func(r *Record, size int64) *Record {
		r.Engine.Kind = "buildkitd"
		r.Size = &buildgraph.ImageSize{Uncompressed: size, Compressed: size / 2}
		return r
	}
	if err := s.Record([]*Record{
		measured(sample("app", "stage-1", t0, 1), 100),
		measured(sample("app", "stage-1", t0.Add(time.Hour), 1), 150),
		measured(sample("app", "builder", t0.Add(2*time.Hour), 1), 900),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("/src/app/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if got["buildkitd/stage-1"].Uncompressed != 150 || got[buildgraph.DefaultSavedKey("buildkitd")].Uncompressed != 150 ||
		got["buildkitd/builder"].Uncompressed != 900 || len(got) != 3 {
		t.Errorf("loaded %+v", got)
	}
	g, err := buildgraph.Parse([]byte("FROM scratch AS builder\nFROM scratch\nCOPY --from=builder / /\nFROM scratch\nCOPY --from=1 / /\n"), buildgraph.Options{SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	if prev, ok := buildgraph.LookupSaved(got, "buildkitd", g, "stage-2"); !ok || prev.Uncompressed != 150 {
		t.Errorf("stage-2 previous %+v %v", prev, ok)
	}
	// A newer build of stage-2 is what the default target compares with.
	if err := s.Record([]*Record{measured(sample("app", "stage-2", t0.Add(3*time.Hour), 1), 120)}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Load("/src/app/Dockerfile")
	if prev, _ := buildgraph.LookupSaved(got, "buildkitd", g, "stage-2"); prev.Uncompressed != 120 {
		t.Errorf("stage-2 previous after its own build %+v", prev)
	}
}

// --keep is a floor when it is given with --older-than or --all: the
// newest N of each Dockerfile and target stay, whatever else selects them;
// only ids named one by one are deleted regardless.
func TestPruneKeepProtects(t *testing.T) {
	s := newStore(t)
	var recs []*Record
	for i := range 8 {
		recs = append(recs, sample("app", "a", t0.Add(time.Duration(i)*24*time.Hour), 1))
	}
	if err := s.Record(recs); err != nil {
		t.Fatal(err)
	}
	// Records of days 0–7; older than day 5 are days 0–4; the newest 5 are
	// days 3–7: only days 0–2 go.
	gone, err := s.Prune(Prune{Keep: 5, Before: t0.Add(5 * 24 * time.Hour)})
	if err != nil || len(gone) != 3 {
		t.Fatalf("keep 5 and older than day 5: deleted %d (%v), want 3", len(gone), err)
	}
	gone, err = s.Prune(Prune{Keep: 2, All: true})
	if err != nil || len(gone) != 3 {
		t.Fatalf("keep 2 of all: deleted %d (%v), want 3", len(gone), err)
	}
	gone, err = s.Prune(Prune{Keep: 2, IDs: []string{recs[7].ID}})
	if err != nil || len(gone) != 1 || gone[0].ID != recs[7].ID {
		t.Fatalf("an id named with --keep: %v %v", gone, err)
	}
	if left, _ := s.List(Filter{}); len(left) != 1 || left[0].ID != recs[6].ID {
		t.Errorf("left %+v", left)
	}
}

// A password in a URL's user information never reaches the store: in a
// build argument whatever its name, in a named context and in the engine's
// address.
func TestRedactURLUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://app:hunter2@db:5432/app":              "postgres://app:" + Redacted + "@db:5432/app",
		"https://user:ghp_x@github.com/org/repo.git#main": "https://user:" + Redacted + "@github.com/org/repo.git#main",
		"https://ghp_token@github.com/org/repo.git":       "https://" + Redacted + "@github.com/org/repo.git",
		"tcp://10.0.0.1:1234":                             "tcp://10.0.0.1:1234",
		"docker-image://alpine:3.19":                      "docker-image://alpine:3.19",
		"./local/dir":                                     "./local/dir",
		"plain value":                                     "plain value",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	args := RedactArgs(map[string]string{"DATABASE_URL": "postgres://u:pw@db/x", "GITHUB_TOKEN": "t"})
	if args["DATABASE_URL"] != "postgres://u:"+Redacted+"@db/x" || args["GITHUB_TOKEN"] != Redacted {
		t.Errorf("RedactArgs: %v", args)
	}
}
