package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

// jsonFeedWith is a JSON Feed of three good items with bad spliced in
// as the third.
func jsonFeedWith(bad string) string {
	item := func(n int) string {
		return fmt.Sprintf(`{"id": "https://json.example/%d", "url": "https://json.example/%d", "title": "Story %d", "content_text": "Text %d.", "date_published": "2026-08-1%dT10:00:00Z"}`, n, n, n, n, n)
	}
	return `{"version": "https://jsonfeed.org/version/1.1", "title": "Typed", "home_page_url": "https://json.example/",
	"items": [` + item(1) + `, ` + item(2) + `, ` + bad + `, ` + item(4) + `], "expired": false}`
}

// TestClient_Fetch_JSONFeedBadItem: one wrongly typed JSON Feed item is
// skipped and reported; the other items of the feed are kept.
func TestClient_Fetch_JSONFeedBadItem(t *testing.T) {
	tests := []struct {
		name    string
		bad     string
		reason  []string // parts of the one reason, when skipped
		wantIDs []string // the identities kept, in order
	}{
		{"TitleNumber", `{"id": "https://json.example/bad", "title": 5, "content_text": "x"}`,
			[]string{"item 3", `"https://json.example/bad"`, `"title" is a JSON number`, "wants a string"},
			[]string{"https://json.example/1", "https://json.example/2", "https://json.example/4"}},
		{"DateObject", `{"url": "https://json.example/bad", "title": "Bad", "date_published": {}}`,
			[]string{"item 3", `url "https://json.example/bad"`, `"date_published" is a JSON object`},
			[]string{"https://json.example/1", "https://json.example/2", "https://json.example/4"}},
		{"TagsString", `{"id": "t", "title": "Bad", "tags": "news"}`,
			[]string{`"tags" is a JSON string where JSON Feed wants an array`},
			[]string{"https://json.example/1", "https://json.example/2", "https://json.example/4"}},
		{"NotAnObject", `5`,
			[]string{"item 3: it is a JSON number, not an object"},
			[]string{"https://json.example/1", "https://json.example/2", "https://json.example/4"}},
		// The spec tells readers to coerce a numeric id to a string.
		{"NumericID", `{"id": 1234, "url": "https://json.example/3", "title": "Three"}`,
			nil,
			[]string{"https://json.example/1", "https://json.example/2", "1234", "https://json.example/4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := jsonFeedWith(tt.bad)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/feed+json")
				fmt.Fprint(w, body)
			}))
			defer srv.Close()
			c := newTestClient(Options{})
			res, err := c.Fetch(context.Background(), feeds.Source{Name: "typed", URL: srv.URL + "/feed.json"}, feeds.SourceState{})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			var ids []string
			for _, a := range res.Articles {
				ids = append(ids, a.Identity)
			}
			if strings.Join(ids, " ") != strings.Join(tt.wantIDs, " ") {
				t.Errorf("kept %q, want %q", ids, tt.wantIDs)
			}
			wantSkipped := 0
			if tt.reason != nil {
				wantSkipped = 1
			}
			if res.Skipped != wantSkipped || len(res.SkipReasons) != wantSkipped {
				t.Fatalf("Skipped = %d, reasons %q; want %d", res.Skipped, res.SkipReasons, wantSkipped)
			}
			for _, p := range tt.reason {
				if !strings.Contains(res.SkipReasons[0], p) {
					t.Errorf("reason %q does not say %q", res.SkipReasons[0], p)
				}
			}
			if res.Dropped != 0 {
				t.Errorf("Dropped = %d, want 0", res.Dropped)
			}
		})
	}
}

// TestClient_Fetch_JSONFeedManyBadItems: every bad item is counted, a few
// are explained, and a feed-level type error still fails the feed.
func TestClient_Fetch_JSONFeedManyBadItems(t *testing.T) {
	var items []string
	for i := range 50 {
		if i%2 == 0 {
			items = append(items, fmt.Sprintf(`{"id": "g%d", "title": "Good %d"}`, i, i))
		} else {
			items = append(items, fmt.Sprintf(`{"id": "b%d", "title": ["Bad"]}`, i))
		}
	}
	c := newTestClient(Options{})
	src := feeds.Source{Name: "many", URL: "https://many.example/feed.json"}
	arts, _, err := c.Parse(src, strings.NewReader(`{"version": "https://jsonfeed.org/version/1", "items": [`+strings.Join(items, ",")+`]}`), "application/feed+json")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(arts) != 25 {
		t.Errorf("kept %d articles, want 25", len(arts))
	}
	p, err := c.parseTitled(src, []byte(`{"version": "https://jsonfeed.org/version/1", "items": [`+strings.Join(items, ",")+`]}`), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.skipped != 25 || len(p.reasons) != maxSkipReasons {
		t.Errorf("skipped %d with %d reasons, want 25 with %d", p.skipped, len(p.reasons), maxSkipReasons)
	}

	_, _, err = c.Parse(src, strings.NewReader(`{"version": "https://jsonfeed.org/version/1", "title": 5, "items": [{"id": "a"}]}`), "")
	wantReason(t, err, "not a feed gofeed can read", "number")
}
