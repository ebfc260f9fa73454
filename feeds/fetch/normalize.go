package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/json"
)

// excerptRunes is the length of Article.Excerpt; titleRunes that of a title
// made up from the excerpt when an item has none.
const (
	excerptRunes = sanitize.ExcerptRunes
	titleRunes   = 80
)

// normalizer turns the items of one parsed feed into articles.
type normalizer struct {
	src        feeds.Source
	now        time.Time
	base       *url.URL // the feed's site link, else the document's URL
	baseKey    string   // base as a string, naming it in cache keys
	feedAuthor string
	feedLang   string
	zone       *time.Location // for dates written without a zone
	dayFirst   bool
	jsonFeed   bool
	jsonItems  []*json.Item // the JSON Feed's own items, in order, when known
	cache      *htmlCache   // may be nil
}

func newNormalizer(src feeds.Source, f *gofeed.Feed, docURL *url.URL, now time.Time) *normalizer {
	n := &normalizer{src: src, now: now.UTC(), base: docURL, jsonFeed: f.FeedType == "json"}
	if jf, ok := f.OriginalFeed().(*json.Feed); ok && len(jf.Items) == len(f.Items) {
		n.jsonItems = jf.Items
	}
	if u := resolveLink(f.Link, docURL); u != nil {
		n.base = u
	}
	if n.base != nil {
		n.baseKey = n.base.String()
	}
	n.feedAuthor = personName(f.Authors, f.Author)
	if n.feedAuthor == "" && f.DublinCoreExt != nil {
		n.feedAuthor = firstNonEmpty(f.DublinCoreExt.Creator)
	}
	n.feedLang = f.Language
	if n.feedLang == "" && f.DublinCoreExt != nil {
		n.feedLang = firstNonEmpty(f.DublinCoreExt.Language)
	}
	n.feedLang = cleanLang(n.feedLang)
	n.zone = zoneFor(n.feedLang)
	n.dayFirst = dayFirstFor(n.feedLang)
	return n
}

// article normalizes item i. It reports false for an item with nothing in
// it: no title, link, guid or text.
func (n *normalizer) article(i int, it *gofeed.Item) (feeds.Article, bool) {
	guid := strings.TrimSpace(it.GUID)
	rawLink := it.Link
	if rawLink == "" && len(it.Links) > 0 {
		rawLink = it.Links[0]
	}
	linkURL := resolveLink(rawLink, n.base)
	if linkURL == nil && guid != "" {
		// RSS guids are permalinks unless isPermaLink="false"; use one that
		// looks like a URL when the item has no link.
		if u := resolveLink(guid, nil); u != nil && strings.Contains(guid, "://") {
			linkURL = u
		}
	}
	// canon, without the fragment, identifies an item that has no guid,
	// as it always has (so stored items keep their identity); the stored
	// link keeps the fragment, which tells posts on one page apart.
	canon := canonicalLink(linkURL)
	link := withFragment(canon, linkURL)
	contentBase, baseKey := n.base, n.baseKey
	if link != "" {
		// The canonical form, so that relative links in the content come
		// out with a lower-case host and no tracking either.
		contentBase, _ = url.Parse(link)
		baseKey = link
	}

	a := feeds.Article{
		Source: n.src.Name,
		Link:   link,
		Title:  n.title(it.Title),
	}
	if i < len(n.jsonItems) && n.jsonItems[i] != nil {
		// JSON Feed says which text is HTML: content_html only.
		ji := n.jsonItems[i]
		if ji.ContentHTML != "" {
			a.Content, _ = n.cache.sanitizeHTML(ji.ContentHTML, contentBase, baseKey, false)
		} else {
			a.Content = sanitize.FromText(ji.ContentText)
		}
		a.Summary = sanitize.FromText(ji.Summary)
		if a.Content != "" {
			a.Excerpt = sanitize.Excerpt(a.Content, excerptRunes)
		} else {
			a.Excerpt = sanitize.Excerpt(a.Summary, excerptRunes)
		}
	} else {
		// The excerpt comes from the content, else from the summary.
		a.Content, a.Excerpt = n.cache.sanitizeHTML(it.Content, contentBase, baseKey, true)
		if a.Content != "" {
			a.Summary, _ = n.cache.sanitizeHTML(it.Description, contentBase, baseKey, false)
		} else {
			a.Summary, a.Excerpt = n.cache.sanitizeHTML(it.Description, contentBase, baseKey, true)
		}
	}
	// Kept for republishing: at most sanitize.ContentBytes each, cut at an
	// element with a link to the rest (the excerpt, made above from the
	// start, is the same either way).
	a.Content = sanitize.CutHTML(a.Content, sanitize.ContentBytes, link)
	a.Summary = sanitize.CutHTML(a.Summary, sanitize.ContentBytes, link)
	if a.Title == "" && a.Excerpt != "" {
		a.Title = sanitize.Line(a.Excerpt, titleRunes)
	}
	if a.Title == "" && link == "" && guid == "" && a.Summary == "" && a.Content == "" {
		return feeds.Article{}, false
	}

	a.Author = n.name(personName(it.Authors, it.Author))
	if a.Author == "" && it.DublinCoreExt != nil {
		a.Author = n.name(firstNonEmpty(it.DublinCoreExt.Creator))
	}
	if a.Author == "" {
		a.Author = n.name(n.feedAuthor)
	}
	a.Categories = n.categories(it.Categories)
	a.Enclosures = n.enclosures(it.Enclosures)
	a.Language = n.feedLang
	if it.DublinCoreExt != nil {
		if l := cleanLang(firstNonEmpty(it.DublinCoreExt.Language)); l != "" {
			a.Language = l
		}
	}

	a.Published = n.date(it.PublishedParsed, it.Published)
	a.Updated = n.date(it.UpdatedParsed, it.Updated)
	if a.Published.IsZero() {
		a.Published = a.Updated
	}
	if a.Published.IsZero() {
		a.Published, _ = urlDate(n.now, mediaURLs(linkURL, it)...)
	}
	if a.Published.IsZero() {
		// The time first seen; the store keeps the first one on later polls.
		a.Published = n.now
	}

	switch {
	case guid != "":
		a.Identity = guid
	case canon != "":
		a.Identity = canon
	default:
		a.Identity = contentIdentity(a.Title, it)
	}
	a.ID = feeds.ArticleID(n.src.Name, a.Identity)
	a.LinkKey = a.ID
	if link != "" {
		a.LinkKey = linkKey(link)
	}
	a.Kind = feeds.ClassifyKind(a, n.src)
	a.Hash = feeds.ContentHash(a)
	return a, true
}

// title returns an item's title as the stored plain text, at most
// sanitize.TitleRunes. JSON Feed titles are plain text by definition, so
// "<b>" in one is text; RSS and Atom titles are often HTML, or escaped
// HTML, and lose only what was written as markup (see sanitize.Title).
func (n *normalizer) title(s string) string {
	if n.jsonFeed {
		return sanitize.Line(s, sanitize.TitleRunes)
	}
	return sanitize.Title(s, sanitize.TitleRunes)
}

// name is title for an author's name or a category, at most
// sanitize.NameRunes.
func (n *normalizer) name(s string) string {
	if n.jsonFeed {
		return sanitize.Line(s, sanitize.NameRunes)
	}
	return sanitize.Title(s, sanitize.NameRunes)
}

// date returns the parsed date gofeed found, else the raw date parsed with
// localized names, in UTC; any date more than a day ahead is clamped to
// now, and zero is returned when there is no usable date.
func (n *normalizer) date(parsed *time.Time, raw string) time.Time {
	var t time.Time
	if parsed != nil && !parsed.IsZero() {
		t = parsed.UTC()
	} else if raw != "" {
		t, _ = parseDate(raw, n.zone, n.dayFirst)
	}
	if t.Unix() <= 86400 {
		// Zero, or the Unix epoch that broken feeds print for "no date".
		return time.Time{}
	}
	if t.After(n.now.Add(24 * time.Hour)) {
		t = n.now
	}
	return t
}

// mediaURLs lists the URLs whose paths may carry an item's date: its link,
// image, enclosures and Media RSS content and thumbnails.
func mediaURLs(link *url.URL, it *gofeed.Item) []string {
	var us []string
	if link != nil {
		us = append(us, link.String())
	}
	if it.Image != nil {
		us = append(us, it.Image.URL)
	}
	for _, e := range it.Enclosures {
		if e != nil {
			us = append(us, e.URL)
		}
	}
	for _, name := range []string{"content", "thumbnail"} {
		for _, e := range it.Extensions["media"][name] {
			us = append(us, e.Attrs["url"])
			for _, kids := range e.Children {
				for _, k := range kids {
					us = append(us, k.Attrs["url"])
				}
			}
		}
	}
	return us
}

// Limits on the enclosures kept per item: a podcast episode has one or
// two, and a feed that lists hundreds, or URLs of megabytes, is not
// offering media.
const (
	maxEnclosures   = 8
	maxEnclosureURL = 2048
	maxMIMEType     = 100
)

// enclosures returns an item's media files (RSS <enclosure>, Atom link
// rel="enclosure", JSON Feed attachments, which gofeed all reads into
// Item.Enclosures) as stored: URLs resolved against the feed and kept
// only if http or https (sanitize.Link) and at most maxEnclosureURL bytes,
// repeats dropped, at most maxEnclosures. A type that is not a MIME type
// is dropped, as is a length that is not a byte count.
func (n *normalizer) enclosures(in []*gofeed.Enclosure) []feeds.Enclosure {
	var out []feeds.Enclosure
	for _, e := range in {
		if len(out) == maxEnclosures {
			break
		}
		if e == nil || len(e.URL) > maxEnclosureURL {
			continue
		}
		u := resolveLink(e.URL, n.base)
		if u == nil {
			continue
		}
		link := sanitize.Link(u.String())
		if link == "" || len(link) > maxEnclosureURL || slices.ContainsFunc(out, func(o feeds.Enclosure) bool { return o.URL == link }) {
			continue
		}
		enc := feeds.Enclosure{URL: link, Type: mimeType(e.Type)}
		if l, err := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64); err == nil && l > 0 {
			enc.Length = l
		}
		out = append(out, enc)
	}
	return out
}

// mimeType returns t as a lower-case type/subtype without parameters, or
// "" if it is not one.
func mimeType(t string) string {
	t, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(t)), ";")
	t = strings.TrimSpace(t)
	typ, sub, ok := strings.Cut(t, "/")
	if !ok || len(t) > maxMIMEType || !mimeToken(typ) || !mimeToken(sub) {
		return ""
	}
	return t
}

// mimeToken reports whether s is a non-empty RFC 2045 token.
func mimeToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?=`, r) {
			return false
		}
	}
	return true
}

// contentIdentity identifies an item with neither guid nor link by a hash
// of its title and its date as written (never the time it was first seen,
// which would change on every poll), or of its text if it has neither.
func contentIdentity(title string, it *gofeed.Item) string {
	h := sha256.New()
	h.Write([]byte(title))
	h.Write([]byte{0})
	date := strings.TrimSpace(it.Published)
	if date == "" {
		date = strings.TrimSpace(it.Updated)
	}
	h.Write([]byte(date))
	if title == "" && date == "" {
		h.Write([]byte{0})
		h.Write([]byte(it.Description))
		h.Write([]byte{0})
		h.Write([]byte(it.Content))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// categories returns cats as plain text, trimmed, without empty ones and
// without repeats (ignoring case), in their first order and spelling.
func (n *normalizer) categories(cats []string) []string {
	if len(cats) == 0 {
		return nil
	}
	out := make([]string, 0, len(cats))
	seen := make(map[string]bool, len(cats))
	for _, c := range cats {
		c = n.name(c)
		k := strings.ToLower(c)
		if c == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func personName(people []*gofeed.Person, legacy *gofeed.Person) string {
	for _, p := range people {
		if p != nil && strings.TrimSpace(p.Name) != "" {
			return p.Name
		}
	}
	if legacy != nil {
		return legacy.Name
	}
	return ""
}

func firstNonEmpty(ss []string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// cleanLang tidies a language tag ("en_US " → "en-US"), dropping anything
// that cannot be one.
func cleanLang(l string) string {
	l = strings.ReplaceAll(strings.TrimSpace(l), "_", "-")
	if l == "" || len(l) > 35 {
		return ""
	}
	for _, r := range l {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ""
		}
	}
	return l
}
