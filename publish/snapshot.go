package publish

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Content types of the outputs.
const (
	typeAtom = "application/atom+xml; charset=utf-8"
	typeRSS  = "application/rss+xml; charset=utf-8"
	typeJSON = "application/feed+json; charset=utf-8"
	typeOPML = "text/x-opml; charset=utf-8"
	typeHTML = "text/html; charset=utf-8"
)

// output is one rendered resource, immutable once in a snapshot.
type output struct {
	file     string // path under WriteDir's folder, e.g. "topics/climate.atom"
	ctype    string
	body     []byte
	gz       []byte // body gzipped; nil when gzip does not make it smaller
	etag     string // quoted, a hash of body
	etagGz   string // quoted, for the gzipped representation
	modified time.Time
	csp      string
}

// snapshot is every output of one Refresh, by request path.
type snapshot struct {
	version string
	paths   map[string]*output
	files   []*output // in rendering order, for WriteDir
	// lazy are the source feeds, by request path, rendered on request
	// (see sourceCache); sources lists each once, for WriteDir.
	lazy     map[string]lazyOutput
	sources  []*lazyFeed
	rendered int // feeds rendered (or, for sources, made) rather than reused from the previous snapshot
	// empty is set when the page shows no item, but the sources' states
	// as of counts: Run renders it again when those change.
	empty  bool
	counts store.SourceCounts
}

// add records an output served at path (and any aliases).
func (s *snapshot) add(o *output, paths ...string) {
	for _, p := range paths {
		s.paths[p] = o
	}
	s.files = append(s.files, o)
}

// outputs builds outputs for one render: it hashes each body and gzips it,
// reusing the previous snapshot's compressed bytes when a body has not
// changed (most outputs, after a poll of one source).
type outputs struct {
	prev     map[string]*output   // by file, from the previous snapshot
	prevLazy map[string]*lazyFeed // by feed name, from the previous snapshot
}

func newOutputs(prev *snapshot) *outputs {
	ob := &outputs{prev: map[string]*output{}, prevLazy: map[string]*lazyFeed{}}
	if prev != nil {
		for _, o := range prev.files {
			ob.prev[o.file] = o
		}
		for _, lf := range prev.sources {
			ob.prevLazy[lf.doc.Name] = lf
		}
	}
	return ob
}

// reuseLazy returns the previous snapshot's lazyFeed of name if it was
// made from sig; nil otherwise.
func (ob *outputs) reuseLazy(name, sig string) *lazyFeed {
	if p := ob.prevLazy[name]; sig != "" && p != nil && p.doc.sig == sig {
		return p
	}
	return nil
}

// formats are the encodings of every feed.
var formats = []struct {
	ext, ctype string
	render     func(*Handler, feedDoc) ([]byte, error)
}{
	{"atom", typeAtom, (*Handler).atom},
	{"rss", typeRSS, (*Handler).rss},
	{"json", typeJSON, (*Handler).json},
}

// add returns the output for body, sharing the previous snapshot's bytes
// when they are the same.
func (ob *outputs) add(file, ctype string, body []byte, modified time.Time) (*output, error) {
	if p := ob.prev[file]; p != nil && p.etag == etagOf(body) {
		o := *p
		o.ctype, o.modified, o.csp = ctype, modified.UTC().Truncate(time.Second), "default-src 'none'; sandbox"
		return &o, nil
	}
	return newOutput(file, ctype, body, modified)
}

// etagOf is the quoted ETag of body. It depends on the bytes only, so
// replicas rendering the same data send the same validators.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:15]) + `"`
}

// gzipper is a compressor and its buffer, pooled: source feeds are
// compressed on request, concurrently.
type gzipper struct {
	zw  *gzip.Writer
	buf bytes.Buffer
}

var gzippers = sync.Pool{New: func() any {
	g := &gzipper{}
	g.zw, _ = gzip.NewWriterLevel(&g.buf, gzip.BestCompression) // a valid level: no error
	return g
}}

// newOutput hashes and gzips body into an output.
func newOutput(file, ctype string, body []byte, modified time.Time) (*output, error) {
	etag := etagOf(body)
	o := &output{
		file:     file,
		ctype:    ctype,
		body:     body,
		etag:     etag,
		etagGz:   strings.TrimSuffix(etag, `"`) + `-gz"`,
		modified: modified.UTC().Truncate(time.Second),
		csp:      "default-src 'none'; sandbox",
	}
	g := gzippers.Get().(*gzipper)
	defer gzippers.Put(g)
	g.buf.Reset()
	g.zw.Reset(&g.buf)
	if _, err := g.zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", file, err)
	}
	if err := g.zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", file, err)
	}
	if g.buf.Len() < len(body) {
		o.gz = bytes.Clone(g.buf.Bytes())
	}
	return o, nil
}

// render turns d into a snapshot.
func (h *Handler) render(d *data) (*snapshot, error) {
	s := &snapshot{paths: map[string]*output{}}
	ob := newOutputs(h.snap.Load())
	page := h.abs("")
	feedsList := []feedDoc{
		{
			Name:     "feed",
			Title:    h.opts.Title,
			Subtitle: h.description(),
			Alt:      page,
			Entries:  d.Combined,
		},
		{
			Name:     "editorials",
			Title:    h.opts.Title + ": editorials",
			Subtitle: "Editorials and opinion pieces, newest first.",
			Alt:      page,
			Entries:  d.Editorials,
		},
	}
	for _, tf := range d.Topics {
		feedsList = append(feedsList, feedDoc{
			Name:     "topics/" + tf.Slug,
			Title:    h.opts.Title + ": " + tf.Label,
			Subtitle: topicSubtitle(tf),
			Alt:      h.abs("topics/" + tf.Slug),
			Entries:  tf.Entries,
		})
	}
	s.lazy = make(map[string]lazyOutput, len(d.Sources)*len(formats))
	for _, sf := range d.Sources {
		// A source's feed is rendered on request (see sourceCache), and
		// an unchanged source's is shared with the previous snapshot, so
		// that it keeps its date and its bytes.
		name := "sources/" + sf.Slug
		lf := ob.reuseLazy(name, sf.sig)
		if lf == nil {
			s.rendered++
			f := feedDoc{
				Name:     name,
				Title:    h.opts.Title + ": " + outletName(sf.Source.Name),
				Subtitle: "Items from " + outletName(sf.Source.Name) + ", as broadsheet stored them.",
				Alt:      page + "#source-" + sf.Slug,
				Entries:  sf.Entries,
				sig:      sf.sig,
			}
			f.Updated = h.updated(f.Entries, d)
			lf = &lazyFeed{id: h.lazyIDs.Add(1), doc: f}
		}
		s.sources = append(s.sources, lf)
		for i, r := range formats {
			s.lazy["/"+name+"."+r.ext] = lazyOutput{feed: lf, format: i}
		}
	}
	for _, f := range feedsList {
		s.rendered++
		f.Updated = h.updated(f.Entries, d)
		for _, r := range formats {
			body, err := r.render(h, f)
			if err != nil {
				return nil, fmt.Errorf("render %s.%s: %w", f.Name, r.ext, err)
			}
			file := f.Name + "." + r.ext
			o, err := ob.add(file, r.ctype, body, f.Updated)
			if err != nil {
				return nil, err
			}
			s.add(o, "/"+file)
		}
	}

	body, err := h.opml()
	if err != nil {
		return nil, fmt.Errorf("render opml: %w", err)
	}
	o, err := ob.add("opml.xml", typeOPML, body, time.Time{})
	if err != nil {
		return nil, err
	}
	s.add(o, "/opml", "/opml.xml")

	body, err = h.page(d)
	if err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	pageTime := newest(d.Combined)
	for _, tf := range d.Topics {
		pageTime = latest(pageTime, newest(tf.Entries))
	}
	if pageTime.IsZero() {
		s.empty, s.counts = true, d.Counts
		pageTime = latest(d.Counts.LastAttempt, h.started)
	}
	if o, err = ob.add("index.html", typeHTML, body, pageTime); err != nil {
		return nil, err
	}
	o.csp = pageCSP
	s.add(o, "/", "/index.html")

	for _, tf := range d.Topics {
		body, err := h.topicPage(d, tf)
		if err != nil {
			return nil, fmt.Errorf("render page of topic %s: %w", tf.Slug, err)
		}
		file := "topics/" + tf.Slug + ".html"
		o, err := ob.add(file, typeHTML, body, newest(tf.Entries))
		if err != nil {
			return nil, err
		}
		o.csp = pageCSP
		s.add(o, "/topics/"+tf.Slug, "/"+file)
	}
	return s, nil
}

// updated dates a feed of entries: by the newest, else (an empty feed has
// no entry to date it) as of the sources' last poll, else of when this
// handler started.
func (h *Handler) updated(entries []*entry, d *data) time.Time {
	if t := newest(entries); !t.IsZero() {
		return t
	}
	if !d.Counts.LastAttempt.IsZero() {
		return d.Counts.LastAttempt
	}
	return h.started
}

// description is the combined feed's subtitle.
func (h *Handler) description() string {
	if h.opts.Description != "" {
		return h.opts.Description
	}
	n := len(h.opts.Sources)
	if n == 1 {
		return "News and opinion from 1 outlet, newest first."
	}
	return fmt.Sprintf("News and opinion from %d outlets, newest first.", n)
}

func topicSubtitle(tf topicFeed) string {
	if tf.Kind == string(topics.KindStory) {
		return fmt.Sprintf("A story covered by %s, newest first.", plural(tf.Outlets, "outlet"))
	}
	return "Items about " + tf.Label + ", newest first."
}

// plural counts n of word: "1 outlet", "3 outlets", "2 stories".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
