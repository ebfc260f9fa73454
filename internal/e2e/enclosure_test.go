package e2e

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/store"
)

// TestEnclosures polls a podcast in each format (RSS enclosure, Atom link
// rel="enclosure", JSON Feed attachments) and checks that the media files
// are stored and republished: RSS with one per item (the first audio or
// video), Atom and JSON Feed with all, the page with a small link each.
func TestEnclosures(t *testing.T) {
	files := map[string]string{"/pod.rss": "application/rss+xml", "/pod.atom": "application/atom+xml", "/pod.json": "application/feed+json"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		typ, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile("testdata/podcast" + strings.TrimPrefix(r.URL.Path, "/pod"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", typ)
		w.Write(body)
	}))
	defer srv.Close()
	db := openStore(t)
	srcs := []feeds.Source{
		{Name: "Pod RSS", URL: srv.URL + "/pod.rss", Kind: feeds.KindNews},
		{Name: "Pod Atom", URL: srv.URL + "/pod.atom", Kind: feeds.KindNews},
		{Name: "Pod JSON", URL: srv.URL + "/pod.json", Kind: feeds.KindNews},
	}
	client := fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivateNetworks: true})
	reps := pollAll(t, client, db, srcs, 1, 10*time.Second, 30*time.Second)
	for _, r := range reps {
		if r.Err != nil || r.New != 1 {
			t.Fatalf("poll report %+v, want 1 new", r)
		}
	}
	want := map[string][]feeds.Enclosure{
		"Pod RSS": {
			{URL: "https://cdn.pod-rss.example/ep1.vtt", Type: "text/vtt", Length: 2000},
			{URL: "https://pod-rss.example/audio/rss-ep1.mp3", Type: "audio/mpeg", Length: 34567890},
		},
		"Pod Atom": {
			{URL: "https://cdn.pod-atom.example/atom-ep1.m4a", Type: "audio/mp4", Length: 2048000},
			{URL: "https://cdn.pod-atom.example/atom-ep1.mp4", Type: "video/mp4"},
		},
		"Pod JSON": {{URL: "https://cdn.pod-json.example/json-ep1.mp3", Type: "audio/mpeg", Length: 3000000000}},
	}
	arts, err := db.Articles(t.Context(), store.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 3 {
		t.Fatalf("%d articles stored, want 3", len(arts))
	}
	for _, a := range arts {
		if !reflect.DeepEqual(a.Enclosures, want[a.Source]) {
			t.Errorf("%s stored enclosures %+v, want %+v", a.Source, a.Enclosures, want[a.Source])
		}
	}

	h := publish.New(db, publish.Options{Title: "e2e", BaseURL: "https://news.example.org/", FeedItems: 50,
		Sources: srcs, Logger: quiet, Window: 10 * 365 * 24 * time.Hour})
	if err := h.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}

	rss := string(handlerGet(t, h, "/feed.rss"))
	for _, w := range []string{
		// The audio file, not the subtitles listed first.
		`<enclosure url="https://pod-rss.example/audio/rss-ep1.mp3" length="34567890" type="audio/mpeg">`,
		`<enclosure url="https://cdn.pod-atom.example/atom-ep1.m4a" length="2048000" type="audio/mp4">`,
		`<enclosure url="https://cdn.pod-json.example/json-ep1.mp3" length="3000000000" type="audio/mpeg">`,
	} {
		if !strings.Contains(rss, w) {
			t.Errorf("/feed.rss lacks %s", w)
		}
	}
	if n := strings.Count(rss, "<enclosure "); n != 3 {
		t.Errorf("/feed.rss has %d enclosures, want 3 (one per item)", n)
	}

	atom := string(handlerGet(t, h, "/feed.atom"))
	for _, encs := range want {
		for _, e := range encs {
			if !strings.Contains(atom, `href="`+e.URL+`" rel="enclosure" type="`+e.Type+`"`) {
				t.Errorf("/feed.atom lacks the enclosure %s", e.URL)
			}
		}
	}
	if strings.Contains(atom, "javascript:") || strings.Contains(rss, "javascript:") {
		t.Error("a javascript: enclosure was republished")
	}

	var jf struct {
		Items []struct {
			Title       string `json:"title"`
			Attachments []struct {
				URL      string `json:"url"`
				MIMEType string `json:"mime_type"`
				Size     int64  `json:"size_in_bytes"`
			} `json:"attachments"`
		} `json:"items"`
	}
	if err := json.Unmarshal(handlerGet(t, h, "/feed.json"), &jf); err != nil {
		t.Fatalf("/feed.json: %v", err)
	}
	byTitle := map[string]string{"RSS episode": "Pod RSS", "Atom episode": "Pod Atom", "JSON episode": "Pod JSON"}
	if len(jf.Items) != 3 {
		t.Fatalf("/feed.json has %d items, want 3", len(jf.Items))
	}
	for _, it := range jf.Items {
		var got []feeds.Enclosure
		for _, a := range it.Attachments {
			got = append(got, feeds.Enclosure{URL: a.URL, Type: a.MIMEType, Length: a.Size})
		}
		if w := want[byTitle[it.Title]]; !reflect.DeepEqual(got, w) {
			t.Errorf("/feed.json %q attachments %+v, want %+v", it.Title, got, w)
		}
	}

	page := html.UnescapeString(string(handlerGet(t, h, "/")))
	for _, w := range []string{
		`<a href="https://pod-rss.example/audio/rss-ep1.mp3" rel="noopener noreferrer">audio, 35 MB</a>`,
		`<a href="https://cdn.pod-rss.example/ep1.vtt" rel="noopener noreferrer">file, 2 kB</a>`,
		`<a href="https://cdn.pod-atom.example/atom-ep1.m4a" rel="noopener noreferrer">audio, 2 MB</a>`,
		`<a href="https://cdn.pod-atom.example/atom-ep1.mp4" rel="noopener noreferrer">video</a>`,
		`<a href="https://cdn.pod-json.example/json-ep1.mp3" rel="noopener noreferrer">audio, 3.0 GB</a>`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %s", w)
		}
	}
}
