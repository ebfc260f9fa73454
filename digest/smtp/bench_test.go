package smtp_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/store"
)

// BenchmarkService_Send1000 renders and delivers 1,000 digests (40
// articles each, grouped into stories) to a local SMTP server over one
// connection, with every delivery planned, claimed and finished in an
// in-memory SQLite store. It reports digests/s and the peak heap, and, as
// a baseline measured in the same run, how fast the same digests render
// alone (Preview: selection and templates, no store writes, no SMTP).
func BenchmarkService_Send1000(b *testing.B) {
	const n = 1000
	db := openStore(b, 20)
	srv := smtptest.Start(b, smtptest.Options{TLS: smtptest.None, Discard: true})
	m, err := smtp.New(smtp.Options{Host: srv.Host, Port: srv.Port, TLS: smtp.None, Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := digest.New(db, m, nil, nil, digest.Options{
		From: "Broadsheet <digest@news.example.org>", BaseURL: "https://news.example.org/",
		Now: func() time.Time { return now }, Logger: quiet(),
	})
	if err != nil {
		b.Fatal(err)
	}
	rcpts := make([]string, n)
	for i := range rcpts {
		rcpts[i] = fmt.Sprintf("reader%04d@example.com", i)
	}
	ctx := context.Background()

	// Baseline: render the same digests without recording or sending.
	base := digest.Digest{Name: "baseline", To: rcpts}
	start := time.Now()
	for _, r := range rcpts {
		if _, err := svc.Preview(ctx, base, r); err != nil {
			b.Fatal(err)
		}
	}
	renderRate := n / time.Since(start).Seconds()

	peak := watchHeap()
	b.ResetTimer()
	runs := 0
	for b.Loop() {
		// A new digest each time, so that every recipient's first window
		// holds all the articles.
		d := digest.Digest{Name: fmt.Sprintf("bench-%d", runs), To: rcpts}
		rep, err := svc.Send(ctx, d, now)
		if err != nil {
			b.Fatal(err)
		}
		if got := rep.Count(store.DeliverySent); got != n {
			b.Fatalf("sent %d, want %d", got, n)
		}
		runs++
	}
	elapsed := b.Elapsed()
	b.StopTimer()
	peakHeap := peak()
	if got := len(srv.Messages()); got != n*runs {
		b.Fatalf("server got %d messages, want %d", got, n*runs)
	}
	rate := float64(n*runs) / elapsed.Seconds()
	b.ReportMetric(rate, "digests/s")
	b.ReportMetric(renderRate, "render-only-digests/s")
	b.ReportMetric(renderRate/rate, "render-only/deliver-ratio")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
	}
	b.ReportMetric(0, "ns/op") // per-op time is meaningless at -benchtime 1x
}

// watchHeap samples the heap in use until the returned function is called,
// which returns the highest sample.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(stop)
		wg.Wait()
		sample()
		return peak.Load()
	}
}

// peakRSS is the process's peak resident set (VmHWM), 0 if unknown. It
// includes the test SMTP server and the benchmark's setup.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
