package history

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRecord1000Steps is what recording adds to the end of a build
// of 1,000 steps: open the database, write the record in one transaction
// (bbolt's two fsyncs included), trim its target's records, close. The
// store already holds 200 records. The nosync run leaves the fsyncs out:
// the rest of the cost, whatever the disk.
func BenchmarkRecord1000Steps(b *testing.B) {
	b.Run("durable", func(b *testing.B) { benchRecord(b, false) })
	b.Run("nosync", func(b *testing.B) { benchRecord(b, true) })
}

func benchRecord(b *testing.B, noSync bool) {
	s := Open(filepath.Join(b.TempDir(), FileName))
	s.noSync = noSync
	var fill []*Record
	for i := range 200 {
		fill = append(fill, sample(fmt.Sprintf("app%d", i%4), "t", t0.Add(time.Duration(i)*time.Second), 20))
	}
	if err := s.Record(fill); err != nil {
		b.Fatal(err)
	}
	recs := make([]*Record, b.N)
	for i := range recs {
		recs[i] = sample("big", "t", t0.Add(time.Duration(i)*time.Second), 1000)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := s.Record([]*Record{recs[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/record")
}

// BenchmarkList10000 lists 10,000 records, newest first, as `stagescope
// history` does.
func BenchmarkList10000(b *testing.B) {
	s := Open(filepath.Join(b.TempDir(), FileName))
	s.Keep = 1 << 30
	var fill []*Record
	for i := range 10000 {
		fill = append(fill, sample(fmt.Sprintf("app%d", i%100), fmt.Sprintf("t%d", i%7), t0.Add(time.Duration(i)*time.Second), 5))
	}
	if err := s.Record(fill); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		list, err := s.List(Filter{})
		if err != nil || len(list) != 10000 {
			b.Fatalf("%d records, %v", len(list), err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/list")
}
