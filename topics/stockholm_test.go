package topics

import (
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

// TestClusterer_Stockholm is the case of issue 11: wires report that the
// North Korea-US working-level talks in Stockholm broke down, and a day
// later an editorial and a column comment on it, in a quiet window where
// other news shares some of their words (Stockholm, talks, South Korea,
// the US). The eight pieces must make one story, and none of the
// distractors may join it ("US and China to resume trade talks in
// Washington" comes closest, through "US" and "talks").
func TestClusterer_Stockholm(t *testing.T) {
	at := func(source, title string, hours float64, kind feeds.Kind) feeds.Article {
		a := item(source, title, int(hours*60))
		a.Kind = kind
		a.FirstSeen = a.Published
		return a
	}
	news := func(source, title string, hours float64) feeds.Article {
		return at(source, title, hours, feeds.KindNews)
	}
	story := []feeds.Article{
		news("Reuters", "North Korea says nuclear talks with U.S. in Stockholm broke down", 0),
		news("AP", "N. Korea says talks with US break down in Sweden", 0.3),
		news("AFP", "North Korea walks away from Stockholm nuclear talks with Washington", 0.6),
		news("Yonhap", "N. Korean negotiator says working-level talks with U.S. ended without deal", 1),
		news("BBC", "North Korea-US talks collapse in Stockholm", 2),
		news("Al Jazeera", "US says talks with DPRK were 'good', Pyongyang disagrees", 4),
		at("Hankyoreh", "[Editorial] N. Korea and US must find compromise to continue denuclearization negotiations", 26, feeds.KindEditorial),
		at("Korea Herald", "Stockholm talks collapse: what now for diplomacy?", 34, feeds.KindEditorial),
	}
	distractors := []feeds.Article{
		news("Reuters", "Stockholm stocks slide as Ericsson warns on 5G margins", -3),
		news("AFP", "Nobel literature prize to be announced in Stockholm next week", 1.5),
		news("Yonhap", "South Korea's exports fall for tenth straight month", 3),
		news("Korea Times", "South Korea, Japan trade row deepens as talks stall", 5),
		news("Bloomberg", "US and China to resume trade talks in Washington next week", 6),
		news("BBC", "Brexit talks resume in Brussels amid deadlock", 8),
		news("AP", "Trump urges China to investigate the Bidens", 10),
		news("Reuters", "US Navy ship sails near disputed South China Sea islands", 12),
		news("Guardian", "Sweden's central bank holds rates, sees slower growth", 20),
		at("Korea Herald", "[Editorial] Japan must end its export curbs on South Korea", 28, feeds.KindEditorial),
		news("Reuters", "Ethiopia and Egypt dam talks end without agreement", 30),
	}
	var all []feeds.Article
	all = append(all, story...)
	all = append(all, distractors...)
	sortByTime(all)
	c := NewClusterer(Options{})
	got := map[string]string{}
	into := map[string]string{}
	for _, a := range all {
		c.Evict(a.FirstSeen)
		as := c.Add(a)
		got[a.ID] = as.StoryID
		for _, m := range as.Merged {
			into[m] = as.StoryID
		}
	}
	final := func(id string) string {
		s := got[id]
		for into[s] != "" {
			s = into[s]
		}
		return s
	}
	want := final(story[0].ID)
	for _, a := range story[1:] {
		if s := final(a.ID); s != want {
			t.Errorf("%q is not in the story of %q", a.Title, story[0].Title)
		}
	}
	for _, a := range distractors {
		if final(a.ID) == want {
			t.Errorf("distractor %q joined the Stockholm story", a.Title)
		}
	}
	if t.Failed() {
		var b strings.Builder
		for _, g := range c.Clusters() {
			b.WriteString(g.Label + " (" + g.ID + ")\n")
		}
		t.Logf("stories:\n%s", b.String())
	}
}

func sortByTime(as []feeds.Article) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].Published.Before(as[j-1].Published); j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}
