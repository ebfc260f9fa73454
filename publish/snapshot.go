package publish

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
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
	sig      string // the feedDoc.sig it was rendered from; "" when none
}

// snapshot is every output of one Refresh, by request path.
type snapshot struct {
	version  string
	paths    map[string]*output
	files    []*output // in rendering order, for WriteDir
	rendered int       // feeds rendered rather than reused from the previous snapshot
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
// changed (most outputs, after a poll of one source) and one compressor
// throughout.
type outputs struct {
	prev map[string]*output // by file, from the previous snapshot
	zw   *gzip.Writer
	buf  bytes.Buffer
}

func newOutputs(prev *snapshot) *outputs {
	ob := &outputs{prev: map[string]*output{}}
	if prev != nil {
		for _, o := range prev.files {
			ob.prev[o.file] = o
		}
	}
	return ob
}

// reuse returns the previous snapshot's outputs of feed name in every
// format, if all were rendered from sig; nil otherwise.
func (ob *outputs) reuse(name, sig string) []*output {
	if sig == "" {
		return nil
	}
	out := make([]*output, 0, len(formats))
	for _, f := range formats {
		p := ob.prev[name+"."+f.ext]
		if p == nil || p.sig != sig {
			return nil
		}
		out = append(out, p)
	}
	return out
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

// add returns the output for body. The ETag depends on the bytes only, so
// replicas rendering the same data send the same validators.
func (ob *outputs) add(file, ctype string, body []byte, modified time.Time) (*output, error) {
	sum := sha256.Sum256(body)
	tag := base64.RawURLEncoding.EncodeToString(sum[:15])
	o := &output{
		file:     file,
		ctype:    ctype,
		body:     body,
		etag:     `"` + tag + `"`,
		etagGz:   `"` + tag + `-gz"`,
		modified: modified.UTC().Truncate(time.Second),
		csp:      "default-src 'none'; sandbox",
	}
	if p := ob.prev[file]; p != nil && p.etag == o.etag {
		o.body, o.gz = p.body, p.gz
		return o, nil
	}
	ob.buf.Reset()
	if ob.zw == nil {
		var err error
		if ob.zw, err = gzip.NewWriterLevel(&ob.buf, gzip.BestCompression); err != nil {
			return nil, err
		}
	} else {
		ob.zw.Reset(&ob.buf)
	}
	if _, err := ob.zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", file, err)
	}
	if err := ob.zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", file, err)
	}
	if ob.buf.Len() < len(body) {
		o.gz = bytes.Clone(ob.buf.Bytes())
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
	for _, sf := range d.Sources {
		feedsList = append(feedsList, feedDoc{
			Name:     "sources/" + sf.Slug,
			Title:    h.opts.Title + ": " + outletName(sf.Source.Name),
			Subtitle: "Items from " + outletName(sf.Source.Name) + ", as broadsheet stored them.",
			Alt:      page + "#source-" + sf.Slug,
			Entries:  sf.Entries,
			sig:      sf.sig,
		})
	}
	for _, f := range feedsList {
		// Outputs are immutable: an unchanged source's are shared with the
		// previous snapshot, so a poll of one source renders its feeds and
		// the combined ones, not every source's.
		if os := ob.reuse(f.Name, f.sig); os != nil {
			for _, o := range os {
				s.add(o, "/"+o.file)
			}
			continue
		}
		s.rendered++
		f.Updated = newest(f.Entries)
		if f.Updated.IsZero() {
			// An empty feed has no entry to date it: it is as of the
			// sources' last poll, else of when this handler started.
			f.Updated = d.Counts.LastAttempt
			if f.Updated.IsZero() {
				f.Updated = h.started
			}
		}
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
			o.sig = f.sig
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
