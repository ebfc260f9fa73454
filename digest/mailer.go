package digest

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// Sizer is a Conn whose mail system limits the size of a message. The
// deliver loop finds it by type assertion and trims a digest to fit (see
// fit).
type Sizer interface {
	// MaxSize is the largest message, in bytes, the mail system takes,
	// as it stated it (SMTP's EHLO SIZE); 0 if it stated none. An error
	// is a *SendError.
	MaxSize(ctx context.Context) (int64, error)
	// Size is the size of m as it would be sent.
	Size(m *Message) (int64, error)
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
	// Refused reports a permanent refusal of this message or this
	// recipient (a 5xx reply to RCPT or to the message), as opposed to one
	// of the session (MAIL FROM, AUTH), which says nothing of the content.
	// The recipient's next digest then starts after this one's items
	// rather than offer them, and be refused, again.
	Refused bool
	Err     error
}

func (e *SendError) Error() string {
	kind := permanentPrefix
	switch {
	case e.Temporary:
		kind = "temporary failure"
	case e.Refused:
		kind = refusedPrefix
	}
	if e.Code != 0 {
		return fmt.Sprintf("%s (%d): %v", kind, e.Code, e.Err)
	}
	return fmt.Sprintf("%s: %v", kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// tooBig reports whether err is the mail system refusing a message for its
// size: 552 (RFC 5321: exceeded storage allocation, which RFC 1870 uses for
// a message over SIZE), or a reply with the enhanced code 5.3.4.
func tooBig(err error) bool {
	var se *SendError
	if !errors.As(err, &se) || se.Temporary {
		return false
	}
	return se.Code == 552 || strings.Contains(se.Err.Error(), "5.3.4")
}

// permanentPrefix starts the recorded error of a delivery that a mail
// system refused for good (SendError.Error), as opposed to one given up
// after temporary failures.
const permanentPrefix = "permanent failure"

// refusedPrefix starts the recorded error of a delivery whose message or
// recipient the mail system refused for good (SendError.Refused): what
// plan looks for to start the next window after that delivery's.
const refusedPrefix = permanentPrefix + ", refused by the mail server"

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
