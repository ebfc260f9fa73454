// Package outbox implements digest.Mailer by writing each message as an
// .eml file in a folder: the default when no SMTP server is configured, so
// that digests work with nothing else installed. A file appears whole or
// not at all (it is written under a temporary name, synced, and renamed),
// and its name derives from the message's Date and Message-ID, which every
// attempt of a delivery shares, so a repeated attempt replaces the file
// instead of adding a second one. The encoder comes from the caller (cmd
// passes digest/smtp's), so that a file is the message SMTP would send while
// this package imports only digest.
package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"

	"github.com/broadsheet/broadsheet/digest"
)

// Outbox writes messages to a folder. It is safe for concurrent use.
type Outbox struct {
	dir   string
	write WriteFunc
}

// WriteFunc writes m as an RFC 5322 message, an .eml file's contents. An
// error that is not about writing to w means m cannot be encoded.
type WriteFunc func(w io.Writer, m *digest.Message) error

var _ digest.Mailer = (*Outbox)(nil)

// New returns an Outbox writing to dir, which Open creates if needed, each
// message encoded by write.
func New(dir string, write WriteFunc) *Outbox { return &Outbox{dir: dir, write: write} }

// Dir is the folder written to.
func (o *Outbox) Dir() string { return o.dir }

// Open makes sure the folder exists.
func (o *Outbox) Open(ctx context.Context) (digest.Conn, error) {
	if err := os.MkdirAll(o.dir, 0o750); err != nil {
		return nil, &digest.SendError{Temporary: true, Err: fmt.Errorf("outbox: %w", err)}
	}
	return conn{o}, nil
}

type conn struct{ o *Outbox }

// Send writes m to its file. Errors are temporary (a full disk may have
// room later), except a message that cannot be encoded.
func (c conn) Send(ctx context.Context, m *digest.Message) error {
	if err := ctx.Err(); err != nil {
		return &digest.SendError{Temporary: true, Err: err}
	}
	path := filepath.Join(c.o.dir, FileName(m))
	tmp, err := os.CreateTemp(c.o.dir, ".tmp-*.eml")
	if err != nil {
		return &digest.SendError{Temporary: true, Err: fmt.Errorf("outbox: %w", err)}
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := c.o.write(tmp, m); err != nil {
		tmp.Close()
		if os.IsNotExist(err) || strings.Contains(err.Error(), "write") {
			return &digest.SendError{Temporary: true, Err: fmt.Errorf("outbox: %w", err)}
		}
		return &digest.SendError{Err: fmt.Errorf("outbox: %w", err)}
	}
	err = tmp.Sync()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o640)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(c.o.dir)
	}
	if err != nil {
		return &digest.SendError{Temporary: true, Err: fmt.Errorf("outbox: %w", err)}
	}
	return nil
}

func (c conn) Close() error { return nil }

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	return nil
}

func isUnsupported(err error) bool {
	return strings.Contains(err.Error(), "invalid argument") || strings.Contains(err.Error(), "not supported")
}

// FileName is the name m is written under: its Date, its recipient and a
// digest of its Message-ID, e.g.
// 20250302T220000Z-reader@example.com-3f2a9c1b.eml.
func FileName(m *digest.Message) string {
	rcpt := m.To
	if a, err := mail.ParseAddress(m.To); err == nil {
		rcpt = a.Address
	}
	var b strings.Builder
	for _, r := range rcpt {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("@._+-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	sum := sha256.Sum256([]byte(m.MessageID))
	return m.Date.UTC().Format("20060102T150405Z") + "-" + strings.Trim(b.String(), ".") + "-" + hex.EncodeToString(sum[:4]) + ".eml"
}
