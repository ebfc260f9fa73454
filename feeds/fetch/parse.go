package fetch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/mmcdole/gofeed"
)

// maxDepth bounds element nesting in XML feeds. gofeed recurses on nested
// elements, so a few megabytes of "<a><a><a>…" would cost gigabytes and
// could overflow the stack; real feeds nest a few dozen levels, and even
// sloppy unescaped HTML stays far below this.
const maxDepth = 10000

// Parse parses and normalizes a feed body without any HTTP: body is read up
// to Options.MaxBodyBytes, made valid UTF-8 (see toUTF8: a byte order mark,
// the XML declaration, then contentType's charset), parsed once with gofeed
// and normalized. It keeps the first Options.MaxItems items and returns how
// many more there were. Every error is a *feeds.FetchError. Parse is safe
// for concurrent use.
func (c *Client) Parse(src feeds.Source, body io.Reader, contentType string) (arts []feeds.Article, dropped int, err error) {
	size := int64(-1)
	if l, ok := body.(interface{ Len() int }); ok {
		// bytes.Reader, strings.Reader, bytes.Buffer: allocate once.
		size = int64(l.Len())
	}
	data, ferr := c.readBody(body, size)
	if ferr != nil {
		ferr.URL = src.URL
		if ferr.Reason == "" {
			ferr.Reason = fmt.Sprintf("reading the feed failed (%v)", ferr.Err)
		}
		return nil, 0, ferr
	}
	base, _ := url.Parse(src.URL)
	return c.parse(src, data, contentType, base)
}

// parse is Parse on bytes already read; docURL is where they came from
// (after redirects), against which relative links are resolved.
func (c *Client) parse(src feeds.Source, data []byte, contentType string, docURL *url.URL) ([]feeds.Article, int, error) {
	p, err := c.parseTitled(src, data, contentType, docURL)
	return p.arts, p.dropped, err
}

// parsed is what parseTitled makes of a feed.
type parsed struct {
	arts    []feeds.Article
	dropped int      // items beyond the cap
	skipped int      // items left out because they could not be read
	reasons []string // why, for the first few of them
	title   string   // the feed's title as plain text
}

// parseTitled is parse, also returning the feed's title and the items it
// could not read.
func (c *Client) parseTitled(src feeds.Source, data []byte, contentType string, docURL *url.URL) (parsed, error) {
	fail := func(reason string, err error) (parsed, error) {
		return parsed{}, &feeds.FetchError{URL: src.URL, Reason: reason, Err: err}
	}
	data = toUTF8(data, contentType)
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fail("the server sent an empty response instead of a feed: check the source's url in config.yaml", nil)
	}
	if trimmed[0] == '<' && tooDeep(trimmed, maxDepth) {
		return fail(fmt.Sprintf("the feed nests elements more than %d deep: it is broken or hostile, and was not parsed", maxDepth), nil)
	}
	// Items beyond the cap are cut before parsing, not after: gofeed
	// builds every item of the document (see cutXML).
	parser, part, cutDropped := c.parser, data, 0
	if trimmed[0] == '{' {
		parser = c.jsonParser
		part, cutDropped = cutJSON(data, c.opts.MaxItems)
	} else {
		part, cutDropped = cutXML(data, c.opts.MaxItems, maxNodes)
	}
	feed, err := parser.Parse(bytes.NewReader(part))
	var p parsed
	var te *json.UnmarshalTypeError
	if err != nil && parser == c.jsonParser && errors.As(err, &te) {
		// One wrongly typed item must not cost the others.
		if fixed, n, reasons, ok := dropBadJSONItems(part); ok {
			p.skipped, p.reasons = n, reasons
			feed, err = parser.Parse(bytes.NewReader(fixed))
		}
	}
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) && looksLikeHTML(trimmed) {
			if u := discoverFeed(data, docURL); u != "" && (docURL == nil || u != docURL.String()) {
				return fail("this is a web page, not a feed; its feed seems to be at "+u+": use that url", err)
			}
			return fail("this is a web page, not a feed (an error or login page, or a site's home page): check the source's url in config.yaml", err)
		}
		cause := err.Error()
		if mt, _, _ := mime.ParseMediaType(contentType); mt != "" && errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			cause = fmt.Sprintf("%v; the server calls it %s", err, mt)
		}
		return fail("the response is not a feed gofeed can read ("+cause+")", err)
	}
	if feed.FeedType == "json" && feed.FeedVersion == "" && feed.Title == "" && len(feed.Items) == 0 {
		return fail("the response is JSON but not a JSON Feed: check the source's url in config.yaml", nil)
	}

	items := feed.Items
	dropped := cutDropped
	if len(items) > c.opts.MaxItems {
		dropped += len(items) - c.opts.MaxItems
		items = items[:c.opts.MaxItems]
	}
	n := newNormalizer(src, feed, docURL, c.opts.Now())
	n.cache = c.cache
	all := make([]feeds.Article, len(items))
	keep := make([]bool, len(items))
	normalizeAll(n, items, all, keep)
	arts := all[:0]
	seen := make(map[string]bool, len(items))
	for i, a := range all {
		// A feed may repeat an item; the store must get each id once.
		if !keep[i] || seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		arts = append(arts, a)
	}
	clear(all[len(arts):]) // let the unused tail's strings go
	p.arts, p.dropped, p.title = arts, dropped, n.title(feed.Title)
	return p, nil
}

// itemsPerWorker is the least work worth another goroutine.
const itemsPerWorker = 16

// normalizeAll normalizes items into arts, marking in keep the ones that
// hold anything. Sanitizing HTML costs about as much as parsing the XML, so
// a long feed is normalized on up to GOMAXPROCS goroutines: one fetch (a
// "poll now" from the command line) finishes sooner. The total CPU time is
// the same either way.
func normalizeAll(n *normalizer, items []*gofeed.Item, arts []feeds.Article, keep []bool) {
	one := func(i int) {
		if items[i] != nil {
			arts[i], keep[i] = n.article(i, items[i])
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(items)/itemsPerWorker)
	if workers <= 1 {
		for i := range items {
			one(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(items); i = int(next.Add(1) - 1) {
				one(i)
			}
		})
	}
	wg.Wait()
}

// tooDeep reports whether XML data nests start tags more than limit deep.
// It is a quick scan, not a parser: it skips comments, CDATA sections,
// processing instructions and declarations, honours quoted attribute
// values, and does not count HTML void elements, which sloppy feeds leave
// unclosed.
func tooDeep(data []byte, limit int) bool {
	depth := 0
	for i := 0; ; {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 || i+j+1 >= len(data) {
			return false
		}
		i += j + 1
		switch c := data[i]; {
		case c == '/':
			if depth > 0 {
				depth--
			}
		case c == '?':
			k := bytes.Index(data[i:], []byte("?>"))
			if k < 0 {
				return false
			}
			i += k + 2
		case c == '!':
			end := []byte(">")
			switch {
			case bytes.HasPrefix(data[i:], []byte("!--")):
				end = []byte("-->")
			case bytes.HasPrefix(data[i:], []byte("![CDATA[")):
				end = []byte("]]>")
			}
			k := bytes.Index(data[i:], end)
			if k < 0 {
				return false
			}
			i += k + len(end)
		case c == '_' || c == ':' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			nameEnd := i
			for nameEnd < len(data) && !isSpaceOrEnd(data[nameEnd]) {
				nameEnd++
			}
			name := data[i:nameEnd]
			k, _ := tagEnd(data, nameEnd)
			if k >= len(data) {
				return false
			}
			if data[k-1] != '/' && !isVoid(name) {
				depth++
				if depth > limit {
					return true
				}
			}
			i = k + 1
		}
	}
}

func isSpaceOrEnd(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '>' || b == '/'
}

// isVoid reports whether name is an HTML void element, without allocating.
func isVoid(name []byte) bool {
	if len(name) > 6 {
		return false
	}
	var buf [6]byte
	for i, b := range name {
		buf[i] = b | 0x20
	}
	return voidElements[string(buf[:len(name)])]
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}
