package sqldb

import (
	"context"
	"database/sql"
	"fmt"
)

// DataVersion returns a stamp of the stored articles that changes when one
// is added or removed, or updated with a newer Updated date, whichever
// process or replica did it: the count, the newest first_seen and the
// newest updated. An edit that keeps the Updated date does not change it.
// publish polls it every few seconds to notice other replicas' polls.
func (db *DB) DataVersion(ctx context.Context) (string, error) {
	var n int64
	var seen, upd sql.NullInt64
	err := db.db.QueryRowContext(ctx, "SELECT COUNT(*), MAX(first_seen), MAX(updated) FROM articles").Scan(&n, &seen, &upd)
	if err != nil {
		return "", fmt.Errorf("data version: %w", err)
	}
	return fmt.Sprintf("%d.%d.%d", n, seen.Int64, upd.Int64), nil
}
