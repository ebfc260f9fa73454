package store

import (
	"context"
	"errors"
	"time"
)

// DigestStore records digest deliveries, unsubscriptions and the secret
// that signs unsubscribe links. Each (digest, recipient, period) has at
// most one delivery, which is how a digest is sent at most once per period;
// a delivery is claimed with a lease before it is sent and finished after,
// which is how replicas sharing a database never send the same one at once.
// Implementations are safe for concurrent use by several processes.
type DigestStore interface {
	// DigestCursor says where a recipient's next digest starts. Both times
	// are zero for a recipient never planned.
	DigestCursor(ctx context.Context, digest, recipient string) (DigestCursor, error)
	// PlanDelivery records d, whose State is DeliveryPending or
	// DeliveryEmpty, unless the same digest and recipient already have a
	// delivery whose period is at or after d.Period, or one sent or still
	// to be sent whose SeenBefore is after d.SeenSince (d was chosen from
	// a cursor that another planner has moved since). The check and the
	// insert are atomic. It reports whether it recorded d. Owner,
	// LeaseUntil, Attempts, LastError, NextAttempt and Sent are ignored.
	PlanDelivery(ctx context.Context, d Delivery) (bool, error)
	// ClaimDelivery leases to owner, until now+lease, one delivery of
	// digest that is due: pending, or retry with NextAttempt not after now,
	// or sending with an expired lease. It takes the earliest period first
	// (then recipient), sets State to DeliverySending, Owner and LeaseUntil,
	// adds one to Attempts and returns the result. Concurrent claimers, in
	// this process or another, never get the same delivery. It returns an
	// error wrapping feeds.ErrNotFound when none is due.
	ClaimDelivery(ctx context.Context, digest, owner string, now time.Time, lease time.Duration) (Delivery, error)
	// FinishDelivery records the outcome of a delivery that owner claimed.
	// If the delivery is no longer sending under owner's lease (it lapsed
	// and another claimer took it), nothing changes and the error wraps
	// ErrLeaseLost; an unknown key wraps feeds.ErrNotFound.
	FinishDelivery(ctx context.Context, k DeliveryKey, owner string, o DeliveryOutcome) error
	// Deliveries lists deliveries matching f, latest period first, then by
	// recipient.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)

	// Unsubscribe records that address wants no more of digest. It is
	// idempotent: the first time is kept.
	Unsubscribe(ctx context.Context, digest, address string, at time.Time) error
	// Resubscribe forgets an unsubscription and reports whether there was
	// one.
	Resubscribe(ctx context.Context, digest, address string) (bool, error)
	// Unsubscribed lists the addresses unsubscribed from digest, sorted.
	Unsubscribed(ctx context.Context, digest string) ([]string, error)

	// DigestSecret returns the key that signs unsubscribe links: the one
	// stored, or else candidate, which it stores. Every caller, in any
	// process, gets the same key.
	DigestSecret(ctx context.Context, candidate []byte) ([]byte, error)
}

// ErrLeaseLost is returned when a lease lapsed and another claimer took over
// what its holder was doing.
var ErrLeaseLost = errors.New("lease lost")

// DeliveryState is where one digest delivery stands.
type DeliveryState string

// Delivery states. Pending, sending and retry are unfinished; the others
// are final.
const (
	DeliveryPending   DeliveryState = "pending"   // planned, not yet attempted
	DeliverySending   DeliveryState = "sending"   // claimed by Owner until LeaseUntil
	DeliveryRetry     DeliveryState = "retry"     // failed for now; due again at NextAttempt
	DeliverySent      DeliveryState = "sent"      // accepted by the mail server or written to the outbox
	DeliveryFailed    DeliveryState = "failed"    // refused for good, or given up; never retried
	DeliveryEmpty     DeliveryState = "empty"     // nothing to send, and empty digests are not sent
	DeliveryCancelled DeliveryState = "cancelled" // the recipient unsubscribed before it went out
)

// DeliveryKey names one delivery: a digest, a recipient's address and the
// period (the scheduled time) it belongs to.
type DeliveryKey struct {
	Digest    string
	Recipient string
	Period    time.Time // stored to the millisecond
}

// Delivery is one digest for one recipient and one period: what it holds,
// chosen once when it is planned so that every attempt sends the same, and
// how sending it went.
type Delivery struct {
	DeliveryKey
	// The content was chosen from articles first seen in [SeenSince,
	// SeenBefore).
	SeenSince  time.Time
	SeenBefore time.Time
	Created    time.Time // when it was planned; the message's Date
	State      DeliveryState
	Articles   []string // the chosen article ids
	Layout     string   // how the digest arranges Articles; opaque to the store
	MessageID  string   // the same for every attempt
	Attempts   int
	Owner      string    // the claimer while sending
	LeaseUntil time.Time // while sending
	// NextAttempt is when a retry is due.
	NextAttempt time.Time
	LastError   string
	Sent        time.Time // when State became sent
}

// DeliveryOutcome is how an attempt ended.
type DeliveryOutcome struct {
	State       DeliveryState // sent, retry, failed or cancelled
	At          time.Time     // when; it becomes Sent for DeliverySent
	Error       string        // for retry and failed
	NextAttempt time.Time     // for retry
}

// DigestCursor is where a recipient's next digest starts.
type DigestCursor struct {
	// LastPeriod is the latest period of any of the recipient's deliveries.
	LastPeriod time.Time
	// CoveredUntil is the latest SeenBefore among the deliveries sent or
	// still to be sent (pending, sending, retry): the next digest holds
	// what was first seen from then on.
	CoveredUntil time.Time
}

// DeliveryFilter selects deliveries. Zero fields select everything.
type DeliveryFilter struct {
	Digest    string
	Recipient string
	States    []DeliveryState
	Limit     int
}
