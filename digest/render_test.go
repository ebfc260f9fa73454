package digest

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/topics"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a morning's editorials: a story three outlets carry, two
// configured topics, stories in none, and the hostile bits feeds send.
func fixture() ([]feeds.Article, *fakeGroups) {
	h := func(hours float64) time.Time { return t0.Add(-time.Duration(hours * float64(time.Hour))) }
	missile := []feeds.Article{
		art("The Korea Herald", "[Editorial] Pyongyang's missile test tests Seoul's patience", h(2), h(3)),
		art("The Hankyoreh", "[Editorial] After the launch, talk is still the only way", h(5), h(6)),
		art("The Japan Times Opinion", "North Korea's latest launch demands a united response", h(9), h(10.5)),
	}
	missile[0].Excerpt = "The launch on Sunday morning was the third this month. It should not end a dialogue that has barely begun; " +
		"both Seoul and Washington have more to gain from patient diplomacy than from another round of sanctions, " +
		"and the history of the peninsula shows that pressure alone has never brought Pyongyang to the table for long."
	missile[2].Excerpt = "Tokyo, Seoul and Washington must answer together."
	climate := art("The Guardian Opinion", "The Guardian view on COP31: ambition & <b>accountability</b>", h(4), h(4.5))
	climate.Excerpt = "Negotiators meet   again\nwith little to show — and less time."
	seoulHeat := art("The Korea Herald", "[Editorial] Heat waves and Seoul's “green” budget", h(7), h(7.5))
	other := art("The New York Times Opinion", "Why we still read newspapers", h(1), h(1.2))
	bad := art("The New York Times Opinion", "A link that is not a web page", h(12), h(13))
	bad.Link = "javascript:alert(1)"
	bad.Excerpt = ""
	old := art("The Guardian Opinion", "Published long ago, seen just now", h(3), h(24*30))
	arts := append(missile, climate, seoulHeat, other, bad, old)
	g := &fakeGroups{
		topics: []topics.Topic{
			{Slug: "korean-peninsula", Label: "Korean Peninsula", Kind: topics.KindConfigured},
			{Slug: "climate", Label: "Climate", Kind: topics.KindConfigured},
			{Slug: "pyongyang-missile-test", Label: missile[0].Title, Kind: topics.KindStory},
		},
		of: map[string][]string{
			missile[0].ID:  {"korean-peninsula", "pyongyang-missile-test"},
			missile[2].ID:  {"korean-peninsula", "pyongyang-missile-test"},
			climate.ID:     {"climate"},
			seoulHeat.ID:   {"climate", "korean-peninsula"},
			other.ID:       nil,
			old.ID:         {"climate"},
			missile[1].ID:  {"korean-peninsula", "pyongyang-missile-test"},
			"not-selected": {"climate"},
		},
	}
	return arts, g
}

func dailyDigest() Digest {
	return Digest{
		Name:     "daily",
		To:       []string{"Reader <reader@example.com>"},
		Topics:   []string{"all"},
		Kinds:    []feeds.Kind{feeds.KindEditorial},
		MaxItems: 40,
		MaxAge:   7 * 24 * time.Hour,
		Subject:  "Editorials for {{.Date}}: {{.TopicCount}} {{plural .TopicCount \"topic\" \"topics\"}}",
		Location: seoul,
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test -update to accept):\n%s", name, path, firstDiff(got, string(want)))
	}
}

// firstDiff shows the first differing line.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func TestService_Send_Golden(t *testing.T) {
	arts, g := fixture()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"daily", Options{BaseURL: "https://news.example.org/", From: "Broadsheet <digest@news.example.org>", Title: "broadsheet"}},
		{"daily-nobaseurl", Options{From: "Broadsheet <digest@news.example.org>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts, g, arts...)
			e.send(dailyDigest(), t0)
			sent := e.m.to("Reader <reader@example.com>")
			if len(sent) != 1 {
				t.Fatalf("sent %d messages, want 1", len(sent))
			}
			m := sent[0]
			golden(t, tc.name+".subject", m.Subject+"\n")
			golden(t, tc.name+".txt", m.Text)
			golden(t, tc.name+".html", m.HTML)
		})
	}
}

func TestService_Send_Content(t *testing.T) {
	arts, g := fixture()
	e := newEnv(t, Options{BaseURL: "https://news.example.org/", From: "Broadsheet <digest@news.example.org>"}, g, arts...)
	e.send(dailyDigest(), t0)
	m := e.m.to("Reader <reader@example.com>")[0]

	for _, tc := range []struct {
		name, part, text string
		want             bool
	}{
		{"StoryOnceWithOutlets", "txt", "3 outlets on this story", true},
		{"OtherOutletsListed", "html", `>[Editorial] After the launch, talk is still the only way</a>`, true},
		{"OutletAndZonedTime", "html", "The Hankyoreh</a> · 01:00 KST", true},
		{"CountsSayWhat", "txt", "2 stories from 3 outlets", true},
		{"CountsSayWhatHTML", "html", "2 stories from 3 outlets", true},
		{"CJKWordBreak", "html", "word-break:keep-all", true},
		{"CJKFont", "html", "Noto Serif CJK KR", true},
		{"TitleEscaped", "html", "ambition &amp; &lt;b&gt;accountability&lt;/b&gt;", true},
		{"NoRawTag", "html", "<b>accountability", false},
		{"JavascriptLinkDropped", "html", "javascript:", false},
		{"JavascriptLinkDroppedText", "txt", "javascript:", false},
		{"OldPublishedLeftOut", "txt", "Published long ago", false},
		{"ExcerptCollapsed", "txt", "Negotiators meet again with little", true},
		{"ExcerptTruncated", "txt", "table for long", false},
		{"ExcerptEllipsis", "txt", "…", true},
		{"TimesInSeoul", "txt", "The Korea Herald, 04:00", true},
		{"UnsubscribeLink", "txt", "https://news.example.org/unsubscribe/", true},
		{"NoScript", "html", "<script", false},
		{"ColorScheme", "html", `<meta name="color-scheme" content="light dark">`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := m.Text
			if tc.part == "html" {
				body = m.HTML
			}
			if got := strings.Contains(body, tc.text); got != tc.want {
				t.Errorf("%s part contains %q: got %v, want %v", tc.part, tc.text, got, tc.want)
			}
		})
	}
	t.Run("TextWrapped", func(t *testing.T) {
		for i, l := range strings.Split(m.Text, "\n") {
			if n := len([]rune(l)); n > 72 && !strings.Contains(l, "://") {
				t.Errorf("line %d has %d characters, want at most 72: %q", i+1, n, l)
			}
		}
	})
	t.Run("Subject", func(t *testing.T) {
		if want := "Editorials for Monday 3 March 2025: 3 topics"; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
	})
	t.Run("TopicsInGroupOrderOtherLast", func(t *testing.T) {
		ki := strings.Index(m.Text, "KOREAN PENINSULA")
		ci := strings.Index(m.Text, "CLIMATE")
		oi := strings.Index(m.Text, "OTHER STORIES")
		if !(ki >= 0 && ki < ci && ci < oi) {
			t.Errorf("topic headings at %d, %d, %d, want Korean Peninsula < Climate < Other stories", ki, ci, oi)
		}
	})
	t.Run("LabelOnce", func(t *testing.T) {
		// The label is the Korea Herald's headline: not repeated under it.
		if n := strings.Count(m.Text, "missile test tests Seoul"); n != 1 {
			t.Errorf("the story's label appears %d times in the text part, want 1", n)
		}
	})
	t.Run("EditorialOncePerStory", func(t *testing.T) {
		// Every story of this digest is an editorial: marked once each.
		if n, want := strings.Count(m.Text, "\n    Editorial"), 5; n != want {
			t.Errorf("%d editorial marks, want %d (one per story)", n, want)
		}
	})
	t.Run("StoryShownOnce", func(t *testing.T) {
		if n := strings.Count(m.Text, "demands a united response"); n != 1 {
			t.Errorf("the Japan Times headline appears %d times, want 1", n)
		}
	})
}

func TestService_Choose(t *testing.T) {
	h := func(x float64) time.Time { return t0.Add(-time.Duration(x * float64(time.Hour))) }
	a1 := art("A", "one", h(1), h(1))
	a2 := art("B", "two", h(2), h(2))
	a3 := art("C", "three", h(3), h(3))
	a4 := art("A", "four", h(4), h(4))
	a5 := art("B", "five", h(0.5), h(0.5)) // same source as a2, same story: one per outlet
	// wire carries one's link: one item, with D as another outlet.
	wire := art("D", "one, as D ran it", h(1.5), h(1.5))
	wire.Link, wire.LinkKey, a1.LinkKey = a1.Link, a1.Link, a1.Link
	old := art("C", "seen before the window", h(30), h(30))
	conf := []topics.Topic{{Slug: "x", Label: "X", Kind: topics.KindConfigured}, {Slug: "y", Label: "Y", Kind: topics.KindConfigured}, {Slug: "s", Kind: topics.KindStory}}
	of := map[string][]string{a4.ID: {"x"}, a3.ID: {"y", "s"}, a2.ID: {"s"}, a5.ID: {"s"}, a1.ID: {"y"}, old.ID: {"x"}}
	for _, tc := range []struct {
		name string
		d    Digest
		g    Grouper
		want string // topic:[story titles joined by +] …
	}{
		// Without stored stories, only the shared link makes a story.
		{"NoGroups", Digest{}, nil, "one, as D ran it:[one, as D ran it] Other stories:[five] [two] [three] [four]"},
		// The label's item first (no stored label: the first published,
		// three), then the outlets' newest; two's outlet is five's.
		// y matched one, which D's copy of the link stands for.
		{"Groups", Digest{}, &fakeGroups{topics: conf, of: of}, "X:[four] Y:[three+five] [one, as D ran it]"},
		{"TopicFilter", Digest{Topics: []string{"x"}}, &fakeGroups{topics: conf, of: of}, "X:[four]"},
		{"AllKeyword", Digest{Topics: []string{"all"}}, &fakeGroups{topics: conf, of: of}, "X:[four] Y:[three+five] [one, as D ran it]"},
		{"MaxItemsKeepsBest", Digest{MaxItems: 1}, &fakeGroups{topics: conf, of: of}, "Y:[three+five]"},
		{"StoryOfItsOwn", Digest{}, &fakeGroups{topics: []topics.Topic{conf[0], conf[2]}, of: of}, "X:[four] three:[three+five] one, as D ran it:[one, as D ran it]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{}, tc.g, a1, a2, a3, a4, a5, wire, old)
			l, err := e.svc.choose(e.ctx, tc.d, h(24), t0, t0)
			if err != nil {
				t.Fatal(err)
			}
			data := buildData("t", tc.d, l.Groups, t0, h(24), t0, "r@example.com")
			var parts []string
			for _, tp := range data.Topics {
				var ss []string
				for _, s := range tp.Stories {
					var ts []string
					for _, it := range s.Items {
						ts = append(ts, it.Title)
					}
					ss = append(ss, "["+strings.Join(ts, "+")+"]")
				}
				parts = append(parts, tp.Label+":"+strings.Join(ss, " "))
			}
			if got := strings.Join(parts, " "); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
