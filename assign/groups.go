package assign

import (
	"context"
	"fmt"
	"strconv"

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Groups answers the one query every output shares: the stored articles q
// selects, grouped by their stored topics and the configured topics now
// (see topics.Build). It reads the store, not the clusterer, so every
// replica answers the same, and it needs no lease.
func (a *Assigner) Groups(ctx context.Context, q topics.Query) ([]topics.Group, error) {
	// An empty list means no filter here; to the store it would mean
	// nothing at all.
	f := store.ArticleFilter{PublishedSince: q.PublishedSince, SeenSince: q.SeenSince, SeenBefore: q.SeenBefore}
	if len(q.Sources) > 0 {
		f.Sources = q.Sources
	}
	if len(q.Kinds) > 0 {
		f.Kinds = q.Kinds
	}
	arts, err := a.st.Articles(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("topic groups: %w", err)
	}
	var members []topics.Members
	if len(arts) > 0 {
		ids := make([]string, len(arts))
		for i, x := range arts {
			ids[i] = x.ID
		}
		stored, err := a.st.Topics(ctx, store.TopicFilter{ArticleIDs: ids})
		if err != nil {
			return nil, fmt.Errorf("topic groups: %w", err)
		}
		members = make([]topics.Members, len(stored))
		for i, g := range stored {
			members[i] = topics.Members{Topic: g.Topic, ArticleIDs: g.ArticleIDs}
		}
	}
	return topics.Build(arts, members, a.ConfiguredTopics(), q), nil
}

// DataVersion is the topic epoch, which every saved batch of assignments
// moves on, whichever replica saved it, with the configured topics: what
// Groups returns changes only when it does or the articles do.
func (a *Assigner) DataVersion(ctx context.Context) (string, error) {
	e, err := a.st.TopicEpoch(ctx)
	if err != nil {
		return "", err
	}
	a.rmu.Lock()
	gen := a.rulesGen
	a.rmu.Unlock()
	return "topics." + strconv.FormatInt(e, 10) + "." + strconv.Itoa(gen), nil
}
