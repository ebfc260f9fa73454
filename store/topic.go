package store

import (
	"context"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/topics"
)

// TopicStore persists the topics articles belong to: configured topics,
// matched by rules, and automatic stories, found by the clusterer. Each
// stored article is assigned once (and again after an edit), by one writer
// at a time holding the "topics" lock (see Locks); the epoch tells a
// replica taking over whether its in-memory clusterer still matches the
// database. Implementations are safe for concurrent use by several
// processes.
type TopicStore interface {
	// PendingTopicArticles returns up to limit articles whose topics are
	// not assigned yet (new, edited since, or reset by ResetTopics),
	// ordered by (FirstSeen, ID).
	PendingTopicArticles(ctx context.Context, limit int) ([]feeds.Article, error)
	// SaveTopics records b in one transaction, in this order: it checks
	// b.Lease, upserts b.Topics by slug, deletes the configured-topic
	// memberships of b.Rematched, adds b.Members, applies b.Merged in
	// order, marks b.Assigned done (unless edited since) and adds one to
	// the epoch, which it returns. A lease no longer held makes it save
	// nothing and return an error wrapping ErrLeaseLost; a merge into a
	// story that is neither stored nor in b.Topics is an error.
	SaveTopics(ctx context.Context, b TopicBatch) (epoch int64, err error)
	// TopicEpoch returns the number of batches SaveTopics has saved, by
	// any process.
	TopicEpoch(ctx context.Context) (int64, error)
	// StoryMembers returns every story membership of the articles first
	// seen at or after seenSince, ordered by the article's (FirstSeen, ID):
	// what Clusterer.Restore needs to rebuild the window. The articles
	// have every field but Summary and Content, which clustering does not
	// read and which would cost a window's worth of memory.
	StoryMembers(ctx context.Context, seenSince time.Time) ([]StoryMember, error)
	// Topics returns the groups matching f, each listing only its members
	// that match f; groups left with no member (or with fewer outlets than
	// f.MinSources) are omitted. Groups are ordered by distinct outlets,
	// most first, then by size, then by newest member, then by slug.
	Topics(ctx context.Context, f TopicFilter) ([]TopicGroup, error)
	// ResetTopics marks the articles first seen at or after seenSince as
	// not assigned, so that the assigner matches them again (after the
	// configured topics changed), and returns how many it marked.
	ResetTopics(ctx context.Context, seenSince time.Time) (int, error)
}

// TopicBatch is one batch of topic assignments, saved at once by
// SaveTopics.
type TopicBatch struct {
	// Lease, if set, fences the batch: it is saved only while Lease.Owner
	// holds the lock Lease.Name unexpired at Lease.Now, so that a writer
	// whose lease lapsed cannot overwrite its successor's work.
	Lease *Lease
	// At stamps the topics upserted: created for new ones, updated for all.
	At time.Time
	// Topics are upserted by slug: label, kind and story id are replaced.
	// Of repeated slugs the last counts.
	Topics []TopicRecord
	// Rematched are articles whose configured-topic memberships are
	// deleted before Members are added: edited articles, or all after a
	// configuration change. Their story memberships stay.
	Rematched []string
	// Members are added; one already present is left alone.
	Members []TopicMember
	// Merged are applied in order: the stories From are absorbed into the
	// story Into (by story id): their memberships move to Into's slug and
	// their topic rows are deleted.
	Merged []StoryMerge
	// Assigned are marked done, each only if its Hash is still the stored
	// one (an article edited meanwhile stays pending); an empty Hash marks
	// it whatever its content.
	Assigned []ArticleVersion
}

// Lease names a lock and the owner expected to hold it at Now.
type Lease struct {
	Name, Owner string
	Now         time.Time
}

// TopicRecord is a topic as stored.
type TopicRecord struct {
	topics.Topic
	StoryID string // the clusterer's story id; empty for configured topics
}

// TopicMember puts an article in a topic.
type TopicMember struct {
	ArticleID string
	Slug      string
}

// StoryMerge says that story From was absorbed into story Into; both are
// story ids.
type StoryMerge struct {
	Into, From string
}

// ArticleVersion is an article as it was when its topics were assigned.
type ArticleVersion struct {
	ID, Hash string
}

// StoryMember is one article of a story.
type StoryMember struct {
	Article feeds.Article
	StoryID string
	Slug    string
}

// TopicFilter selects groups and their members. Zero fields select
// everything; a list that is empty but not nil selects nothing. Limit <= 0
// means no limit.
type TopicFilter struct {
	ArticleIDs     []string // only these members
	PublishedSince time.Time
	Kinds          []topics.Kind
	Slugs          []string
	// MinSources omits groups whose selected members come from fewer
	// distinct sources.
	MinSources int
	Limit      int // groups, after ordering
}

// TopicGroup is a topic with its selected members.
type TopicGroup struct {
	topics.Topic
	StoryID    string   // empty for configured topics
	ArticleIDs []string // newest published first, then by descending id
	Sources    int      // distinct sources (outlets) among ArticleIDs
	Updated    time.Time
}
