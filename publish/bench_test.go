package publish

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// benchArticles are n articles of a typical news feed's size.
func benchArticles(n int) []feeds.Article {
	para := "<p>" + strings.Repeat("The committee met again on Tuesday to weigh the proposal, which critics say goes too far. ", 4) + "</p>"
	var out []feeds.Article
	for i := range n {
		src := fixtureSources[i%3].Name
		a := article(src, fmt.Sprint(i), fmt.Sprintf("Story %d: lawmakers weigh a proposal on the budget", i),
			fmt.Sprintf("https://outlet.example/2026/03/10/story-%d", i), now.Add(-time.Duration(i)*7*time.Minute))
		a.Summary, a.Content, a.Author = para, para+para+para, "A. Reporter"
		a.Hash = feeds.ContentHash(a)
		out = append(out, a)
	}
	return out
}

// BenchmarkHandler_FeedAtom serves /feed.atom (100 items) over loopback
// HTTP, beside the same bytes from a plain http.FileServer in the same run,
// for full responses and 304s, and reports both throughputs and their ratio
// (goal: publish at least 0.8 of the static file). Each iteration makes
// 1000 requests to each server, so even -benchtime 1x prints figures.
// bench/publish/run.sh measures the same with wrk and the SQLite store.
func BenchmarkHandler_FeedAtom(b *testing.B) {
	h := New(&memStore{arts: benchArticles(100)}, fixtureOptions())
	if err := h.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	full := httptest.NewRecorder()
	h.ServeHTTP(full, httptest.NewRequest("GET", "/feed.atom", nil))
	dir := b.TempDir()
	file := filepath.Join(dir, "feed.atom")
	if err := os.WriteFile(file, full.Body.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(file, mtime, mtime)
	pub := httptest.NewServer(h)
	defer pub.Close()
	static := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer static.Close()

	for _, kind := range []struct {
		name           string
		pubHdr, static [2]string
		status         int
	}{
		{"Full", [2]string{}, [2]string{}, 200},
		{"NotModified", [2]string{"If-None-Match", full.Header().Get("ETag")}, [2]string{"If-Modified-Since", mtime.UTC().Format(http.TimeFormat)}, 304},
	} {
		b.Run(kind.name, func(b *testing.B) {
			var pubDur, staticDur time.Duration
			const perIter = 1000
			for range b.N {
				staticDur += load(b, static.URL+"/feed.atom", kind.static, kind.status, perIter)
				pubDur += load(b, pub.URL+"/feed.atom", kind.pubHdr, kind.status, perIter)
			}
			n := float64(b.N * perIter)
			pubRPS, staticRPS := n/pubDur.Seconds(), n/staticDur.Seconds()
			b.ReportMetric(pubRPS, "publish-req/s")
			b.ReportMetric(staticRPS, "static-req/s")
			b.ReportMetric(pubRPS/staticRPS, "ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// load makes n GET requests to url from 8 keep-alive clients at once and
// returns the time taken.
func load(b *testing.B, url string, hdr [2]string, status, n int) time.Duration {
	b.Helper()
	const workers = 8
	tr := &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				req, _ := http.NewRequest("GET", url, nil)
				if hdr[0] != "" {
					req.Header.Set(hdr[0], hdr[1])
				}
				res, err := c.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != status {
					errs <- fmt.Errorf("%s: status %d, want %d", url, res.StatusCode, status)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return d
}
