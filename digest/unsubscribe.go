package digest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// ErrBadToken is returned for an unsubscribe token that is malformed or
// not signed with the current secret.
var ErrBadToken = errors.New("invalid unsubscribe token")

// Token is the signed token that unsubscribes addr from digest: the digest
// and address, readable (so that no lookup is needed), and an HMAC-SHA256
// of both under key, so that no one can make a token for someone else.
func Token(key []byte, digest, addr string) string {
	payload := digest + "\n" + NormalizeAddress(addr)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(tokenMAC(key, payload))
}

func tokenMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("broadsheet unsubscribe\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// ParseToken checks a token made by Token with key and returns its digest
// and address, or ErrBadToken.
func ParseToken(key []byte, tok string) (digest, addr string, err error) {
	p, sig, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 2048 {
		return "", "", ErrBadToken
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, tokenMAC(key, string(payload))) {
		return "", "", ErrBadToken
	}
	digest, addr, ok = strings.Cut(string(payload), "\n")
	if !ok || digest == "" || addr == "" {
		return "", "", ErrBadToken
	}
	return digest, addr, nil
}

// Unsubscribe records that addr wants no more of digest.
func (s *Service) Unsubscribe(ctx context.Context, digest, addr string) error {
	return s.st.Unsubscribe(ctx, digest, NormalizeAddress(addr), s.o.Now())
}

// Resubscribe undoes an unsubscription and reports whether there was one.
func (s *Service) Resubscribe(ctx context.Context, digest, addr string) (bool, error) {
	return s.st.Resubscribe(ctx, digest, NormalizeAddress(addr))
}

// UnsubscribeHandler serves the links in digests, mounted at
// BaseURL + "unsubscribe/" with the token as the last path segment (or as
// the {token} wildcard of a ServeMux pattern). GET shows a page with a
// button; POST, the button's or the one-click POST of RFC 8058 that mail
// providers send, records the unsubscription. Neither needs a login: the
// token is signed.
func (s *Service) UnsubscribeHandler() http.Handler {
	return http.HandlerFunc(s.serveUnsubscribe)
}

func (s *Service) serveUnsubscribe(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the URL carries the token
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")

	tok := r.PathValue("token")
	if tok == "" {
		tok = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	}
	page := unsubPage{Title: s.o.Title}
	key, err := s.secret(r.Context())
	if err != nil {
		s.o.Logger.Error("unsubscribe: read secret", "err", err)
		page.Message = "Something went wrong on our side. Please try again later."
		s.writePage(w, http.StatusInternalServerError, page)
		return
	}
	digest, addr, err := ParseToken(key, tok)
	if err != nil {
		page.Message = "This unsubscribe link is not valid. It may have been cut short: try copying the whole link from the email."
		s.writePage(w, http.StatusNotFound, page)
		return
	}
	page.Digest, page.Address = digest, addr
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		page.Confirm = true
		s.writePage(w, http.StatusOK, page)
	case http.MethodPost:
		if err := s.Unsubscribe(r.Context(), digest, addr); err != nil {
			s.o.Logger.Error("unsubscribe", "digest", digest, "recipient", addr, "err", err)
			page.Message = "Something went wrong on our side and you are not unsubscribed yet. Please try again later."
			s.writePage(w, http.StatusInternalServerError, page)
			return
		}
		s.o.Logger.Info("unsubscribed", "digest", digest, "recipient", addr,
			"one_click", r.FormValue("List-Unsubscribe") == "One-Click")
		page.Done = true
		s.writePage(w, http.StatusOK, page)
	default:
		h.Set("Allow", "GET, HEAD, POST")
		page.Message = "Use the link in the email."
		s.writePage(w, http.StatusMethodNotAllowed, page)
	}
}

type unsubPage struct {
	Title, Digest, Address, Message string
	Confirm, Done                   bool
}

func (s *Service) writePage(w http.ResponseWriter, status int, p unsubPage) {
	var b bytes.Buffer
	if err := unsubTmpl.Execute(&b, p); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

var unsubTmpl = template.Must(template.New("unsubscribe").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>Unsubscribe · {{.Title}}</title>
<style>
body { font: 17px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; max-width: 34rem; margin: 12vh auto; padding: 0 1.2rem; }
h1 { font: bold 1.6rem/1.2 Georgia, "Times New Roman", serif; }
button { font: inherit; padding: .6rem 1.2rem; border-radius: 6px; border: 1px solid #a3261b; background: #a3261b; color: #fff; cursor: pointer; }
.muted { opacity: .7; font-size: .9rem; }
</style>
</head>
<body>
{{- if .Done}}
<h1>You are unsubscribed</h1>
<p>{{.Address}} will get no more of the “{{.Digest}}” digest.</p>
<p class="muted">Changed your mind? Ask whoever runs this {{.Title}} to run <code>broadsheet digest resubscribe {{printf "%q" .Digest}} {{.Address}}</code>.</p>
{{- else if .Confirm}}
<h1>Unsubscribe?</h1>
<p>Stop sending the “{{.Digest}}” digest to {{.Address}}.</p>
<form method="post"><button type="submit">Unsubscribe</button></form>
{{- else}}
<h1>Unsubscribe</h1>
<p>{{.Message}}</p>
{{- end}}
</body>
</html>
`))
