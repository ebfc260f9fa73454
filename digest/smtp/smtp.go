// Package smtp implements digest.Mailer with github.com/wneessen/go-mail:
// STARTTLS, implicit TLS or plain connections, SMTP AUTH, one connection
// per batch, and errors sorted into temporary (4xx, no reply) and
// permanent (5xx). It also writes digest messages as RFC 5322 bytes, which
// the outbox and previews use, so that what is previewed is what is sent.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/broadsheet/broadsheet/digest"
)

// TLS modes.
const (
	StartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLS      = "tls"      // implicit TLS from the first byte (SMTPS, port 465)
	None     = "none"     // no encryption: for a relay on localhost
)

// Options says how to reach the mail server.
type Options struct {
	Host     string
	Port     int // default 587, or 465 for TLS
	Username string
	Password string
	TLS      string        // StartTLS (default), TLS or None
	Timeout  time.Duration // connecting, and sending one message; default 30s
	// TLSConfig, if set, is used for STARTTLS and TLS (tests set RootCAs).
	// Its ServerName defaults to Host.
	TLSConfig *tls.Config
	// HELO is the name given in EHLO; default the host name.
	HELO string
}

// Mailer sends digests over SMTP. It is safe for concurrent use; each Open
// is a separate connection.
type Mailer struct {
	o Options
}

var (
	_ digest.Mailer = (*Mailer)(nil)
	_ digest.Sizer  = (*conn)(nil)
)

// New checks o and returns a Mailer. It does not connect.
func New(o Options) (*Mailer, error) {
	if o.Host == "" {
		return nil, errors.New("smtp: no host")
	}
	switch o.TLS {
	case "":
		o.TLS = StartTLS
	case StartTLS, TLS, None:
	default:
		return nil, fmt.Errorf("smtp: tls %q: want %s, %s or %s", o.TLS, StartTLS, TLS, None)
	}
	if o.Port == 0 {
		o.Port = 587
		if o.TLS == TLS {
			o.Port = 465
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Password != "" && o.Username == "" {
		return nil, errors.New("smtp: a password but no username")
	}
	return &Mailer{o: o}, nil
}

// Timeout is the longest one message takes to send, or a connection to
// open; a delivery's lease should be a few times longer.
func (m *Mailer) Timeout() time.Duration { return m.o.Timeout }

// Open connects, says EHLO, starts TLS and logs in. Errors are
// *digest.SendError: temporary when no answer came (refused, timed out,
// TLS failed), else as the server's reply code says.
func (m *Mailer) Open(ctx context.Context) (digest.Conn, error) {
	c := &conn{m: m}
	if err := c.dial(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// conn is one SMTP connection, redialled when it breaks.
type conn struct {
	m      *Mailer
	client *mail.Client
	smtp   *gosmtp.Client // client's session, kept to read its EHLO extensions
	// maxSize is the SIZE the server advertised (RFC 1870), 0 if none.
	maxSize int64

	mu  sync.Mutex
	raw net.Conn // the TCP (or TLS) connection, to interrupt it
}

func (c *conn) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.m.o.TLSConfig != nil {
		cfg = c.m.o.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = c.m.o.Host
	}
	return cfg
}

func (c *conn) dial(ctx context.Context) error {
	o := c.m.o
	opts := []mail.Option{
		mail.WithPort(o.Port),
		mail.WithTimeout(o.Timeout),
		mail.WithTLSConfig(c.tlsConfig()),
		// Our own dialer, to keep hold of the connection: go-mail takes
		// no context while sending, so a cancelled send closes it.
		mail.WithDialContextFunc(c.dialContext),
	}
	switch o.TLS {
	case TLS:
		opts = append(opts, mail.WithSSL())
	case None:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if o.HELO != "" {
		opts = append(opts, mail.WithHELO(o.HELO))
	}
	if o.Username != "" {
		// PLAIN and LOGIN go only over TLS (or to localhost): go-mail
		// refuses to send a password in the clear.
		opts = append(opts, mail.WithUsername(o.Username), mail.WithPassword(o.Password),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthPlain, mail.SMTPAuthLogin, mail.SMTPAuthCramMD5))
	}
	client, err := mail.NewClient(o.Host, opts...)
	if err != nil {
		return &digest.SendError{Err: fmt.Errorf("smtp client: %w", err)}
	}
	stop := context.AfterFunc(ctx, c.interrupt)
	sc, err := client.DialToSMTPClientWithContext(ctx)
	stop()
	if err != nil {
		c.closeRaw()
		return classify(fmt.Errorf("connect to %s: %w", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)), err), ctx)
	}
	c.client, c.smtp, c.maxSize = client, sc, 0
	if ok, p := sc.Extension("SIZE"); ok {
		// "SIZE" alone, or "SIZE 0", states no limit.
		if n, err := strconv.ParseInt(p, 10, 64); err == nil && n > 0 {
			c.maxSize = n
		}
	}
	return nil
}

// MaxSize is the largest message the server said it takes (EHLO SIZE),
// 0 if it said none. It dials if the connection was dropped, so that the
// limit is that of the server the next Send reaches.
func (c *conn) MaxSize(ctx context.Context) (int64, error) {
	if c.client == nil {
		if err := c.dial(ctx); err != nil {
			return 0, err
		}
	}
	return c.maxSize, nil
}

// Size is the size of m as sent: its RFC 5322 bytes, CRLF line ends.
func (c *conn) Size(m *digest.Message) (int64, error) {
	return Size(m)
}

// Size is the size of m as an RFC 5322 message, as Send and WriteMessage
// write it.
func Size(m *digest.Message) (int64, error) {
	g, err := Compose(m)
	if err != nil {
		return 0, err
	}
	return g.WriteTo(io.Discard)
}

func (c *conn) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: c.m.o.Timeout}
	var (
		nc  net.Conn
		err error
	)
	if c.m.o.TLS == TLS {
		nc, err = (&tls.Dialer{NetDialer: d, Config: c.tlsConfig()}).DialContext(ctx, network, addr)
	} else {
		nc, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.raw = nc
	c.mu.Unlock()
	return nc, nil
}

// interrupt makes the connection's pending and future reads and writes
// fail at once.
func (c *conn) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil {
		_ = c.raw.SetDeadline(time.Unix(1, 0))
	}
}

func (c *conn) closeRaw() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil {
		_ = c.raw.Close()
		c.raw = nil
	}
}

// drop forgets a connection that may be broken; the next Send dials.
func (c *conn) drop() {
	c.closeRaw()
	c.client, c.smtp = nil, nil
}

// Send hands m to the server. A connection that the server closed while
// idle is redialled; one that fails during the send is dropped and
// redialled by the next Send.
func (c *conn) Send(ctx context.Context, m *digest.Message) error {
	msg, err := Compose(m)
	if err != nil {
		return &digest.SendError{Err: err}
	}
	for attempt := 0; ; attempt++ {
		if c.client == nil {
			if err := c.dial(ctx); err != nil {
				return err
			}
		}
		stop := context.AfterFunc(ctx, c.interrupt)
		err = c.client.SendWithSMTPClient(c.smtp, msg)
		stop()
		if err == nil {
			return nil
		}
		if msg.IsDelivered() {
			// Accepted; only the RSET after it failed. Not an error for
			// this message, but the connection is suspect.
			c.drop()
			return nil
		}
		var se *mail.SendError
		if errors.As(err, &se) && se.Reason == mail.ErrConnCheck && attempt == 0 && ctx.Err() == nil {
			// The NOOP before the message failed: the server hung up
			// while we were idle. Nothing of this message was sent.
			c.drop()
			continue
		}
		out := classify(err, ctx)
		if out.Temporary {
			c.drop()
			return out
		}
		// go-mail resets the session after a refused MAIL or RCPT but not
		// after a refused DATA, and some servers keep that transaction
		// open: without an RSET the next message's MAIL gets "503 Bad
		// sequence of commands", failing a recipient for good who did
		// nothing wrong. If even RSET fails, start afresh.
		if rerr := c.client.ResetWithSMTPClient(c.smtp); rerr != nil {
			c.drop()
		}
		return out
	}
}

// Close says QUIT and closes the connection.
func (c *conn) Close() error {
	if c.client == nil {
		return nil
	}
	err := c.client.CloseWithSMTPClient(c.smtp)
	c.drop()
	return err
}

// classify turns a go-mail or network error into a *digest.SendError.
func classify(err error, ctx context.Context) *digest.SendError {
	if ctx.Err() != nil {
		return &digest.SendError{Temporary: true, Err: fmt.Errorf("%w (%v)", err, context.Cause(ctx))}
	}
	code := 0
	var se *mail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
		switch se.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return &digest.SendError{Code: code, Err: err}
		case mail.ErrSMTPRcptTo, mail.ErrSMTPData, mail.ErrSMTPDataClose:
			if code >= 500 {
				// This recipient or this message, not the session.
				return &digest.SendError{Code: code, Refused: true, Err: err}
			}
		}
	case errors.As(err, &te):
		code = te.Code
	}
	if code >= 500 {
		return &digest.SendError{Code: code, Err: err}
	}
	// 4xx, or no reply at all: a refused, dropped or timed-out connection.
	return &digest.SendError{Temporary: true, Code: code, Err: err}
}

// Compose builds the go-mail message for m: multipart/alternative with the
// text part first (clients show the last part they can), quoted-printable,
// UTF-8.
func Compose(m *digest.Message) (*mail.Msg, error) {
	g := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := g.From(m.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", m.From, err)
	}
	if err := g.To(m.To); err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	g.Subject(m.Subject)
	g.SetDateWithValue(m.Date)
	g.SetMessageIDWithValue(m.MessageID)
	if m.ListID != "" {
		g.SetGenHeaderPreformatted("List-Id", m.ListID)
	}
	if m.ListUnsubscribe != "" {
		g.SetGenHeaderPreformatted(mail.HeaderListUnsubscribe, m.ListUnsubscribe)
	}
	if m.ListUnsubscribePost != "" {
		g.SetGenHeaderPreformatted(mail.HeaderListUnsubscribePost, m.ListUnsubscribePost)
	}
	// RFC 3834: no vacation replies to a digest.
	g.SetGenHeader("Auto-Submitted", "auto-generated")
	g.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	g.SetUserAgent("broadsheet")
	g.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		g.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return g, nil
}

// WriteMessage writes m as an RFC 5322 message (an .eml file's contents).
func WriteMessage(w io.Writer, m *digest.Message) error {
	g, err := Compose(m)
	if err != nil {
		return err
	}
	_, err = g.WriteTo(w)
	return err
}
