// Package feeds owns broadsheet's domain types: the sources it polls, the
// articles it keeps, each source's polling state, and the Poller that moves
// articles from a Fetcher into a store. It depends on the standard library
// only; fetching, storage and clustering reach it through the interfaces it
// declares.
package feeds

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// ErrNotFound is returned when a requested source, article or record does not
// exist. Stores and services return it wrapped, never as (nil, nil).
var ErrNotFound = errors.New("not found")

// Kind says what a source or an article is: a news report or an editorial
// or opinion piece.
type Kind string

// Kinds of sources and articles.
const (
	KindNews      Kind = "news"
	KindEditorial Kind = "editorial"
)

// Source is one feed that broadsheet polls, as configured by the user.
type Source struct {
	Name     string   // unique, as written in config.yaml
	URL      string   // http or https
	Kind     Kind     // news unless configured otherwise
	Tags     []string // free-form labels from config.yaml
	Schedule string   // cron spec; empty means the global schedule
	// Private keeps URL out of every public output (OPML, feeds, page):
	// for a URL whose secret is in its path, which redaction cannot find.
	Private bool
	// Keep, if set, says which of the source's articles are stored (its
	// keep and block rules); the others are dropped before storing. Nil
	// keeps every article.
	Keep func(Article) bool
}

// Slug is the URL-safe form of the source's name, used in feed paths.
func (s Source) Slug() string { return Slugify(s.Name) }

// Article is one item of a feed, normalized. Title, Excerpt and Author are
// plain text; Summary and Content are sanitized HTML, safe to embed.
type Article struct {
	ID         string // stable across polls, restarts and replicas: see ArticleID
	Source     string // Source.Name
	Identity   string // guid, else canonical link, else a hash of title and date
	Link       string // canonical link: lower-case host, no tracking; a fragment is kept unless it is tracking
	LinkKey    string // the canonical link without scheme or "www." (else ID): equal when several sources carry the same link
	Title      string
	Summary    string
	Content    string
	Excerpt    string
	Author     string
	Categories []string
	Language   string
	Enclosures []Enclosure // media files (podcast audio, video), at most a few per item
	Kind       Kind        // editorial when the source or the item says so
	Published  time.Time   // never zero once stored; see fetch's date fallbacks
	Updated    time.Time   // when the feed says the item last changed; may be zero
	FirstSeen  time.Time   // when broadsheet first stored it; set by the store
	Hash       string      // digest of the visible fields, to notice edits
}

// Enclosure is a media file an item carries: RSS <enclosure>, Atom
// link rel="enclosure" or a JSON Feed attachment.
type Enclosure struct {
	URL    string // absolute http or https, as sanitize.Link accepts
	Type   string // MIME type, lower case, such as "audio/mpeg"; may be empty
	Length int64  // size in bytes; 0 when unknown
}

// Label names the enclosure for a reader, as the page and digests link
// it: its kind (audio, video, image, else "file") and, when known, its
// size in decimal units, as players show it: "audio, 34 MB".
func (e Enclosure) Label() string {
	kind, _, _ := strings.Cut(e.Type, "/")
	switch kind {
	case "audio", "video", "image":
	default:
		kind = "file"
	}
	switch n := e.Length; {
	case n <= 0:
		return kind
	case n >= 1e9:
		return fmt.Sprintf("%s, %.1f GB", kind, float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%s, %d MB", kind, (n+5e5)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%s, %d kB", kind, (n+500)/1e3)
	default:
		return fmt.Sprintf("%s, %d bytes", kind, n)
	}
}

// ArticleID derives an article's stable id from its source and identity, so
// every replica and every restart names the same item the same way.
func ArticleID(source, identity string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + identity))
	return hex.EncodeToString(sum[:10])
}

// ContentHash digests the fields whose change makes an item "edited".
func ContentHash(a Article) string {
	h := sha256.New()
	for _, s := range []string{a.Title, a.Link, a.Summary, a.Content, a.Author, strings.Join(a.Categories, "\x1f")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	// Only when there are any, so that the hash of an item without
	// enclosures is what it was before they were kept (no mass "edit").
	for _, e := range a.Enclosures {
		fmt.Fprintf(h, "enclosure\x00%s\x00%s\x00%d\x00", e.URL, e.Type, e.Length)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// SourceState is what broadsheet remembers about polling one source.
type SourceState struct {
	Source       string
	Active       bool   // present in the current configuration
	URL          string // the URL last configured
	ETag         string
	LastModified string
	LastAttempt  time.Time
	LastSuccess  time.Time
	LastStatus   int    // HTTP status of the last attempt; 0 when none was received
	LastError    string // empty after a success
	Failures     int    // consecutive failed attempts
	NextDue      time.Time
	Articles     int // stored articles; filled by listings only
	// ArticlesVersion is the store's change stamp of this source's
	// articles: it grows whenever a poll inserts or edits any of them, in
	// the same transaction, and stays put otherwise (a 304, a poll of
	// unchanged articles, a change of state only). Readers that keep a
	// source's articles compare it to know when to read them again. The
	// store owns it: SavePoll ignores the value it is given.
	ArticlesVersion int64
}

// Slugify turns a name into lower-case words joined by hyphens. Letters
// outside ASCII are kept so that non-Latin names stay distinct.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
