// Package fetch implements feeds.Fetcher: a polite conditional HTTP GET
// (timeouts, size caps, a real User-Agent, If-None-Match/If-Modified-Since),
// one gofeed parse of the body, and normalization of every item into a
// feeds.Article with plain-text titles, sanitized HTML, canonical links and
// dates in UTC. It is the only user of gofeed. Every failure is a
// *feeds.FetchError whose Reason says, in words a user can act on, what
// went wrong.
package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/mmcdole/gofeed"
)

// Version is the broadsheet version named in the default User-Agent. The
// integrator sets it from cmd before calling New.
var Version = "dev"

// Options tune a Client. Zero values take the defaults noted.
type Options struct {
	Timeout        time.Duration // whole request, body included; default 30s
	ConnectTimeout time.Duration // TCP connect and TLS handshake; default 10s
	MaxBodyBytes   int64         // decompressed bytes; default 16 MiB
	MaxItems       int           // items kept per fetch, the first in the document; default 1000
	UserAgent      string        // default "broadsheet/<Version> (+https://github.com/broadsheet/broadsheet)"
	// AllowPrivateNetworks lets the client connect to loopback, private,
	// link-local, unique-local and unspecified addresses. When false (the
	// zero value) every address is checked as it is dialled, after DNS and on
	// every redirect, and proxies from the environment are not used, since a
	// proxy would hide the real address from that check.
	AllowPrivateNetworks bool
	// SanitizeCacheBytes bounds the memory that remembers sanitized HTML
	// across fetches, so that the items a changed feed repeats are not
	// sanitized again; default 32 MiB, negative for none.
	SanitizeCacheBytes int64
	Now                func() time.Time // default time.Now

	// guard replaces guardAddress in tests, which can tell two loopback
	// servers apart only by port, to play a public one.
	guard func(address string) error
}

// Client fetches and parses feeds. It is safe for concurrent use; create one
// and share it, so that connections are reused.
type Client struct {
	opts   Options
	http   *http.Client
	parser *gofeed.Parser
	// jsonParser keeps the JSON Feed it translates, which tells plain-text
	// content and summaries from HTML; gofeed's own item does not.
	jsonParser *gofeed.Parser
	cache      *htmlCache // nil when disabled
}

var _ feeds.Fetcher = (*Client)(nil)

const (
	maxRedirects = 10
	accept       = "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)

// New returns a Client with one shared http.Client built from opts.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 16 << 20
	}
	if opts.MaxItems <= 0 {
		opts.MaxItems = 1000
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "broadsheet/" + Version + " (+https://github.com/broadsheet/broadsheet)"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SanitizeCacheBytes == 0 {
		opts.SanitizeCacheBytes = 32 << 20
	}
	dialer := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}
	proxy := http.ProxyFromEnvironment
	if !opts.AllowPrivateNetworks {
		dialer.Control = refusePrivate
		if opts.guard != nil {
			dialer.Control = func(_, address string, _ syscall.RawConn) error { return opts.guard(address) }
		}
		proxy = nil
	}
	transport := &http.Transport{
		Proxy:                  proxy,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    opts.ConnectTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// Compression stays on: the transport asks for gzip and decompresses,
		// and readBody caps what comes out, so a gzip bomb stops at the cap.
	}
	jsonParser := gofeed.NewParser()
	jsonParser.KeepOriginalFeed = true
	return &Client{
		opts: opts,
		http: &http.Client{
			Transport:     transport,
			Timeout:       opts.Timeout,
			CheckRedirect: checkRedirect,
		},
		parser:     gofeed.NewParser(),
		jsonParser: jsonParser,
		cache:      newHTMLCache(opts.SanitizeCacheBytes),
	}
}

// redirectError is a redirect the client refused to follow.
type redirectError struct{ reason string }

func (e *redirectError) Error() string { return e.reason }

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return &redirectError{fmt.Sprintf("the server redirects in a loop (more than %d redirects)", maxRedirects)}
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &redirectError{fmt.Sprintf("the server redirects to %s, which is not an http or https url: check the source's url in config.yaml", req.URL.Redacted())}
	}
	return nil
}

// Fetch requests src.URL, sending prev's validators when prev is about the
// same URL. A 304 returns NotModified with nothing parsed; a 200 returns the
// normalized articles and the new validators. Every error is a
// *feeds.FetchError.
func (c *Client) Fetch(ctx context.Context, src feeds.Source, prev feeds.SourceState) (*feeds.FetchResult, error) {
	u, err := url.Parse(src.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &feeds.FetchError{URL: src.URL, Reason: "the url is not an http or https url: check the source's url in config.yaml", Err: err}
	}
	// The client's Timeout covers the body too; the context makes the same
	// deadline reach every read, so a body trickling a byte a second stops.
	limit := fmt.Sprintf("%s (fetch.timeout)", c.opts.Timeout)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < c.opts.Timeout {
		// The caller's deadline comes first; name that one in errors.
		limit = fmt.Sprintf("the %s the caller allowed", time.Until(dl).Round(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, &feeds.FetchError{URL: src.URL, Reason: "the url is not valid: check the source's url in config.yaml", Err: err}
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", accept)
	if prev.URL == "" || prev.URL == src.URL {
		// Validators from another URL would mean nothing to this one.
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.netError(ctx, src, u.Host, limit, err, false)
	}
	defer resp.Body.Close()

	code := resp.StatusCode
	switch {
	case code == http.StatusNotModified:
		drain(resp.Body)
		return &feeds.FetchResult{
			Status:       code,
			NotModified:  true,
			ETag:         or(resp.Header.Get("ETag"), prev.ETag),
			LastModified: or(resp.Header.Get("Last-Modified"), prev.LastModified),
		}, nil
	case code < 200 || code > 299 || code == http.StatusNoContent || code == http.StatusResetContent:
		drain(resp.Body)
		return nil, c.statusError(src, resp)
	}

	data, ferr := c.readBody(resp.Body, resp.ContentLength)
	if ferr != nil {
		if ferr.Reason == "" {
			ferr = c.netError(ctx, src, u.Host, limit, ferr.Err, true)
		}
		ferr.URL, ferr.Status = src.URL, code
		return nil, ferr
	}
	p, err := c.parseTitled(src, data, resp.Header.Get("Content-Type"), resp.Request.URL)
	if err != nil {
		var fe *feeds.FetchError
		if errors.As(err, &fe) {
			fe.Status = code
		}
		return nil, err
	}
	return &feeds.FetchResult{
		Status:       code,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Articles:     p.arts,
		Dropped:      p.dropped,
		Skipped:      p.skipped,
		SkipReasons:  p.reasons,
	}, nil
}

// readBody reads all of r, up to the body cap. size is the expected length
// if known (or negative), to allocate once. A read failure comes back with
// an empty Reason and the cause in Err, for the caller to explain.
func (c *Client) readBody(r io.Reader, size int64) ([]byte, *feeds.FetchError) {
	max := c.opts.MaxBodyBytes
	n := 32 << 10
	if size >= 0 && size <= max {
		// One more than expected, so that the read that sees EOF needs no
		// room of its own.
		n = int(size) + 1
	}
	b := make([]byte, 0, n)
	r = io.LimitReader(r, max+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &feeds.FetchError{Err: err}
		}
	}
	if int64(len(b)) > max {
		return nil, &feeds.FetchError{Reason: fmt.Sprintf("the feed is larger than the %s limit (fetch.max_body_bytes)", sizeString(max))}
	}
	return b, nil
}

// netError explains a failed request or body read; limit describes the
// time the request had.
func (c *Client) netError(ctx context.Context, src feeds.Source, host, limit string, err error, reading bool) *feeds.FetchError {
	fe := &feeds.FetchError{URL: src.URL, Err: err}
	var (
		pe      *privateAddrError
		re      *redirectError
		dnsErr  *net.DNSError
		opErr   *net.OpError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invalid x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &pe):
		fe.Reason = pe.Error() + "; " + PrivateNetworkAdvice
		// The dial that failed may be a redirect's: say so, since the
		// source's own host may well be public.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			if to, perr := url.Parse(ue.URL); perr == nil && !strings.EqualFold(to.Host, host) {
				fe.Reason = fmt.Sprintf("the feed redirects to %s; %s; %s", to.Host, pe.Error(), PrivateNetworkAdvice)
			}
		}
	case errors.As(err, &re):
		fe.Reason = re.reason
	case errors.Is(ctx.Err(), context.Canceled):
		fe.Reason = "the fetch was cancelled before it finished"
	case isTimeout(err) && errors.As(err, &opErr) && opErr.Op == "dial":
		fe.Reason = fmt.Sprintf("could not connect to %s within %s: the server is down or unreachable; broadsheet will try again later", host, c.opts.ConnectTimeout)
	case isTimeout(err) && reading:
		fe.Reason = fmt.Sprintf("the server did not send the whole feed within %s: it is too slow; broadsheet will try again later, or raise fetch.timeout", limit)
	case isTimeout(err):
		fe.Reason = fmt.Sprintf("the server did not answer within %s: it is slow or overloaded; broadsheet will try again later", limit)
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		fe.Reason = fmt.Sprintf("the host name %s was not found: check the source's url in config.yaml, or this machine's network and DNS", dnsErr.Name)
	case errors.As(err, &dnsErr):
		fe.Reason = fmt.Sprintf("the host name %s could not be looked up (%s): check the network and DNS; broadsheet will try again later", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		fe.Reason = fmt.Sprintf("%s refused the connection: the server is down or the port is wrong; broadsheet will try again later", host)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		fe.Reason = fmt.Sprintf("%s cannot be reached from here (no route): check the network; broadsheet will try again later", host)
	case errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostErr) || errors.As(err, &invalid):
		fe.Reason = fmt.Sprintf("the server's TLS certificate is not valid (%v): the site is misconfigured, and broadsheet does not fetch insecurely", err)
	case errors.As(err, &recErr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		fe.Reason = "the server does not speak TLS (https) on this port: try http:// in the source's url"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		fe.Reason = "the server closed the connection before the feed was complete; broadsheet will try again later"
	case strings.Contains(err.Error(), "gzip") || strings.Contains(err.Error(), "flate"):
		fe.Reason = fmt.Sprintf("the server sent a corrupt compressed (gzip) response (%v); broadsheet will try again later", err)
	case reading:
		fe.Reason = fmt.Sprintf("reading the feed failed (%v); broadsheet will try again later", err)
	default:
		fe.Reason = fmt.Sprintf("the request failed (%v); broadsheet will try again later", err)
	}
	return fe
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// statusError explains an HTTP status other than 2xx and 304.
func (c *Client) statusError(src feeds.Source, resp *http.Response) *feeds.FetchError {
	code := resp.StatusCode
	status := strconv.Itoa(code)
	if t := http.StatusText(code); t != "" {
		status += " " + t
	}
	fe := &feeds.FetchError{URL: src.URL, Status: code}
	switch {
	case code == http.StatusTooManyRequests:
		fe.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.opts.Now())
		fe.Reason = "the server answered " + status + ": it asks broadsheet to poll less often" + waitFor(fe.RetryAfter) +
			"; give this source a slower schedule in config.yaml if it keeps happening"
	case code == http.StatusServiceUnavailable:
		fe.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.opts.Now())
		fe.Reason = "the server answered " + status + ": it is down or overloaded; broadsheet will try again later" + waitFor(fe.RetryAfter)
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusProxyAuthRequired:
		fe.Reason = "the server answered " + status + ": it refuses access to the feed; check that the url is a public feed, or whether the site blocks unknown clients"
	case code == http.StatusNotFound:
		fe.Reason = "the server answered " + status + ": check the source's url in config.yaml"
	case code == http.StatusGone:
		fe.Reason = "the server answered " + status + ": the feed was removed for good; update or remove the source in config.yaml"
	case code >= 500:
		fe.Reason = "the server answered " + status + ": the trouble is on the server's side; broadsheet will try again later"
	case code >= 400:
		fe.Reason = "the server answered " + status + ": check the source's url in config.yaml"
	case code >= 300:
		fe.Reason = "the server answered " + status + " without a redirect broadsheet can follow: check the source's url in config.yaml"
	case code == http.StatusNoContent || code == http.StatusResetContent:
		fe.Reason = "the server answered " + status + " and sent no feed: check the source's url in config.yaml"
	default:
		fe.Reason = "the server answered " + status + ", which is not a feed; check the source's url in config.yaml"
	}
	return fe
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date,
// as a wait from now; 0 when absent, unreadable or past.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// A bogus huge value must not overflow; a week is plenty.
		return time.Duration(min(secs, 7*24*3600)) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0
	}
	return min(t.Sub(now), 7*24*time.Hour)
}

func waitFor(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return " (it asked for a wait of " + d.Round(time.Second).String() + ")"
}

// drain reads a little of an unwanted body so that the connection can be
// reused, without reading a huge one.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
