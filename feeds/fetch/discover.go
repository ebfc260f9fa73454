package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/broadsheet/broadsheet/feeds"
)

// How a Discovery was found.
const (
	FoundDirect     = "the address is a feed"
	FoundAdvertised = "the page advertises it"
	FoundCommonPath = "found at a usual feed address of the site"
)

// Discovery is a feed found from the address of a page or of the feed.
type Discovery struct {
	URL      string          // the feed's address
	Title    string          // its title, as plain text; "" when it has none
	Articles []feeds.Article // its items as a poll would store them, in the feed's order
	How      string          // FoundDirect, FoundAdvertised or FoundCommonPath
	// Others are the other feeds the page advertises (comments, other
	// sections), for the user to choose from.
	Others []string
}

// commonPaths are where sites usually serve their feeds, tried in this
// order (under the page's folder first, then at the root) when a page
// advertises none that works.
var commonPaths = []string{"feed", "rss", "atom.xml", "index.xml", "feed.xml", "rss.xml"}

// maxAdvertised bounds the advertised feeds read from one page.
const maxAdvertised = 20

// Discover finds the feed for rawURL: rawURL itself when it is a feed;
// else, when it is a web page, the first feed it advertises with <link
// rel="alternate"> that is one; else the first of the usual feed addresses
// of the site (/feed, /rss, /atom.xml, /index.xml, /feed.xml, /rss.xml,
// under the page's folder, then at the root) that is one. Each request
// follows the Client's rules (timeout, size cap, private networks); ctx
// bounds them all. Every error is a *feeds.FetchError whose Reason says
// what was tried.
func (c *Client) Discover(ctx context.Context, rawURL string) (*Discovery, error) {
	data, ct, final, err := c.get(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	p, perr := c.parseTitled(feeds.Source{URL: rawURL}, data, ct, final)
	if perr == nil {
		return &Discovery{URL: rawURL, Title: p.title, Articles: p.arts, How: FoundDirect}, nil
	}
	page := looksLikeHTML(bytes.TrimSpace(data))
	var advertised []string
	if page {
		advertised = advertisedFeeds(data, final, maxAdvertised)
	}
	type candidate struct{ url, how string }
	var cands []candidate
	seen := map[string]bool{rawURL: true, final.String(): true}
	add := func(u, how string) {
		if !seen[u] {
			seen[u] = true
			cands = append(cands, candidate{u, how})
		}
	}
	for _, u := range advertised {
		add(u, FoundAdvertised)
	}
	for _, u := range usualFeedURLs(final) {
		add(u, FoundCommonPath)
	}
	var failed []string // the advertised feeds that are not, and why
	for _, cand := range cands {
		d, err := c.tryFeed(ctx, cand.url)
		if err == nil {
			d.How = cand.how
			for _, u := range advertised {
				if u != d.URL {
					d.Others = append(d.Others, u)
				}
			}
			return d, nil
		}
		if ctx.Err() != nil {
			return nil, &feeds.FetchError{URL: rawURL, Reason: "looking for the feed took too long: give the feed's own address", Err: ctx.Err()}
		}
		if cand.how == FoundAdvertised {
			failed = append(failed, fmt.Sprintf("%s (%s)", cand.url, reasonOf(err)))
		}
	}
	what := "it is not a feed (" + reasonOf(perr) + ")"
	if page {
		what = "it is a web page that advertises no feed"
		if len(advertised) > 0 {
			what = "it is a web page whose advertised feeds are not feeds: " + strings.Join(failed, "; ")
		}
	}
	return nil, &feeds.FetchError{URL: rawURL, Reason: fmt.Sprintf("no feed found: %s, and no feed is at the site's usual feed addresses (%s): give the feed's own address", what, strings.Join(commonPaths, ", ")), Err: perr}
}

// tryFeed fetches u and returns it as a Discovery if it is a feed.
func (c *Client) tryFeed(ctx context.Context, u string) (*Discovery, error) {
	data, ct, final, err := c.get(ctx, u)
	if err != nil {
		return nil, err
	}
	p, err := c.parseTitled(feeds.Source{URL: u}, data, ct, final)
	if err != nil {
		return nil, err
	}
	return &Discovery{URL: u, Title: p.title, Articles: p.arts}, nil
}

// usualFeedURLs are the commonPaths under page's folder, then at the
// root of its site.
func usualFeedURLs(page *url.URL) []string {
	var dirs []string
	if dir := path.Dir(page.Path); strings.HasSuffix(page.Path, "/") && page.Path != "/" {
		dirs = append(dirs, page.Path)
	} else if dir != "/" && dir != "." {
		dirs = append(dirs, dir+"/")
	}
	dirs = append(dirs, "/")
	var out []string
	for _, d := range dirs {
		for _, p := range commonPaths {
			u := url.URL{Scheme: page.Scheme, Host: page.Host, Path: d + p}
			out = append(out, u.String())
		}
	}
	return out
}

func reasonOf(err error) string {
	var fe *feeds.FetchError
	if errors.As(err, &fe) && fe.Reason != "" {
		return fe.Reason
	}
	return err.Error()
}

// get requests rawURL unconditionally and returns the body, its content
// type and where it came from after redirects. Errors are
// *feeds.FetchError, as Fetch's are.
func (c *Client) get(ctx context.Context, rawURL string) ([]byte, string, *url.URL, error) {
	src := feeds.Source{URL: rawURL}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", nil, &feeds.FetchError{URL: rawURL, Reason: "the url is not an http or https url: give an address such as https://example.com/", Err: err}
	}
	limit := fmt.Sprintf("%s (fetch.timeout)", c.opts.Timeout)
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", nil, &feeds.FetchError{URL: rawURL, Reason: "the url is not valid", Err: err}
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", nil, c.netError(ctx, src, u.Host, limit, err, false)
	}
	defer resp.Body.Close()
	if code := resp.StatusCode; code < 200 || code > 299 || code == http.StatusNoContent || code == http.StatusResetContent {
		drain(resp.Body)
		return nil, "", nil, c.statusError(src, resp)
	}
	data, ferr := c.readBody(resp.Body, resp.ContentLength)
	if ferr != nil {
		if ferr.Reason == "" {
			ferr = c.netError(ctx, src, u.Host, limit, ferr.Err, true)
		}
		ferr.URL, ferr.Status = rawURL, resp.StatusCode
		return nil, "", nil, ferr
	}
	return data, resp.Header.Get("Content-Type"), resp.Request.URL, nil
}
