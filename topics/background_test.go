package topics

import (
	"fmt"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// termID finds the live term a title word became.
func termID(t *testing.T, c *Clusterer, word string) uint32 {
	t.Helper()
	for _, k := range []string{word, stem(word)} {
		if id, ok := c.vocab[k]; ok {
			return id
		}
	}
	t.Fatalf("no live term for %q", word)
	return 0
}

// TestClusterer_Background: in a window of two items, one word common in
// the items gone before and one never seen weigh alike by the window's
// counts alone; the background tells them apart, and fades.
func TestClusterer_Background(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	fill := func(c *Clusterer) {
		for i := range 40 {
			c.Add(feeds.Article{Source: "wire", Identity: fmt.Sprint("old", i), Title: fmt.Sprintf("Senate votes on item%c%c", 'a'+i%26, 'a'+i/26), Published: t0.Add(time.Duration(i) * time.Minute)})
		}
		// A week later, a thin window: the old items are gone.
		later := t0.Add(7 * 24 * time.Hour)
		c.Add(feeds.Article{Source: "a", Identity: "n1", Title: "Senate approves harbour funding", Published: later})
		c.Add(feeds.Article{Source: "b", Identity: "n2", Title: "Mosque plan draws crowds", Published: later.Add(time.Minute)})
	}
	ratio := func(c *Clusterer) float64 {
		return c.idf(termID(t, c, "senate")) / c.idf(termID(t, c, "mosque"))
	}
	on := NewClusterer(Options{})
	fill(on)
	if st := on.Stats(); st.Items != 2 {
		t.Fatalf("window holds %d items, want the 2 new ones", st.Items)
	}
	off := NewClusterer(Options{})
	off.p.bgHalfLife = 0
	fill(off)
	if r := ratio(off); r < 0.99 || r > 1.01 {
		t.Fatalf("without background: idf(senate)/idf(mosque) = %.3f, want 1 (both once in the window)", r)
	}
	r := ratio(on)
	if r > 0.5 {
		t.Errorf("with background: idf(senate)/idf(mosque) = %.3f, want <= 0.5: 40 earlier items had senate", r)
	}
	// A year on, the old counts have faded (the first two items' are fresher).
	on.Add(feeds.Article{Source: "a", Identity: "n3", Title: "Senate approves harbour funding again", Published: t0.Add(400 * 24 * time.Hour)})
	on.Add(feeds.Article{Source: "b", Identity: "n4", Title: "Mosque plan draws crowds again", Published: t0.Add(400*24*time.Hour + time.Minute)})
	if r2 := ratio(on); r2 < 10*r {
		t.Errorf("a year on: idf(senate)/idf(mosque) = %.3f (was %.3f), want ten times more: the background should fade", r2, r)
	}
}

// TestClusterer_BackgroundBounded: items of unique words, a minute apart
// with an hour's window and background half-life, leave a background of
// the last days only (counts are rebased and pruned every 64 half-lives),
// whatever the history's length.
func TestClusterer_BackgroundBounded(t *testing.T) {
	c := NewClusterer(Options{Window: time.Hour})
	c.p.bgHalfLife = time.Hour
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const n = 20_000 // three unique words each
	peak := 0
	for i := range n {
		c.Add(feeds.Article{Source: "s", Identity: fmt.Sprint(i), Title: fmt.Sprintf("w%da w%db w%dc", i, i, i), Published: t0.Add(time.Duration(i) * time.Minute)})
		peak = max(peak, c.Stats().Background)
	}
	// Unpruned it would hold 3 terms for each of the ~20,000 items gone;
	// 64 hours past the first one gone (plus the window) hold 11,700.
	const most = 3 * 66 * 60
	if peak > most+3 {
		t.Errorf("background peaked at %d terms, want <= %d (pruned of faded terms)", peak, most+3)
	}
	if peak < most/2 {
		t.Errorf("background peaked at %d terms: was anything kept?", peak)
	}
}
