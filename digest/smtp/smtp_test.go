package smtp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
)

func message(to string) *digest.Message {
	return &digest.Message{
		From:                "Broadsheet <digest@news.example.org>",
		To:                  to,
		Subject:             "Editorials for Monday: 서울 & more",
		Date:                time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC),
		MessageID:           "digest.daily.0123456789abcdef.20250302T220000.000Z@news.example.org",
		ListID:              "broadsheet daily digest <daily.news.example.org>",
		ListUnsubscribe:     "<https://news.example.org/unsubscribe/abc.def>",
		ListUnsubscribePost: "List-Unsubscribe=One-Click",
		Text:                "Plain text, with a long line that goes on and on " + strings.Repeat("and on ", 20) + "\nand ünïcödé.\n",
		HTML:                "<!DOCTYPE html><html><body><p>HTML &amp; ünïcödé</p></body></html>",
	}
}

// parsed is a received message taken apart.
type parsed struct {
	header *mail.Message
	parts  map[string]string // content type → decoded body
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	p := parsed{header: m, parts: map[string]string{}}
	r := multipart.NewReader(m.Body, params["boundary"])
	var order []string
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		var body io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			// multipart.Reader decodes it itself and drops the header,
			// so this is for other encoders only.
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		p.parts[ct] = strings.ReplaceAll(string(b), "\r\n", "\n")
		order = append(order, ct)
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", order)
	}
	return p
}

func newMailer(t *testing.T, srv *smtptest.Server, o smtp.Options) *smtp.Mailer {
	t.Helper()
	o.Host, o.Port = srv.Host, srv.Port
	if o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{RootCAs: srv.RootCAs}
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	m, err := smtp.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMailer_Send(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  smtptest.Options
		opts smtp.Options
	}{
		{"StartTLSAuth", smtptest.Options{TLS: smtptest.StartTLS, Username: "bs", Password: "s3cret"}, smtp.Options{TLS: smtp.StartTLS, Username: "bs", Password: "s3cret"}},
		{"ImplicitTLSAuth", smtptest.Options{TLS: smtptest.TLS, Username: "bs", Password: "s3cret"}, smtp.Options{TLS: smtp.TLS, Username: "bs", Password: "s3cret"}},
		{"Plain", smtptest.Options{TLS: smtptest.None}, smtp.Options{TLS: smtp.None}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.srv)
			m := newMailer(t, srv, tc.opts)
			c, err := m.Open(t.Context())
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			for _, to := range []string{"a@example.com", `"Bé" <b@example.com>`, "c@example.com"} {
				if err := c.Send(t.Context(), message(to)); err != nil {
					t.Fatalf("Send to %s: %v", to, err)
				}
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 3 {
				t.Fatalf("server got %d messages, want 3", len(msgs))
			}
			if srv.Conns() != 1 {
				t.Errorf("%d connections, want 1 reused for the batch", srv.Conns())
			}
			if tc.srv.Username != "" && srv.Auths() != 1 {
				t.Errorf("%d logins, want 1", srv.Auths())
			}
			if got := msgs[1].To; len(got) != 1 || got[0] != "b@example.com" {
				t.Errorf("RCPT %v, want b@example.com", got)
			}
			if msgs[0].From != "digest@news.example.org" {
				t.Errorf("MAIL FROM %q", msgs[0].From)
			}
			p := parse(t, msgs[1].Data)
			h := p.header.Header
			dec := new(mime.WordDecoder)
			subj, _ := dec.DecodeHeader(h.Get("Subject"))
			want := message("")
			for _, hc := range []struct{ name, got, want string }{
				{"Subject", subj, want.Subject},
				{"Message-ID", h.Get("Message-ID"), "<" + want.MessageID + ">"},
				{"List-Id", h.Get("List-Id"), want.ListID},
				{"List-Unsubscribe", h.Get("List-Unsubscribe"), want.ListUnsubscribe},
				{"List-Unsubscribe-Post", h.Get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"},
				{"Auto-Submitted", h.Get("Auto-Submitted"), "auto-generated"},
				{"MIME-Version", h.Get("MIME-Version"), "1.0"},
			} {
				if hc.got != hc.want {
					t.Errorf("%s: got %q, want %q", hc.name, hc.got, hc.want)
				}
			}
			if d, err := h.Date(); err != nil || !d.Equal(want.Date) {
				t.Errorf("Date %v (%v), want %v", d, err, want.Date)
			}
			if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Name != "Bé" || to[0].Address != "b@example.com" {
				t.Errorf("To %v (%v)", to, err)
			}
			if p.parts["text/plain"] != want.Text {
				t.Errorf("text part %q, want %q", p.parts["text/plain"], want.Text)
			}
			if p.parts["text/html"] != want.HTML {
				t.Errorf("html part %q, want %q", p.parts["text/html"], want.HTML)
			}
			for i, l := range strings.Split(string(msgs[1].Data), "\n") {
				if len(l) > 998 {
					t.Errorf("line %d is %d bytes long, over SMTP's limit", i, len(l))
				}
			}
		})
	}
}

func TestMailer_Errors(t *testing.T) {
	t.Run("Permanent550KeepsConnection", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None, Hook: func(ev smtptest.Event) error {
			if ev.Stage == "rcpt" && ev.To[len(ev.To)-1] == "gone@example.com" {
				return smtptest.Reply(550, "no such user")
			}
			return nil
		}})
		c, err := newMailer(t, srv, smtp.Options{TLS: smtp.None}).Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		err = c.Send(t.Context(), message("gone@example.com"))
		var se *digest.SendError
		if !errors.As(err, &se) || se.Temporary || se.Code != 550 {
			t.Fatalf("error %v, want a permanent 550", err)
		}
		if err := c.Send(t.Context(), message("a@example.com")); err != nil {
			t.Fatalf("next Send: %v", err)
		}
		if srv.Conns() != 1 || len(srv.Messages()) != 1 {
			t.Errorf("conns %d, messages %d; want 1, 1", srv.Conns(), len(srv.Messages()))
		}
	})
	for _, tc := range []struct {
		name, stage string
		reply       error
		code        int
	}{
		{"Temporary451AtData", "data", smtptest.Reply(451, "try later"), 451},
		{"Temporary421AtMail", "mail", smtptest.Reply(421, "too busy"), 421},
		{"DropMidData", "data", smtptest.ErrDrop, 0},
		{"Permanent554AtData", "data", smtptest.Reply(554, "rejected"), 554},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			failed := false
			srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.StartTLS, Hook: func(ev smtptest.Event) error {
				mu.Lock()
				defer mu.Unlock()
				if ev.Stage == tc.stage && !failed {
					failed = true
					return tc.reply
				}
				return nil
			}})
			c, err := newMailer(t, srv, smtp.Options{}).Open(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Send(t.Context(), message("a@example.com"))
			var se *digest.SendError
			if !errors.As(err, &se) || se.Temporary != (tc.code < 500) || se.Code != tc.code {
				t.Fatalf("error %#v, want code %d, temporary %v", err, tc.code, tc.code < 500)
			}
			// The same Conn goes on, reconnecting if it must.
			if err := c.Send(t.Context(), message("a@example.com")); err != nil {
				t.Fatalf("second Send: %v", err)
			}
			if n := len(srv.Messages()); n != 1 {
				t.Errorf("server has %d messages, want 1", n)
			}
		})
	}
	// A server that keeps a refused transaction open until RSET answers
	// the next MAIL with 503: the next recipient must not pay for it.
	for _, tc := range []struct {
		name, stage string
		reply       error
	}{
		{"ResetAfterRefusedData", "data", smtptest.Reply(554, "5.6.0 content rejected")},
		{"ResetAfterRefusedSize", "data", smtptest.Reply(552, "5.3.4 message too big")},
		{"ResetAfterRefusedRcpt", "rcpt", smtptest.Reply(550, "5.1.1 no such user")},
		{"ResetAfterRefusedMail", "mail", smtptest.Reply(550, "5.7.1 sender refused")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None, RsetAfterFailure: true, Hook: func(ev smtptest.Event) error {
				if ev.Stage == tc.stage && (ev.Stage == "mail" && ev.From == "refused@news.example.org" || len(ev.To) > 0 && ev.To[len(ev.To)-1] == "first@example.com") {
					return tc.reply
				}
				return nil
			}})
			c, err := newMailer(t, srv, smtp.Options{TLS: smtp.None}).Open(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			first := message("first@example.com")
			if tc.stage == "mail" {
				first.From = "Refused <refused@news.example.org>"
			}
			if err := c.Send(t.Context(), first); digest.IsTemporary(err) {
				t.Fatalf("first Send: %v, want a permanent failure", err)
			}
			if err := c.Send(t.Context(), message("second@example.com")); err != nil {
				t.Fatalf("second Send on the same connection: %v", err)
			}
			if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != "second@example.com" {
				t.Errorf("server has %d messages, want the second recipient's alone", len(msgs))
			}
		})
	}
	t.Run("ConnectionRefused", func(t *testing.T) {
		port := refusedPort(t)
		m, _ := smtp.New(smtp.Options{Host: "127.0.0.1", Port: port, TLS: smtp.None, Timeout: time.Second})
		_, err := m.Open(t.Context())
		var se *digest.SendError
		if !errors.As(err, &se) || !se.Temporary {
			t.Errorf("error %v, want a temporary SendError", err)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Username: "bs", Password: "right"})
		_, err := newMailer(t, srv, smtp.Options{Username: "bs", Password: "wrong"}).Open(t.Context())
		if err == nil || !strings.Contains(err.Error(), "AUTH") {
			t.Errorf("error %v, want an AUTH failure", err)
		}
	})
	t.Run("UntrustedCertificate", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{})
		_, err := newMailer(t, srv, smtp.Options{TLSConfig: &tls.Config{}}).Open(t.Context())
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("error %v, want a certificate error", err)
		}
	})
	t.Run("ContextCancelsBlockedSend", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None, Hook: func(ev smtptest.Event) error {
			if ev.Stage == "data" {
				<-release
			}
			return nil
		}})
		c, err := newMailer(t, srv, smtp.Options{TLS: smtp.None, Timeout: time.Minute}).Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = c.Send(ctx, message("a@example.com"))
		if !digest.IsTemporary(err) || err == nil {
			t.Errorf("error %v, want a temporary one", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Send took %v after its context ended", d)
		}
	})
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    smtp.Options
		ok   bool
	}{
		{"OK", smtp.Options{Host: "smtp.example.com"}, true},
		{"NoHost", smtp.Options{}, false},
		{"BadTLS", smtp.Options{Host: "h", TLS: "ssl"}, false},
		{"PasswordNoUser", smtp.Options{Host: "h", Password: "p"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := smtp.New(tc.o)
			if (err == nil) != tc.ok {
				t.Errorf("New error %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestWriteMessage(t *testing.T) {
	var b bytes.Buffer
	if err := smtp.WriteMessage(&b, message("a@example.com")); err != nil {
		t.Fatal(err)
	}
	p := parse(t, b.Bytes())
	if p.parts["text/html"] != message("").HTML {
		t.Errorf("html part %q", p.parts["text/html"])
	}
	if err := smtp.WriteMessage(&b, &digest.Message{From: "not an address", To: "a@example.com"}); err == nil {
		t.Error("no error for a bad From")
	}
}

// refusedPort returns a loopback port that refuses connections until t
// ends. A port reserved by a listener and then closed can be taken back by
// any server started meanwhile (another test's); this one stays held by
// the client end of an open connection, which never accepts, and which no
// listener can bind over.
func refusedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c.LocalAddr().(*net.TCPAddr).Port
}
