package feeds

import (
	"context"
	"fmt"
	"time"
)

// Fetcher retrieves one source and parses it into normalized articles. It
// sends the validators in prev so that an unchanged feed costs a 304. A
// Fetcher must be safe for concurrent use.
type Fetcher interface {
	Fetch(ctx context.Context, src Source, prev SourceState) (*FetchResult, error)
}

// FetchResult is the outcome of one successful request.
type FetchResult struct {
	Status       int
	NotModified  bool // 304: nothing was parsed and nothing is to be stored
	ETag         string
	LastModified string
	Articles     []Article
	Dropped      int // items beyond the per-fetch cap, not stored this time
	// Skipped counts the items left out because they could not be read
	// (a JSON Feed item with a wrongly typed field); the others are kept.
	// SkipReasons says why, for the first few.
	Skipped     int
	SkipReasons []string
}

// FetchError is a failed fetch, described in words a user can act on. Fetchers
// return it (possibly wrapped) for every failure.
type FetchError struct {
	URL        string
	Status     int           // HTTP status, 0 when none was received
	RetryAfter time.Duration // what the server asked for with 429 or 503
	Reason     string        // what went wrong and what to do, for people
	Err        error         // the underlying cause, if any
}

func (e *FetchError) Error() string {
	if e.Err != nil && e.Reason == "" {
		return fmt.Sprintf("fetch %s: %v", e.URL, e.Err)
	}
	return fmt.Sprintf("fetch %s: %s", e.URL, e.Reason)
}

func (e *FetchError) Unwrap() error { return e.Err }
