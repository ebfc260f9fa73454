package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// bumpArticles adds one to the counter of article changes. SavePoll runs it
// in the transaction that inserts or edits articles, so the new value and
// the change become visible together.
const bumpArticles = `INSERT INTO counters (name, value) VALUES ('articles', 1)
	ON CONFLICT (name) DO UPDATE SET value = counters.value + 1`

// bumpSource adds one to a source's articles_version, in the same
// transaction as bumpArticles.
const bumpSource = `UPDATE sources SET articles_version = articles_version + 1 WHERE name = ?`

// DataVersion returns a stamp of the stored articles that changes whenever
// one is inserted or edited, by whichever process or replica, even an edit
// that keeps the Updated date. It reads one counter row by its primary key,
// whatever the number of articles: publish polls it every few seconds on
// every replica to notice the others' polls.
func (db *DB) DataVersion(ctx context.Context) (string, error) {
	var v int64
	err := db.db.QueryRowContext(ctx, "SELECT value FROM counters WHERE name = 'articles'").Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("data version: %w", err)
	}
	return strconv.FormatInt(v, 10), nil
}
