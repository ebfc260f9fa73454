package topics

// Kind tells configured topics from automatic stories.
type Kind string

const (
	// KindConfigured is a topic the user defined by rules (Matcher).
	KindConfigured Kind = "configured"
	// KindStory is a story found by the Clusterer.
	KindStory Kind = "story"
)

// Topic names a group of articles, configured or found, for listings,
// feeds and digests.
type Topic struct {
	Slug  string `json:"slug"`
	Label string `json:"label"` // the configured name, or the story's most central headline
	Kind  Kind   `json:"kind"`
}

// Topic returns the cluster as a Topic.
func (g Cluster) Topic() Topic {
	return Topic{Slug: g.Slug, Label: g.Label, Kind: KindStory}
}
