// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests: STARTTLS or implicit TLS with a certificate made for
// the test, AUTH PLAIN, a SIZE limit, messages recorded, and a hook that can
// refuse a command, drop the connection in the middle of DATA, or block.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes, as in digest/smtp.
const (
	StartTLS = "starttls"
	TLS      = "tls"
	None     = "none"
)

// ErrDrop, returned by a Hook at the "data" stage, makes the server read
// part of the message and then close the connection without a reply.
var ErrDrop = errors.New("smtptest: drop the connection mid-DATA")

// Reply returns an SMTP error reply with code, for Hooks.
func Reply(code int, msg string) error {
	return &smtp.SMTPError{Code: code, Message: msg}
}

// Options configures a Server.
type Options struct {
	TLS      string // StartTLS (default), TLS or None
	Username string // AUTH PLAIN required when set
	Password string
	// Hook, if set, is called at each MAIL ("mail"), RCPT ("rcpt") and
	// before reading DATA ("data"). A non-nil error is the reply (use
	// Reply, or ErrDrop at "data"). It may block.
	Hook func(ev Event) error
	// Discard keeps messages' envelopes but not their data, for
	// benchmarks that send thousands.
	Discard bool
	// MaxMessageBytes is the SIZE the server advertises in its EHLO reply
	// and enforces (552 5.3.4 past it). Default 16 MiB.
	MaxMessageBytes int64
	// HideSize makes the server advertise no SIZE (a bare "SIZE") while
	// still refusing a message past MaxMessageBytes with 552 5.3.4 at the
	// end of DATA, as servers behind a proxy, or with a limit lower than
	// they say, do.
	HideSize bool
	// Check, if set, sees each message once its data is read, as a
	// content filter does, and may refuse it: a non-nil error is the
	// reply to the end of DATA (use Reply).
	Check func(m Message) error
	// RsetAfterFailure makes the server keep a transaction whose message
	// it refused open until the client says RSET, as some servers do: a
	// MAIL before that is answered 503 5.5.1 Bad sequence of commands.
	// (go-smtp itself ends the transaction with its reply to DATA.)
	RsetAfterFailure bool
}

// Event is a command the Hook sees.
type Event struct {
	Stage string // mail, rcpt, data
	From  string
	To    []string // recipients so far
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running SMTP server.
type Server struct {
	Host    string
	Port    int
	RootCAs *x509.CertPool // trusts the server's certificate

	o   Options
	srv *smtp.Server
	ln  net.Listener

	mu     sync.Mutex
	msgs   []Message
	conns  int
	auths  int
	tooBig int
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.TLS == "" {
		o.TLS = StartTLS
	}
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{o: o, RootCAs: pool}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 16 << 20
	}
	srv.MaxMessageBytes = o.MaxMessageBytes
	if o.HideSize {
		srv.MaxMessageBytes = 0 // session.Data enforces it
	}
	srv.AllowInsecureAuth = o.TLS == None
	srv.ErrorLog = log.New(io.Discard, "", 0) // dropped connections are what tests do
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener = &counting{Listener: tcp, s: s}
	switch o.TLS {
	case StartTLS:
		srv.TLSConfig = tlsCfg
	case TLS:
		ln = tls.NewListener(ln, tlsCfg)
	}
	s.srv, s.ln = srv, ln
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Conns returns how many connections the server has had.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Auths returns how many logins succeeded.
func (s *Server) Auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// TooBig returns how many messages the server refused under HideSize for
// being over MaxMessageBytes.
func (s *Server) TooBig() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooBig
}

// Close stops the server, closing its connections.
func (s *Server) Close() error { return s.srv.Close() }

// NewSession implements smtp.Backend. go-smtp calls it again after
// STARTTLS, so connections are counted by the listener.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, c: c}, nil
}

// counting counts the connections it accepts.
type counting struct {
	net.Listener
	s *Server
}

func (l *counting) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

type session struct {
	s      *Server
	c      *smtp.Conn
	authed bool
	from   string
	to     []string
	// refused is set when DATA fails under RsetAfterFailure; stale, from
	// go-smtp's reset that follows, until an RSET.
	refused, stale bool
}

var _ smtp.AuthSession = (*session)(nil)

func (x *session) AuthMechanisms() []string {
	if x.s.o.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.o.Username || password != x.s.o.Password {
			return smtp.ErrAuthFailed
		}
		x.authed = true
		x.s.mu.Lock()
		x.s.auths++
		x.s.mu.Unlock()
		return nil
	}), nil
}

func (x *session) hook(stage string) error {
	if x.s.o.Hook == nil {
		return nil
	}
	return x.s.o.Hook(Event{Stage: stage, From: x.from, To: append([]string(nil), x.to...)})
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.o.Username != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	if x.stale {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Bad sequence of commands: RSET first"}
	}
	x.from = from
	return x.hook("mail")
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	if err := x.hook("rcpt"); err != nil {
		x.to = x.to[:len(x.to)-1]
		return err
	}
	return nil
}

func (x *session) Data(r io.Reader) (err error) {
	defer func() { x.refused = err != nil && x.s.o.RsetAfterFailure }()
	err = x.hook("data")
	if errors.Is(err, ErrDrop) {
		_, _ = io.CopyN(io.Discard, r, 200)
		_ = x.c.Close()
		return err
	}
	b, rerr := io.ReadAll(r)
	if err != nil {
		return err
	}
	if rerr != nil {
		return rerr
	}
	if x.s.o.HideSize && int64(len(b)) > x.s.o.MaxMessageBytes {
		x.s.mu.Lock()
		x.s.tooBig++
		x.s.mu.Unlock()
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too big"}
	}
	m := Message{From: x.from, To: append([]string(nil), x.to...), Data: b}
	if x.s.o.Check != nil {
		if err := x.s.o.Check(m); err != nil {
			return err
		}
	}
	if x.s.o.Discard {
		m.Data = nil
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, m)
	x.s.mu.Unlock()
	return nil
}

// Reset is called by go-smtp at RSET and after each DATA.
func (x *session) Reset() {
	x.from, x.to = "", nil
	x.stale, x.refused = x.refused, false
}

func (x *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
