package sanitize

import (
	"net/url"
	"strings"
)

// RedactURL returns the form of a configured source URL that may appear in
// public outputs (OPML, the republished feeds, the page): an absolute http
// or https URL without user:password@, without a fragment, and without
// query parameters whose names look like credentials (token, key, apikey,
// secret, password, auth, sig, signature, access_token, X-Amz-Credential…).
// The other parameters keep their order and spelling. It returns "" for
// anything else, which outputs then leave out. A secret elsewhere in the
// URL (in its path) cannot be told from a name: such a source is marked
// private in config.yaml and its URL is not published at all. Unlike
// Link, which refuses a link with user info (readers may take the user
// name for the host), RedactURL removes it: the user wrote it, to log in.
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return ""
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = redactQuery(u.RawQuery)
	u.ForceQuery = false
	// What is left follows the rule for every published link.
	return Link(u.String())
}

// redactQuery drops the secret-looking parameters from a raw query,
// keeping the rest byte for byte. A segment holding ';' (which some
// servers read as a separator) goes if any part of it is secret.
func redactQuery(q string) string {
	if q == "" {
		return ""
	}
	var kept []string
	for _, seg := range strings.Split(q, "&") {
		secret := false
		for _, part := range strings.Split(seg, ";") {
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if secretParam(name) {
				secret = true
				break
			}
		}
		if !secret && seg != "" {
			kept = append(kept, seg)
		}
	}
	return strings.Join(kept, "&")
}

// secretWords are parameter names, or words of them, that carry
// credentials: "key" in api-key, "sig" in X-Goog-Sig…
var secretWords = map[string]bool{
	"key": true, "apikey": true, "token": true, "secret": true, "password": true,
	"passwd": true, "pass": true, "pwd": true, "auth": true, "sig": true,
	"signature": true, "credential": true, "credentials": true, "session": true,
	"sessionid": true, "sid": true, "jwt": true, "hmac": true, "otp": true,
	"authkey": true, "accesskey": true, "privatekey": true, "passkey": true,
}

// secretParts are substrings that mark a name as secret wherever they
// appear, run together with other words (accesstoken, clientsecret).
var secretParts = []string{"token", "secret", "passw", "apikey", "api_key", "signature", "credential", "authoriz"}

// secretParam reports whether a query parameter named name looks like it
// carries a credential. Names are compared case-insensitively, whole and
// word by word (words split at anything not a letter or digit).
func secretParam(name string) bool {
	n := strings.ToLower(name)
	if n == "" {
		return false
	}
	for _, p := range secretParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	if secretWords[n] {
		return true
	}
	for _, w := range strings.FieldsFunc(n, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) {
		if secretWords[w] {
			return true
		}
	}
	return false
}
