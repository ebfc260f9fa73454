package topics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

var t0 = time.Date(2019, 10, 5, 12, 0, 0, 0, time.UTC)

// item builds an article published at t0 plus min minutes.
func item(source, title string, min int) feeds.Article {
	a := feeds.Article{
		Source:    source,
		Title:     title,
		Link:      "https://" + strings.ToLower(strings.ReplaceAll(source, " ", "")) + ".example/" + feeds.Slugify(title),
		Published: t0.Add(time.Duration(min) * time.Minute),
	}
	a.ID = feeds.ArticleID(source, a.Link)
	return a
}

// background is a morning of unrelated headlines, so that document
// frequencies look like a live window's: common words such as "US" and
// "talks" occur in several of them, as they would in any real window.
var background = []feeds.Article{
	item("AP", "Heavy rain floods parts of Jakarta, thousands evacuated", 0),
	item("BBC", "Manchester United sack manager after derby defeat", 0),
	item("Reuters", "Bank of Japan holds rates steady, trims growth outlook", 0),
	item("The Verge", "Apple unveils new iPhone with three cameras", 1),
	item("AFP", "Wildfires force evacuations in southern California", 1),
	item("Bloomberg", "Oil prices climb as Saudi output recovers slowly", 1),
	item("Guardian", "Teachers strike over pay in Chicago schools", 2),
	item("NPR", "Scientists find water vapor on distant planet", 2),
	item("Reuters", "US and China to resume trade talks in Washington next week", 2),
	item("CNN", "Hurricane Lorenzo heads toward the Azores", 3),
	item("BBC", "Boris Johnson sets out Brexit plan to EU leaders", 3),
	item("AP", "Police arrest suspect in Dallas shooting", 3),
	item("Variety", "Joker breaks October box office record", 4),
	item("ESPN", "Yankees beat Twins in playoff opener", 4),
	item("FT", "WeWork shelves stock market listing", 4),
	item("Al Jazeera", "Protests continue in Baghdad as death toll rises", 5),
	item("Reuters", "Hong Kong leader invokes emergency law to ban masks", 5),
	item("Nature", "Study links air pollution to dementia risk", 5),
	item("TechCrunch", "Google rolls out new privacy controls for Maps", 6),
	item("Bloomberg", "Tesla delivers record number of cars in third quarter", 6),
	item("CNBC", "US stocks rise as jobs report eases recession fears", 6),
	item("Reuters", "US jobless rate falls to 50-year low in September", 7),
	item("AP", "Trump urges China to investigate the Bidens", 7),
	item("Politico", "House Democrats subpoena White House in impeachment inquiry", 7),
	item("BBC", "Brexit talks resume in Brussels amid deadlock", 8),
	item("Reuters", "Ethiopia and Egypt dam talks end without agreement", 8),
	item("FT", "UAW and GM talks drag on as strike enters third week", 8),
	item("AP", "Afghan peace talks: Taliban delegation visits Pakistan", 9),
	item("Yonhap", "South Korea's exports fall for tenth straight month", 9),
	item("Korea Times", "South Korea, Japan trade row deepens", 9),
	item("WRAL", "North Carolina governor declares state of emergency", 10),
	item("Reuters", "US Navy ship sails near disputed South China Sea islands", 10),
	item("Guardian", "Amazon fires: Brazil sends troops to fight blazes", 10),
	item("BBC", "Greta Thunberg addresses crowd in Denver", 11),
	item("CNN", "NBA star apologises for Hong Kong tweet", 11),
	item("ESPN", "Liverpool stay top with late win over Leicester", 11),
	item("AP", "Mexico's president defends security policy after ambush", 12),
	item("Reuters", "Iraq protests: curfew lifted in Baghdad", 12),
	item("Bloomberg", "Euro zone factory slump deepens in September", 12),
	item("FT", "Deutsche Bank shares slide on restructuring costs", 13),
	item("Wired", "Facebook to pay fine over user data", 13),
	item("TechCrunch", "Microsoft unveils dual-screen Surface devices", 13),
	item("NPR", "Vaping illnesses climb to more than 1,000 cases in US", 14),
	item("Science", "New species of giant salamander found in China", 14),
	item("Reuters", "Russia and Ukraine agree on steps toward peace talks", 14),
	item("AP", "Hurricane season: Florida braces for more storms", 15),
	item("Guardian", "Extinction Rebellion plans London protests", 15),
	item("BBC", "Thomas Cook collapse leaves thousands stranded", 15),
	item("CNBC", "Oil falls on US crude inventory build", 16),
	item("Reuters", "Venezuela opposition says talks with government are over", 16),
}

// feed adds articles to c and returns their story ids.
func feed(c *Clusterer, as []feeds.Article) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = c.Add(a).StoryID
	}
	return out
}

func TestClusterer_Add(t *testing.T) {
	tests := []struct {
		name     string
		items    []feeds.Article
		together [][]int // indexes (into items) that must share a story
		apart    [][2]int
	}{
		{
			name: "EditorialsOnStockholmTalks",
			items: []feeds.Article{
				item("Guardian", "The Guardian view on North Korea: the Stockholm talks were doomed", 30),
				item("Washington Post", "Opinion: North Korea walked out in Stockholm. Kim Jong Un is not ready to deal", 40),
				item("Korea Herald", "[Editorial] Failed Stockholm talks show North Korea's brinkmanship with US", 55),
				item("Reuters", "Oil prices fall as US crude stocks build", 60),
				item("ESPN", "Cardinals edge Braves in NLDS game two", 70),
			},
			together: [][]int{{0, 1, 2}},
			apart:    [][2]int{{0, 3}, {0, 4}, {3, 4}},
		},
		{
			name: "KoreanHeadlines",
			items: []feeds.Article{
				item("연합뉴스", "북미 스톡홀름 실무협상 결렬…북한 \"미국이 빈손으로 나왔다\"", 30),
				item("조선일보", "북한, 스톡홀름 북미 실무협상 결렬 선언", 45),
				item("한겨레", "스톡홀름 북미 실무협상 8시간 만에 결렬", 50),
				item("매일경제", "삼성전자 3분기 영업이익 7조7천억원", 55),
				item("중앙일보", "서울 아파트값 상승세 지속", 60),
			},
			together: [][]int{{0, 1, 2}},
			apart:    [][2]int{{0, 3}, {0, 4}, {3, 4}},
		},
		{
			name: "UnrelatedStoriesStayApart",
			items: []feeds.Article{
				item("AP", "North Korea fires ballistic missile into the sea", 30),
				item("Reuters", "South Korea's Moon names new justice minister", 35),
				item("BBC", "Kim Kardashian launches new fragrance line", 40),
				item("CNN", "US envoy says talks with Taliban are dead", 45),
			},
			apart: [][2]int{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClusterer(Options{})
			feed(c, background)
			got := feed(c, tt.items)
			for _, set := range tt.together {
				for _, i := range set[1:] {
					if got[i] != got[set[0]] {
						t.Errorf("%q in story %s, %q in %s; want the same story", tt.items[set[0]].Title, got[set[0]], tt.items[i].Title, got[i])
					}
				}
			}
			for _, p := range tt.apart {
				if got[p[0]] == got[p[1]] {
					t.Errorf("%q and %q both in story %s; want different stories", tt.items[p[0]].Title, tt.items[p[1]].Title, got[p[0]])
				}
			}
		})
	}
}

// TestClusterer_NameParts checks that a multi-word name acts as one
// entity: items that share only a word of two different names ("Korea" of
// "North Korea" and "South Korea") stay apart, while items naming the same
// entity, in full or in a longer run of names, still join.
func TestClusterer_NameParts(t *testing.T) {
	tests := []struct {
		name    string
		bg      bool            // feed the background first
		story   []feeds.Article // form one story
		item    feeds.Article
		excerpt string
		join    bool
	}{
		{
			// The integrator's report: background holds two "South Korea"
			// items that form a story.
			name: "NorthKoreaNotSouthKorea",
			bg:   true,
			story: []feeds.Article{
				item("Yonhap", "South Korea's exports fall for tenth straight month", 9),
				item("Korea Times", "South Korea, Japan trade row deepens", 9),
			},
			item: item("Korea Herald", "[Editorial] North Korea and the US must not give up after Stockholm", 30),
		},
		{
			name: "NorthKoreaNotSouthKoreaWithExcerpt",
			bg:   true,
			story: []feeds.Article{
				item("Yonhap", "South Korea's exports fall for tenth straight month", 9),
				item("Korea Times", "South Korea, Japan trade row deepens", 9),
			},
			item:    item("Korea Herald", "[Editorial] North Korea and the US must not give up after Stockholm", 30),
			excerpt: "North Korea walked out of the talks.",
		},
		{
			name: "HongKongNotKingKong",
			bg:   true,
			story: []feeds.Article{
				item("Variety", "King Kong returns in Skull Island trailer", 20),
				item("Empire", "Skull Island trailer: King Kong is back", 22),
				item("IGN", "King Kong trailer thrills fans", 24),
			},
			item: item("SCMP", "Hong Kong airport reopens after sit-in", 30),
		},
		{
			name: "KimJongUnNotKimKardashian",
			bg:   true,
			story: []feeds.Article{
				item("E! News", "Kim Kardashian launches fragrance line", 20),
				item("People", "Kim Kardashian fragrance sells out", 22),
				item("Us Weekly", "Kim Kardashian fans queue for perfume", 24),
			},
			item: item("Yonhap", "Kim Jong Un oversees artillery drill", 30),
		},
		{
			name: "UnitedStatesNotUnitedKingdom",
			bg:   true,
			story: []feeds.Article{
				item("BBC", "United Kingdom braces for storm Ciara", 20),
				item("Sky", "Storm Ciara: United Kingdom rail services cancelled", 22),
				item("ITV", "Storm Ciara batters United Kingdom", 24),
			},
			item: item("AP", "United States and Taliban sign deal in Doha", 30),
		},
		{
			name: "NewYorkNotNewZealand",
			bg:   true,
			story: []feeds.Article{
				item("Stuff", "New Zealand volcano death toll rises to 16", 20),
				item("RNZ", "New Zealand volcano eruption: death toll rises", 22),
			},
			item: item("NY Post", "New York Yankees win pennant", 30),
		},
		{
			name: "SameNameJoins",
			bg:   true,
			story: []feeds.Article{
				item("Yonhap", "Kim Jong Un oversees artillery drill near border", 20),
				item("KCNA Watch", "Kim Jong Un watches artillery drill, state media says", 22),
			},
			item: item("Reuters", "Kim Jong Un guides artillery firing drill", 30),
			join: true,
		},
		{
			// "Urban Outfitters CEO Richard Hayne" is one run of names; its
			// stretch "Urban Outfitters" is the story's company.
			name: "StretchOfLongerRunJoins",
			bg:   true,
			story: []feeds.Article{
				item("Reuters", "Urban Outfitters profit falls as sales slow", 20),
				item("CNBC", "Urban Outfitters shares slide after profit falls", 22),
			},
			item: item("Bloomberg", "Urban Outfitters CEO Richard Hayne says profit fell on weak sales", 30),
			join: true,
		},
	}
	// A shared word of two different names is no evidence at all, so the
	// items stay apart at a loose threshold too.
	for _, th := range []float64{DefaultThreshold, 0.1} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%.2f", tt.name, th), func(t *testing.T) {
				c := NewClusterer(Options{Threshold: th})
				if tt.bg {
					feed(c, background)
				}
				ids := feed(c, tt.story)
				for i, id := range ids {
					if id != ids[0] {
						t.Fatalf("story item %d in %s, first in %s: the test needs them in one story", i, id, ids[0])
					}
				}
				a := tt.item
				a.Excerpt = tt.excerpt
				as := c.Add(a)
				if joined := as.StoryID == ids[0]; joined != tt.join {
					t.Errorf("%q joined the story of %q: %v, want %v", a.Title, tt.story[0].Title, joined, tt.join)
				}
			})
		}
	}
}

func TestClusterer_AddStableIDs(t *testing.T) {
	c := NewClusterer(Options{})
	feed(c, background)
	founder := item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 30)
	first := c.Add(founder)
	if !first.New || first.Size != 1 {
		t.Fatalf("first assignment = %+v, want New and Size 1", first)
	}
	if want := "s" + founder.ID; first.StoryID != want {
		t.Errorf("StoryID = %q, want %q", first.StoryID, want)
	}
	if !strings.HasPrefix(first.Slug, "north-korea-walks-out-of-stockholm-") || !strings.HasSuffix(first.Slug, founder.ID[:6]) {
		t.Errorf("Slug = %q, want the founding title's first words and %q", first.Slug, founder.ID[:6])
	}
	joiners := []feeds.Article{
		item("Reuters", "North Korea says Stockholm nuclear talks with US broke down", 40),
		item("AP", "Stockholm talks: North Korea blames US as nuclear talks collapse", 50),
		item("NHK", "North Korea, US nuclear talks in Stockholm end without deal", 60),
	}
	for i, a := range joiners {
		as := c.Add(a)
		if as.StoryID != first.StoryID || as.Slug != first.Slug {
			t.Fatalf("joiner %d: story %s %s, want %s %s", i, as.StoryID, as.Slug, first.StoryID, first.Slug)
		}
		if as.New || as.Size != i+2 {
			t.Errorf("joiner %d: New %v Size %d, want false %d", i, as.New, as.Size, i+2)
		}
		if as.Label == "" {
			t.Errorf("joiner %d: empty label", i)
		}
	}
	again := c.Add(joiners[0])
	if again.StoryID != first.StoryID || again.New || again.Size != 4 {
		t.Errorf("adding an article twice = %+v, want its story unchanged", again)
	}
	got, ok := c.Assignment(joiners[1].ID)
	if !ok || got.StoryID != first.StoryID {
		t.Errorf("Assignment(%s) = %+v, %v; want story %s", joiners[1].ID, got, ok, first.StoryID)
	}
}

func TestClusterer_Groups(t *testing.T) {
	c := NewClusterer(Options{})
	feed(c, background)
	ids := feed(c, []feeds.Article{
		item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 30),
		item("Reuters", "North Korea says Stockholm nuclear talks with US broke down", 40),
		item("AP", "Stockholm talks: North Korea blames US as nuclear talks collapse", 50),
	})
	groups := c.Clusters()
	for i := 1; i < len(groups); i++ {
		if len(groups[i].ArticleIDs) > len(groups[i-1].ArticleIDs) {
			t.Errorf("group %d has %d items, more than group %d before it", i, len(groups[i].ArticleIDs), i-1)
		}
	}
	g := groups[0]
	if g.ID != ids[0] || len(g.ArticleIDs) != 3 {
		t.Fatalf("largest group = %s with %d items, want %s with 3", g.ID, len(g.ArticleIDs), ids[0])
	}
	if want := []string{"AP", "Guardian", "Reuters"}; !reflect.DeepEqual(g.Sources, want) {
		t.Errorf("Sources = %q, want %q", g.Sources, want)
	}
	if want := t0.Add(30 * time.Minute); !g.First.Equal(want) {
		t.Errorf("First = %v, want %v", g.First, want)
	}
	if want := t0.Add(50 * time.Minute); !g.Last.Equal(want) {
		t.Errorf("Last = %v, want %v", g.Last, want)
	}
	if tp := g.Topic(); tp.Kind != KindStory || tp.Slug != g.Slug || tp.Label != g.Label {
		t.Errorf("Topic() = %+v, want the story's slug and label", tp)
	}
}

func TestClusterer_Evict(t *testing.T) {
	t.Run("ByNewerItems", func(t *testing.T) {
		c := NewClusterer(Options{Window: 24 * time.Hour})
		old := c.Add(item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 0))
		c.Add(item("Reuters", "North Korea says Stockholm nuclear talks with US broke down", 60))
		// 25 hours after the first item: it leaves the window, the second stays.
		c.Add(item("AP", "Bank of Japan holds rates steady", 25*60))
		if _, ok := c.Assignment(feeds.ArticleID("Guardian", item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 0).Link)); ok {
			t.Error("item older than the window still assigned")
		}
		g, ok := findGroup(c.Clusters(), old.StoryID)
		if !ok || len(g.ArticleIDs) != 1 {
			t.Fatalf("story %s = %+v, %v; want it alive with the one item left", old.StoryID, g, ok)
		}
		c.Add(item("AP", "Yankees beat Twins", 26*60+1))
		if _, ok := findGroup(c.Clusters(), old.StoryID); ok {
			t.Errorf("story %s still alive after its newest item left the window", old.StoryID)
		}
		if got := c.Stats(); got.Items != 2 || got.Groups != 2 {
			t.Errorf("Stats = %+v, want 2 items in 2 groups", got)
		}
	})
	t.Run("ByClock", func(t *testing.T) {
		c := NewClusterer(Options{Window: time.Hour})
		feed(c, background)
		c.Evict(t0.Add(2 * time.Hour))
		if got := c.Stats(); got.Items != 0 || got.Groups != 0 || got.Terms != 0 || got.Postings != 0 {
			t.Errorf("Stats after evicting everything = %+v, want all zero", got)
		}
	})
	t.Run("TooOld", func(t *testing.T) {
		c := NewClusterer(Options{Window: time.Hour})
		c.Add(item("AP", "Bank of Japan holds rates steady", 600))
		as := c.Add(item("AP", "Yankees beat Twins", 0))
		if !as.New || as.Size != 1 {
			t.Errorf("assignment of an item older than the window = %+v, want a new story of one", as)
		}
		if got := c.Stats().Items; got != 1 {
			t.Errorf("%d items kept, want 1", got)
		}
	})
}

func findGroup(gs []Cluster, id string) (Cluster, bool) {
	for _, g := range gs {
		if g.ID == id {
			return g, true
		}
	}
	return Cluster{}, false
}

func TestClusterer_Remove(t *testing.T) {
	c := NewClusterer(Options{})
	a := item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 0)
	c.Add(a)
	if !c.Remove(a.ID) {
		t.Fatal("Remove of a present article = false")
	}
	if c.Remove(a.ID) {
		t.Error("second Remove = true")
	}
	if got := c.Stats(); got != (Stats{}) {
		t.Errorf("Stats = %+v, want empty", got)
	}
}

func TestClusterer_StoryKey(t *testing.T) {
	c := NewClusterer(Options{})
	feed(c, background)
	a := item("AP", "Quake hits off Japan coast", 30)
	b := item("Reuters", "Tsunami warning lifted", 31)
	a.LinkKey, b.LinkKey = "k1", "k1"
	if x, y := c.Add(a), c.Add(b); x.StoryID != y.StoryID {
		t.Errorf("items with one LinkKey in stories %s and %s", x.StoryID, y.StoryID)
	}
}

func TestClusterer_SourceBoilerplate(t *testing.T) {
	c := NewClusterer(Options{})
	feed(c, background)
	titles := []string{
		"Man accused of child abuse in Shelbyville - WDRB 41 Louisville News",
		"City looks into public bike-sharing program - WDRB 41 Louisville News",
		"Savings fund could pay for road repairs - WDRB 41 Louisville News",
		"School board names finalists for superintendent - WDRB 41 Louisville News",
		"Zoo welcomes baby giraffe - WDRB 41 Louisville News",
	}
	seen := map[string]string{}
	for i, title := range titles {
		id := c.Add(item("WDRB", title, 30+i)).StoryID
		if prev, ok := seen[id]; ok {
			t.Errorf("%q joined %q: unrelated items tied by the source's boilerplate", title, prev)
		}
		seen[id] = title
	}
}

// TestClusterer_Deterministic runs the same stream twice and compares every
// assignment, then rebuilds the state with Restore and compares the groups.
func TestClusterer_Deterministic(t *testing.T) {
	run := func() (*Clusterer, []feeds.Article, []Assignment) {
		c := NewClusterer(Options{Window: 12 * time.Hour})
		s := newSynth(7, 20*time.Second)
		var as []feeds.Article
		var got []Assignment
		for i := 0; i < 5000; i++ {
			a, _ := s.next()
			as = append(as, a)
			got = append(got, c.Add(a))
		}
		return c, as, got
	}
	c1, items, a1 := run()
	c2, _, a2 := run()
	for i := range a1 {
		if !reflect.DeepEqual(a1[i], a2[i]) {
			t.Fatalf("item %d: run 1 %+v, run 2 %+v", i, a1[i], a2[i])
		}
	}
	if g1, g2 := c1.Clusters(), c2.Clusters(); !reflect.DeepEqual(g1, g2) {
		t.Fatalf("runs end with different groups (%d and %d)", len(g1), len(g2))
	}

	// Persisted assignments, with merges applied, restore the same groups.
	story := map[string]string{}
	slug := map[string]string{}
	for i, as := range a1 {
		story[items[i].ID] = as.StoryID
		slug[as.StoryID] = as.Slug
		for _, m := range as.Merged {
			for id, s := range story {
				if s == m {
					story[id] = as.StoryID
				}
			}
		}
	}
	r := NewClusterer(Options{Window: 12 * time.Hour})
	for _, a := range items {
		if err := r.Restore(a, Assignment{StoryID: story[a.ID], Slug: slug[story[a.ID]]}); err != nil {
			t.Fatal(err)
		}
	}
	want := membership(c1.Clusters())
	if got := membership(r.Clusters()); !reflect.DeepEqual(got, want) {
		t.Errorf("restored %d groups, want %d with the same members", len(got), len(want))
	}
}

// TestClusterer_RestoreLabels rebuilds a Clusterer with Restore from
// another's persisted assignments, merges applied, in (time, ID) order and
// shuffled, and checks that every story has the same label in both: the
// label depends on the members, not on the order they joined.
func TestClusterer_RestoreLabels(t *testing.T) {
	const window = 6 * time.Hour
	c := NewClusterer(Options{Window: window})
	s := newSynth(3, 20*time.Second)
	story := map[string]string{} // article id -> story id
	slug := map[string]string{}
	var items []feeds.Article
	merges := 0
	for i := 0; i < 3000; i++ {
		a, _ := s.next()
		items = append(items, a)
		as := c.Add(a)
		story[a.ID] = as.StoryID
		slug[as.StoryID] = as.Slug
		for _, m := range as.Merged {
			merges++
			for id, sid := range story {
				if sid == m {
					story[id] = as.StoryID
				}
			}
		}
	}
	if merges == 0 {
		t.Fatal("the stream merged no stories: the test needs merges")
	}
	want := map[string]string{}
	for _, g := range c.Clusters() {
		want[g.ID] = g.Label
	}
	var live []feeds.Article
	for _, a := range items {
		if _, ok := c.Assignment(a.ID); ok {
			live = append(live, a)
		}
	}
	shuffled := slices.Clone(live)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	for _, order := range []struct {
		name  string
		items []feeds.Article
	}{{"InOrder", live}, {"Shuffled", shuffled}} {
		t.Run(order.name, func(t *testing.T) {
			r := NewClusterer(Options{Window: window})
			for _, a := range order.items {
				if err := r.Restore(a, Assignment{StoryID: story[a.ID], Slug: slug[story[a.ID]]}); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string]string{}
			for _, g := range r.Clusters() {
				got[g.ID] = g.Label
			}
			if len(got) != len(want) {
				t.Fatalf("restored %d stories, want %d", len(got), len(want))
			}
			differ := 0
			for id, label := range want {
				if got[id] != label {
					if differ++; differ <= 3 {
						t.Errorf("story %s: restored label %q, want %q", id, got[id], label)
					}
				}
			}
			if differ > 3 {
				t.Errorf("... %d stories in all with another label", differ)
			}
			for _, a := range live {
				x, _ := c.Assignment(a.ID)
				y, _ := r.Assignment(a.ID)
				if x.Label != y.Label {
					t.Fatalf("Assignment(%s).Label = %q restored, %q originally", a.ID, y.Label, x.Label)
				}
			}
		})
	}
}

func TestClusterer_Label(t *testing.T) {
	c := NewClusterer(Options{})
	feed(c, background)
	items := []feeds.Article{
		item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 30),
		item("Reuters", "North Korea says Stockholm nuclear talks with US broke down", 40),
		item("AP", "North Korea, US nuclear talks in Stockholm", 50),
		item("NHK", "North Korea, US nuclear talks in Stockholm end without a deal, envoy says, as Pyongyang accuses Washington", 60),
	}
	ids := feed(c, items)
	for i, id := range ids {
		if id != ids[0] {
			t.Fatalf("item %d in story %s, want %s", i, id, ids[0])
		}
	}
	// Every title has north, korea, stockholm, nuclear, talk and us; the
	// third has nothing else.
	as, _ := c.Assignment(items[0].ID)
	if want := items[2].Title; as.Label != want {
		t.Errorf("Label = %q, want %q", as.Label, want)
	}
	// Removing the label's item relabels the story from those left.
	c.Remove(items[2].ID)
	as, _ = c.Assignment(items[0].ID)
	if as.Label == items[2].Title || as.Label == "" {
		t.Errorf("Label after removing its item = %q", as.Label)
	}

	t.Run("TieToSmallestID", func(t *testing.T) {
		a := item("Reuters", "Quake of magnitude 6 hits Japan coast", 0)
		b := item("AP", "Quake of magnitude 6 hits Japan coast", 1)
		a.LinkKey, b.LinkKey = "k", "k"
		for _, order := range [][]feeds.Article{{a, b}, {b, a}} {
			c := NewClusterer(Options{})
			feed(c, order)
			g := c.docs[a.ID].g
			if got, want := g.labelDoc().id, min(a.ID, b.ID); got != want {
				t.Errorf("added %s first: label member %s, want %s", order[0].ID, got, want)
			}
		}
	})
}

// membership maps story ids to their sorted article ids.
func membership(gs []Cluster) map[string]string {
	m := map[string]string{}
	for _, g := range gs {
		ids := append([]string(nil), g.ArticleIDs...)
		sortStrings(ids)
		m[g.ID+" "+g.Slug] = strings.Join(ids, ",")
	}
	return m
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestClusterer_Bounded streams many days of items through a short window
// and checks that what the Clusterer holds never exceeds the window's
// items, that stories account for every item, and that merged stories are
// gone.
func TestClusterer_Bounded(t *testing.T) {
	const step = 30 * time.Second
	window := 6 * time.Hour
	inWindow := int(window/step) + 1
	c := NewClusterer(Options{Window: window})
	s := newSynth(11, step)
	var maxTerms int
	for i := 1; i <= 20000; i++ {
		a, _ := s.next()
		as := c.Add(a)
		for _, m := range as.Merged {
			if _, ok := c.Assignment(a.ID); !ok {
				t.Fatalf("item %d: not assigned after merging %s", i, m)
			}
			if _, ok := c.groups[m]; ok {
				t.Fatalf("item %d: merged story %s still live", i, m)
			}
		}
		if i%2000 != 0 {
			continue
		}
		st := c.Stats()
		if st.Items > inWindow {
			t.Errorf("item %d: %d items held, window holds at most %d", i, st.Items, inWindow)
		}
		if st.Groups > st.Items {
			t.Errorf("item %d: %d groups for %d items", i, st.Groups, st.Items)
		}
		sum := 0
		for _, g := range c.Clusters() {
			sum += len(g.ArticleIDs)
			if !g.Last.After(a.Published.Add(-window)) && !g.Last.Equal(a.Published.Add(-window)) {
				t.Errorf("item %d: group %s last item %v left the window", i, g.ID, g.Last)
			}
		}
		if sum != st.Items {
			t.Errorf("item %d: groups hold %d items, Stats says %d", i, sum, st.Items)
		}
		if i > 4000 {
			// Past warm-up the vocabulary must not keep growing with history.
			if maxTerms > 0 && st.Terms > 2*maxTerms {
				t.Errorf("item %d: %d terms, was at most %d before", i, st.Terms, maxTerms)
			}
			maxTerms = max(maxTerms, st.Terms)
		}
	}
}

func ExampleClusterer() {
	c := NewClusterer(Options{})
	for _, a := range background {
		c.Add(a)
	}
	for _, a := range []feeds.Article{
		item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 30),
		item("Reuters", "North Korea says Stockholm nuclear talks with US broke down", 40),
	} {
		as := c.Add(a)
		fmt.Println(as.Slug, as.Size, as.New)
	}
	// Output:
	// north-korea-walks-out-of-stockholm-a62816 1 true
	// north-korea-walks-out-of-stockholm-a62816 2 false
}

// TestClusterer_Concurrent adds from several goroutines while others read;
// run with -race.
func TestClusterer_Concurrent(t *testing.T) {
	c := NewClusterer(Options{})
	s := newSynth(3, time.Minute)
	items := make([]feeds.Article, 2000)
	for i := range items {
		items[i], _ = s.next()
	}
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func(w int) {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(items); i += 4 {
				c.Add(items[i])
				if i%100 == 0 {
					c.Clusters()
					c.Stats()
					c.Assignment(items[i].ID)
				}
			}
		}(w)
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	if got := c.Stats().Items; got != len(items) {
		t.Errorf("%d items held, want %d", got, len(items))
	}
}

func TestClusterer_HalfLife(t *testing.T) {
	tests := []struct {
		name     string
		halfLife time.Duration
		after    time.Duration
		want     float64
	}{
		{"Default", 0, DefaultHalfLife, 0.5},
		{"Set", 6 * time.Hour, 12 * time.Hour, 0.25},
		{"Off", -1, 100 * time.Hour, 1},
		{"NoSilence", 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClusterer(Options{HalfLife: tt.halfLife})
			if got := c.decay(tt.after); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("decay(%v) = %v, want %v", tt.after, got, tt.want)
			}
		})
	}
	// A story silent for two days no longer draws a matching item that
	// would join it at once.
	for _, tt := range []struct {
		halfLife time.Duration
		same     bool
	}{{-1, true}, {0, false}} {
		c := NewClusterer(Options{HalfLife: tt.halfLife})
		feed(c, background)
		x := c.Add(item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 30))
		y := c.Add(item("Reuters", "North Korea says Stockholm nuclear talks with US broke down", 30+48*60))
		if got := x.StoryID == y.StoryID; got != tt.same {
			t.Errorf("half-life %v: same story %v, want %v", tt.halfLife, got, tt.same)
		}
	}
}

// TestClusterer_EditorialLag: an editorial 40 hours after the news it
// comments on joins the story, while a news report with the same headline
// as late is taken for another event (the story's pull has decayed), and an
// editorial past the lag decays as news does.
func TestClusterer_EditorialLag(t *testing.T) {
	for _, tt := range []struct {
		name  string
		kind  feeds.Kind
		after time.Duration
		same  bool
	}{
		{"Editorial", feeds.KindEditorial, 40 * time.Hour, true},
		{"News", feeds.KindNews, 40 * time.Hour, false},
		{"EditorialPastLag", feeds.KindEditorial, DefaultEditorialLag + 40*time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClusterer(Options{Window: 7 * 24 * time.Hour})
			feed(c, background)
			x := c.Add(item("Guardian", "North Korea walks out of Stockholm nuclear talks with US", 30))
			late := item("Hankyoreh", "North Korea and US must save the Stockholm nuclear talks", 30+int(tt.after/time.Minute))
			late.Kind = tt.kind
			y := c.Add(late)
			if got := x.StoryID == y.StoryID; got != tt.same {
				t.Errorf("%s %v later: same story %v, want %v", tt.kind, tt.after, got, tt.same)
			}
		})
	}
}

func TestStorySlug(t *testing.T) {
	tests := []struct {
		name, title, want string
	}{
		{"Words", "North Korea walks out of Stockholm nuclear talks", "north-korea-walks-out-of-stockholm-abcdef"},
		{"Accents", "Économie: la Bourse de Zürich recule", "economie-la-bourse-de-zurich-recule-abcdef"},
		{"Korean", "북미 스톡홀름 실무협상 결렬", "북미-스톡홀름-실무협상-결렬-abcdef"},
		{"JapaneseNoSpaces", "北朝鮮と米国の実務協議がストックホルムで決裂し北朝鮮代表団は帰国した", "北朝鮮と米国の実務協議がストック-abcdef"},
		{"Empty", "!!!", "story-abcdef"},
		{"SectionMark", "[Editorial] North Korea walks out of Stockholm talks", "north-korea-walks-out-of-stockholm-abcdef"},
		{"OpinionPrefix", "Opinion: Stockholm talks failed", "stockholm-talks-failed-abcdef"},
		{"OnlyMark", "[Editorial]", "editorial-abcdef"},
		{"ColonInHeadline", "Kim's envoy in Stockholm: talks failed", "kim-s-envoy-in-stockholm-talks-abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := storySlug(tt.title, "sabcdef0123"); got != tt.want {
				t.Errorf("storySlug(%q) = %q, want %q", tt.title, got, tt.want)
			}
		})
	}
}
