package digest

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Mailer hands messages to a mail system: an SMTP server (digest/smtp) or
// an outbox folder (digest/outbox).
type Mailer interface {
	// Open starts a batch: one connection, reused for each message sent
	// through the Conn until it is closed. An error is a *SendError.
	Open(ctx context.Context) (Conn, error)
}

// Conn sends the messages of one batch. It is used by one goroutine.
type Conn interface {
	// Send hands m over. It returns once the mail system has accepted m,
	// or with an error, which is a *SendError saying whether a later
	// attempt may succeed. A Conn recovers from errors by itself (it
	// reconnects when it must), so the batch can go on.
	Send(ctx context.Context, m *Message) error
	// Close ends the batch.
	Close() error
}

// Message is one rendered digest for one recipient.
type Message struct {
	From      string // "Name <address>"
	To        string // as configured
	Subject   string
	Date      time.Time
	MessageID string // without angle brackets

	// Header values, ready to write (RFC 2047 already applied).
	ListID              string
	ListUnsubscribe     string
	ListUnsubscribePost string // "List-Unsubscribe=One-Click" or empty

	Text string // the text/plain part
	HTML string // the text/html part
}

// SendError is a failed attempt at handing over a message.
type SendError struct {
	// Temporary reports whether a later attempt may succeed: a 4xx reply,
	// or no reply at all (refused, dropped or timed out connection).
	Temporary bool
	// Code is the mail server's reply code, 0 if there was no reply.
	Code int
	Err  error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	if e.Code != 0 {
		return fmt.Sprintf("%s failure (%d): %v", kind, e.Code, e.Err)
	}
	return fmt.Sprintf("%s failure: %v", kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsTemporary reports whether err is worth retrying: a temporary
// *SendError, or any error that is not a *SendError (a local problem such
// as a cancelled context is not the recipient's fault).
func IsTemporary(err error) bool {
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary
	}
	return true
}
