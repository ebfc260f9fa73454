package publish

import "github.com/broadsheet/broadsheet/feeds"

// refreshCache is what one Refresh keeps for the next, so that an
// unchanged article is not sanitized again and an unchanged source not
// read again. Its invariants, which load and render rely on:
//
//   - Stamps first: load reads the sources' states before any article, so
//     whatever a Refresh reads of a source is at least as new as the stamp
//     it is kept under, and any change after that moves the stamp
//     (ArticlesVersion, or Articles for rows added behind its back).
//   - A source's articles are reused only under an equal stamp; a source
//     the states do not list yet is read every time and not kept, and one
//     no longer configured is dropped.
//   - gen numbers every read of a source and is never reused, so that a
//     sourceFeed.sig made from it names exactly one read.
//   - An entry is reused only while its article's reuseKey and its
//     outlet's URL are unchanged, and always with this Refresh's topics
//     (see preparer.entry).
//
// The Handler's mu guards it.
type refreshCache struct {
	entries map[string]*entry          // the last Refresh's entries, by article id
	sources map[string]*sourceArticles // by source name
	gen     uint64
}

// source returns a source's newest articles: those kept, when the source
// is known to the states and its stamp st is the kept one's, else the
// ones read returns, under a new read number. Keeping them for the next
// Refresh is the caller's (sourceFeeds).
func (c *refreshCache) source(st feeds.SourceState, known bool, read func() ([]feeds.Article, error)) (*sourceArticles, error) {
	if sa := c.sources[st.Source]; known && sa != nil && sa.version == st.ArticlesVersion && sa.count == st.Articles {
		return sa, nil
	}
	arts, err := read()
	if err != nil {
		return nil, err
	}
	c.gen++
	return newSourceArticles(st, arts, c.gen), nil
}

// sourceArticles is one source's newest articles (at most FeedItems) as a
// Refresh read them, with the store's stamps of them at the time.
type sourceArticles struct {
	version  int64 // feeds.SourceState.ArticlesVersion
	count    int   // feeds.SourceState.Articles: also catches rows added behind the stamp's back
	gen      uint64
	articles []feeds.Article
	keys     []string // reuseKey of each article, computed once
}

// newSourceArticles keeps arts, read when the source's state was st, as
// the Handler's read number gen, which no other read shares.
func newSourceArticles(st feeds.SourceState, arts []feeds.Article, gen uint64) *sourceArticles {
	sa := &sourceArticles{version: st.ArticlesVersion, count: st.Articles, gen: gen, articles: arts, keys: make([]string, len(arts))}
	for i, a := range arts {
		sa.keys[i] = reuseKey(a)
	}
	return sa
}
