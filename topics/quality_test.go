package topics

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/testcorpus"
)

// labelled is one corpus headline with its true story.
type labelled struct {
	a     feeds.Article
	story string
}

func loadStories(t testing.TB) []labelled {
	t.Helper()
	dir := testcorpus.Dir(t, "stories")
	f, err := os.Open(filepath.Join(dir, "uci-news-dev.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"id", "title", "url", "publisher", "story", "timestamp"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("corpus lacks column %q", h)
		}
	}
	var out []labelled
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ms, err := strconv.ParseInt(rec[col["timestamp"]], 10, 64)
		if err != nil {
			t.Fatalf("row %s: %v", rec[col["id"]], err)
		}
		a := feeds.Article{
			Source:    rec[col["publisher"]],
			Identity:  rec[col["id"]],
			Link:      rec[col["url"]],
			Title:     rec[col["title"]],
			Published: time.UnixMilli(ms).UTC(),
		}
		a.ID = feeds.ArticleID(a.Source, a.Identity)
		out = append(out, labelled{a: a, story: rec[col["story"]]})
	}
	// Rows are sorted by timestamp; make sure of it, keeping file order on ties.
	for i := 1; i < len(out); i++ {
		if out[i].a.Published.Before(out[i-1].a.Published) {
			t.Fatalf("corpus rows not in timestamp order at %d", i)
		}
	}
	return out
}

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
	items := loadStories(t)
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
