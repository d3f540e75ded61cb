package buildgraph

import (
	"bytes"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"3MB": 3_000_000, "3 MB": 3_000_000, "1.5GiB": 1 << 30 * 3 / 2, "500kB": 500_000, "2048": 2048,
		"10KiB": 10240, "1mib": 1 << 20, "0": 0, "7B": 7, "2GB": 2_000_000_000,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "3XB", "-1MB", "1.2.3MB", "abc", "1e400", "9999999999TiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestRelativeAndHuman(t *testing.T) {
	for _, tt := range []struct {
		size, largest int64
		want          string
	}{
		{2_400_000, 270_000_000, "99.1% smaller, 113× less"},
		{274_000_000, 470_000_000, "41.7% smaller, 1.7× less"},
		{470_000_000, 470_000_000, "largest"},
		{-1, 470, ""},
	} {
		if got := Relative(tt.size, tt.largest); got != tt.want {
			t.Errorf("Relative(%d, %d) = %q, want %q", tt.size, tt.largest, got, tt.want)
		}
	}
	for n, want := range map[int64]string{-1: "-", 0: "0B", 999: "999B", 1430280: "1.43MB", 270088363: "270MB", 2_000_000_000: "2GB"} {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// fixture is the article's story as a comparison.
func fixture() Comparison {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	return Comparison{File: "examples/hello-multistage/Dockerfile", Engine: "docker unix:///var/run/docker.sock", Results: []TargetResult{
		{Target: "builder", Image: "stagescope/hello-multistage:builder", Duration: 12300 * time.Millisecond, StepsTotal: 3,
			Size: &ImageSize{Ref: "stagescope/hello-multistage:builder", Uncompressed: 270088363, Compressed: Unknown, Store: "docker classic image store",
				Layers: []Layer{{CreatedBy: "WORKDIR /app", Size: 0, Stage: 0, StageName: "builder", Line: 3}, {CreatedBy: "RUN go build", Size: 270088363, Stage: 0, StageName: "builder", Line: 5}}},
			Breakdown: &Breakdown{Matched: true, BaseRef: "golang:latest", Own: 270088363}},
		{Target: "stage-1", Image: "stagescope/hello-multistage:stage-1", Duration: 900 * time.Millisecond, StepsCached: 3, StepsTotal: 5,
			Size: &ImageSize{Ref: "stagescope/hello-multistage:stage-1", Uncompressed: 2397198, Compressed: Unknown, Store: "docker classic image store", Layers: []Layer{{CreatedBy: "COPY /app/hello . # buildkit", Size: 2397198, Stage: 1, StageName: "stage-1", Line: 10, From: "builder"}}},
			Breakdown: &Breakdown{Matched: true, BaseRef: "scratch", Copied: []Contribution{{Source: "builder", Bytes: 2397198}},
				LeftBehind: []Contribution{{Source: "builder", Bytes: 270088363}}},
			Previous: &SavedSize{Uncompressed: 2401280, At: at, Engine: "docker"}},
		{Target: "broken", Error: "build failed at [broken 2/2] RUN exit 3: exit code 3"},
	}}
}

func TestCompareRenderers(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := fixture()
	over := c.ApplyBudgets(map[string]int64{"stage-1": 2_000_000, "builder": 1 << 30})
	if len(over) != 1 || over[0].Target != "stage-1" {
		t.Fatalf("over budget: %+v", over)
	}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return c.WriteTable(b, now) },
		"markdown": func(b *bytes.Buffer) error { return c.WriteMarkdown(b, now) },
		"json":     func(b *bytes.Buffer) error { return c.WriteJSON(b) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, b.Bytes())
		})
	}
}

func TestLookupSaved(t *testing.T) {
	g, err := Parse([]byte("FROM scratch AS builder\nFROM scratch\nFROM scratch\nCOPY --from=builder / /\n"), Options{SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string]SavedSize{
		"docker/builder": {Uncompressed: 1},
		"docker/stage-1": {Uncompressed: 2},
		"docker/":        {Uncompressed: 3},
	}
	for _, tt := range []struct {
		target string
		want   int64
		ok     bool
	}{{"builder", 1, true}, {"stage-2", 3, true}, {"STAGE-2", 3, true}, {"stage-1", 2, true}, {"other", 0, false}} {
		if got, ok := LookupSaved(saved, "docker", g, tt.target); ok != tt.ok || got.Uncompressed != tt.want {
			t.Errorf("%s: %v %v", tt.target, got, ok)
		}
	}
	// Records from before the default key: found by the stage's name.
	delete(saved, "docker/")
	saved["docker/stage-2"] = SavedSize{Uncompressed: 4}
	if got, _ := LookupSaved(saved, "docker", g, "stage-2"); got.Uncompressed != 4 {
		t.Errorf("old key: %v", got)
	}
	for name, want := range map[string]bool{"stage-1": true, "Stage-12": true, "stage-": false, "stage-x": false, "builder": false} {
		if NumberedStage(name) != want {
			t.Errorf("NumberedStage(%q)", name)
		}
	}
}

// The saved size of one platform's image: under its own key, the unnamed
// last stage by the default key too, never another platform's or the
// target's.
func TestLookupSavedOn(t *testing.T) {
	g, err := Parse([]byte("FROM scratch AS builder\nFROM scratch\nCOPY --from=builder / /\n"), Options{SkipLint: true})
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string]SavedSize{
		"buildkitd/builder": {Uncompressed: 1},
		PlatformSavedKey(SavedKey("buildkitd", "builder"), "linux/arm64"): {Uncompressed: 2},
		PlatformSavedKey(DefaultSavedKey("buildkitd"), "linux/amd64"):     {Uncompressed: 3},
	}
	for _, tt := range []struct {
		target, platform string
		want             int64
		ok               bool
	}{
		{"builder", "linux/arm64", 2, true}, {"builder", "linux/amd64", 0, false}, {"builder", "", 1, true},
		{"stage-1", "linux/amd64", 3, true}, {"stage-1", "linux/arm64", 0, false},
	} {
		if got, ok := LookupSavedOn(saved, "buildkitd", g, tt.target, tt.platform); ok != tt.ok || got.Uncompressed != tt.want {
			t.Errorf("%s on %q: %v %v", tt.target, tt.platform, got, ok)
		}
	}
	if PlatformSavedKey("docker/app", "") != "docker/app" {
		t.Error("no platform is the key itself")
	}
	for in, want := range map[string]string{"linux/arm64/v8": "linux/arm64", " linux/amd64": "linux/amd64", "linux/arm/7": "linux/arm/v7", "a,b": "", "": "", "linux/x/y/z": ""} {
		if got, ok := NormalizePlatform(in); got != want || ok != (want != "") {
			t.Errorf("NormalizePlatform(%q) = %q, %v", in, got, ok)
		}
	}
}

// Several Dockerfiles in one comparison: each row names its file, a
// budget may name NAME:TARGET, and the JSON lists the files.
func TestCompareRenderersSeveral(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	one := func(name, target string, size int64) TargetResult {
		return TargetResult{File: "examples/" + name + "/Dockerfile", Name: name, Target: target, Duration: time.Second, StepsTotal: 2,
			Size: &ImageSize{Uncompressed: size, Compressed: size / 2, Layers: []Layer{{CreatedBy: "COPY . .", Size: size}}}}
	}
	c := Comparison{File: "examples/java-single-stage/Dockerfile", Engine: "buildkitd unix:///run/buildkit.sock",
		Files: []string{"examples/java-single-stage/Dockerfile", "examples/java-multistage/Dockerfile", "examples/hello-multistage/Dockerfile"},
		Results: []TargetResult{
			one("java-single-stage", "stage-0", 374_000_000),
			one("java-multistage", "builder", 376_000_000),
			one("java-multistage", "runtime", 295_000_000),
			one("hello-multistage", "builder", 283_000_000),
			one("hello-multistage", "stage-1", 2_400_000),
		}}
	c.Results[4].Breakdown = &Breakdown{Matched: true, BaseRef: "scratch", LeftBehind: []Contribution{{Source: "builder", Bytes: 283_000_000}}}
	over := c.ApplyBudgets(map[string]int64{"java-multistage:runtime": 200_000_000, "builder": 1 << 40})
	if len(over) != 1 || over[0].Label() != "java-multistage:runtime" {
		t.Fatalf("over budget: %+v", over)
	}
	if c.Results[3].Budget != 1<<40 || c.Results[1].Budget != 1<<40 {
		t.Errorf("a bare target's budget applies to that target of every file: %+v", c.Results)
	}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return c.WriteTable(b, now) },
		"markdown": func(b *bytes.Buffer) error { return c.WriteMarkdown(b, now) },
		"json":     func(b *bytes.Buffer) error { return c.WriteJSON(b) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, b.Bytes())
		})
	}
}

// A build for several platforms: a PLATFORM column, a row per target and
// platform, and the index's attestations in the notes, never as a row.
func TestCompareRenderersPlatforms(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var c Comparison
	for _, r := range fixture().Results {
		for _, plat := range []string{"linux/amd64", "linux/arm64"} {
			row := r
			row.Platform = plat
			if r.Size != nil && plat == "linux/arm64" {
				size := *r.Size
				size.Uncompressed -= 70_000
				row.Size = &size
				row.Attestations = []Attestation{{Digest: "sha256:0123456789abcdef", For: plat, Kind: "provenance", Size: 2200}}
			}
			c.Results = append(c.Results, row)
		}
	}
	c.ApplyBudgets(map[string]int64{"stage-1": 2_000_000})
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return c.WriteTable(b, now) },
		"markdown": func(b *bytes.Buffer) error { return c.WriteMarkdown(b, now) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, b.Bytes())
		})
	}
}
