package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

const discoverRSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>The &lt;b&gt;Daily&lt;/b&gt; Example</title><link>https://example.com/</link>
<item><title>First</title><link>https://example.com/1</link><guid>1</guid></item>
<item><title>Second</title><link>https://example.com/2</link><guid>2</guid></item>
</channel></rss>`

func page(head string) string {
	return "<!DOCTYPE html><html><head><title>A page</title>" + head + "</head><body><p>Hello</p></body></html>"
}

// siteServer serves pages and feeds by path, answering 404 for the rest,
// and records the paths asked for.
func siteServer(t *testing.T, routes map[string]string) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		body, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(body, "<!DOCTYPE") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/rss+xml")
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

func TestClient_Discover(t *testing.T) {
	srv, asked := siteServer(t, map[string]string{
		"/feed.xml":       discoverRSS,
		"/comments.xml":   discoverRSS,
		"/news/":          page(`<link rel="alternate" type="application/rss+xml" href="/feed.xml"><link rel="alternate" type="application/atom+xml" href="comments.xml">`),
		"/broken":         page(`<link rel="alternate" type="application/rss+xml" href="/missing.xml"><link rel="Alternate feed" type="application/rss+xml; charset=utf-8" href="/comments.xml">`),
		"/blog/2026/post": page(""),
		"/blog/2026/rss":  discoverRSS,
	})
	tests := []struct {
		name, path string
		want       string // the feed's path
		how        string
		others     []string
	}{
		{"Direct", "/feed.xml", "/feed.xml", FoundDirect, nil},
		{"Advertised", "/news/", "/feed.xml", FoundAdvertised, []string{"/news/comments.xml"}},
		{"AdvertisedBrokenThenNext", "/broken", "/comments.xml", FoundAdvertised, []string{"/missing.xml"}},
		{"CommonPathInFolder", "/blog/2026/post", "/blog/2026/rss", FoundCommonPath, nil},
	}
	c := newTestClient(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := c.Discover(context.Background(), srv.URL+tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if d.URL != srv.URL+tt.want || d.How != tt.how {
				t.Errorf("found %s (%s), want %s (%s)", d.URL, d.How, srv.URL+tt.want, tt.how)
			}
			if d.Title != "The Daily Example" {
				t.Errorf("title %q, want the text of the feed's title", d.Title)
			}
			if len(d.Articles) != 2 || d.Articles[0].Title != "First" {
				t.Errorf("articles %+v", d.Articles)
			}
			var others []string
			for _, o := range d.Others {
				others = append(others, strings.TrimPrefix(o, srv.URL))
			}
			if strings.Join(others, " ") != strings.Join(tt.others, " ") {
				t.Errorf("others %q, want %q", others, tt.others)
			}
		})
	}
	// The usual addresses are tried in order: the folder's, then the root's.
	got := strings.Join(asked(), " ")
	if !strings.Contains(got, "/blog/2026/post /blog/2026/feed /blog/2026/rss") {
		t.Errorf("paths asked for: %s", got)
	}
}

func TestClient_Discover_Errors(t *testing.T) {
	srv, asked := siteServer(t, map[string]string{
		"/":     page(""),
		"/ad":   page(`<link rel="alternate" type="application/rss+xml" href="/gone.xml">`),
		"/json": `{"not": "a feed"}`,
	})
	c := newTestClient(Options{})
	tests := []struct{ name, url, want string }{
		{"NoFeed", srv.URL + "/", "no feed found: it is a web page that advertises no feed, and no feed is at the site's usual feed addresses (feed, rss, atom.xml, index.xml, feed.xml, rss.xml)"},
		{"AdvertisedNotFeed", srv.URL + "/ad", "advertised feeds are not feeds: " + srv.URL + "/gone.xml (the server answered 404 Not Found"},
		{"NotAFeed", srv.URL + "/json", "no feed found: it is not a feed ("},
		{"NotFound", srv.URL + "/missing", "404 Not Found"},
		{"NotHTTP", "ftp://example.com/feed", "not an http or https url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Discover(context.Background(), tt.url)
			var fe *feeds.FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *feeds.FetchError", err, err)
			}
			if !strings.Contains(fe.Reason, tt.want) {
				t.Errorf("reason %q lacks %q", fe.Reason, tt.want)
			}
		})
	}
	if n := len(asked()); n > 40 {
		t.Errorf("%d requests for five discoveries", n)
	}
	// The private-network guard holds for discovery too.
	guarded := New(Options{Now: fixedNow})
	_, err := guarded.Discover(context.Background(), srv.URL+"/")
	if err == nil || !strings.Contains(err.Error(), "allow_private_networks") {
		t.Errorf("error %v, want the private-network refusal", err)
	}
}
