package fetch

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/mmcdole/gofeed"
)

// BenchmarkParse compares gofeed's parse alone with Client.Parse (decode,
// parse, normalize, sanitize) on the same realistic 100-item feed
// (testdata/bench/news-100.xml, 470 KB of full-content RSS). Each
// iteration runs, interleaved so that all see the same machine load:
//
//	gofeed  gofeed.Parser.Parse alone, the baseline
//	cold    Client.Parse without the sanitize cache: a feed seen first
//	warm    Client.Parse on a client that parsed the feed before: a
//	        changed feed whose items are mostly the ones seen last time
//
// and reports the wall time of each per feed (µs), their ratios to gofeed
// (the integrator's goal: parse, normalize and store within 2×), and the
// same ratios in process CPU time, which also counts the goroutines
// normalization runs on and the garbage collector.
func BenchmarkParse(b *testing.B) {
	data := readFixture(b, "bench/news-100.xml")
	p := gofeed.NewParser()
	cold := New(Options{Now: fixedNow, SanitizeCacheBytes: -1})
	warm := New(Options{Now: fixedNow})
	src := feeds.Source{Name: "News", URL: "https://www.news.example/rss"}
	if _, _, err := warm.Parse(src, bytes.NewReader(data), ""); err != nil {
		b.Fatal(err)
	}
	var wall, cpu [3]time.Duration
	run := func(i int, f func() int) {
		c0, t0 := cpuTime(), time.Now()
		n := f()
		wall[i] += time.Since(t0)
		cpu[i] += cpuTime() - c0
		if n != 100 {
			b.Fatalf("run %d: %d items, want 100", i, n)
		}
	}
	parse := func(c *Client) func() int {
		return func() int {
			arts, _, err := c.Parse(src, bytes.NewReader(data), "application/rss+xml; charset=utf-8")
			if err != nil {
				b.Fatal(err)
			}
			return len(arts)
		}
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		run(0, func() int {
			f, err := p.Parse(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			return len(f.Items)
		})
		run(1, parse(cold))
		run(2, parse(warm))
	}
	n := float64(b.N)
	b.ReportMetric(float64(wall[0].Microseconds())/n, "gofeed-µs")
	b.ReportMetric(float64(wall[1].Microseconds())/n, "cold-µs")
	b.ReportMetric(float64(wall[2].Microseconds())/n, "warm-µs")
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "cold/gofeed")
	b.ReportMetric(float64(wall[2])/float64(wall[0]), "warm/gofeed")
	if cpu[0] > 0 {
		b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-cold/gofeed")
		b.ReportMetric(float64(cpu[2])/float64(cpu[0]), "cpu-warm/gofeed")
	}
}

// cpuTime is the CPU time, user and system, the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
