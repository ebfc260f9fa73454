package topics

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

var readNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// readArticle is a stored article published hours before readNow.
func readArticle(id, source, title string, hours int) feeds.Article {
	pub := readNow.Add(-time.Duration(hours) * time.Hour)
	return feeds.Article{ID: id, Source: source, Title: title, Link: "https://" + strings.ToLower(source) + ".example/" + id,
		LinkKey: "https://" + strings.ToLower(source) + ".example/" + id, Kind: feeds.KindNews, Published: pub, FirstSeen: pub.Add(time.Minute)}
}

// readFixture: three outlets on the Stockholm story, which the configured
// topic korea matches in two of them; a two-outlet typhoon story; a wire
// story two outlets carry under one link, in no stored story; a lone item;
// an old item outside the window.
func readFixture() ([]feeds.Article, []Members, []Topic) {
	arts := []feeds.Article{
		readArticle("a1", "Hankyoreh", "North Korea and the US must not give up after Stockholm", 3),
		readArticle("a2", "JoongAng", "Stockholm talks collapse as North Korea walks out", 4),
		readArticle("a3", "Guardian", "The Stockholm talks were doomed", 6),
		readArticle("b1", "Hankyoreh", "Typhoon exposed gaps in warnings", 20),
		readArticle("b2", "Herald", "Typhoon's landslides hold lessons", 2),
		readArticle("c1", "Yonhap", "Storm hits the coast", 8),
		readArticle("c2", "Herald", "Storm hits the coast", 9),
		readArticle("d1", "Yonhap", "Record baseball crowd", 10),
		readArticle("e1", "Yonhap", "Old news", 200),
	}
	arts[5].LinkKey, arts[6].LinkKey = "https://wire.example/storm", "https://wire.example/storm"
	members := []Members{
		{Topic: Topic{Slug: "stockholm-talks", Label: "Stockholm talks collapse as North Korea walks out", Kind: KindStory}, ArticleIDs: []string{"a1", "a2", "a3"}},
		{Topic: Topic{Slug: "typhoon", Label: "Typhoon exposed gaps in warnings", Kind: KindStory}, ArticleIDs: []string{"b1", "b2"}},
		{Topic: Topic{Slug: "baseball", Label: "Record baseball crowd", Kind: KindStory}, ArticleIDs: []string{"d1"}},
		{Topic: Topic{Slug: "korea", Label: "Korea", Kind: KindConfigured}, ArticleIDs: []string{"a1", "a2"}},
		{Topic: Topic{Slug: "removed", Label: "No longer configured", Kind: KindConfigured}, ArticleIDs: []string{"d1"}},
	}
	configured := []Topic{{Slug: "korea", Label: "Korea", Kind: KindConfigured}, {Slug: "climate", Label: "Climate", Kind: KindConfigured}}
	return arts, members, configured
}

// describe writes groups compactly: kind/slug(outlets,items)[label: item ids; ...].
func describe(gs []Group) string {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s/%s(%d,%d)[", g.Kind, g.Slug, g.Outlets, g.Items)
		for j, s := range g.Stories {
			if j > 0 {
				b.WriteString("; ")
			}
			var ids []string
			for _, it := range s.Items {
				id := it.ID
				if len(it.Also) > 0 {
					id += "(also " + strings.Join(it.Also, ",") + ")"
				}
				ids = append(ids, id)
			}
			for _, it := range s.More {
				ids = append(ids, "+"+it.ID)
			}
			fmt.Fprintf(&b, "%s %q: %s", s.Slug, s.Label, strings.Join(ids, ","))
		}
		b.WriteString("]")
	}
	return b.String()
}

func TestBuild(t *testing.T) {
	arts, members, configured := readFixture()
	window := readNow.Add(-72 * time.Hour)
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"Window", Query{PublishedSince: window},
			`configured/korea(3,3)[stockholm-talks "Stockholm talks collapse as North Korea walks out": a2,a1,a3] ` +
				`configured/climate(0,0)[] ` +
				`story/typhoon(2,2)[typhoon "Typhoon exposed gaps in warnings": b1,b2] ` +
				`story/(2,1)[ "Storm hits the coast": c2(also Yonhap)] ` +
				`other/(1,1)[ "Record baseball crowd": d1]`},
		{"Everything", Query{},
			`configured/korea(3,3)[stockholm-talks "Stockholm talks collapse as North Korea walks out": a2,a1,a3] ` +
				`configured/climate(0,0)[] ` +
				`story/typhoon(2,2)[typhoon "Typhoon exposed gaps in warnings": b1,b2] ` +
				`story/(2,1)[ "Storm hits the coast": c2(also Yonhap)] ` +
				`other/(1,2)[ "Record baseball crowd": d1;  "Old news": e1]`},
		{"Distinct", Query{PublishedSince: window, Distinct: true},
			`configured/korea(3,3)[stockholm-talks "Stockholm talks collapse as North Korea walks out": a2,a1,a3] ` +
				`story/typhoon(2,2)[typhoon "Typhoon exposed gaps in warnings": b1,b2] ` +
				`story/(2,1)[ "Storm hits the coast": c2(also Yonhap)] ` +
				`other/(1,1)[ "Record baseball crowd": d1]`},
		{"TopicSelected", Query{PublishedSince: window, Topics: []string{"korea"}, Distinct: true},
			`configured/korea(3,3)[stockholm-talks "Stockholm talks collapse as North Korea walks out": a2,a1,a3]`},
		{"StorySelected", Query{PublishedSince: window, Topics: []string{"typhoon", "stockholm-talks"}},
			`story/stockholm-talks(3,3)[stockholm-talks "Stockholm talks collapse as North Korea walks out": a2,a1,a3] ` +
				`story/typhoon(2,2)[typhoon "Typhoon exposed gaps in warnings": b1,b2]`},
		{"AllKeyword", Query{PublishedSince: window, Topics: []string{"all"}, Distinct: true, MaxStories: 2},
			`configured/korea(3,3)[stockholm-talks "Stockholm talks collapse as North Korea walks out": a2,a1,a3] ` +
				`story/typhoon(2,2)[typhoon "Typhoon exposed gaps in warnings": b1,b2]`},
		// Without the news items the typhoon story is one outlet's: no
		// longer a story of its own; its label is the item left.
		{"Sources", Query{PublishedSince: window, Sources: []string{"Hankyoreh", "Yonhap"}, Distinct: true},
			`configured/korea(1,1)[ "North Korea and the US must not give up after Stockholm": a1] ` +
				`other/(2,3)[ "Storm hits the coast": c1;  "Record baseball crowd": d1;  "Typhoon exposed gaps in warnings": b1]`},
		{"Seen", Query{SeenSince: readNow.Add(-5 * time.Hour), SeenBefore: readNow.Add(-3 * time.Hour), Distinct: true},
			`configured/korea(1,1)[ "Stockholm talks collapse as North Korea walks out": a2]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe(Build(arts, members, configured, tc.q)); got != tc.want {
				t.Errorf("got\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}

// TestBuild_OneItemPerOutlet: an outlet's second item on a story is in
// More, the label names a shown item, and the heading is not repeated.
func TestBuild_OneItemPerOutlet(t *testing.T) {
	arts := []feeds.Article{
		readArticle("x1", "Hankyoreh", "Talks resume", 5),
		readArticle("x2", "Hankyoreh", "Talks resume, live", 1),
		readArticle("x3", "Guardian", "Talks resume in Geneva", 3),
	}
	members := []Members{{Topic: Topic{Slug: "talks", Label: "Talks resume", Kind: KindStory}, ArticleIDs: []string{"x1", "x2", "x3"}}}
	got := describe(Build(arts, members, nil, Query{}))
	want := `story/talks(2,2)[talks "Talks resume in Geneva": x3,x2,+x1]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestBuild_Order: stories with more outlets first, then the newest.
func TestBuild_Order(t *testing.T) {
	arts := []feeds.Article{
		readArticle("p1", "A", "Two outlets, older", 10), readArticle("p2", "B", "Two outlets, older too", 9),
		readArticle("q1", "A", "Two outlets, newer", 2), readArticle("q2", "C", "Two outlets, newer too", 3),
		readArticle("r1", "A", "Three outlets", 30), readArticle("r2", "B", "Three", 31), readArticle("r3", "C", "Three!", 32),
	}
	members := []Members{
		{Topic: Topic{Slug: "p", Label: "Two outlets, older", Kind: KindStory}, ArticleIDs: []string{"p1", "p2"}},
		{Topic: Topic{Slug: "q", Label: "Two outlets, newer", Kind: KindStory}, ArticleIDs: []string{"q1", "q2"}},
		{Topic: Topic{Slug: "r", Label: "Three outlets", Kind: KindStory}, ArticleIDs: []string{"r1", "r2", "r3"}},
	}
	var got []string
	for _, g := range Build(arts, members, nil, Query{}) {
		got = append(got, g.Slug)
	}
	if want := []string{"r", "q", "p"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// TestBuild_OrderIndependent: the same articles and memberships in any
// order give the same groups.
func TestBuild_OrderIndependent(t *testing.T) {
	arts, members, configured := readFixture()
	q := Query{PublishedSince: readNow.Add(-72 * time.Hour)}
	want := Build(arts, members, configured, q)
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		a, m := slices.Clone(arts), slices.Clone(members)
		r.Shuffle(len(a), func(i, j int) { a[i], a[j] = a[j], a[i] })
		r.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
		for i := range m {
			ids := slices.Clone(m[i].ArticleIDs)
			r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			m[i].ArticleIDs = ids
		}
		if got := Build(a, m, configured, q); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input gives\n  %s\nwant\n  %s", describe(got), describe(want))
		}
	}
}

// TestDistinct: a story in two configured topics shows in the first only.
func TestDistinct(t *testing.T) {
	arts, members, _ := readFixture()
	members = append(members, Members{Topic: Topic{Slug: "talks", Label: "Talks", Kind: KindConfigured}, ArticleIDs: []string{"a3"}})
	configured := []Topic{{Slug: "talks", Label: "Talks"}, {Slug: "korea", Label: "Korea"}}
	full := Build(arts, members, configured, Query{PublishedSince: readNow.Add(-72 * time.Hour)})
	if full[0].Slug != "talks" || full[1].Slug != "korea" || len(full[0].Stories) != 1 || len(full[1].Stories) != 1 {
		t.Fatalf("both topics should hold the story: %s", describe(full))
	}
	d := Distinct(full)
	if d[0].Slug != "talks" || d[1].Slug == "korea" {
		t.Errorf("Distinct: %s; want the story under talks only", describe(d))
	}
	ids := map[string]int{}
	for _, g := range d {
		for _, s := range g.Stories {
			for _, it := range s.Items {
				ids[it.ID]++
			}
		}
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("item %s shown %d times", id, n)
		}
	}
}
