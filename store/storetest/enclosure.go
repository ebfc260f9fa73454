package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// testEnclosures checks that an article's enclosures are stored, in their
// order, cleaned like every other text, replaced by an edit and read back
// by every read.
func (s *suite) testEnclosures(t *testing.T) {
	e := s.setup(t)
	e.sync(src("Alpha"))
	pod := art("Alpha", 1, base)
	pod.Enclosures = []feeds.Enclosure{
		{URL: "https://cdn.alpha.example/ep1.mp3", Type: "audio/mpeg", Length: 34_567_890},
		{URL: "https://cdn.alpha.example/ep1.mp4?x=\x00y", Type: "video/\x00mp4"},
		{URL: "https://cdn.alpha.example/ep1.txt"},
	}
	pod = withIDs(pod)
	plain := withIDs(art("Alpha", 2, base))
	stats := e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{pod, plain}})
	if stats.New != 2 {
		t.Fatalf("stats: %+v, want 2 new", stats)
	}
	want := []feeds.Enclosure{
		{URL: "https://cdn.alpha.example/ep1.mp3", Type: "audio/mpeg", Length: 34_567_890},
		{URL: "https://cdn.alpha.example/ep1.mp4?x=y", Type: "video/mp4"},
		{URL: "https://cdn.alpha.example/ep1.txt"},
	}
	if got := e.article(pod.ID).Enclosures; !reflect.DeepEqual(got, want) {
		t.Errorf("Article enclosures = %+v, want %+v", got, want)
	}
	if got := e.article(plain.ID).Enclosures; len(got) != 0 {
		t.Errorf("article without enclosures read back %+v", got)
	}
	listed := e.articles(store.ArticleFilter{IDs: []string{pod.ID}})
	if len(listed) != 1 || !reflect.DeepEqual(listed[0].Enclosures, want) {
		t.Errorf("Articles enclosures = %+v, want one article with %+v", listed, want)
	}

	// An edit replaces the list; an edit to none empties it.
	e.clk.Set(base.Add(time.Hour))
	edited := pod
	edited.Enclosures = []feeds.Enclosure{{URL: "https://cdn.alpha.example/ep1-fixed.mp3", Type: "audio/mpeg", Length: 1}}
	edited.Hash = feeds.ContentHash(edited)
	if edited.Hash == pod.Hash {
		t.Fatal("ContentHash ignores enclosures: an edited enclosure would never be stored")
	}
	stats = e.save(feeds.Poll{State: stateOf("Alpha", base.Add(time.Hour)), Articles: []feeds.Article{edited}})
	if stats.Updated != 1 {
		t.Fatalf("edit: %+v, want 1 updated", stats)
	}
	if got := e.article(pod.ID).Enclosures; !reflect.DeepEqual(got, edited.Enclosures) {
		t.Errorf("after edit: enclosures = %+v, want %+v", got, edited.Enclosures)
	}
	none := pod
	none.Enclosures = nil
	none.Hash = feeds.ContentHash(none)
	e.clk.Set(base.Add(2 * time.Hour))
	if stats = e.save(feeds.Poll{State: stateOf("Alpha", base.Add(2*time.Hour)), Articles: []feeds.Article{none}}); stats.Updated != 1 {
		t.Fatalf("edit to none: %+v, want 1 updated", stats)
	}
	if got := e.article(pod.ID).Enclosures; len(got) != 0 {
		t.Errorf("after removing them: enclosures = %+v, want none", got)
	}
}
