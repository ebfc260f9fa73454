package topics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// scores are clustering quality figures against the true stories.
type scores struct {
	P, R, F1, ARI float64
	Groups        int
}

// evaluate compares predicted group labels with true story labels, item by
// item: B-cubed precision, recall and F1, and the adjusted Rand index.
func evaluate(pred, truth []string) scores {
	n := len(pred)
	cont := map[[2]string]int{}
	pc, tc := map[string]int{}, map[string]int{}
	for i := range pred {
		cont[[2]string{pred[i], truth[i]}]++
		pc[pred[i]]++
		tc[truth[i]]++
	}
	var p, r float64
	for i := range pred {
		both := float64(cont[[2]string{pred[i], truth[i]}])
		p += both / float64(pc[pred[i]])
		r += both / float64(tc[truth[i]])
	}
	s := scores{P: p / float64(n), R: r / float64(n), Groups: len(pc)}
	s.F1 = 2 * s.P * s.R / (s.P + s.R)
	c2 := func(k int) float64 { return float64(k) * float64(k-1) / 2 }
	var sumIJ, sumA, sumB float64
	for _, k := range cont {
		sumIJ += c2(k)
	}
	for _, k := range pc {
		sumA += c2(k)
	}
	for _, k := range tc {
		sumB += c2(k)
	}
	expected := sumA * sumB / c2(n)
	max := (sumA + sumB) / 2
	if max != expected {
		s.ARI = (sumIJ - expected) / (max - expected)
	}
	return s
}

// runClusterer streams the items through one Clusterer.
func runClusterer(items []labelled, opts Options, tweak func(*params)) []string {
	c := NewClusterer(opts)
	if tweak != nil {
		tweak(&c.p)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = c.Add(it.a).StoryID
	}
	return out
}

// runSingletons puts every item alone.
func runSingletons(items []labelled) []string {
	out := make([]string, len(items))
	for i := range items {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// runJaccard is the simple baseline: an item joins the group of the
// earliest item whose set of title words has Jaccard similarity >= 0.5
// with its own, else starts one.
func runJaccard(items []labelled) []string {
	sizes := make([]int, len(items))
	out := make([]string, len(items))
	index := map[string][]int{} // word -> items having it
	for i, it := range items {
		set := map[string]bool{}
		for _, w := range strings.FieldsFunc(strings.ToLower(it.a.Title), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			set[w] = true
		}
		sizes[i] = len(set)
		out[i] = strconv.Itoa(i)
		inter := map[int]int{}
		for w := range set {
			for _, j := range index[w] {
				inter[j]++
			}
			index[w] = append(index[w], i)
		}
		best := -1
		for j, n := range inter {
			if union := sizes[i] + sizes[j] - n; float64(n)/float64(union) >= 0.5 && (best < 0 || j < best) {
				best = j
			}
		}
		if best >= 0 {
			out[i] = out[best]
		}
	}
	return out
}

func truths(items []labelled) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.story
	}
	return out
}

func row(name string, s scores) string {
	return fmt.Sprintf("%-40s %6d %7.3f %7.3f %7.3f %7.3f", name, s.Groups, s.P, s.R, s.F1, s.ARI)
}

const tableHead = "method                                   groups  B3 P    B3 R    B3 F1   ARI"

// TestQuality_Stories measures story grouping on the labelled headlines and
// asserts the goal: B-cubed F1 >= 0.85 and precision >= 0.9 on the whole
// file, and precision >= 0.9 on each half run on its own. Run with -v for
// the table.
func TestQuality_Stories(t *testing.T) {
	items := loadCorpus(t, "uci-news-dev.csv")
	truth := truths(items)
	stories := map[string]bool{}
	for _, s := range truth {
		stories[s] = true
	}
	t.Logf("%d headlines, %d true stories", len(items), len(stories))

	// The runs are independent: do them at once.
	half := len(items) / 2
	type run struct {
		name  string
		items []labelled
		do    func(items []labelled) []string
		got   scores
	}
	cluster := func(opts Options, tweak func(*params)) func([]labelled) []string {
		return func(items []labelled) []string { return runClusterer(items, opts, tweak) }
	}
	runs := []*run{
		{name: "clusterer (default threshold)", items: items, do: cluster(Options{}, nil)},
		{name: "baseline: every item alone", items: items, do: runSingletons},
		{name: "baseline: title-word Jaccard>=0.5", items: items, do: runJaccard},
		{name: "clusterer, first half alone", items: items[:half], do: cluster(Options{}, nil)},
		{name: "clusterer, second half alone", items: items[half:], do: cluster(Options{}, nil)},
		{name: "", do: nil},
		{name: "threshold sensitivity (whole file)", do: nil},
	}
	for _, f := range []float64{0.8, 0.9, 1.1, 1.2} {
		th := DefaultThreshold * f
		runs = append(runs, &run{name: fmt.Sprintf("threshold %.3f (x%.1f)", th, f), items: items, do: cluster(Options{Threshold: th}, nil)})
	}
	// Each story of this file arrives within minutes, so time decay helps
	// more here than in real feeds: show what it contributes.
	runs = append(runs, &run{name: ""}, &run{name: "time decay (whole file, default threshold)"})
	for _, hl := range []time.Duration{6 * time.Hour, 24 * time.Hour, 0} {
		name := "no time decay"
		if hl > 0 {
			name = fmt.Sprintf("half-life %v (default %v)", hl, defaultParams.halfLife)
		}
		runs = append(runs, &run{name: name, items: items, do: cluster(Options{}, func(p *params) { p.halfLife = hl })})
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		if r.do == nil {
			continue
		}
		wg.Go(func() { r.got = evaluate(r.do(r.items), truths(r.items)) })
	}
	wg.Wait()
	lines := []string{tableHead}
	for _, r := range runs {
		if r.do == nil {
			lines = append(lines, r.name)
			continue
		}
		lines = append(lines, row(r.name, r.got))
	}
	t.Log("\n" + strings.Join(lines, "\n"))

	full, first, second := runs[0].got, runs[3].got, runs[4].got
	if full.F1 < 0.85 || full.P < 0.9 {
		t.Errorf("whole file: B-cubed F1 %.3f, precision %.3f; want F1 >= 0.85 and precision >= 0.9", full.F1, full.P)
	}
	for name, s := range map[string]scores{"first half": first, "second half": second} {
		if s.P < 0.9 {
			t.Errorf("%s: B-cubed precision %.3f, want >= 0.9", name, s.P)
		}
	}
}

// regimeRuns are the corpora as the quality goals name them: the dense
// wire file as it is, and the few-outlets file laid out three ways.
func regimeRuns(t *testing.T) (names []string, sets map[string][]labelled) {
	sets = map[string][]labelled{"uci-news-dev": loadCorpus(t, "uci-news-dev.csv")}
	names = []string{"uci-news-dev"}
	basil := loadCorpus(t, "basil-dev.csv")
	for _, rg := range basilRegimes {
		n := "basil " + rg.name
		sets[n] = layout(basil, rg)
		names = append(names, n)
	}
	return names, sets
}

// regimeFloors are the figures each regime must keep (B-cubed F1 and
// precision, the worst of three fetch orders, polled), set just under
// today's, so that a regression fails. The goals of issue 11 (F1 >= 0.90
// at precision >= 0.93 everywhere) are printed beside them; see the
// closing note for what is missing.
var regimeFloors = map[string][2]float64{
	"uci-news-dev": {0.86, 0.91},
	"basil packed": {0.84, 0.95},
	"basil sparse": {0.90, 0.99},
	"basil thin":   {0.90, 0.99},
}

// TestQuality_Regimes streams each regime as fetch and the assigner would
// (polls every 15 minutes, sources fetched in a shuffled order, a pass
// after each poll taking its items in (item time, ID) order, merges
// followed) under three fetch orders, and prints B-cubed P/R/F1 and ARI
// per regime and order. It also fetches a day's items before one pass
// assigns them all. Under both, every fetch order must give the same stories, with
// the same labels and slugs.
func TestQuality_Regimes(t *testing.T) {
	names, sets := regimeRuns(t)
	const orders = 3
	const poll = 15 * time.Minute
	lines := []string{tableHead}
	for _, n := range names {
		items := sets[n]
		worst := scores{F1: 2, P: 2}
		for _, mode := range []struct {
			name string
			poll time.Duration
		}{{"polled", poll}, {"fetched a day at a time", 24 * time.Hour}} {
			var first []string
			var firstStories string
			for seed := uint64(1); seed <= orders; seed++ {
				arr := arrive(items, poll, rand.New(rand.NewPCG(seed, 11)))
				c := NewClusterer(Options{})
				got := partition(items, stream(c, arr, mode.poll))
				s := evaluate(got, truths(items))
				lines = append(lines, row(fmt.Sprintf("%s, %s, fetch order %d", n, mode.name, seed), s))
				stories := fingerprint(c)
				if first == nil {
					first, firstStories = got, stories
				} else if !samePartition(first, got) || stories != firstStories {
					t.Errorf("%s, %s: fetch order %d gives other stories (or labels or slugs) than fetch order 1", n, mode.name, seed)
				}
				if mode.poll > 0 {
					worst.F1, worst.P = min(worst.F1, s.F1), min(worst.P, s.P)
				}
			}
		}
		goal := "met"
		if worst.F1 < 0.90 || worst.P < 0.93 {
			goal = "NOT met"
		}
		lines = append(lines, fmt.Sprintf("  %s: worst polled F1 %.3f at P %.3f; goal F1>=0.90 at P>=0.93: %s", n, worst.F1, worst.P, goal))
		if f := regimeFloors[n]; worst.F1 < f[0] || worst.P < f[1] {
			t.Errorf("%s: worst B-cubed F1 %.3f, precision %.3f over %d fetch orders; want F1 >= %.2f and precision >= %.2f",
				n, worst.F1, worst.P, orders, f[0], f[1])
		}
	}
	t.Log("\n" + strings.Join(lines, "\n"))
}

// fingerprint lists the clusterer's live stories with their slugs, labels
// and members, in a canonical order.
func fingerprint(c *Clusterer) string {
	var out []string
	for _, g := range c.Clusters() {
		ids := slices.Sorted(slices.Values(g.ArticleIDs))
		out = append(out, fmt.Sprintf("%s %s %q %v", g.ID, g.Slug, g.Label, ids))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
