// Package store defines the contract that every broadsheet storage backend
// meets (the embedded SQLite store and PostgreSQL), with the filter types its
// queries take. The conformance suite in store/storetest checks a backend
// against it.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// Store is the whole contract of a backend. Implementations are safe for
// concurrent use, and for use by several processes sharing one database.
type Store interface {
	feeds.PollStore
	feeds.Claimer
	TopicStore
	DigestStore
	Locks
	Retainer

	// SyncSources records the configured sources: new ones become due at
	// once, changed URLs are updated (forgetting the old URL's validators,
	// and due at once), and sources no longer configured are marked
	// inactive (their articles stay). It owns each source's URL and
	// activity: SavePoll sets them only for a source it has never seen.
	SyncSources(ctx context.Context, srcs []feeds.Source) error
	// SourceStates lists every known source's state, active or not, with
	// its article count, ordered by name.
	SourceStates(ctx context.Context) ([]feeds.SourceState, error)
	// SourceCounts sums up the active sources' states in one query,
	// whatever their number, for health checks and status lines.
	SourceCounts(ctx context.Context) (SourceCounts, error)

	// Article returns one article by id, or an error wrapping
	// feeds.ErrNotFound.
	Article(ctx context.Context, id string) (feeds.Article, error)
	// Articles lists articles matching f, newest published first.
	Articles(ctx context.Context, f ArticleFilter) ([]feeds.Article, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// SourceCounts sums up the states of the active sources.
type SourceCounts struct {
	Sources int // active sources
	Polled  int // of which attempted at least once
	Failing int // of which the last attempt failed (Failures > 0)
	// LastAttempt and LastSuccess are the latest of any active source;
	// zero when there is none.
	LastAttempt, LastSuccess time.Time
}

// ArticleFilter selects articles. Zero fields select everything; a list that
// is empty but not nil selects nothing. Limit <= 0 means no limit.
type ArticleFilter struct {
	IDs            []string
	Sources        []string     // by Source.Name
	Kinds          []feeds.Kind // e.g. only editorials
	PublishedSince time.Time
	SeenSince      time.Time // FirstSeen at or after
	SeenBefore     time.Time // FirstSeen before
	Limit          int
}

// ErrReadOnly is wrapped by the errors of a backend that cannot write:
// a database opened read-only, a file or folder this process may not
// write, or a PostgreSQL role or server that refuses writes.
var ErrReadOnly = errors.New("the database is read-only")

// ErrNotMigrated is wrapped by the errors of a backend opened read-only on
// a schema older than this version's: a command that writes migrates it.
var ErrNotMigrated = errors.New("the database schema is older than this version of broadsheet: a command that writes (broadsheet fetch, or run) migrates it")
