package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/topics"
)

func TestHandler_ServeHTTP(t *testing.T) {
	h, _ := newFixture(t)
	full := get(t, h, http.MethodGet, "/feed.atom", nil)
	etag := full.Header.Get("ETag")
	lastMod := full.Header.Get("Last-Modified")
	fullBody := body(t, full)
	gzRes := get(t, h, http.MethodGet, "/feed.atom", map[string]string{"Accept-Encoding": "gzip, deflate"})
	etagGz := gzRes.Header.Get("ETag")

	if etag == "" || lastMod == "" {
		t.Fatalf("ETag %q, Last-Modified %q: want both set", etag, lastMod)
	}
	if want := "Tue, 10 Mar 2026 11:30:00 GMT"; lastMod != want {
		t.Errorf("Last-Modified = %q, want the newest item's time %q", lastMod, want)
	}

	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantStatus int
		wantType   string
		wantGzip   bool
		wantBody   bool // a body equal to the full feed's
	}{
		{"OK", "GET", "/feed.atom", nil, 200, "application/atom+xml; charset=utf-8", false, true},
		{"RSS", "GET", "/feed.rss", nil, 200, "application/rss+xml; charset=utf-8", false, false},
		{"JSON", "GET", "/feed.json", nil, 200, "application/feed+json; charset=utf-8", false, false},
		{"Editorials", "GET", "/editorials.rss", nil, 200, "application/rss+xml; charset=utf-8", false, false},
		{"Topic", "GET", "/topics/climate.json", nil, 200, "application/feed+json; charset=utf-8", false, false},
		{"EmptyConfiguredTopic", "GET", "/topics/korean-peninsula.atom", nil, 200, "application/atom+xml; charset=utf-8", false, false},
		{"Source", "GET", "/sources/opinion-weekly.atom", nil, 200, "application/atom+xml; charset=utf-8", false, false},
		{"OPML", "GET", "/opml", nil, 200, "text/x-opml; charset=utf-8", false, false},
		{"OPMLFile", "GET", "/opml.xml", nil, 200, "text/x-opml; charset=utf-8", false, false},
		{"Page", "GET", "/", nil, 200, "text/html; charset=utf-8", false, false},
		{"IfNoneMatch", "GET", "/feed.atom", map[string]string{"If-None-Match": etag}, 304, "", false, false},
		{"IfNoneMatchGzipTag", "GET", "/feed.atom", map[string]string{"If-None-Match": etagGz, "Accept-Encoding": "gzip"}, 304, "", false, false},
		{"IfNoneMatchWeak", "GET", "/feed.atom", map[string]string{"If-None-Match": "W/" + etag}, 304, "", false, false},
		{"IfNoneMatchList", "GET", "/feed.atom", map[string]string{"If-None-Match": `"old", ` + etag}, 304, "", false, false},
		{"IfNoneMatchStar", "GET", "/feed.atom", map[string]string{"If-None-Match": "*"}, 304, "", false, false},
		{"IfNoneMatchOther", "GET", "/feed.atom", map[string]string{"If-None-Match": `"other"`}, 200, "application/atom+xml; charset=utf-8", false, true},
		{"IfNoneMatchOtherFeed", "GET", "/feed.rss", map[string]string{"If-None-Match": etag}, 200, "application/rss+xml; charset=utf-8", false, false},
		// If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
		{"IfNoneMatchBeatsIfModifiedSince", "GET", "/feed.atom", map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": lastMod}, 200, "application/atom+xml; charset=utf-8", false, true},
		{"IfModifiedSinceSame", "GET", "/feed.atom", map[string]string{"If-Modified-Since": lastMod}, 304, "", false, false},
		{"IfModifiedSinceLater", "GET", "/feed.atom", map[string]string{"If-Modified-Since": "Wed, 11 Mar 2026 00:00:00 GMT"}, 304, "", false, false},
		{"IfModifiedSinceEarlier", "GET", "/feed.atom", map[string]string{"If-Modified-Since": "Tue, 10 Mar 2026 11:29:59 GMT"}, 200, "application/atom+xml; charset=utf-8", false, true},
		{"IfModifiedSinceGarbage", "GET", "/feed.atom", map[string]string{"If-Modified-Since": "yesterday"}, 200, "application/atom+xml; charset=utf-8", false, true},
		{"Gzip", "GET", "/feed.atom", map[string]string{"Accept-Encoding": "gzip"}, 200, "application/atom+xml; charset=utf-8", true, true},
		{"GzipAmongOthers", "GET", "/feed.atom", map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.8"}, 200, "application/atom+xml; charset=utf-8", true, true},
		{"GzipRefused", "GET", "/feed.atom", map[string]string{"Accept-Encoding": "gzip;q=0, identity"}, 200, "application/atom+xml; charset=utf-8", false, true},
		{"GzipNotOffered", "GET", "/feed.atom", map[string]string{"Accept-Encoding": "br"}, 200, "application/atom+xml; charset=utf-8", false, true},
		{"Head", "HEAD", "/feed.atom", nil, 200, "application/atom+xml; charset=utf-8", false, false},
		{"HeadIfNoneMatch", "HEAD", "/feed.atom", map[string]string{"If-None-Match": etag}, 304, "", false, false},
		{"UnknownTopic", "GET", "/topics/nope.atom", nil, 404, "", false, false},
		{"UnknownSource", "GET", "/sources/nope.rss", nil, 404, "", false, false},
		{"UnknownFormat", "GET", "/feed.xml", nil, 404, "", false, false},
		{"TopicPage", "GET", "/topics/climate", nil, 200, "text/html; charset=utf-8", false, false},
		{"TopicPageFile", "GET", "/topics/summit-talks.html", nil, 200, "text/html; charset=utf-8", false, false},
		{"UnknownTopicPage", "GET", "/topics/nope", nil, 404, "", false, false},
		{"PathTraversal", "GET", "/topics/../feed.atom.gz", nil, 404, "", false, false},
		{"Post", "POST", "/feed.atom", nil, 405, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, h, tt.method, tt.path, tt.header)
			b := body(t, res)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, res.StatusCode, tt.wantStatus)
			}
			switch tt.wantStatus {
			case 200:
				if got := res.Header.Get("Content-Type"); got != tt.wantType {
					t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
				}
				if res.Header.Get("ETag") == "" {
					t.Error("no ETag")
				}
				if got, want := res.Header.Get("Cache-Control"), "public, max-age=300"; got != want {
					t.Errorf("Cache-Control = %q, want %q", got, want)
				}
				if tt.path != "/opml" && tt.path != "/opml.xml" && tt.path != "/topics/korean-peninsula.atom" && res.Header.Get("Last-Modified") == "" {
					t.Error("no Last-Modified")
				}
				if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
					t.Errorf("Vary = %q, want Accept-Encoding", got)
				}
			case 304:
				if len(b) != 0 {
					t.Errorf("304 with a body of %d bytes", len(b))
				}
				if res.Header.Get("ETag") == "" {
					t.Error("304 without ETag")
				}
			case 405:
				if got := res.Header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("Allow = %q, want GET, HEAD", got)
				}
			}
			if tt.method == "HEAD" {
				if len(b) != 0 {
					t.Errorf("HEAD with a body of %d bytes", len(b))
				}
				if tt.wantStatus == 200 && res.Header.Get("Content-Length") != fmt.Sprint(len(fullBody)) {
					t.Errorf("HEAD Content-Length = %q, want %d", res.Header.Get("Content-Length"), len(fullBody))
				}
			}
			gotGzip := res.Header.Get("Content-Encoding") == "gzip"
			if gotGzip != tt.wantGzip {
				t.Errorf("Content-Encoding = %q, want gzip: %v", res.Header.Get("Content-Encoding"), tt.wantGzip)
			}
			if gotGzip {
				if res.Header.Get("ETag") == etag {
					t.Error("gzipped response has the identity response's strong ETag")
				}
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("gzip: %v", err)
				}
				if b, err = io.ReadAll(zr); err != nil {
					t.Fatalf("gunzip: %v", err)
				}
			}
			if tt.wantBody && !bytes.Equal(b, fullBody) {
				t.Errorf("body differs from the full feed (%d bytes, want %d)", len(b), len(fullBody))
			}
		})
	}
}

func TestHandler_NotReady(t *testing.T) {
	h := New(&memStore{}, fixtureOptions())
	res := get(t, h, http.MethodGet, "/feed.atom", nil)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("before Refresh: status %d, want 503", res.StatusCode)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

func TestHandler_Healthz(t *testing.T) {
	t.Run("Degraded", func(t *testing.T) {
		h, _ := newFixture(t)
		res := get(t, h, http.MethodGet, "/healthz", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", res.StatusCode)
		}
		if got := res.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", got)
		}
		var got health
		if err := json.Unmarshal(body(t, res), &got); err != nil {
			t.Fatal(err)
		}
		// One of the two sources is failing: degraded, still 200.
		if got.Status != "degraded" || got.Store != "ok" || !got.Rendered {
			t.Errorf("status %q, store %q, rendered %v; want degraded, ok, true", got.Status, got.Store, got.Rendered)
		}
		if want := "1 of 2 sources failing: `broadsheet sources` says why"; got.Detail != want {
			t.Errorf("detail %q, want %q", got.Detail, want)
		}
		// The inactive source's later attempt does not count.
		if got.LastPoll == nil || !got.LastPoll.Equal(at(11, 55)) {
			t.Errorf("last_poll = %v, want %v", got.LastPoll, at(11, 55))
		}
		if got.LastSuccess == nil || !got.LastSuccess.Equal(at(11, 55)) {
			t.Errorf("last_success = %v, want %v", got.LastSuccess, at(11, 55))
		}
		if got.Sources != 2 || got.Failing != 1 {
			t.Errorf("sources %d, failing %d; want 2, 1", got.Sources, got.Failing)
		}
	})
	t.Run("OK", func(t *testing.T) {
		h, st := newFixture(t)
		st.mu.Lock()
		for i := range st.states {
			st.states[i].Failures, st.states[i].LastError = 0, ""
		}
		st.mu.Unlock()
		res := get(t, h, http.MethodGet, "/healthz", nil)
		var got health
		if err := json.Unmarshal(body(t, res), &got); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || got.Status != "ok" || got.Detail != "" || got.Failing != 0 || got.Sources != 2 {
			t.Errorf("status %d, %+v; want 200, ok with 2 sources, none failing", res.StatusCode, got)
		}
	})
	t.Run("StoreUnreachable", func(t *testing.T) {
		h, st := newFixture(t)
		st.mu.Lock()
		st.pingErr = errors.New("connection refused: secret-host:5432")
		st.mu.Unlock()
		res := get(t, h, http.MethodGet, "/healthz", nil)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", res.StatusCode)
		}
		b := body(t, res)
		var got health
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Status != "unavailable" || got.Store != "unreachable" {
			t.Errorf("status %q, store %q; want unavailable, unreachable", got.Status, got.Store)
		}
		if strings.Contains(string(b), "secret-host") {
			t.Errorf("health answer shows the store's error: %s", b)
		}
		// Feeds are still served from the snapshot.
		if res := get(t, h, http.MethodGet, "/feed.atom", nil); res.StatusCode != http.StatusOK {
			t.Errorf("feed while the store is down: status %d, want 200", res.StatusCode)
		}
	})
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"ErrNotFound", fmt.Errorf("x: %w", feeds.ErrNotFound), 404},
		{"ErrMethod", ErrMethod, 405},
		{"ErrNotReady", ErrNotReady, 503},
		{"Deadline", fmt.Errorf("q: %w", context.DeadlineExceeded), 503},
		{"Other", errors.New("boom"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusOf(tt.err); got != tt.want {
				t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// TestHandler_NoQueryPerRequest checks that serving reads only the
// snapshot: requests make no store query.
func TestHandler_NoQueryPerRequest(t *testing.T) {
	h, st := newFixture(t)
	before := st.Query()
	for _, p := range []string{"/feed.atom", "/feed.rss", "/topics/climate.json", "/sources/the-bugle.atom", "/", "/opml"} {
		for range 3 {
			get(t, h, http.MethodGet, p, nil)
		}
	}
	if got := st.Query(); got != before {
		t.Errorf("requests made %d store queries, want 0", got-before)
	}
}

func TestHandler_RefreshKeepsSnapshotOnError(t *testing.T) {
	arts := fixtureArticles()
	st := &memStore{arts: arts}
	opts := fixtureOptions()
	var g failingGroups
	opts.Groups = &g
	h := New(st, opts)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.fail = true
	if err := h.Refresh(context.Background()); !errors.Is(err, errGroups) {
		t.Fatalf("Refresh = %v, want errGroups", err)
	}
	if res := get(t, h, http.MethodGet, "/feed.atom", nil); res.StatusCode != http.StatusOK {
		t.Errorf("after a failed Refresh: status %d, want 200 from the previous snapshot", res.StatusCode)
	}
}

type failingGroups struct{ fail bool }

func (g *failingGroups) Groups(ctx context.Context, q topics.Query) ([]topics.Group, error) {
	if g.fail {
		return nil, errGroups
	}
	return nil, nil
}
