package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// PollSize is the number of articles in each poll BenchmarkSavePoll stores.
const PollSize = 100

// largeTable is how many articles "NewLarge" stores before it measures.
const largeTable = 20000

// BenchmarkSavePoll measures SavePoll, the poller's hot path, with polls of
// PollSize articles of realistic size (2 KB of content each), and reports
// ns/article: "New" stores a poll of new articles each time, "Unchanged"
// stores the same poll again (the usual case for a feed that ignores
// conditional GET), "Edited" changes every article each time, and
// "NewLarge" is "New" once the table holds largeTable articles; it also
// reports its cost relative to "New" measured in the same run (x_new), which
// stays near 1 unless storing slows as the table grows. open must return a
// fresh, migrated store and register its closing with b.Cleanup.
func BenchmarkSavePoll(b *testing.B, open func(b *testing.B) store.Store) {
	body := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. </p>", 24)
	// poll is the round'th poll; edit keeps the same items, retitled.
	poll := func(round int, edit bool) feeds.Poll {
		arts := make([]feeds.Article, PollSize)
		for i := range arts {
			n := round*PollSize + i
			if edit {
				n = i
			}
			a := art("Bench", n, base.Add(-time.Duration(n)*time.Minute))
			a.Content = body
			a.Summary = body[:300]
			if edit {
				a.Title = fmt.Sprintf("%s (rev %d)", a.Title, round)
			}
			arts[i] = withIDs(a)
		}
		return feeds.Poll{State: stateOf("Bench", base), Articles: arts}
	}
	var newCost float64 // ns/article of "New", for NewLarge's ratio
	for _, bc := range []struct {
		name  string
		prime int // polls stored before measuring
		poll  func(round int) feeds.Poll
	}{
		{"New", 0, func(round int) feeds.Poll { return poll(round, false) }},
		{"Unchanged", 1, func(int) feeds.Poll { return poll(0, false) }},
		{"Edited", 1, func(round int) feeds.Poll { return poll(round, true) }},
		{"NewLarge", largeTable / PollSize, func(round int) feeds.Poll { return poll(round, false) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b)
			ctx := b.Context()
			if err := s.SyncSources(ctx, []feeds.Source{src("Bench")}); err != nil {
				b.Fatal(err)
			}
			round := 0
			for ; round < bc.prime; round++ {
				if _, err := s.SavePoll(ctx, bc.poll(round)); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				b.StopTimer()
				p := bc.poll(round)
				round++
				b.StartTimer()
				stats, err := s.SavePoll(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				if stats.New+stats.Updated+stats.Unchanged != PollSize {
					b.Fatalf("stats %+v do not add up to %d", stats, PollSize)
				}
			}
			cost := float64(b.Elapsed().Nanoseconds()) / float64(b.N*PollSize)
			b.ReportMetric(cost, "ns/article")
			switch {
			case bc.name == "New":
				newCost = cost
			case bc.name == "NewLarge" && newCost > 0:
				b.ReportMetric(cost/newCost, "x_new")
			}
		})
	}
}
