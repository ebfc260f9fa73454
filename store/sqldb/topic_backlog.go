package sqldb

import (
	"context"
	"fmt"
)

// PendingTopicCount counts the articles not yet assigned to topics (those
// PendingTopicArticles would return), by the topics_done index, for the
// backlog metric.
func (db *DB) PendingTopicCount(ctx context.Context) (int, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM articles WHERE topics_done = 0").Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending topic articles: %w", err)
	}
	return n, nil
}
