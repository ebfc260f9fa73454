package fetch

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
)

// TestParse_ContentCap checks that the HTML kept per item is cut to
// sanitize.ContentBytes in every format, whether it is one huge paragraph
// or many small elements, stays sanitized and says where the rest is,
// while an ordinary item is kept whole.
func TestParse_ContentCap(t *testing.T) {
	src := feeds.Source{Name: "Long reads", URL: "https://long.example/feed"}
	paragraph := "<p>" + strings.Repeat("All work and no play makes a very long article indeed. ", 10_000) + "</p>"
	var small strings.Builder
	for i := 0; small.Len() < 3*sanitize.ContentBytes; i++ {
		fmt.Fprintf(&small, `<p>Part <b>%d</b> of <a href="/part/%d">the series</a>.</p>`, i, i)
	}
	const short = "<p>A short <em>item</em>.</p>"

	rss := func(content string) string {
		return `<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>c</title>` +
			`<item><guid>long</guid><title>Long</title><link>https://long.example/2026/long</link>` +
			`<description>` + html.EscapeString(content) + `</description>` +
			`<content:encoded>` + html.EscapeString(content) + `</content:encoded></item>` +
			`<item><guid>short</guid><title>Short</title><link>https://long.example/2026/short</link>` +
			`<content:encoded>` + html.EscapeString(short) + `</content:encoded></item></channel></rss>`
	}
	jsonFeed := func(content string) string {
		b, _ := json.Marshal(map[string]any{
			"version": "https://jsonfeed.org/version/1.1", "title": "c",
			"items": []map[string]any{
				{"id": "long", "title": "Long", "url": "https://long.example/2026/long", "content_html": content},
				{"id": "short", "title": "Short", "url": "https://long.example/2026/short", "content_html": short},
			},
		})
		return string(b)
	}
	note := `<p><a href="https://long.example/2026/long" rel="nofollow noreferrer">` + sanitize.RestNote + `</a></p>`
	for _, tt := range []struct{ name, body string }{
		{"RSS/OneParagraph", rss(paragraph)},
		{"RSS/SmallElements", rss(small.String())},
		{"JSON/OneParagraph", jsonFeed(paragraph)},
		{"JSON/SmallElements", jsonFeed(small.String())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			arts, _, err := newTestClient(Options{}).Parse(src, strings.NewReader(tt.body), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(arts) != 2 {
				t.Fatalf("got %d articles, want 2", len(arts))
			}
			long, shortArt := arts[0], arts[1]
			for field, h := range map[string]string{"Content": long.Content, "Summary": long.Summary} {
				if field == "Summary" && strings.HasPrefix(tt.name, "JSON") {
					continue // no summary given
				}
				if len(h) > sanitize.ContentBytes || len(h) < sanitize.ContentBytes-1024 {
					t.Errorf("%s is %d bytes, want at most %d and nearly that", field, len(h), sanitize.ContentBytes)
				}
				if !strings.HasSuffix(h, note) {
					t.Errorf("%s does not end with the link to the rest:\n…%s", field, h[max(0, len(h)-200):])
				}
				if again := sanitize.HTML(h, nil); again != h {
					t.Errorf("%s changes when sanitized again", field)
				}
			}
			if long.Excerpt == "" || !strings.HasPrefix(sanitize.Text(long.Content), strings.TrimSuffix(long.Excerpt, "…")) {
				t.Errorf("Excerpt %q is not the start of the content", long.Excerpt)
			}
			if shortArt.Content != short {
				t.Errorf("short item's Content = %q, want %q", shortArt.Content, short)
			}
		})
	}
}
