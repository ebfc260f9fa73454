package assign_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/assign"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
	"github.com/broadsheet/broadsheet/topics"
)

var t0 = time.Date(2026, 10, 6, 6, 0, 0, 0, time.UTC)

// clock is a settable time source shared by a test's stores and
// assigners.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// env is a SQLite database file with its clock; handle opens another
// connection pool on it, as another replica would.
type env struct {
	t    testing.TB
	path string
	clk  *clock
	db   *sqlite.DB
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "bs.db"), clk: &clock{now: t0}}
	e.db = e.handle()
	return e
}

func (e *env) handle() *sqlite.DB {
	e.t.Helper()
	db, err := sqlite.Open(e.t.Context(), e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	db.SetNow(e.clk.Now)
	e.t.Cleanup(func() { db.Close() })
	return db
}

// poll stores arts, first seen at the clock's time, one poll per source,
// and returns them as stored, in the order given.
func (e *env) poll(arts ...feeds.Article) []feeds.Article {
	e.t.Helper()
	var sources []string
	bySource := map[string][]feeds.Article{}
	for _, a := range arts {
		if bySource[a.Source] == nil {
			sources = append(sources, a.Source)
		}
		bySource[a.Source] = append(bySource[a.Source], a)
	}
	for _, src := range sources {
		_, err := e.db.SavePoll(e.t.Context(), feeds.Poll{
			State:    feeds.SourceState{Source: src, Active: true, LastStatus: 200, LastAttempt: e.clk.Now()},
			Articles: bySource[src],
		})
		if err != nil {
			e.t.Fatalf("SavePoll: %v", err)
		}
	}
	// As stored (IDs, FirstSeen and defaults filled in), read back.
	var out []feeds.Article
	seen := map[string]bool{}
	for _, a := range arts {
		id := a.ID
		if id == "" {
			id = feeds.ArticleID(a.Source, a.Identity)
		}
		if seen[id] {
			continue
		}
		x, err := e.db.Article(e.t.Context(), id)
		if err != nil {
			e.t.Fatalf("Article %s: %v", id, err)
		}
		seen[id] = true
		out = append(out, x)
	}
	return out
}

func (e *env) assigner(st assign.Store, owner string, opts assign.Options) *assign.Assigner {
	e.t.Helper()
	opts.Owner = owner
	opts.Now = e.clk.Now
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := assign.New(st, opts)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	return a
}

func pass(t testing.TB, a *assign.Assigner) int {
	t.Helper()
	n, err := a.Pass(t.Context())
	if err != nil {
		t.Fatalf("Pass: %v", err)
	}
	return n
}

func (e *env) topics(f store.TopicFilter) []store.TopicGroup {
	e.t.Helper()
	gs, err := e.db.Topics(e.t.Context(), f)
	if err != nil {
		e.t.Fatalf("Topics: %v", err)
	}
	return gs
}

func (e *env) pending() int {
	e.t.Helper()
	as, err := e.db.PendingTopicArticles(e.t.Context(), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(as)
}

// morning stores the background, first seen at t0, and moves the clock to
// an hour later, when the editorials come.
func (e *env) morning() {
	e.t.Helper()
	e.clk.Set(t0)
	e.poll(background...)
	e.clk.Set(t0.Add(time.Hour))
}

// titled returns the background article whose title starts with prefix.
func titled(prefix string) feeds.Article {
	for _, a := range background {
		if strings.HasPrefix(a.Title, prefix) {
			return a
		}
	}
	panic("no background article titled " + prefix)
}

// storyOf returns the story group holding article id.
func (e *env) storyOf(id string) store.TopicGroup {
	e.t.Helper()
	gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}})
	for _, g := range gs {
		if slices.Contains(g.ArticleIDs, id) {
			return g
		}
	}
	e.t.Fatalf("article %s is in no story", id)
	return store.TopicGroup{}
}

// item is an article of source published min minutes after t0.
func item(source, title, excerpt string, min int) feeds.Article {
	a := feeds.Article{
		Source:    source,
		Title:     title,
		Excerpt:   excerpt,
		Link:      "https://" + feeds.Slugify(source) + ".example/" + feeds.Slugify(title),
		Published: t0.Add(time.Duration(min) * time.Minute),
	}
	a.Identity = a.Link
	a.Kind = feeds.ClassifyKind(a, feeds.Source{Name: source})
	a.ID = feeds.ArticleID(source, a.Identity)
	return a
}

// background is unrelated news of the same morning, so that document
// frequencies look like a live window's: common words such as "US" and
// "talks" occur in several items.
var background = []feeds.Article{
	item("AP", "Heavy rain floods parts of Jakarta, thousands evacuated", "", 0),
	item("BBC", "Manchester United sack manager after derby defeat", "", 0),
	item("Reuters", "Bank of Japan holds rates steady, trims growth outlook", "", 0),
	item("The Verge", "Apple unveils new iPhone with three cameras", "", 1),
	item("AFP", "Wildfires force evacuations in southern California", "", 1),
	item("Bloomberg", "Oil prices climb as Saudi output recovers slowly", "", 1),
	item("Guardian", "Teachers strike over pay in Chicago schools", "", 2),
	item("NPR", "Scientists find water vapor on distant planet", "", 2),
	item("Reuters", "US and China to resume trade talks in Washington next week", "", 2),
	item("CNN", "Hurricane Lorenzo heads toward the Azores", "", 3),
	item("BBC", "Boris Johnson sets out Brexit plan to EU leaders", "", 3),
	item("AP", "Police arrest suspect in Dallas shooting", "", 3),
	item("Variety", "Joker breaks October box office record", "", 4),
	item("ESPN", "Yankees beat Twins in playoff opener", "", 4),
	item("FT", "WeWork shelves stock market listing", "", 4),
	item("Al Jazeera", "Protests continue in Baghdad as death toll rises", "", 5),
	item("Reuters", "Hong Kong leader invokes emergency law to ban masks", "", 5),
	item("Nature", "Study links air pollution to dementia risk", "", 5),
	item("TechCrunch", "Google rolls out new privacy controls for Maps", "", 6),
	item("Bloomberg", "Tesla delivers record number of cars in third quarter", "", 6),
	item("CNBC", "US stocks rise as jobs report eases recession fears", "", 6),
	item("Reuters", "US jobless rate falls to 50-year low in September", "", 7),
	item("AP", "Trump urges China to investigate the Bidens", "", 7),
	item("Politico", "House Democrats subpoena White House in impeachment inquiry", "", 7),
	item("BBC", "Brexit talks resume in Brussels amid deadlock", "", 8),
	item("Reuters", "Ethiopia and Egypt dam talks end without agreement", "", 8),
	item("FT", "UAW and GM talks drag on as strike enters third week", "", 8),
	item("AP", "Afghan peace talks: Taliban delegation visits Pakistan", "", 9),
	item("Yonhap", "South Korea's exports fall for tenth straight month", "", 9),
	// Only one "South Korea" item: two make a story that North Korea
	// editorials join on the shared word "Korea" (a limit of topics'
	// clusterer, not of assignment).
	item("Korea Times", "Seoul and Tokyo trade row deepens", "", 9),
	item("Reuters", "US Navy ship sails near disputed South China Sea islands", "", 10),
	item("Guardian", "Amazon fires: Brazil sends troops to fight blazes", "", 10),
	item("BBC", "Greta Thunberg addresses crowd in Denver", "", 11),
	item("Bloomberg", "Euro zone factory slump deepens in September", "", 12),
	item("Reuters", "Russia and Ukraine agree on steps toward peace talks", "", 14),
	item("Reuters", "Venezuela opposition says talks with government are over", "", 16),
}

// editorials are three outlets' editorials on one story.
var editorials = []feeds.Article{
	item("The Hankyoreh", "[Editorial] North Korea and the US must not give up after Stockholm",
		"The working-level nuclear talks between North Korea and the United States in Stockholm broke down after a day.", 30),
	item("Korea JoongAng Daily", "[Editorial] Stockholm talks collapse as North Korea walks out",
		"North Korea walked out of the nuclear talks with the United States in Stockholm, blaming Washington.", 40),
	item("The Korea Herald", "[Editorial] Failed Stockholm talks show North Korea's brinkmanship with US",
		"Pyongyang's walkout from the Stockholm nuclear talks is a familiar tactic.", 55),
}

var rules = []topics.Rule{
	{Name: "Korean Peninsula", Any: []string{"North Korea", "Pyongyang", "South Korea*"}},
	{Name: "Climate", Slug: "climate", Any: []string{"wildfire*", "flood*", "climate"}},
}

// layout is groups as comparable strings.
func layout(gs []store.TopicGroup) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = fmt.Sprintf("%s %s %s %q %v", g.Kind, g.StoryID, g.Slug, g.Label, g.ArticleIDs)
	}
	return out
}

func ids(as []feeds.Article) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func sorted(ss []string) []string {
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return ss
}

func TestAssigner_Pass(t *testing.T) {
	t.Run("StoryAcrossOutlets", func(t *testing.T) {
		e := newEnv(t)
		e.morning()
		eds := e.poll(editorials...)
		a := e.assigner(e.db, "r1", assign.Options{Rules: rules, Enabled: true})
		if got, want := pass(t, a), len(background)+len(editorials); got != want {
			t.Errorf("Pass assigned %d, want %d", got, want)
		}
		if n := e.pending(); n != 0 {
			t.Errorf("%d articles still pending", n)
		}
		gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}, MinSources: 2})
		if len(gs) != 1 {
			t.Fatalf("stories with two outlets or more: %v, want the editorials' one", layout(gs))
		}
		g := gs[0]
		if got, want := sorted(g.ArticleIDs), sorted(ids(eds)); !slices.Equal(got, want) {
			t.Errorf("story members %v, want the editorials %v", got, want)
		}
		if g.Sources != 3 {
			t.Errorf("story has %d outlets, want 3", g.Sources)
		}
		if !slices.ContainsFunc(eds, func(x feeds.Article) bool { return x.Title == g.Label }) {
			t.Errorf("label %q is none of the editorials' titles", g.Label)
		}
		// Every other article is a story of its own.
		all := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}})
		if got, want := len(all), 1+len(background); got != want {
			t.Errorf("%d stories, want %d", got, want)
		}
		// Nothing left: a second pass assigns nothing and changes nothing.
		before := layout(e.topics(store.TopicFilter{}))
		if n := pass(t, a); n != 0 {
			t.Errorf("second Pass assigned %d, want 0", n)
		}
		if after := layout(e.topics(store.TopicFilter{})); !slices.Equal(after, before) {
			t.Errorf("second Pass changed topics:\n%v\nwant\n%v", after, before)
		}
	})

	t.Run("ConfiguredTopics", func(t *testing.T) {
		e := newEnv(t)
		e.morning()
		eds := e.poll(editorials...)
		a := e.assigner(e.db, "r1", assign.Options{Rules: rules, Enabled: true})
		pass(t, a)
		gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindConfigured}})
		got := map[string][]string{}
		for _, g := range gs {
			got[g.Slug] = sorted(g.ArticleIDs)
			if g.Slug == "korean-peninsula" && g.Label != "Korean Peninsula" {
				t.Errorf("label %q, want %q", g.Label, "Korean Peninsula")
			}
		}
		want := map[string][]string{
			// "South Korea's exports" and the editorials.
			"korean-peninsula": sorted(append(ids(eds), titled("South Korea's exports").ID)),
			"climate":          sorted([]string{titled("Heavy rain floods").ID, titled("Wildfires force").ID}),
		}
		for slug, w := range want {
			if !slices.Equal(got[slug], w) {
				t.Errorf("%s: members %v, want %v", slug, got[slug], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("configured groups %v, want %d", got, len(want))
		}
	})

	t.Run("ClusteringDisabled", func(t *testing.T) {
		e := newEnv(t)
		e.morning()
		e.poll(editorials...)
		a := e.assigner(e.db, "r1", assign.Options{Rules: rules, Enabled: false})
		if got, want := pass(t, a), len(background)+len(editorials); got != want {
			t.Errorf("Pass assigned %d, want %d: articles matching nothing are assigned too", got, want)
		}
		if n := e.pending(); n != 0 {
			t.Errorf("%d articles still pending", n)
		}
		if gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}}); len(gs) != 0 {
			t.Errorf("stories with clustering off: %v", layout(gs))
		}
		if gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindConfigured}}); len(gs) != 2 {
			t.Errorf("configured groups %v, want 2", layout(gs))
		}
	})

	t.Run("NoRules", func(t *testing.T) {
		e := newEnv(t)
		e.morning()
		a := e.assigner(e.db, "r1", assign.Options{Enabled: false})
		if got := pass(t, a); got != len(background) {
			t.Errorf("Pass assigned %d, want %d", got, len(background))
		}
		if gs := e.topics(store.TopicFilter{}); len(gs) != 0 {
			t.Errorf("groups %v, want none", layout(gs))
		}
	})

	t.Run("Batches", func(t *testing.T) {
		e := newEnv(t)
		e.morning()
		e.poll(editorials...)
		a := e.assigner(e.db, "r1", assign.Options{Rules: rules, Enabled: true, BatchSize: 4})
		if got, want := pass(t, a), len(background)+len(editorials); got != want {
			t.Errorf("Pass with batches of 4 assigned %d, want %d", got, want)
		}
		epoch, _ := e.db.TopicEpoch(t.Context())
		if want := int64((len(background) + len(editorials) + 3) / 4); epoch != want {
			t.Errorf("epoch %d, want one per batch (%d)", epoch, want)
		}
		if gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}, MinSources: 3}); len(gs) != 1 {
			t.Errorf("three-outlet stories: %v, want 1", layout(gs))
		}
	})
}

func TestAssigner_Restart(t *testing.T) {
	e := newEnv(t)
	e.morning()
	eds := e.poll(editorials[:2]...)
	opts := assign.Options{Rules: rules, Enabled: true}
	a1 := e.assigner(e.db, "r1", opts)
	pass(t, a1)
	first := e.storyOf(eds[0].ID)
	if !slices.Contains(first.ArticleIDs, eds[1].ID) {
		t.Fatalf("the first two editorials are apart: %v", first.ArticleIDs)
	}
	if err := a1.Release(t.Context()); err != nil {
		t.Fatal(err)
	}

	// A new process, on its own connections.
	e.clk.Set(t0.Add(2 * time.Hour))
	later := e.poll(editorials[2])
	a2 := e.assigner(e.handle(), "r2", opts)
	if n := pass(t, a2); n != 1 {
		t.Fatalf("Pass after restart assigned %d, want 1", n)
	}
	got := e.storyOf(later[0].ID)
	if got.StoryID != first.StoryID || got.Slug != first.Slug {
		t.Errorf("the third editorial is in story %s (%s), want the existing %s (%s)", got.StoryID, got.Slug, first.StoryID, first.Slug)
	}
	if want := sorted(ids(append(eds, later...))); !slices.Equal(sorted(got.ArticleIDs), want) {
		t.Errorf("story members %v, want %v", got.ArticleIDs, want)
	}
}

func TestAssigner_Edited(t *testing.T) {
	e := newEnv(t)
	e.morning()
	eds := e.poll(editorials...)
	a := e.assigner(e.db, "r1", assign.Options{Rules: rules, Enabled: true})
	pass(t, a)
	story := e.storyOf(eds[0].ID)

	// The Hankyoreh rewrites its editorial so that it matches "climate"
	// and no longer "North Korea"; a Jakarta report gains "North Korea".
	e.clk.Set(t0.Add(time.Hour))
	ed := editorials[0]
	ed.Title = "[Editorial] After Stockholm, the climate for dialogue has soured"
	ed.Excerpt = "The working-level talks between the two countries in Stockholm broke down after a day."
	ed.Hash = ""
	bg := titled("Heavy rain floods")
	bg.Title = "Heavy rain floods Jakarta; North Korea offers aid"
	bg.Hash = ""
	e.poll(ed, bg)
	if n := e.pending(); n != 2 {
		t.Fatalf("%d pending after two edits, want 2", n)
	}
	if n := pass(t, a); n != 2 {
		t.Errorf("Pass assigned %d, want the 2 edited", n)
	}
	conf := map[string][]string{}
	for _, g := range e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindConfigured}}) {
		conf[g.Slug] = sorted(g.ArticleIDs)
	}
	// The edited editorial left, the edited report joined.
	if got, want := conf["korean-peninsula"], sorted([]string{eds[1].ID, eds[2].ID, titled("South Korea's exports").ID, bg.ID}); !slices.Equal(got, want) {
		t.Errorf("korean-peninsula = %v, want %v", got, want)
	}
	if got, want := conf["climate"], sorted([]string{ed.ID, bg.ID, titled("Wildfires force").ID}); !slices.Equal(got, want) {
		t.Errorf("climate = %v, want %v", got, want)
	}
	// Edits keep their stories.
	if got := e.storyOf(ed.ID); got.StoryID != story.StoryID {
		t.Errorf("the edited editorial moved to story %s, want %s", got.StoryID, story.StoryID)
	}
	if got := e.storyOf(bg.ID); len(got.ArticleIDs) != 1 {
		t.Errorf("the edited report's story %v, want it alone as before", got.ArticleIDs)
	}
}

func TestAssigner_SetRules(t *testing.T) {
	e := newEnv(t)
	old := e.poll(item("AP", "North Korea fires missile into the sea", "", -5000))
	e.clk.Set(t0.Add(96 * time.Hour)) // old is first seen outside the 72h window
	recent := e.poll(editorials...)
	a := e.assigner(e.db, "r1", assign.Options{Rules: rules, Enabled: true})
	pass(t, a)
	if err := a.SetRules(rules); err != nil {
		t.Fatal(err)
	}
	if n := pass(t, a); n != 0 {
		t.Errorf("Pass after SetRules with the same rules assigned %d, want 0", n)
	}
	next := []topics.Rule{{Name: "Stockholm talks", Any: []string{"Stockholm"}}}
	if err := a.SetRules(next); err != nil {
		t.Fatal(err)
	}
	if got := a.ConfiguredTopics(); len(got) != 1 || got[0].Slug != "stockholm-talks" {
		t.Errorf("ConfiguredTopics = %v", got)
	}
	if n := pass(t, a); n != len(recent) {
		t.Errorf("Pass after new rules assigned %d, want the window's %d", n, len(recent))
	}
	conf := map[string][]string{}
	for _, g := range e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindConfigured}}) {
		conf[g.Slug] = sorted(g.ArticleIDs)
	}
	if got, want := conf["stockholm-talks"], sorted(ids(recent)); !slices.Equal(got, want) {
		t.Errorf("stockholm-talks = %v, want %v", got, want)
	}
	// Articles older than the window keep what they had.
	if got, want := conf["korean-peninsula"], ids(old); !slices.Equal(got, want) {
		t.Errorf("korean-peninsula = %v, want only the old %v", got, want)
	}
	if err := a.SetRules([]topics.Rule{{Name: ""}}); err == nil {
		t.Error("SetRules with an invalid rule: nil error")
	}
	if got := a.ConfiguredTopics(); len(got) != 1 || got[0].Slug != "stockholm-talks" {
		t.Errorf("after a rejected SetRules: %v, want the previous rules", got)
	}
}

func TestAssigner_Lease(t *testing.T) {
	e := newEnv(t)
	e.morning()
	opts := assign.Options{Rules: rules, Enabled: true, LockTTL: time.Minute}
	a1 := e.assigner(e.db, "r1", opts)
	a2 := e.assigner(e.handle(), "r2", opts)
	if n := pass(t, a1); n != len(background) {
		t.Fatalf("r1 assigned %d, want %d", n, len(background))
	}
	e.poll(editorials...)
	// r1 keeps the lease between passes: r2 leaves the work to it.
	if n := pass(t, a2); n != 0 {
		t.Errorf("r2 assigned %d while r1 holds the lease, want 0", n)
	}
	if n := e.pending(); n != len(editorials) {
		t.Errorf("%d pending, want %d", n, len(editorials))
	}
	// r1 stops (its lease lapses without a release): r2 takes over.
	e.clk.Set(e.clk.Now().Add(2 * time.Minute))
	if n := pass(t, a2); n != len(editorials) {
		t.Errorf("r2 after r1's lease lapsed assigned %d, want %d", n, len(editorials))
	}
	// r1 comes back: r2 holds the lease now.
	if n := pass(t, a1); n != 0 {
		t.Errorf("r1 assigned %d while r2 holds the lease, want 0", n)
	}
	if gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}, MinSources: 3}); len(gs) != 1 {
		t.Errorf("three-outlet stories %v, want 1", layout(gs))
	}
}

// stream generates n articles about 40 overlapping synthetic stories from
// 12 outlets, one every two minutes from t0, deterministically from seed.
// Stories share words, so some are merged as items bridge them.
func stream(seed uint64, n int) []feeds.Article {
	names := strings.Fields("Alvarez Brennan Castellanos Dumont Eriksen Fontaine Gallagher Haddad Ivanova Jansen Kowalski Lindqvist Moreau Nakamura Okafor Petrov Quintero Rossi Schneider Tanaka Ueda Varga Whitaker Yilmaz Zhukov Abernathy Bellamy Cortez Dvorak Esposito")
	places := strings.Fields("Lisbon Oslo Nairobi Lima Hanoi Quito Riga Accra Tbilisi Dakar Muscat Sofia Tirana Harare Manila")
	words := strings.Fields("budget strike vote probe election summit treaty tariff merger lawsuit protest ceasefire pipeline reform scandal verdict bailout drought outbreak referendum")
	common := strings.Fields("government says new report plan officials week talks deal calls after over amid first warns")
	r := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]feeds.Article, 0, n)
	for i := range n {
		s := r.IntN(40)
		var parts []string
		if r.IntN(3) > 0 {
			parts = append(parts, names[s%len(names)])
		}
		if r.IntN(3) > 0 {
			parts = append(parts, places[(s*7)%len(places)])
		}
		parts = append(parts, words[s%len(words)])
		if r.IntN(2) == 0 {
			parts = append(parts, words[(s*3+1)%len(words)])
		}
		parts = append(parts, common[r.IntN(len(common))], common[r.IntN(len(common))])
		r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		a := item(fmt.Sprintf("Outlet %d", r.IntN(12)), strings.Join(parts, " ")+fmt.Sprintf(" (%d)", i), "", 2*i)
		out = append(out, a)
	}
	return out
}

// TestAssigner_Replicas runs a stream through one assigner, and through
// two replicas on one database taking turns, and wants the same stories:
// a replica taking over rebuilds from the database, so stories keep their
// ids and slugs and grow as they would have, with or without items leaving
// the window.
//
// Labels are compared only for being one of the story's headlines: the
// clusterer keeps a story's label by comparing each newcomer with the
// current one, rescoring every member only at sizes that are powers of two
// and after merges, so after merges the label depends on the order members
// joined in, which a rebuild does not repeat.
func TestAssigner_Replicas(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration
		seed   uint64
	}{
		{"Window72h", 0, 1},
		{"Window72hSeed3", 0, 3},
		{"Window72hSeed4", 0, 4},
		{"Window3hEvicting", 3 * time.Hour, 2},
		{"Window1hEvicting", time.Hour, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			arts := stream(tc.seed, 360)
			// A pass fits one batch here: across batches of one pass, a
			// rebuild adds the articles in another order than the pass did
			// (see assign's "clusterer's clock"), and what the clusterer
			// learns of names on the way may differ.
			opts := assign.Options{Rules: rules, Enabled: true, BatchSize: 24, LockTTL: time.Minute,
				Clustering: topics.Options{Window: tc.window}}
			const chunk = 23

			// feed stores the stream chunk by chunk, each first seen when
			// its last article was published, and calls turn after each.
			feed := func(e *env, turn func(i int)) {
				for i := 0; i*chunk < len(arts); i++ {
					end := min((i+1)*chunk, len(arts))
					e.clk.Set(arts[end-1].Published)
					e.poll(arts[i*chunk : end]...)
					turn(i)
				}
			}

			single := newEnv(t)
			one := single.assigner(single.db, "solo", opts)
			feed(single, func(int) { pass(t, one) })

			pair := newEnv(t)
			r := []*assign.Assigner{pair.assigner(pair.db, "r0", opts), pair.assigner(pair.handle(), "r1", opts)}
			feed(pair, func(i int) {
				cur := r[i%2]
				if i%4 == 3 {
					// The previous holder vanished: wait for its lease.
					pair.clk.Set(pair.clk.Now().Add(opts.LockTTL + time.Second))
				} else if err := r[(i+1)%2].Release(t.Context()); err != nil {
					t.Fatal(err)
				}
				if n := pass(t, cur); n == 0 {
					t.Fatalf("turn %d: replica %d assigned nothing", i, i%2)
				}
			})

			titles := map[string]string{}
			for _, a := range arts {
				titles[a.ID] = a.Title
			}
			strip := func(gs []store.TopicGroup) []store.TopicGroup {
				for i, g := range gs {
					if !slices.ContainsFunc(g.ArticleIDs, func(id string) bool { return titles[id] == g.Label }) {
						t.Errorf("story %s: label %q is none of its headlines", g.Slug, g.Label)
					}
					gs[i].Label = ""
				}
				return gs
			}
			want := layout(strip(single.topics(store.TopicFilter{})))
			got := layout(strip(pair.topics(store.TopicFilter{})))
			if !slices.Equal(got, want) {
				t.Errorf("two replicas' topics differ from one assigner's:\n%s", diffLines(got, want))
			}
			// The stream is meant to exercise merges and multi-outlet stories.
			c := topics.NewClusterer(opts.Clustering)
			merges := 0
			for i := 0; i*chunk < len(arts); i++ {
				part := slices.Clone(arts[i*chunk : min((i+1)*chunk, len(arts))])
				slices.SortFunc(part, func(x, y feeds.Article) int { return strings.Compare(x.ID, y.ID) })
				seen := arts[min((i+1)*chunk, len(arts))-1].Published
				for _, a := range part {
					c.Evict(seen)
					merges += len(c.Add(a).Merged)
				}
			}
			if merges == 0 {
				t.Error("the stream merges no stories: it tests too little")
			}
			t.Logf("%d articles, %d merges, %d groups", len(arts), merges, len(want))
			multi := single.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}, MinSources: 3})
			if len(multi) < 3 {
				t.Errorf("only %d stories with three outlets or more: the stream is too easy", len(multi))
			}
			if n := single.pending() + pair.pending(); n != 0 {
				t.Errorf("%d articles still pending", n)
			}
		})
	}
}

// diffLines shows the lines only in got and only in want.
func diffLines(got, want []string) string {
	var b strings.Builder
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "+ %s\n", g)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	if b.Len() == 0 {
		return "(same groups, different order)"
	}
	return b.String()
}

// TestAssigner_MatchesClusterer checks that what is stored, merges
// applied, is what the clusterer holds: the same stories with the same
// members.
func TestAssigner_MatchesClusterer(t *testing.T) {
	arts := stream(5, 300)
	e := newEnv(t)
	a := e.assigner(e.db, "r1", assign.Options{Enabled: true, BatchSize: 32})
	c := topics.NewClusterer(topics.Options{})
	merges := 0
	const chunk = 50
	for i := 0; i*chunk < len(arts); i++ {
		end := min((i+1)*chunk, len(arts))
		e.clk.Set(arts[end-1].Published)
		stored := e.poll(arts[i*chunk : end]...)
		pass(t, a)
		// As a pass does: evict to its time minus the window, then take
		// the pending articles by (first seen, id) in batches of 32, each
		// batch added in (item time, id) order.
		c.Evict(e.clk.Now().Add(-topics.DefaultWindow))
		slices.SortFunc(stored, func(x, y feeds.Article) int { return strings.Compare(x.ID, y.ID) })
		for b := range slices.Chunk(stored, 32) {
			b = slices.Clone(b)
			slices.SortFunc(b, func(x, y feeds.Article) int {
				if d := x.Published.Compare(y.Published); d != 0 {
					return d
				}
				return strings.Compare(x.ID, y.ID)
			})
			for _, x := range b {
				merges += len(c.Add(x).Merged)
			}
		}
	}
	if merges == 0 {
		t.Fatal("no merges: the test shows nothing")
	}
	var want []string
	for _, g := range c.Clusters() {
		want = append(want, fmt.Sprintf("%s %s %v", g.ID, g.Slug, sorted(g.ArticleIDs)))
	}
	var got []string
	for _, g := range e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}}) {
		got = append(got, fmt.Sprintf("%s %s %v", g.StoryID, g.Slug, sorted(g.ArticleIDs)))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("stored stories differ from the clusterer's (%d merges):\n%s", merges, diffLines(got, want))
	}
}

// waitTimeout bounds every wait on a goroutine in these tests.
const waitTimeout = time.Minute

// recv returns the next value from ch, failing t if none comes within
// waitTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		panic("unreachable")
	}
}

// signals wraps a store to tell the test when a batch was saved and when
// the lease was released.
type signals struct {
	assign.Store
	saved    chan int64
	released chan struct{}
}

func (s *signals) SaveTopics(ctx context.Context, b store.TopicBatch) (int64, error) {
	epoch, err := s.Store.SaveTopics(ctx, b)
	s.saved <- epoch
	return epoch, err
}

func (s *signals) ReleaseLock(ctx context.Context, name, owner string) error {
	err := s.Store.ReleaseLock(ctx, name, owner)
	close(s.released)
	return err
}

func TestAssigner_Run(t *testing.T) {
	e := newEnv(t)
	e.morning()
	st := &signals{Store: e.db, saved: make(chan int64), released: make(chan struct{})}
	a := e.assigner(st, "r1", assign.Options{Rules: rules, Enabled: true})
	ctx, cancel := context.WithCancel(t.Context())
	wake := make(chan struct{})
	done := make(chan struct{})
	go func() {
		a.Run(ctx, wake, time.Hour)
		close(done)
	}()
	if epoch := recv(t, st.saved, "the first pass's batch"); epoch != 1 { // the first pass, at once
		t.Errorf("first batch saved as epoch %d, want 1", epoch)
	}
	if n := e.pending(); n != 0 {
		t.Errorf("%d pending after the first pass", n)
	}
	e.poll(editorials...)
	select {
	case wake <- struct{}{}:
	case <-time.After(waitTimeout):
		t.Fatalf("Run did not take a wake-up within %v", waitTimeout)
	}
	if epoch := recv(t, st.saved, "the batch after a wake-up"); epoch != 2 {
		t.Errorf("batch after a wake-up saved as epoch %d, want 2", epoch)
	}
	if n := e.pending(); n != 0 {
		t.Errorf("%d pending after a wake-up", n)
	}
	if gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}, MinSources: 3}); len(gs) != 1 {
		t.Errorf("three-outlet stories %v, want 1", layout(gs))
	}
	cancel()
	recv(t, done, "Run to return after its context ended")
	select {
	case <-st.released:
	default:
		t.Error("Run returned without releasing the lease")
	}
	// Released: another replica takes over at once.
	b := e.assigner(e.handle(), "r2", assign.Options{Rules: rules, Enabled: true})
	e.poll(item("Reuters", "North Korea says Stockholm talks with US broke down", "", 70))
	if n := pass(t, b); n != 1 {
		t.Errorf("the other replica assigned %d after the release, want 1", n)
	}
}

// TestAssigner_ConcurrentReplicas has two replicas pass at the same time
// after each chunk of the stream, one of them sometimes releasing the
// lease: exactly one does each chunk's work, and the stories are those of
// one assigner.
func TestAssigner_ConcurrentReplicas(t *testing.T) {
	arts := stream(6, 240)
	// One batch a pass, as in TestAssigner_Replicas.
	opts := assign.Options{Rules: rules, Enabled: true, BatchSize: 32, LockTTL: time.Minute}
	const chunk = 30
	feed := func(e *env, turn func(i, n int)) {
		for i := 0; i*chunk < len(arts); i++ {
			end := min((i+1)*chunk, len(arts))
			e.clk.Set(arts[end-1].Published)
			turn(i, len(e.poll(arts[i*chunk:end]...)))
		}
	}
	single := newEnv(t)
	one := single.assigner(single.db, "solo", opts)
	feed(single, func(int, int) { pass(t, one) })

	pair := newEnv(t)
	r := []*assign.Assigner{pair.assigner(pair.db, "r0", opts), pair.assigner(pair.handle(), "r1", opts)}
	feed(pair, func(i, n int) {
		var got [2]int
		var errs [2]error
		var wg sync.WaitGroup
		for k := range r {
			wg.Go(func() { got[k], errs[k] = r[k].Pass(t.Context()) })
		}
		wg.Wait()
		for k, err := range errs {
			if err != nil {
				t.Fatalf("chunk %d: replica %d: %v", i, k, err)
			}
		}
		if got[0]+got[1] != n || (got[0] != 0 && got[1] != 0) {
			t.Errorf("chunk %d of %d: replicas assigned %v, want all by one", i, n, got)
		}
		if i%3 == 1 {
			for _, x := range r {
				if err := x.Release(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	strip := func(gs []store.TopicGroup) []string {
		for i := range gs {
			gs[i].Label = ""
		}
		return layout(gs)
	}
	if got, want := strip(pair.topics(store.TopicFilter{})), strip(single.topics(store.TopicFilter{})); !slices.Equal(got, want) {
		t.Errorf("concurrent replicas' topics differ from one assigner's:\n%s", diffLines(got, want))
	}
}

// BenchmarkAssigner measures a first pass over a week of stored articles
// (matching, clustering and saving them) and a rebuild from the store (what
// a replica taking over pays once: the stories of two 72h windows), and
// reports the rebuild's cost as a share of the first pass.
func BenchmarkAssigner(b *testing.B) {
	const n, chunk = 5000, 100
	arts := stream(9, n) // one every two minutes: about a week
	var assignT, rebuildT time.Duration
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		for i := 0; i*chunk < n; i++ {
			end := min((i+1)*chunk, n)
			e.clk.Set(arts[end-1].Published)
			e.poll(arts[i*chunk : end]...)
		}
		opts := assign.Options{Rules: rules, Enabled: true}
		first := e.assigner(e.db, "r1", opts)
		b.StartTimer()
		start := time.Now()
		if got := pass(b, first); got != n {
			b.Fatalf("assigned %d, want %d", got, n)
		}
		assignT += time.Since(start)
		b.StopTimer()
		if err := first.Release(b.Context()); err != nil {
			b.Fatal(err)
		}
		e.poll(item("Reuters", "One more headline to assign", "", 2*n))
		next := e.assigner(e.handle(), "r2", opts)
		b.StartTimer()
		start = time.Now()
		pass(b, next) // rebuilds, then assigns one
		rebuildT += time.Since(start)
	}
	perOp := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(perOp(assignT), "first-pass-ms")
	b.ReportMetric(1e6*assignT.Seconds()/float64(b.N*n), "µs/article")
	b.ReportMetric(perOp(rebuildT), "rebuild-ms")
	b.ReportMetric(rebuildT.Seconds()/assignT.Seconds(), "rebuild/first-pass")
}

// TestAssigner_FetchOrder stores the same articles with the sources polled
// in three different orders, each a moment apart (so first-seen times and
// the store's pending order differ), then assigns them in one pass, and
// wants the same stories, labels and slugs every time.
func TestAssigner_FetchOrder(t *testing.T) {
	arts := append(stream(7, 200), editorials...)
	last := t0
	for _, a := range arts {
		if a.Published.After(last) {
			last = a.Published
		}
	}
	var first []string
	grouped := 0
	for seed := uint64(1); seed <= 3; seed++ {
		e := newEnv(t)
		bySource := map[string][]feeds.Article{}
		var sources []string
		for _, a := range arts {
			if bySource[a.Source] == nil {
				sources = append(sources, a.Source)
			}
			bySource[a.Source] = append(bySource[a.Source], a)
		}
		rand.New(rand.NewPCG(seed, 5)).Shuffle(len(sources), func(i, j int) { sources[i], sources[j] = sources[j], sources[i] })
		for i, src := range sources {
			e.clk.Set(last.Add(time.Duration(i) * time.Second))
			e.poll(bySource[src]...)
		}
		a := e.assigner(e.db, "r1", assign.Options{Rules: rules, Enabled: true})
		if n := pass(t, a); n != len(arts) {
			t.Fatalf("fetch order %d: assigned %d, want %d", seed, n, len(arts))
		}
		gs := e.topics(store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}})
		got := layout(gs)
		slices.Sort(got)
		if first == nil {
			first = got
			grouped = len(arts) - len(gs)
			continue
		}
		if !slices.Equal(got, first) {
			t.Errorf("fetch order %d gives other stories than fetch order 1:\n%s", seed, diffLines(got, first))
		}
	}
	if grouped < 20 {
		t.Fatalf("%d articles in %d stories: too few grouped for the test to show anything", len(arts), len(arts)-grouped)
	}
}
