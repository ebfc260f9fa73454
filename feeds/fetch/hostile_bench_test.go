package fetch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// hostileServer is one scenario of BenchmarkHostile: a loopback server
// and what the fetch of it must give.
type hostileServer struct {
	name  string
	h     http.HandlerFunc
	check func(res *feeds.FetchResult, err error) error
}

// BenchmarkHostile fetches, through Client.Fetch with the default limits
// (16 MiB body, 1,000 items, 30 s), servers that try to exhaust memory:
//
//	baseline   a normal 100-item, 470 KB full-content feed (the yardstick)
//	gzipbomb   1 GiB of zeros gzipped to about 1 MiB
//	endless    a body that never ends
//	items50k   a 50,000-item feed (about 9 MB)
//	dense      16 MiB of tiny RSS items (580,000 of them)
//	densejson  16 MiB of tiny JSON Feed items (1.5 million)
//	flood      one item with 16 MiB of namespaced elements with attributes
//	laughs     billion laughs: nested entities that would expand to 3 GB
//
// A goroutine samples the live heap (runtime/metrics, every 250 µs) during
// each fetch; the benchmark reports each scenario's peak above the heap
// before it, in MiB, its ratio to the baseline's peak, and its time per
// fetch. It fails if a scenario's peak exceeds hostileHeapBound: memory
// must stay bounded by the limits, whatever the server sends.
func BenchmarkHostile(b *testing.B) {
	scenarios := hostileServers(b)
	c := New(Options{AllowPrivateNetworks: true, Now: fixedNow, SanitizeCacheBytes: -1})
	peaks := make([]uint64, len(scenarios))
	took := make([]time.Duration, len(scenarios))
	urls := make([]string, len(scenarios))
	for i, s := range scenarios {
		srv := httptest.NewServer(s.h)
		b.Cleanup(srv.Close)
		urls[i] = srv.URL + "/feed"
	}
	// A low GC target keeps garbage awaiting collection out of the
	// sampled heap, which then follows the live heap closely.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	for b.Loop() {
		for i, s := range scenarios {
			var res *feeds.FetchResult
			var err error
			t0 := time.Now()
			peak := peakHeap(func() {
				res, err = c.Fetch(context.Background(), feeds.Source{Name: s.name, URL: urls[i]}, feeds.SourceState{})
			})
			took[i] += time.Since(t0)
			if cerr := s.check(res, err); cerr != nil {
				b.Fatalf("%s: %v", s.name, cerr)
			}
			peaks[i] = max(peaks[i], peak)
		}
	}
	const mib = 1 << 20
	base := max(peaks[0], 1)
	var table strings.Builder
	fmt.Fprintf(&table, "%-10s %12s %10s %12s\n", "scenario", "peak heap", "× baseline", "per fetch")
	for i, s := range scenarios {
		b.ReportMetric(float64(peaks[i])/mib, s.name+"-peak-MiB")
		if i > 0 {
			b.ReportMetric(float64(peaks[i])/float64(base), s.name+"/baseline")
		}
		b.ReportMetric(float64(took[i].Milliseconds())/float64(b.N), s.name+"-ms")
		fmt.Fprintf(&table, "%-10s %8.1f MiB %9.1f× %10.1f ms\n", s.name, float64(peaks[i])/mib, float64(peaks[i])/float64(base), float64(took[i].Milliseconds())/float64(b.N))
		if peaks[i] > hostileHeapBound {
			b.Errorf("%s: peak heap %.1f MiB, over the %d MiB bound", s.name, float64(peaks[i])/mib, hostileHeapBound/mib)
		}
	}
	b.Logf("peak live heap during one fetch, default limits:\n%s", table.String())
}

// hostileHeapBound is the most heap one fetch may hold at once: six
// times the body cap, for the body (read into a buffer that is copied as
// it grows) and the parse of what the caps let through. Before items were
// cut ahead of parsing, 16 MiB of small items took over 600 MiB.
const hostileHeapBound = 6 * defaultMaxBody

func hostileServers(b *testing.B) []hostileServer {
	b.Helper()
	news := readFixture(b, "bench/news-100.xml")
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 1024 {
		zw.Write(zeros)
	}
	zw.Close()
	var laughs strings.Builder
	laughs.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n")
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := fmt.Sprintf("lol%d", i)
		laughs.WriteString(" <!ENTITY " + name + " \"" + strings.Repeat("&"+prev+";", 10) + "\">\n")
		prev = name
	}
	laughs.WriteString("]>\n<rss version=\"2.0\"><channel><title>&lol9;</title><item><title>&lol9;</title><link>https://x.example/1</link><description>&lol9;</description></item></channel></rss>")
	laughsBody := []byte(laughs.String())
	// The big bodies are written as they are made, so that the process
	// holds none of them: the heap measured is the client's.
	stream := func(ctype, head string, unit func(i int) string, tail string, size, most int) (http.HandlerFunc, int) {
		n, total := 0, len(head)+len(tail)
		for ; n < most && total+len(unit(n)) <= size; n++ {
			total += len(unit(n))
		}
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			bw := bufio.NewWriterSize(w, 64<<10)
			bw.WriteString(head)
			for i := range n {
				bw.WriteString(unit(i))
			}
			bw.WriteString(tail)
			bw.Flush()
		}, n
	}
	items50k, n50k := stream("application/rss+xml", `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>big</title><link>https://big.example/</link>`,
		func(i int) string {
			return fmt.Sprintf("<item><title>Item %d</title><link>https://big.example/%d</link><guid>big-%d</guid><description>Item %d of many.</description></item>\n", i, i, i, i)
		}, `</channel></rss>`, defaultMaxBody, 50000)
	dense, nDense := stream("application/rss+xml", `<rss version="2.0"><channel><title>dense</title>`,
		func(i int) string { return "<item><guid>" + strconv.Itoa(i) + "</guid></item>" }, `</channel></rss>`, defaultMaxBody, math.MaxInt)
	denseJSON, nJSON := stream("application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","title":"dense","items":[{"id":"x"}`,
		func(i int) string { return `,{"id":"` + strconv.Itoa(i) + `"}` }, `]}`, defaultMaxBody, math.MaxInt)
	flood, _ := stream("application/rss+xml", `<rss version="2.0" xmlns:x="urn:x"><channel><title>flood</title><item><title>t</title><guid>1</guid>`,
		func(int) string { return `<x:y a="1" b="2"/>` }, `</item></channel></rss>`, defaultMaxBody, math.MaxInt)

	serve := func(ctype string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Write(body)
		}
	}
	wantArticles := func(n, dropped int) func(*feeds.FetchResult, error) error {
		return func(res *feeds.FetchResult, err error) error {
			if err != nil {
				return err
			}
			if len(res.Articles) != n || res.Dropped != dropped {
				return fmt.Errorf("%d articles, %d dropped; want %d, %d", len(res.Articles), res.Dropped, n, dropped)
			}
			return nil
		}
	}
	wantLimit := func(res *feeds.FetchResult, err error) error {
		if err == nil {
			return fmt.Errorf("no error, want the body limit's")
		}
		if fe, ok := err.(*feeds.FetchError); !ok || !strings.Contains(fe.Reason, "limit (fetch.max_body_bytes)") {
			return fmt.Errorf("error %v, want the body limit's", err)
		}
		return nil
	}
	return []hostileServer{
		{"baseline", serve("application/rss+xml", news), wantArticles(100, 0)},
		{"gzipbomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}, wantLimit},
		{"endless", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write([]byte(`<rss version="2.0"><channel>`))
			chunk := bytes.Repeat([]byte("<item><title>again</title></item>"), 1024)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, wantLimit},
		{"items50k", items50k, wantArticles(1000, n50k-1000)},
		{"dense", dense, wantArticles(1000, nDense-1000)},
		{"densejson", denseJSON, wantArticles(1000, nJSON+1-1000)},
		{"flood", flood, wantArticles(0, 1)},
		{"laughs", serve("application/rss+xml", laughsBody), func(res *feeds.FetchResult, err error) error {
			if err := wantArticles(1, 0)(res, err); err != nil {
				return err
			}
			if a := res.Articles[0]; len(a.Title)+len(a.Summary) > 1000 {
				return fmt.Errorf("entities expanded: title %d bytes, summary %d", len(a.Title), len(a.Summary))
			}
			return nil
		}},
	}
}

// peakHeap runs f and returns the highest live heap seen while it ran,
// above the live heap before it.
func peakHeap(f func()) uint64 {
	runtime.GC()
	before := heapObjects()
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(250 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
				peak = max(peak, heapObjects())
			}
		}
	}()
	f()
	close(stop)
	peak := max(<-done, heapObjects())
	if peak < before {
		return 0
	}
	return peak - before
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// heapObjects is the heap held by objects, live or not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{heapSample[0]}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// defaultMaxBody is Options.MaxBodyBytes's default, which the hostile
// bodies fill.
const defaultMaxBody = 16 << 20
