package buildgraph

import (
	"reflect"
	"testing"
)

func TestAttributeHello(t *testing.T) {
	df := `FROM golang:latest AS builder
WORKDIR /app
COPY hellodocker.go .
RUN go build -o hello hellodocker.go

FROM scratch
WORKDIR /app
COPY --from=builder /app/hello .
ENTRYPOINT ["./hello"]
`
	g, err := Parse([]byte(df), Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	// The final image's history: one entry per instruction after FROM.
	final := &ImageSize{Layers: []Layer{
		{CreatedBy: "WORKDIR /app", Size: 0},
		{CreatedBy: "COPY /app/hello . # buildkit", Size: 2_397_198},
		{CreatedBy: `ENTRYPOINT ["./hello"]`, Empty: true},
	}}
	b := Attribute(g, "stage-1", final)
	want := Breakdown{Matched: true, BaseRef: "scratch", Copied: []Contribution{{Source: "builder", Bytes: 2_397_198}}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("breakdown %+v\nwant %+v", b, want)
	}
	if l := final.Layers[1]; l.Line != 8 || l.From != "builder" || l.StageName != "stage-1" || l.Base {
		t.Errorf("COPY layer attributed as %+v", l)
	}

	// The builder: base image history first, then its own instructions.
	builder := &ImageSize{Layers: []Layer{
		{CreatedBy: "base layer 1", Size: 100},
		{CreatedBy: "base layer 2", Size: 200},
		{CreatedBy: "WORKDIR /app", Size: 0},
		{CreatedBy: "COPY hellodocker.go . # buildkit", Size: 90},
		{CreatedBy: "RUN /bin/sh -c go build … # buildkit", Size: 5000},
	}}
	b = Attribute(g, "builder", builder)
	want = Breakdown{Matched: true, BaseRef: "golang:latest", Base: 300, Own: 5090}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("breakdown %+v\nwant %+v", b, want)
	}
	if l := builder.Layers[4]; l.Line != 4 || l.Instruction != "RUN go build -o hello hellodocker.go" {
		t.Errorf("RUN layer attributed as %+v", l)
	}

	// A history shorter than the chain cannot be lined up.
	short := &ImageSize{Layers: []Layer{{Size: 7}}}
	if b := Attribute(g, "builder", short); b.Matched || b.Base != 7 {
		t.Errorf("short history: %+v", b)
	}
}

func TestAttributeInheritedChain(t *testing.T) {
	df := "FROM scratch AS a\nCOPY x /x\nFROM a AS b\nCOPY --from=a /x /y\nFROM b AS c\nENV K=v\n"
	g, err := Parse([]byte(df), Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	size := &ImageSize{Layers: []Layer{{CreatedBy: "COPY x /x # buildkit", Size: 10}, {CreatedBy: "COPY /x /y # buildkit", Size: 10}, {CreatedBy: "ENV K=v", Empty: true}}}
	b := Attribute(g, "c", size)
	want := Breakdown{Matched: true, BaseRef: "scratch", Own: 10, Copied: []Contribution{{Source: "a", Bytes: 10}}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("breakdown %+v\nwant %+v", b, want)
	}
	if size.Layers[0].StageName != "a" || size.Layers[1].StageName != "b" || size.Layers[2].StageName != "c" {
		t.Errorf("stages %q %q %q", size.Layers[0].StageName, size.Layers[1].StageName, size.Layers[2].StageName)
	}
}

func TestLeftBehind(t *testing.T) {
	df := "FROM scratch AS deps\nCOPY a /a\nFROM scratch AS builder\nCOPY --from=deps /a /b\nFROM builder AS test\nFROM scratch\nCOPY --from=builder /b /c\n"
	g, err := Parse([]byte(df), Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	got := LeftBehind(g, "stage-3", map[string]int64{"builder": 42})
	want := []Contribution{{Source: "deps", Bytes: Unknown}, {Source: "builder", Bytes: 42}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("final: %+v, want %+v", got, want)
	}
	if got := LeftBehind(g, "test", nil); !reflect.DeepEqual(got, []Contribution{{Source: "deps", Bytes: Unknown}}) {
		t.Errorf("test: %+v", got)
	}
}

// A row never names an instruction its history entry is not of: a history
// whose count fits but whose entries do not is not lined up.
func TestAttributeMismatchedHistory(t *testing.T) {
	g, err := Parse([]byte("FROM alpine\nONBUILD RUN x\nWORKDIR /app\nCMD [\"a\"]\n"), Options{Filename: "Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	size := &ImageSize{Layers: []Layer{
		{CreatedBy: "ADD file:abc in / ", Size: 5},
		{CreatedBy: "RUN /bin/sh -c trigger # buildkit", Size: 7},
		{CreatedBy: `CMD ["a"]`, Empty: true},
	}}
	if b := Attribute(g, "stage-0", size); b.Matched || b.Base != 12 {
		t.Errorf("mismatched history attributed: %+v", b)
	}
	for _, l := range size.Layers {
		if l.Instruction != "" || l.Base {
			t.Errorf("layer %+v names a place", l)
		}
	}
	// ONBUILD writes no entry: WORKDIR and CMD are the last two.
	size.Layers[1].CreatedBy = "WORKDIR /app"
	if b := Attribute(g, "stage-0", size); !b.Matched || b.Base != 5 || b.Own != 7 {
		t.Errorf("ONBUILD counted as a history entry: %+v", b)
	}
}
