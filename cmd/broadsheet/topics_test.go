package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// newsItem is one item of an outlet's feed, published hours ago.
type newsItem struct {
	title, excerpt string
	hours          int
}

// outlets are a handful of papers whose feeds share three stories (see
// storyTitles) among unrelated pieces.
var outlets = map[string][]newsItem{
	"The Hankyoreh": {
		{"[Editorial] North Korea and the US must not give up after Stockholm", "The working-level nuclear talks between North Korea and the United States in Stockholm broke down after a day.", 3},
		{"[Editorial] Typhoon Mitag exposed gaps in disaster warnings", "Landslides and floods left by Typhoon Mitag killed residents who were never told to leave.", 20},
		{"[Editorial] African swine fever demands tighter quarantine", "A new case of African swine fever at a pig farm in Paju shows the virus is spreading.", 30},
		{"[Editorial] Reforming the prosecution service cannot wait", "Lawmakers should pass the bills that curb prosecutors' power.", 8},
	},
	"Korea JoongAng Daily": {
		{"[Editorial] Stockholm talks collapse as North Korea walks out", "North Korea walked out of the nuclear talks with the United States in Stockholm, blaming Washington.", 4},
		{"[Editorial] After Typhoon Mitag, rebuild landslide defenses", "Typhoon Mitag's floods and landslides show how poorly hillside towns are protected.", 22},
		{"[Editorial] Stop African swine fever at Paju", "Swine fever has reached another pig farm in Paju; culling must be swift.", 28},
		{"[Editorial] Samsung's foldable phone is a risky bet", "The Galaxy Fold goes on sale after months of delays.", 12},
	},
	"The Korea Herald": {
		{"[Editorial] Failed Stockholm talks show North Korea's brinkmanship with US", "Pyongyang's walkout from the Stockholm nuclear talks is a familiar tactic.", 5},
		{"[Editorial] Typhoon Mitag's deadly landslides hold lessons", "Typhoon Mitag brought floods and landslides that the warnings did not foresee.", 21},
		{"[Editorial] Seoul apartment prices keep climbing", "Housing prices in Seoul rose for the fifteenth straight week.", 15},
	},
	"The Guardian": {
		{"The Guardian view on North Korea: the Stockholm talks were doomed", "Neither Pyongyang nor Washington came to Stockholm ready to make the nuclear concessions a deal needs.", 6},
		{"The Guardian view on Brexit: the deadline looms", "Parliament and Brussels are running out of time.", 9},
	},
	"Yonhap": {
		{"Korean Series opener draws record baseball crowd", "The Doosan Bears beat the Kiwoom Heroes before a sell-out crowd at Jamsil.", 10},
		{"African swine fever confirmed at another Paju pig farm", "The agriculture ministry confirmed African swine fever at a farm in Paju and ordered culling.", 29},
		{"Bank of Korea cuts its base rate to a record low", "The central bank cut rates to 1.25 percent to support growth.", 14},
	},
}

// storyTitles lists the headlines of each story several outlets share.
var storyTitles = [][]string{
	{
		"[Editorial] North Korea and the US must not give up after Stockholm",
		"[Editorial] Stockholm talks collapse as North Korea walks out",
		"[Editorial] Failed Stockholm talks show North Korea's brinkmanship with US",
		"The Guardian view on North Korea: the Stockholm talks were doomed",
	},
	{
		"[Editorial] Typhoon Mitag exposed gaps in disaster warnings",
		"[Editorial] After Typhoon Mitag, rebuild landslide defenses",
		"[Editorial] Typhoon Mitag's deadly landslides hold lessons",
	},
	{
		"[Editorial] African swine fever demands tighter quarantine",
		"[Editorial] Stop African swine fever at Paju",
		"African swine fever confirmed at another Paju pig farm",
	},
}

// newsServer serves each outlet's RSS feed at /{slug}.xml, dated from
// now.
func newsServer(t *testing.T, now time.Time) *httptest.Server {
	feedsBySlug := map[string]string{}
	for name, items := range outlets {
		slug := strings.ReplaceAll(strings.ToLower(name), " ", "-")
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>%s</description>`, html.EscapeString(name), slug, html.EscapeString(name))
		for i, it := range items {
			link := fmt.Sprintf("https://%s.example/opinion/%d", slug, i)
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
				html.EscapeString(it.title), link, link, now.Add(-time.Duration(it.hours)*time.Hour).UTC().Format(time.RFC1123Z), html.EscapeString(it.excerpt))
		}
		b.WriteString(`</channel></rss>`)
		feedsBySlug["/"+slug+".xml"] = b.String()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := feedsBySlug[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// writeNewsConfig writes a configuration polling every outlet, with a
// configured topic that matches the Stockholm editorials and one that
// matches nothing.
func writeNewsConfig(t *testing.T, dir, url string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "storage:\n  driver: sqlite\n  path: %s\n", filepath.Join(dir, "bs.db"))
	b.WriteString("schedule: \"@every 1h\"\nserver:\n  listen: 127.0.0.1:0\nfetch:\n  allow_private_networks: true\nlog:\n  level: warn\n")
	b.WriteString("topics:\n  - name: Korean Peninsula\n    match:\n      any: [North Korea, Pyongyang]\n  - name: Climate\n    match:\n      any: [climate change]\n")
	b.WriteString("sources:\n")
	names := make([]string, 0, len(outlets))
	for name := range outlets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		slug := strings.ReplaceAll(strings.ToLower(name), " ", "-")
		fmt.Fprintf(&b, "  - name: %s\n    url: %s/%s.xml\n", name, url, slug)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// outletOf returns the outlet whose feed has title.
func outletOf(title string) string {
	for name, items := range outlets {
		for _, it := range items {
			if it.title == title {
				return name
			}
		}
	}
	return ""
}

// topicsJSON is the output of `topics --json`.
type topicsJSON []struct {
	Slug    string `json:"slug"`
	Label   string `json:"label"`
	Kind    string `json:"kind"`
	Outlets int    `json:"outlets"`
	Stories []struct {
		Slug    string          `json:"slug"`
		Label   string          `json:"label"`
		Outlets int             `json:"outlets"`
		Items   []topicItemJSON `json:"items"`
	} `json:"stories"`
	Items []topicItemJSON `json:"items"`
}

func TestMain_Topics(t *testing.T) {
	ctx := context.Background()
	srv := newsServer(t, time.Now())
	dir := t.TempDir()
	cfg := writeNewsConfig(t, dir, srv.URL)

	if r := runMain(t, ctx, nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r := runMain(t, ctx, nil, "topics", "--config", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("topics --json: exit %d\n%s", r.code, r.stderr)
	}
	var groups topicsJSON
	if err := json.Unmarshal([]byte(r.stdout), &groups); err != nil {
		t.Fatalf("topics --json: %v\n%s", err, r.stdout)
	}

	t.Run("SharedStories", func(t *testing.T) {
		// Each shared story is one story block, once in the output, with
		// each outlet's headline.
		for _, titles := range storyTitles {
			var found []string
			for _, g := range groups {
				for _, st := range g.Stories {
					var got, gotOutlets []string
					for _, it := range st.Items {
						got = append(got, it.Title)
						gotOutlets = append(gotOutlets, it.Source)
						if it.ID == "" || it.Link == "" || it.Published.IsZero() || it.Source != outletOf(it.Title) {
							t.Errorf("item %+v: missing field or wrong source", it)
						}
					}
					if !slices.Contains(got, titles[0]) {
						continue
					}
					found = append(found, g.Slug+"/"+st.Slug)
					var want, wantOutlets []string
					for _, title := range titles {
						want = append(want, title)
						wantOutlets = append(wantOutlets, outletOf(title))
					}
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("story %s holds %q, want %q", st.Slug, got, want)
					}
					slices.Sort(gotOutlets)
					slices.Sort(wantOutlets)
					if !slices.Equal(gotOutlets, wantOutlets) || st.Outlets != len(titles) {
						t.Errorf("story %s names outlets %q (%d), want each of %q", st.Slug, gotOutlets, st.Outlets, wantOutlets)
					}
					if !slices.Contains(titles, st.Label) {
						t.Errorf("story %s label %q is none of its headlines", st.Slug, st.Label)
					}
				}
			}
			if len(found) != 1 {
				t.Errorf("%q is in %d stories (%q), want 1", titles[0], len(found), found)
			}
		}
	})

	t.Run("Order", func(t *testing.T) {
		// As the page: the configured topic holding the Stockholm story
		// (climate holds nothing, so is left out), then the stories no
		// topic holds, by outlets then recency (typhoon 20-22h, swine
		// fever 28-30h); single-outlet items are not listed.
		var got []string
		for _, g := range groups {
			got = append(got, fmt.Sprintf("%s:%s:%d", g.Kind, g.Label, len(g.Stories)))
		}
		want := []string{
			"configured:Korean Peninsula:1",
			"story:" + groups[min(1, len(groups)-1)].Stories[0].Label + ":1",
			"story:" + groups[min(2, len(groups)-1)].Stories[0].Label + ":1",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("groups %q, want %q", got, want)
		}
		if !strings.Contains(got[1], "Typhoon") || !strings.Contains(got[2], "swine fever") {
			t.Errorf("stories in order %q, want the typhoon, then swine fever", got[1:])
		}
		if k := groups[0]; k.Slug != "korean-peninsula" || k.Outlets != 4 || !strings.Contains(k.Stories[0].Label, "Stockholm") {
			t.Errorf("korean-peninsula: %+v, want the Stockholm story of 4 outlets", k)
		}
	})

	t.Run("SameAsPage", func(t *testing.T) {
		// The page lists the same groups and stories, in this order.
		out := filepath.Join(dir, "site")
		if r := runMain(t, ctx, nil, "publish", "--config", cfg, "--out", out); r.code != 0 {
			t.Fatalf("publish: exit %d\n%s", r.code, r.stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		at := 0
		for _, g := range groups {
			labels := []string{g.Label}
			for _, st := range g.Stories {
				if g.Kind != "story" {
					labels = append(labels, st.Label)
				}
			}
			for _, l := range labels {
				i := strings.Index(page[at:], html.EscapeString(l))
				if i < 0 {
					t.Fatalf("%q is not on the page after position %d (or the page orders it elsewhere)", l, at)
				}
				at += i
			}
		}
	})

	t.Run("Text", func(t *testing.T) {
		r := runMain(t, ctx, nil, "topics", "--config", cfg)
		if r.code != 0 {
			t.Fatalf("topics: exit %d\n%s", r.code, r.stderr)
		}
		for _, want := range []string{"configured · korean-peninsula · 1 story from 4 outlets", "story · 3 outlets", "Korean Peninsula", "The Hankyoreh", "Korea JoongAng Daily", "Yonhap", "[Editorial] Stop African swine fever at Paju", "3 groups", " UTC  "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("text output lacks %q:\n%s", want, r.stdout)
			}
		}
		if n := strings.Count(r.stdout, "The Guardian view on North Korea: the Stockholm talks were doomed"); n != 1 {
			t.Errorf("the Guardian's headline appears %d times, want 1:\n%s", n, r.stdout)
		}
	})

	t.Run("Kind", func(t *testing.T) {
		r := runMain(t, ctx, nil, "topics", "--config", cfg, "--kind", "configured", "--json")
		if r.code != 0 {
			t.Fatalf("topics --kind configured: exit %d\n%s", r.code, r.stderr)
		}
		var gs []struct{ Kind string }
		if err := json.Unmarshal([]byte(r.stdout), &gs); err != nil {
			t.Fatal(err)
		}
		if len(gs) != 1 || gs[0].Kind != "configured" {
			t.Errorf("--kind configured listed %+v, want the one configured topic", gs)
		}
		if r := runMain(t, ctx, nil, "topics", "--config", cfg, "--kind", "stories"); r.code != exitUsage {
			t.Errorf("--kind stories: exit %d, want %d", r.code, exitUsage)
		}
	})

	t.Run("MinOutlets", func(t *testing.T) {
		r := runMain(t, ctx, nil, "topics", "--config", cfg, "--min-outlets", "1", "--json")
		if r.code != 0 {
			t.Fatalf("topics --min-outlets 1: exit %d\n%s", r.code, r.stderr)
		}
		var gs topicsJSON
		if err := json.Unmarshal([]byte(r.stdout), &gs); err != nil {
			t.Fatal(err)
		}
		if len(gs) != 4 || gs[3].Kind != string(topics.KindOther) || len(gs[3].Stories) == 0 {
			t.Fatalf("--min-outlets 1: %d groups, want the 3 and the other stories last", len(gs))
		}
		r = runMain(t, ctx, nil, "topics", "--config", cfg, "--min-outlets", "4", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &gs); err != nil {
			t.Fatal(err)
		}
		if len(gs) != 1 || gs[0].Kind != "configured" {
			t.Errorf("--min-outlets 4: %d groups, want the configured topic only (no story of its own has 4 outlets)", len(gs))
		}
	})

	t.Run("Since", func(t *testing.T) {
		// Within 24 hours only Stockholm (3-6h, in the configured topic)
		// and the typhoon (20-22h) have two outlets or more.
		r := runMain(t, ctx, nil, "topics", "--config", cfg, "--since", "24h", "--json")
		if r.code != 0 {
			t.Fatalf("topics --since 24h: exit %d\n%s", r.code, r.stderr)
		}
		var gs topicsJSON
		if err := json.Unmarshal([]byte(r.stdout), &gs); err != nil {
			t.Fatal(err)
		}
		if len(gs) != 2 || len(gs[0].Items) != 4 || len(gs[1].Items) != 3 || gs[1].Kind != "story" {
			t.Errorf("--since 24h: %+v, want Stockholm (4) and the typhoon (3)", gs)
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		again := runMain(t, ctx, nil, "topics", "--config", cfg, "--json")
		if again.code != 0 || again.stdout != r.stdout {
			t.Errorf("a second run differs:\n%s\nwant\n%s", again.stdout, r.stdout)
		}
	})
}

// TestMain_Timezone checks that server.timezone reaches the page and
// the command-line tables, with the zone named.
func TestMain_Timezone(t *testing.T) {
	ctx := context.Background()
	srv := newsServer(t, time.Now())
	dir := t.TempDir()
	cfg := writeNewsConfig(t, dir, srv.URL)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "server:\n", "server:\n  timezone: Asia/Seoul\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runMain(t, ctx, nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
	}
	out := filepath.Join(dir, "site")
	if r := runMain(t, ctx, nil, "publish", "--config", cfg, "--out", out); r.code != 0 {
		t.Fatalf("publish: exit %d\n%s", r.code, r.stderr)
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	topicsOut := runMain(t, ctx, nil, "topics", "--config", cfg)
	items := runMain(t, ctx, nil, "items", "--config", cfg)
	for what, text := range map[string]string{"page": string(page), "topics": topicsOut.stdout, "items": items.stdout} {
		if !strings.Contains(text, " KST") || strings.Contains(text, " UTC") {
			t.Errorf("%s: times not shown in KST:\n%.2000s", what, text)
		}
	}
}

// TestTopicAdapters checks the groups publish and the digest get from the
// store after `fetch` and `topics`.
func TestTopicAdapters(t *testing.T) {
	ctx := context.Background()
	srv := newsServer(t, time.Now())
	dir := t.TempDir()
	path := writeNewsConfig(t, dir, srv.URL)
	if r := runMain(t, ctx, nil, "fetch", "--config", path); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
	}
	m := testMain()
	cfg, err := m.loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ts := st
	asg, err := newAssigner(cfg, ts, "test", newLogger(os.Stderr, cfg.Log, slog.LevelDebug), nil)
	if err != nil {
		t.Fatal(err)
	}
	v0, err := asg.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// fetch assigned the topics of what it stored: the epoch moved on; a
	// pass with nothing pending leaves it.
	if strings.HasPrefix(v0, "topics.0.") {
		t.Errorf("DataVersion %q: fetch did not assign topics", v0)
	}
	if _, err := asg.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if v1, _ := asg.DataVersion(ctx); v1 != v0 {
		t.Errorf("DataVersion moved from %q to %q with nothing pending", v0, v1)
	}

	titles := map[string]string{}
	arts, err := st.Articles(ctx, store.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		titles[a.ID] = a.Title
	}

	t.Run("Publish", func(t *testing.T) {
		var _ publish.Grouper = asg
		gs, err := asg.Groups(ctx, topics.Query{PublishedSince: time.Now().Add(-72 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range gs {
			got = append(got, fmt.Sprintf("%s/%s/%d", g.Kind, g.Slug, len(g.Stories)))
		}
		// Both configured topics, climate without stories, in
		// configuration order, the Stockholm story inside the first; then
		// the two other shared stories; then the others.
		if len(gs) != 5 || got[0] != "configured/korean-peninsula/1" || got[1] != "configured/climate/0" || gs[4].Kind != topics.KindOther {
			t.Fatalf("publish groups %v, want korean-peninsula, climate, 2 stories, then the others", got)
		}
		if st := gs[0].Stories[0]; st.Outlets() != 4 {
			t.Errorf("the Stockholm story in korean-peninsula has %d outlets, want 4", st.Outlets())
		}
		for _, g := range gs[2:4] {
			if g.Kind != topics.KindStory || g.Outlets < 3 {
				t.Errorf("story group %s/%s with %d outlets, want a shared story", g.Kind, g.Slug, g.Outlets)
			}
		}
		// Since 24 hours ago: the swine fever story (28-30h) is gone.
		gs, _ = asg.Groups(ctx, topics.Query{PublishedSince: time.Now().Add(-24 * time.Hour)})
		stories := 0
		for _, g := range gs {
			if g.Kind == topics.KindStory {
				stories++
			}
		}
		if stories != 1 {
			t.Errorf("publish groups since 24h: %d stories of their own, want 1 (the typhoon)", stories)
		}
	})

	t.Run("Digest", func(t *testing.T) {
		// What a digest with topics: [korean-peninsula] asks: the topic
		// alone, holding the Stockholm story of 4 outlets as one story.
		gs, err := asg.Groups(ctx, topics.Query{PublishedSince: time.Now().Add(-72 * time.Hour), Topics: []string{"korean-peninsula"}, Distinct: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 1 || gs[0].Slug != "korean-peninsula" || len(gs[0].Stories) == 0 {
			t.Fatalf("digest groups %+v, want korean-peninsula with its stories", gs)
		}
		if st := gs[0].Stories[0]; st.Outlets() != 4 || !strings.Contains(st.Label, "Stockholm") {
			t.Errorf("first story %q with %d outlets, want the Stockholm story with 4", st.Label, st.Outlets())
		}
	})

	t.Run("RulesReload", func(t *testing.T) {
		if err := asg.SetRules([]topics.Rule{{Name: "Swine fever", Any: []string{"swine fever"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := asg.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		gs, err := asg.Groups(ctx, topics.Query{PublishedSince: time.Now().Add(-72 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) == 0 || gs[0].Slug != "swine-fever" || gs[0].Items != 3 {
			t.Errorf("after a reload the first group is %+v, want swine-fever with 3 items", gs[0])
		}
		for _, g := range gs {
			if g.Slug == "korean-peninsula" || g.Slug == "climate" {
				t.Errorf("topic %s no longer configured but still published", g.Slug)
			}
		}
	})
}
