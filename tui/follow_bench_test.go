package tui

import (
	"testing"
	"time"

	"github.com/stagescope/stagescope/internal/watch"
)

// How soon a save of the Dockerfile redraws the graph (the target is
// 200 ms), against the floor of the design measured in the same run: the
// watcher's quiet period (a burst of saves is one reload) plus reloading the
// same file directly. Each save swaps between the Dockerfile and one with
// two more stages, by rename as vim saves.
func BenchmarkSaveRedraw(b *testing.B) {
	proj := loadedProject(b, "failing", "busybox")
	m, d := followModel(b, proj, modelOpts{}, 160, 48)
	src := read(b, proj.Dockerfile)
	texts := []string{"FROM busybox AS lint\nRUN echo lint\n\n" + src + "\nFROM test AS more\nRUN echo more\n", src}
	stages := []int{len(proj.Graph.Stages) + 2, len(proj.Graph.Stages)}
	var redraw, load time.Duration
	b.ResetTimer()
	for i := range b.N {
		text, want := texts[i%2], stages[i%2]
		saved := time.Now()
		save(b, proj.Dockerfile, text)
		if !d.until(10*time.Second, func() bool { return len(m.opts.Project.Graph.Stages) == want }) {
			b.Fatalf("save %d: the graph was not redrawn", i)
		}
		redraw += time.Since(saved)
		t0 := time.Now()
		if _, err := m.opts.Project.Reload(); err != nil {
			b.Fatal(err)
		}
		load += time.Since(t0)
	}
	b.StopTimer()
	floor := time.Duration(b.N)*watch.DefaultQuiet + load
	b.ReportMetric(float64(redraw.Microseconds())/1000/float64(b.N), "ms/redraw")
	b.ReportMetric(float64(floor.Microseconds())/1000/float64(b.N), "floor-ms")
	b.ReportMetric(float64(redraw)/float64(floor), "redraw-to-floor")
}
