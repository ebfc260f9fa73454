package fetch

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
)

// trackingParams are query parameters that say how a reader came to a page,
// not which page it is. Keys are compared in lower case; every utm_* key
// is one too.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "yclid": true, "twclid": true, "ttclid": true, "li_fat_id": true, "igshid": true,
	"mc_cid": true, "mc_eid": true, "ocid": true, "cmpid": true, "cmp": true, "icid": true,
	"_hsenc": true, "_hsmi": true, "__hstc": true, "__hssc": true, "__hsfp": true, "hsctatracking": true,
	"mkt_tok": true, "oly_anon_id": true, "oly_enc_id": true, "vero_id": true, "vero_conv": true,
	"rb_clickid": true, "s_kwcid": true, "ref_src": true, "ref_url": true, "_ga": true, "_gl": true,
	"at_medium": true, "at_campaign": true, "at_custom1": true, "at_custom2": true, "at_custom3": true, "at_custom4": true,
	"ns_mchannel": true, "ns_source": true, "ns_campaign": true, "ns_linkname": true, "ns_fee": true,
	"sr_share": true, "smid": true, "smtyp": true, "xtor": true, "spm": true,
}

func isTrackingParam(key string) bool {
	k := strings.ToLower(key)
	return strings.HasPrefix(k, "utm_") || trackingParams[k]
}

// resolveLink parses raw, resolves it against base (which may be nil) and
// returns it if it is an http or https URL with a host, else nil. It
// forgives the spaces that some feeds leave in links.
func resolveLink(raw string, base *url.URL) *url.URL {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		if u, err = url.Parse(strings.ReplaceAll(raw, " ", "%20")); err != nil {
			return nil
		}
	}
	if base == nil {
		// Resolving against an empty base still removes dot segments.
		base = &url.URL{}
	}
	u = base.ResolveReference(u)
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil
	}
	return u
}

// canonicalLink returns the canonical form of an absolute http(s) URL:
// lower-case scheme and host, no default port, no user info, no fragment,
// no tracking parameters, and "/" for an empty path. It returns "" when u
// is nil or its canonical form does not parse again.
func canonicalLink(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	c.ForceQuery = false

	host, port := strings.ToLower(c.Hostname()), c.Port()
	host = strings.TrimRight(host, ".")
	if !validHost(host) || !isDigits(port) && port != "" {
		return ""
	}
	if (c.Scheme == "http" && port == "80") || (c.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	c.Host = host

	if c.RawQuery != "" {
		c.RawQuery = stripTracking(c.RawQuery)
	}
	if c.Path == "" && c.RawPath == "" {
		c.Path = "/"
	}
	s := c.String()
	// The canonical form must be stable: parse it again, and give up on the
	// rare URL whose printed form reads back differently.
	again, err := url.Parse(s)
	if err != nil || again.String() != s {
		return ""
	}
	return s
}

// validHost reports whether host is an IP address or a plausible host
// name: letters (of any script), digits, hyphens, underscores and dots.
func validHost(host string) bool {
	if host == "" {
		return false
	}
	if strings.Contains(host, ":") {
		_, err := netip.ParseAddr(host)
		return err == nil
	}
	for _, r := range host {
		if !(r == '-' || r == '.' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// stripTracking drops tracking parameters from a raw query, keeping the
// others in their order and spelling.
func stripTracking(raw string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		key, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if isTrackingParam(key) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		escapeQueryPart(&b, part)
	}
	return b.String()
}

// escapeQueryPart writes part with the bytes that may not stand raw in a
// URL (controls, spaces, non-ASCII, invalid UTF-8) percent-encoded, and
// everything else, existing escapes included, as it was.
func escapeQueryPart(b *strings.Builder, part string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(part); i++ {
		c := part[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '#' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
}

// withFragment returns canonical with u's fragment, unless u has none or
// it is made of tracking parameters only (#xtor=RSS-3208), or the result
// would not read back the same. Posts on one page (a blog's day, the RSS
// 2.0 specification's sample feed) differ only in their fragment.
func withFragment(canonical string, u *url.URL) string {
	if canonical == "" || u == nil || u.Fragment == "" || trackingFragment(u.Fragment) {
		return canonical
	}
	c, err := url.Parse(canonical)
	if err != nil {
		return canonical
	}
	c.Fragment, c.RawFragment = u.Fragment, u.RawFragment
	s := c.String()
	if again, err := url.Parse(s); err != nil || again.String() != s {
		return canonical
	}
	return s
}

// trackingFragment reports whether a fragment is key=value pairs whose
// keys are all tracking parameters.
func trackingFragment(frag string) bool {
	if !strings.Contains(frag, "=") {
		return false
	}
	for part := range strings.SplitSeq(frag, "&") {
		key, _, _ := strings.Cut(part, "=")
		if !isTrackingParam(key) {
			return false
		}
	}
	return true
}

// linkKey is the canonical link without its scheme and a leading "www.",
// so that the http, https and www variants of a story match.
func linkKey(canonical string) string {
	k := strings.TrimPrefix(strings.TrimPrefix(canonical, "https://"), "http://")
	return strings.TrimPrefix(k, "www.")
}
