package buildgraph

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// generated returns a Dockerfile of n stages, about ten lines each, that
// uses every kind of dependency: image and stage bases, COPY --from by name
// and index, RUN --mount from=, heredocs, global ARGs.
func generated(n int) []byte {
	var b bytes.Buffer
	b.WriteString("# syntax=docker/dockerfile:1\nARG GO_VERSION=1.22\nARG BASE=alpine:3.19\n\n")
	for i := range n {
		fmt.Fprintf(&b, "# s%d is stage number %d.\n", i, i)
		switch {
		case i == 0 || i%5 == 0:
			fmt.Fprintf(&b, "FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS s%d\n", i)
		case i%5 == 1:
			fmt.Fprintf(&b, "FROM ${BASE} AS s%d\n", i)
		default:
			fmt.Fprintf(&b, "FROM s%d AS s%d\n", i-1, i)
		}
		fmt.Fprintf(&b, "WORKDIR /src/%d\nENV STAGE=%d PATH=/usr/local/bin:$PATH\n", i, i)
		fmt.Fprintf(&b, "COPY go.mod go.sum ./\n")
		if i > 0 {
			fmt.Fprintf(&b, "COPY --from=s%d /out /in/%d\n", i/2, i)
			fmt.Fprintf(&b, "COPY --from=%d /out /idx/%d\n", i-1, i)
		}
		if i > 2 {
			fmt.Fprintf(&b, "RUN --mount=type=cache,target=/root/.cache \\\n    --mount=type=bind,from=s%d,target=/dep \\\n    go build -o /out/%d ./cmd/%d\n", i-3, i, i)
		}
		fmt.Fprintf(&b, "RUN <<EOF\nset -e\necho stage %d\nEOF\n\n", i)
	}
	return b.Bytes()
}

// floor is the least any parse does: BuildKit's parser and instructions
// packages alone.
func floor(b *testing.B, src []byte) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := instructions.Parse(res.AST, linter.New(&linter.Config{})); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkParse compares Parse with the floor (parser.Parse plus
// instructions.Parse) on the same input. The floor has its own
// sub-benchmark; the Parse sub-benchmarks also run the floor once per
// iteration, outside the timer and alternating which goes first, so that
// load on the machine and garbage collection weigh on both alike, and
// report the ratio of their times as "x-floor". The target is at most 1.3
// without lint; BuildKit's linter builds LLB for every stage and costs more.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{50, 2000} {
		src := generated(n)
		prefix := fmt.Sprintf("stages=%d/lines=%d/", n, bytes.Count(src, []byte("\n")))
		b.Run(prefix+"floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				floor(b, src)
			}
		})
		for _, lint := range []bool{false, true} {
			name := prefix + "parse"
			if lint {
				name += "+lint"
			}
			b.Run(name, func(b *testing.B) {
				var parseTime, floorTime time.Duration
				runFloor := func() {
					b.StopTimer()
					start := time.Now()
					floor(b, src)
					floorTime += time.Since(start)
					b.StartTimer()
				}
				i := 0
				for b.Loop() {
					if i%2 == 0 {
						runFloor()
					}
					start := time.Now()
					if _, err := Parse(src, Options{SkipLint: !lint}); err != nil {
						b.Fatal(err)
					}
					parseTime += time.Since(start)
					if i%2 == 1 {
						runFloor()
					}
					i++
				}
				b.ReportMetric(float64(parseTime)/float64(floorTime), "x-floor")
			})
		}
		b.Run(prefix+"render-all", func(b *testing.B) {
			g, err := Parse(src, Options{SkipLint: true})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range Formats {
					if err := Render(io.Discard, g, f, RenderOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
