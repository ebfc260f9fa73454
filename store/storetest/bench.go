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

// BenchmarkSavePoll measures SavePoll, the poller's hot path, with polls of
// PollSize articles of realistic size, and reports ns/article:
// "New" stores a poll of new articles each time, "Unchanged" stores the same
// poll again (the usual case for a feed that ignores conditional GET), and
// "Edited" changes every article each time. open must return a fresh,
// migrated store and register its closing with b.Cleanup.
func BenchmarkSavePoll(b *testing.B, open func(b *testing.B) store.Store) {
	body := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. </p>", 24)
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
	for _, bc := range []struct {
		name string
		poll func(round int) feeds.Poll
		// prime stores a poll before timing, so that "Unchanged" and
		// "Edited" find their articles.
		prime bool
	}{
		{"New", func(round int) feeds.Poll { return poll(round, false) }, false},
		{"Unchanged", func(int) feeds.Poll { return poll(0, false) }, true},
		{"Edited", func(round int) feeds.Poll { return poll(round+1, true) }, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b)
			ctx := b.Context()
			if err := s.SyncSources(ctx, []feeds.Source{src("Bench")}); err != nil {
				b.Fatal(err)
			}
			if bc.prime {
				p := bc.poll(0)
				if bc.name == "Edited" {
					p = poll(0, true)
				}
				if _, err := s.SavePoll(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			// Build the polls outside the timer.
			polls := make([]feeds.Poll, b.N)
			for i := range polls {
				polls[i] = bc.poll(i + 1)
			}
			b.ResetTimer()
			for i := range b.N {
				stats, err := s.SavePoll(ctx, polls[i])
				if err != nil {
					b.Fatal(err)
				}
				if stats.New+stats.Updated+stats.Unchanged != PollSize {
					b.Fatalf("stats %+v do not add up to %d", stats, PollSize)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*PollSize), "ns/article")
		})
	}
}
