// Package topics groups articles: into the topics a user configured, by
// deterministic phrase rules (Matcher), and into automatic stories, "the
// same story from several outlets", by incremental TF-IDF clustering over a
// sliding time window (Clusterer). Both share one text analysis: Unicode
// normalization with accents stripped and case folded, English stop words
// and Snowball stems, character bigrams for Chinese, Japanese and Korean,
// and extra weight for names, acronyms and numbers. The package does no
// I/O; callers persist what it returns.
package topics
