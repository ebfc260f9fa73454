package topics

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// BenchmarkClusterer_Add adds 100,000 synthetic items one by one, one a
// minute (so the 72-hour window holds at most 4,321 of them and is full
// from item 4,321 on), with 250 or more stories running at once. It
// reports the cost per item over the stretches ending at 10k, 50k and 100k
// items, in wall and in process CPU time (steadier on a busy machine), the
// live heap, items, stories and terms at those points, and the ratios of
// the later stretches' cost to the first: flat cost keeps them near 1.
func BenchmarkClusterer_Add(b *testing.B) {
	const total = 100_000
	marks := []int{10_000, 50_000, 100_000}
	s := newSynth(1, time.Minute)
	items := make([]feeds.Article, total)
	for i := range items {
		items[i], _ = s.next()
	}
	type point struct {
		n       int
		perItem time.Duration // wall
		cpuItem time.Duration // process CPU, steadier on a busy machine
		heapMB  float64
		st      Stats
	}
	var pts []point
	// The heap holds the generated items too: measure it without a
	// Clusterer first, and report the difference.
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	b.ResetTimer()
	for range b.N {
		pts = pts[:0]
		c := NewClusterer(Options{})
		prev, start, cpu := 0, time.Now(), cpuTime()
		for _, m := range marks {
			for i := prev; i < m; i++ {
				c.Add(items[i])
			}
			el, elCPU := time.Since(start), cpuTime()-cpu
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			n := time.Duration(m - prev)
			pts = append(pts, point{m, el / n, elCPU / n, (float64(ms.HeapAlloc) - float64(base.HeapAlloc)) / (1 << 20), c.Stats()})
			b.StartTimer()
			prev, start, cpu = m, time.Now(), cpuTime()
		}
	}
	var tb strings.Builder
	fmt.Fprintf(&tb, "\n%9s %12s %12s %10s %8s %8s %8s\n", "items", "wall µs/item", "cpu µs/item", "heap MB*", "live", "groups", "terms")
	for _, p := range pts {
		fmt.Fprintf(&tb, "%9d %12.1f %12.1f %10.1f %8d %8d %8d\n", p.n, float64(p.perItem)/1e3, float64(p.cpuItem)/1e3, p.heapMB, p.st.Items, p.st.Groups, p.st.Terms)
		b.ReportMetric(float64(p.perItem)/1e3, fmt.Sprintf("µs/item@%dk", p.n/1000))
		b.ReportMetric(float64(p.cpuItem)/1e3, fmt.Sprintf("cpu-µs/item@%dk", p.n/1000))
		b.ReportMetric(p.heapMB, fmt.Sprintf("heapMB@%dk", p.n/1000))
		b.ReportMetric(float64(p.st.Groups), fmt.Sprintf("groups@%dk", p.n/1000))
	}
	tb.WriteString("* live heap of the Clusterer: heap after GC minus the heap before it was made\n")
	for _, p := range pts[1:] {
		k := p.n / 1000
		r := float64(p.perItem) / float64(pts[0].perItem)
		fmt.Fprintf(&tb, "cost per item, stretch to %dk / stretch to 10k: wall %.2f", k, r)
		b.ReportMetric(r, fmt.Sprintf("ratio-%dk/10k", k))
		if pts[0].cpuItem > 0 {
			r := float64(p.cpuItem) / float64(pts[0].cpuItem)
			fmt.Fprintf(&tb, ", cpu %.2f", r)
			b.ReportMetric(r, fmt.Sprintf("cpu-ratio-%dk/10k", k))
		}
		tb.WriteString("\n")
	}
	b.Log(tb.String())
}
