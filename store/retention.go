package store

import (
	"context"
	"time"
)

// Retainer deletes what is older than a retention period. Both backends
// implement it; the daemon runs it daily under a lock, so that one replica
// does it.
type Retainer interface {
	// Retain deletes the articles first seen and published before cutoff,
	// with their topic memberships, except those that a delivery not yet
	// finished (pending, sending or retry) lists, since that digest must
	// still send exactly what it planned. Story topics left with no member
	// go too; configured topics stay. It deletes the deliveries whose
	// period is before cutoff except the unfinished ones and, for each
	// digest and recipient, the latest one, the latest one sent or to be
	// sent and the latest one sent: those are what DigestCursor and
	// PlanDelivery read, so a period already sent is never planned again. An article it deletes
	// that a feed still lists is not stored again by SavePoll: one
	// published before the cutoff is refused, and one with no date of its
	// own is remembered by id.
	//
	// It works in batches, each its own transaction, so that polls are
	// held up briefly; an error leaves the batches done so far deleted,
	// and running it again carries on. It is safe to run concurrently
	// with everything else, by any process.
	Retain(ctx context.Context, cutoff time.Time) (RetainStats, error)
}

// RetainStats counts what one Retain run did.
type RetainStats struct {
	Articles   int // articles deleted
	Held       int // articles older than the cutoff kept for an unfinished delivery
	Topics     int // story topics deleted, left with no member
	Deliveries int // delivery records deleted
	Retired    int // deleted articles with no date of their own, remembered by id
}
