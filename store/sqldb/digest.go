package sqldb

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

var _ store.DigestStore = (*DB)(nil)

const deliveryCols = `digest, recipient, period, seen_since, seen_before, created, state, articles, layout,
	message_id, attempts, owner, lease_until, next_attempt, last_error, sent_at`

// coveredStates are the states whose window counts as covered: sent, or
// still to be sent.
const coveredStates = `('sent', 'pending', 'sending', 'retry')`

func scanDelivery(sc interface{ Scan(...any) error }) (store.Delivery, error) {
	var (
		d                                   store.Delivery
		period, since, before, created, nxt int64
		lease, sent                         sql.NullInt64
		owner                               sql.NullString
		state, arts                         string
	)
	if err := sc.Scan(&d.Digest, &d.Recipient, &period, &since, &before, &created, &state, &arts, &d.Layout,
		&d.MessageID, &d.Attempts, &owner, &lease, &nxt, &d.LastError, &sent); err != nil {
		return d, err
	}
	var err error
	if d.Articles, err = fromJSON(arts); err != nil {
		return d, err
	}
	d.State = store.DeliveryState(state)
	d.Period = time.UnixMilli(period).UTC()
	d.SeenSince, d.SeenBefore, d.Created = time.UnixMilli(since).UTC(), time.UnixMilli(before).UTC(), time.UnixMilli(created).UTC()
	d.Owner = owner.String
	d.LeaseUntil, d.Sent = fromMS(lease), fromMS(sent)
	d.NextAttempt = fromMS(sql.NullInt64{Int64: nxt, Valid: true})
	return d, nil
}

// DigestCursor says where a recipient's next digest starts.
func (db *DB) DigestCursor(ctx context.Context, digest, recipient string) (store.DigestCursor, error) {
	var last, covered sql.NullInt64
	err := db.db.QueryRowContext(ctx, db.q(`SELECT MAX(period),
		MAX(CASE WHEN state IN `+coveredStates+` THEN seen_before END)
		FROM digest_deliveries WHERE digest = ? AND recipient = ?`), digest, recipient).Scan(&last, &covered)
	if err != nil {
		return store.DigestCursor{}, fmt.Errorf("digest cursor %s/%s: %w", digest, recipient, err)
	}
	return store.DigestCursor{LastPeriod: fromMS(last), CoveredUntil: fromMS(covered)}, nil
}

// PlanDelivery records d unless the recipient has a delivery of the same
// or a later period, or one (sent or still to be sent) whose window ends
// after d.SeenSince: d was chosen from a DigestCursor that another planner
// has since moved. Planners of one recipient are serialized (SQLite's
// write lock; an advisory transaction lock on PostgreSQL), so the check and
// the insert are one step.
func (db *DB) PlanDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	if d.Digest == "" || d.Recipient == "" {
		return false, errors.New("plan delivery: no digest or recipient")
	}
	if d.State != store.DeliveryPending && d.State != store.DeliveryEmpty {
		return false, fmt.Errorf("plan delivery: state %q: want pending or empty", d.State)
	}
	arts, err := toJSON(d.Articles)
	if err != nil {
		return false, err
	}
	inserted := false
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if db.dialect.Name == Postgres.Name {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('broadsheet.digest.' || $1 || chr(10) || $2, 0))",
				d.Digest, d.Recipient); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM digest_deliveries
			WHERE digest = ? AND recipient = ? AND (period >= ? OR (state IN `+coveredStates+` AND seen_before > ?))`),
			d.Digest, d.Recipient, d.Period.UnixMilli(), d.SeenSince.UnixMilli()).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		res, err := tx.ExecContext(ctx, db.q(`INSERT INTO digest_deliveries
			(digest, recipient, period, seen_since, seen_before, created, state, articles, layout, message_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (digest, recipient, period) DO NOTHING`),
			d.Digest, d.Recipient, d.Period.UnixMilli(), d.SeenSince.UnixMilli(), d.SeenBefore.UnixMilli(), d.Created.UnixMilli(),
			string(d.State), arts, d.Layout, d.MessageID)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		inserted = k == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("plan delivery %s/%s: %w", d.Digest, d.Recipient, err)
	}
	return inserted, nil
}

// ClaimDelivery leases one due delivery of digest to owner. The pick and
// the lease are one statement; on PostgreSQL the pick skips rows another
// claimer has locked, so concurrent claimers get different deliveries.
func (db *DB) ClaimDelivery(ctx context.Context, digest, owner string, now time.Time, lease time.Duration) (store.Delivery, error) {
	if owner == "" {
		return store.Delivery{}, errors.New("claim delivery: owner is empty")
	}
	if lease <= 0 {
		return store.Delivery{}, fmt.Errorf("claim delivery: lease %v is not positive", lease)
	}
	nowMS := now.UnixMilli()
	row := db.db.QueryRowContext(ctx, db.q(`UPDATE digest_deliveries
		SET state = 'sending', owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE (digest, recipient, period) IN (
			SELECT digest, recipient, period FROM digest_deliveries
			WHERE digest = ? AND (state = 'pending'
				OR (state = 'retry' AND next_attempt <= ?)
				OR (state = 'sending' AND lease_until < ?))
			ORDER BY period, recipient
			LIMIT 1`+db.dialect.ClaimLock+`)
		RETURNING `+deliveryCols),
		owner, now.Add(lease).UnixMilli(), digest, nowMS, nowMS)
	d, err := scanDelivery(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Delivery{}, fmt.Errorf("claim delivery of %s: %w", digest, feeds.ErrNotFound)
	}
	if err != nil {
		return store.Delivery{}, fmt.Errorf("claim delivery of %s: %w", digest, err)
	}
	return d, nil
}

// FinishDelivery records the outcome of owner's claimed delivery.
func (db *DB) FinishDelivery(ctx context.Context, k store.DeliveryKey, owner string, o store.DeliveryOutcome) error {
	switch o.State {
	case store.DeliverySent, store.DeliveryRetry, store.DeliveryFailed, store.DeliveryCancelled:
	default:
		return fmt.Errorf("finish delivery: state %q: want sent, retry, failed or cancelled", o.State)
	}
	var sentAt any
	if o.State == store.DeliverySent {
		sentAt = ms0(o.At)
	}
	res, err := db.db.ExecContext(ctx, db.q(`UPDATE digest_deliveries
		SET state = ?, owner = NULL, lease_until = NULL, last_error = ?, next_attempt = ?,
			sent_at = COALESCE(?, sent_at)
		WHERE digest = ? AND recipient = ? AND period = ? AND state = 'sending' AND owner = ?`),
		string(o.State), o.Error, ms0(o.NextAttempt), sentAt, k.Digest, k.Recipient, k.Period.UnixMilli(), owner)
	if err != nil {
		return fmt.Errorf("finish delivery %s/%s: %w", k.Digest, k.Recipient, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var n int
	if err := db.db.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM digest_deliveries
		WHERE digest = ? AND recipient = ? AND period = ?`), k.Digest, k.Recipient, k.Period.UnixMilli()).Scan(&n); err != nil {
		return fmt.Errorf("finish delivery %s/%s: %w", k.Digest, k.Recipient, err)
	}
	if n == 0 {
		return fmt.Errorf("finish delivery %s/%s at %v: %w", k.Digest, k.Recipient, k.Period, feeds.ErrNotFound)
	}
	return fmt.Errorf("finish delivery %s/%s at %v by %s: %w", k.Digest, k.Recipient, k.Period, owner, store.ErrLeaseLost)
}

// Deliveries lists deliveries matching f, latest period first.
func (db *DB) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	q := "SELECT " + deliveryCols + " FROM digest_deliveries WHERE 1 = 1"
	var args []any
	if f.Digest != "" {
		q += " AND digest = ?"
		args = append(args, f.Digest)
	}
	if f.Recipient != "" {
		q += " AND recipient = ?"
		args = append(args, f.Recipient)
	}
	if f.States != nil {
		if len(f.States) == 0 {
			return nil, nil
		}
		q += " AND state IN (" + marks(len(f.States)) + ")"
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	q += " ORDER BY period DESC, recipient"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := db.db.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return out, nil
}

// Unsubscribe records an unsubscription; the first one is kept.
func (db *DB) Unsubscribe(ctx context.Context, digest, address string, at time.Time) error {
	if _, err := db.db.ExecContext(ctx, db.q(`INSERT INTO digest_unsubscriptions (digest, address, created)
		VALUES (?, ?, ?) ON CONFLICT (digest, address) DO NOTHING`), digest, address, ms0(at)); err != nil {
		return fmt.Errorf("unsubscribe %s from %s: %w", address, digest, err)
	}
	return nil
}

// Resubscribe forgets an unsubscription and reports whether there was one.
func (db *DB) Resubscribe(ctx context.Context, digest, address string) (bool, error) {
	res, err := db.db.ExecContext(ctx, db.q("DELETE FROM digest_unsubscriptions WHERE digest = ? AND address = ?"), digest, address)
	if err != nil {
		return false, fmt.Errorf("resubscribe %s to %s: %w", address, digest, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Unsubscribed lists the addresses unsubscribed from digest, sorted.
func (db *DB) Unsubscribed(ctx context.Context, digest string) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, db.q("SELECT address FROM digest_unsubscriptions WHERE digest = ? ORDER BY address"), digest)
	if err != nil {
		return nil, fmt.Errorf("unsubscribed from %s: %w", digest, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DigestSecret returns the stored unsubscribe key, storing candidate if
// there is none yet; concurrent first callers all get the winner's.
func (db *DB) DigestSecret(ctx context.Context, candidate []byte) ([]byte, error) {
	if len(candidate) == 0 {
		return nil, errors.New("digest secret: empty candidate")
	}
	if _, err := db.db.ExecContext(ctx, db.q(`INSERT INTO digest_secrets (name, value, created)
		VALUES ('unsubscribe', ?, ?) ON CONFLICT (name) DO NOTHING`), hex.EncodeToString(candidate), db.now().UnixMilli()); err != nil {
		return nil, fmt.Errorf("digest secret: %w", err)
	}
	var v string
	if err := db.db.QueryRowContext(ctx, "SELECT value FROM digest_secrets WHERE name = 'unsubscribe'").Scan(&v); err != nil {
		return nil, fmt.Errorf("digest secret: %w", err)
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("digest secret: stored value is not hex: %v", err)
	}
	return b, nil
}
