package publish

import (
	"context"
	"encoding/xml"
	"html"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// The page without items says why, in the words `broadsheet sources`
// uses: which sources fail and why, or that none was polled yet.
func TestHandler_EmptyPage(t *testing.T) {
	failed := func(name, reason string, status, failures int) feeds.SourceState {
		return feeds.SourceState{Source: name, Active: true, LastAttempt: at(11, 50), LastStatus: status,
			LastError: reason, Failures: failures, NextDue: at(12, 20)}
	}
	tests := []struct {
		name   string
		states []feeds.SourceState
		want   []string
		not    []string
	}{
		{"NeverPolled", nil,
			[]string{"broadsheet has not polled its 4 sources yet; their items appear here after the first poll."},
			[]string{"broadsheet sources"}},
		{"AllFailing", []feeds.SourceState{
			failed("Daily Planet", "the host name dailyplanet.example was not found: check the source's url in config.yaml, or this machine's network and DNS", 0, 1),
			failed("The Bugle", "the server answered 404 Not Found: check the source's url", 404, 3),
			failed("Opinion Weekly", "the server refused the connection", 0, 1),
			failed("Quiet Source", "the server answered 503 Service Unavailable", 503, 2),
		}, []string{
			"because all 4 sources failed at their last poll:",
			"<strong>Daily Planet</strong>: the host name dailyplanet.example was not found: check the source's url in config.yaml, or this machine's network and DNS.",
			"<strong>The Bugle</strong>: the server answered 404 Not Found: check the source's url (HTTP 404).",
			"3 failures in a row; next try Tue 10 Mar 2026, 12:20 UTC",
			"(HTTP 503)",
			"<code>broadsheet sources</code>",
		}, []string{"after the first poll"}},
		{"SomeFailing", []feeds.SourceState{
			failed("The Bugle", "the server answered 404 Not Found", 404, 1),
			{Source: "Daily Planet", Active: true, LastAttempt: at(11, 50), LastSuccess: at(11, 50), LastStatus: 200},
		}, []string{"1 of 4 sources failed at their last poll:", "<strong>The Bugle</strong>"},
			[]string{"Daily Planet</strong>"}},
		{"AnsweredEmpty", []feeds.SourceState{
			{Source: "Daily Planet", Active: true, LastAttempt: at(11, 50), LastSuccess: at(11, 50), LastStatus: 200},
			{Source: "The Bugle", Active: true, LastAttempt: at(11, 50), LastSuccess: at(11, 50), LastStatus: 200},
			{Source: "Opinion Weekly", Active: true, LastAttempt: at(11, 50), LastSuccess: at(11, 50), LastStatus: 200},
			{Source: "Quiet Source", Active: true, LastAttempt: at(11, 50), LastSuccess: at(11, 50), LastStatus: 304},
		}, []string{"all 4 sources answered, but with no items yet."}, []string{"failed"}},
	}
	old := article("Daily Planet", "dp-old", "Last month's news", "https://dailyplanet.example/old", now.Add(-30*24*time.Hour))
	tests = append(tests, struct {
		name   string
		states []feeds.SourceState
		want   []string
		not    []string
	}{"OutsideWindow", []feeds.SourceState{{Source: "Daily Planet", Active: true, LastAttempt: at(11, 50), LastSuccess: at(11, 50), LastStatus: 200}},
		[]string{"none of the 1 item stored was published in the last 72h; the feeds list them all."},
		[]string{"Last month's news", "no items yet"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memStore{states: tt.states}
			if tt.name == "OutsideWindow" {
				st.arts = []feeds.Article{old}
			}
			h := New(st, fixtureOptions())
			if err := h.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			page := html.UnescapeString(string(body(t, get(t, h, http.MethodGet, "/", nil))))
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range append(tt.not, "1970") {
				if strings.Contains(page, w) {
					t.Errorf("page has %q", w)
				}
			}
			if t.Failed() {
				i := strings.Index(page, `<div class="empty">`)
				t.Logf("empty state:\n%s", page[max(i, 0):min(len(page), max(i, 0)+2000)])
			}
		})
	}
}

// An empty feed is dated by the sources' last poll, else by when the
// handler started: never 1970.
func TestHandler_EmptyFeedUpdated(t *testing.T) {
	tests := []struct {
		name   string
		states []feeds.SourceState
		want   time.Time
	}{
		{"NeverPolled", nil, now},
		{"Polled", []feeds.SourceState{{Source: "The Bugle", Active: true, LastAttempt: at(11, 50), Failures: 1, LastError: "x"}}, at(11, 50)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(&memStore{states: tt.states}, fixtureOptions())
			if err := h.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Updated time.Time `xml:"updated"`
			}
			b := body(t, get(t, h, http.MethodGet, "/feed.atom", nil))
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if !doc.Updated.Equal(tt.want) {
				t.Errorf("empty feed updated %v, want %v", doc.Updated, tt.want)
			}
			res := get(t, h, http.MethodGet, "/sources/the-bugle.rss", nil)
			if lm := res.Header.Get("Last-Modified"); strings.Contains(lm, "1970") || lm == "" {
				t.Errorf("empty source feed Last-Modified %q", lm)
			}
		})
	}
}

// Polls that fail store no article, but an empty page lists them: Run
// notices that the sources' counts moved (here through SQLite, as another
// replica's polls would show) and renders again.
func TestHandler_EmptyPageFollowsPolls(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "broadsheet.db"))
	if err := db.SyncSources(ctx, fixtureSources); err != nil {
		t.Fatal(err)
	}
	h := New(db, fixtureOptions())
	if err := h.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if h.stale(ctx) {
		t.Fatal("stale right after Refresh")
	}
	st := feeds.SourceState{Source: "The Bugle", Active: true, LastAttempt: at(11, 58), LastError: "the server answered 500 Internal Server Error", LastStatus: 500, Failures: 1, NextDue: at(12, 3)}
	if _, err := db.SavePoll(ctx, feeds.Poll{State: st}); err != nil {
		t.Fatal(err)
	}
	if !h.stale(ctx) {
		t.Fatal("a failed poll left the empty page as it was")
	}
	if err := h.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(string(body(t, get(t, h, http.MethodGet, "/", nil))))
	if !strings.Contains(page, "1 of 4 sources failed at their last poll") || !strings.Contains(page, "the server answered 500") {
		t.Errorf("page after the failed poll lacks it:\n%s", page)
	}
}
