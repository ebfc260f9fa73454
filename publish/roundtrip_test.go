package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/broadsheet/broadsheet/feeds"
)

// wantFeed is what a feed must say: its entries' articles, in order.
type wantFeed struct {
	path  string
	title string
	arts  []feeds.Article
}

// fixtureFeeds lists feeds of the fixtures with the articles each must
// hold, worked out by hand from the fixtures: newest first, the storm wire
// story (a4, a5) once in the combined feed, as its first copy a4.
func fixtureFeeds() []wantFeed {
	a := fixtureArticles()
	a1, a2, a3, a4, a5, a6, a7 := a[0], a[1], a[2], a[3], a[4], a[5], a[6]
	var out []wantFeed
	for _, ext := range []string{"atom", "rss", "json"} {
		out = append(out,
			wantFeed{"/feed." + ext, "broadsheet", []feeds.Article{a2, a1, a3, a4, a7, a6}},
			wantFeed{"/editorials." + ext, "broadsheet: editorials", []feeds.Article{a3}},
			wantFeed{"/topics/summit-talks." + ext, "broadsheet: Summit ends without a deal", []feeds.Article{a2, a1, a3}},
			wantFeed{"/topics/climate." + ext, "broadsheet: Climate", []feeds.Article{a2, a1, a3}}, // the summit story it holds
			wantFeed{"/topics/korean-peninsula." + ext, "broadsheet: Korean Peninsula", nil},
			wantFeed{"/sources/the-bugle." + ext, "broadsheet: The Bugle", []feeds.Article{a2, a5, a6}},
			wantFeed{"/sources/daily-planet." + ext, "broadsheet: Daily Planet", []feeds.Article{a1, a4, a7}},
			wantFeed{"/sources/quiet-source." + ext, "broadsheet: Quiet Source", nil},
		)
	}
	return out
}

// TestHandler_RoundTripGofeed parses every feed with gofeed, an
// independent parser, and compares titles, links, dates, ids, outlets and
// topics with the input.
func TestHandler_RoundTripGofeed(t *testing.T) {
	h, _ := newFixture(t)
	// The climate topic holds the summit story: each of the story's three
	// items carries both, the configured topic first.
	arts := fixtureArticles()
	topics := map[string][]string{}
	for _, a := range arts[:3] {
		topics[a.ID] = []string{"Climate", "Summit ends without a deal"}
	}
	for _, wf := range fixtureFeeds() {
		t.Run(strings.TrimPrefix(wf.path, "/"), func(t *testing.T) {
			res := get(t, h, http.MethodGet, wf.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			b := body(t, res)
			f, err := gofeed.NewParser().Parse(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			outlets := outletsOf(t, f.FeedType, b)
			if f.Title != wf.title {
				t.Errorf("feed title = %q, want %q", f.Title, wf.title)
			}
			if want := "https://news.example.org" + wf.path; f.FeedLink != want {
				t.Errorf("feed self link = %q, want %q", f.FeedLink, want)
			}
			if len(f.Items) != len(wf.arts) {
				t.Fatalf("%d items, want %d", len(f.Items), len(wf.arts))
			}
			for i, it := range f.Items {
				a := wf.arts[i]
				if want := "tag:broadsheet,2026:article/" + a.ID; it.GUID != want {
					t.Errorf("item %d id = %q, want %q", i, it.GUID, want)
				}
				if it.Title != a.Title {
					t.Errorf("item %d title = %q, want %q", i, it.Title, a.Title)
				}
				if it.Link != a.Link {
					t.Errorf("item %d link = %q, want %q", i, it.Link, a.Link)
				}
				if it.PublishedParsed == nil || !it.PublishedParsed.Equal(a.Published) {
					t.Errorf("item %d published = %v, want %v", i, it.PublishedParsed, a.Published)
				}
				if f.FeedType != "rss" {
					wantUpd := a.Published
					if a.Updated.After(wantUpd) {
						wantUpd = a.Updated
					}
					if it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(wantUpd) {
						t.Errorf("item %d updated = %v, want %v", i, it.UpdatedParsed, wantUpd)
					}
				}
				wantAuthor := a.Source
				if a.Author != "" {
					wantAuthor = a.Author + " · " + a.Source
				}
				if len(it.Authors) == 0 || it.Authors[0].Name != wantAuthor {
					t.Errorf("item %d authors = %v, want %q", i, it.Authors, wantAuthor)
				}
				if f.FeedType != "json" {
					// JSON Feed has no categories: topics are tags, checked below.
					if got := it.Categories; !slices.Equal(got, topics[a.ID]) && len(got)+len(topics[a.ID]) > 0 {
						t.Errorf("item %d categories = %q, want %q", i, got, topics[a.ID])
					}
				}
				if outlets[i] != a.Source {
					t.Errorf("item %d outlet = %q, want %q", i, outlets[i], a.Source)
				}
			}
		})
	}
}

// outletsOf reads the outlet each item names, as each format carries it:
// Atom <source><title>, RSS <source>, JSON Feed's _broadsheet extension.
// gofeed's universal items drop them, so its format parsers read them.
func outletsOf(t *testing.T, feedType string, b []byte) []string {
	t.Helper()
	var out []string
	switch feedType {
	case "atom":
		f, err := (&atom.Parser{}).Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gofeed atom: %v", err)
		}
		for _, e := range f.Entries {
			if e.Source == nil {
				out = append(out, "")
				continue
			}
			out = append(out, e.Source.Title)
		}
	case "rss":
		f, err := (&rss.Parser{}).Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gofeed rss: %v", err)
		}
		for _, it := range f.Items {
			if it.Source == nil {
				out = append(out, "")
				continue
			}
			out = append(out, it.Source.Title)
		}
	case "json":
		var f struct {
			Items []struct {
				Ext struct {
					Outlet struct{ Name string } `json:"outlet"`
				} `json:"_broadsheet"`
			} `json:"items"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("json: %v", err)
		}
		for _, it := range f.Items {
			out = append(out, it.Ext.Outlet.Name)
		}
	}
	return out
}

// TestHandler_FeedparserPython has Debian's python3-feedparser, a reader
// independent of Go, fetch every Atom and RSS output over HTTP: it must
// report no problem (bozo 0) and the same entries. Debian's feedparser
// (6.0) predates JSON Feed, so the JSON outputs are checked by a small
// Python JSON Feed 1.1 reader in the same script instead.
func TestHandler_FeedparserPython(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import feedparser").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-feedparser is missing (scripts/test-deps installs it): %v", err)
		}
		t.Skipf("python3-feedparser is missing; run scripts/test-deps: %v", err)
	}
	h, _ := newFixture(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	wants := fixtureFeeds()
	var urls []string
	for _, wf := range wants {
		urls = append(urls, srv.URL+wf.path)
	}
	results := runFeedparser(t, urls)
	for i, wf := range wants {
		t.Run(strings.TrimPrefix(wf.path, "/"), func(t *testing.T) {
			r := results[i]
			if r.Bozo != 0 {
				t.Errorf("bozo = %d (%s), want 0", r.Bozo, r.Exception)
			}
			wantVersion := map[string]string{".atom": "atom10", ".rss": "rss20", ".json": "json11"}[filepath.Ext(wf.path)]
			if r.Version != wantVersion {
				t.Errorf("version = %q, want %q", r.Version, wantVersion)
			}
			if r.Title != wf.title {
				t.Errorf("feed title = %q, want %q", r.Title, wf.title)
			}
			if len(r.Entries) != len(wf.arts) {
				t.Fatalf("%d entries, want %d", len(r.Entries), len(wf.arts))
			}
			for j, e := range r.Entries {
				a := wf.arts[j]
				if e.Title != a.Title {
					t.Errorf("entry %d title = %q, want %q", j, e.Title, a.Title)
				}
				if want := "tag:broadsheet,2026:article/" + a.ID; e.ID != want {
					t.Errorf("entry %d id = %q, want %q", j, e.ID, want)
				}
				if e.Link != a.Link && a.Link != "" {
					t.Errorf("entry %d link = %q, want %q", j, e.Link, a.Link)
				}
				if want := a.Published.UTC().Format(time.RFC3339); e.Published != want {
					t.Errorf("entry %d published = %q, want %q", j, e.Published, want)
				}
			}
		})
	}
}

// fpResult is what feedparserScript prints for one file.
type fpResult struct {
	Bozo      int    `json:"bozo"`
	Exception string `json:"exception"`
	Version   string `json:"version"`
	Title     string `json:"title"`
	Entries   []struct {
		Title     string `json:"title"`
		ID        string `json:"id"`
		Link      string `json:"link"`
		Published string `json:"published"`
	} `json:"entries"`
}

const feedparserScript = `
import datetime, json, sys, time, urllib.request
import feedparser

def rfc3339(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

def jsonfeed(url):
    """A JSON Feed 1.1 reader: the fields the spec requires, with their types."""
    with urllib.request.urlopen(url) as r:
        ctype = r.headers.get("Content-Type", "")
        d = json.load(r)
    problems = []
    if not ctype.startswith("application/feed+json"):
        problems.append("content type " + ctype)
    if d.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append("version")
    for k in ("title", "home_page_url", "feed_url"):
        if not isinstance(d.get(k), str) or not d[k]:
            problems.append("feed " + k)
    if not isinstance(d.get("items"), list):
        problems.append("items")
    entries = []
    for it in d.get("items", []):
        if not isinstance(it.get("id"), str) or not it["id"]:
            problems.append("item id")
        if not (it.get("content_html") or it.get("content_text")):
            problems.append("item content")
        for a in it.get("authors", []):
            if not isinstance(a, dict) or not a.get("name"):
                problems.append("item author")
        entries.append({
            "title": it.get("title", ""),
            "id": it.get("id", ""),
            "link": it.get("url", ""),
            "published": rfc3339(it["date_published"]) if it.get("date_published") else "",
        })
    return {"bozo": int(bool(problems)), "exception": ", ".join(problems),
            "version": "json11" if not problems else "", "title": d.get("title", ""), "entries": entries}

out = []
for url in sys.argv[1:]:
    if url.endswith(".json"):
        out.append(jsonfeed(url))
        continue
    d = feedparser.parse(url)
    entries = []
    for e in d.entries:
        p = e.get("published_parsed")
        entries.append({
            "title": e.get("title", ""),
            "id": e.get("id", ""),
            "link": e.get("link", ""),
            "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", p) if p else "",
        })
    out.append({
        "bozo": int(d.bozo),
        "exception": str(d.get("bozo_exception", "")),
        "version": d.version,
        "title": d.feed.get("title", ""),
        "entries": entries,
    })
json.dump(out, sys.stdout)
`

func runFeedparser(t *testing.T, urls []string) []fpResult {
	t.Helper()
	// The script fetches from this test's server: bounded, in case it
	// stops answering.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", append([]string{"-c", feedparserScript}, urls...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("feedparser: %v\n%s", err, stderr.String())
	}
	var rs []fpResult
	if err := json.Unmarshal(out, &rs); err != nil {
		t.Fatalf("feedparser output: %v\n%s", err, out)
	}
	if len(rs) != len(urls) {
		t.Fatalf("feedparser parsed %d feeds, want %d", len(rs), len(urls))
	}
	return rs
}
