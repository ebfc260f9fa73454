package digest

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/broadsheet/broadsheet/templates"
)

// Template file names; see package templates.
const (
	DefaultSet  = "digest"
	subjectFile = "subject.txt"
)

// Templates is a parsed set of digest templates: the embedded defaults,
// each possibly overridden from a folder. It is immutable and safe for
// concurrent use.
type Templates struct {
	dir     string
	sets    map[string]*tset
	subject *source

	subjects sync.Map // subject template text → *texttemplate.Template
}

// source is one template's text and where it came from, for messages.
type source struct {
	name string // the file's name, as templates see it
	file string // the path shown in errors
	text string
}

// tset is one named pair of HTML and text templates.
type tset struct {
	html, text *source
	// pristine templates, never executed, that instances clone.
	htmlT *htmltemplate.Template
	textT *texttemplate.Template
	pool  sync.Pool // *instance
}

// instance is a clone of a set whose functions see the Data being
// rendered: html/template escapes a template on its first execution, so
// clones are kept and reused rather than made per message.
type instance struct {
	cur  *Data
	html *htmltemplate.Template
}

// LoadTemplates parses the default templates, overridden by the files in
// dir (none if dir is empty): digest.html, digest.txt, subject.txt, and
// NAME.html / NAME.txt for other sets that a digest selects with
// template: NAME (a part a set lacks comes from the digest set). An error
// names the file and line; other files in dir are errors too, since a
// misnamed override would otherwise be silently ignored.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{dir: dir, sets: map[string]*tset{}}
	srcs := map[string]*source{}
	for _, name := range []string{DefaultSet + ".html", DefaultSet + ".txt", subjectFile} {
		b, err := fs.ReadFile(templates.FS, name)
		if err != nil {
			return nil, fmt.Errorf("embedded template %s: %w", name, err)
		}
		srcs[name] = &source{name: name, file: "(embedded) " + name, text: string(b)}
	}
	var errs []error
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("templates folder: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			file := filepath.Join(dir, name)
			if strings.HasPrefix(name, ".") {
				continue
			}
			ext := path.Ext(name)
			base := strings.TrimSuffix(name, ext)
			if e.IsDir() || (ext != ".html" && ext != ".txt") || base == "" || strings.ContainsAny(base, ". ") {
				errs = append(errs, fmt.Errorf("%s: not a digest template: the folder holds digest.html, digest.txt, subject.txt, or NAME.html and NAME.txt for a digest's template: NAME", file))
				continue
			}
			if name == "subject.html" {
				errs = append(errs, fmt.Errorf("%s: a subject is plain text: name it subject.txt", file))
				continue
			}
			b, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !utf8.Valid(b) {
				errs = append(errs, fmt.Errorf("%s: not UTF-8 text", file))
				continue
			}
			srcs[name] = &source{name: name, file: file, text: string(b)}
		}
	}
	t.subject = srcs[subjectFile]
	if _, err := parseText(t.subject); err != nil {
		errs = append(errs, err)
	}
	names := map[string]bool{DefaultSet: true}
	for name := range srcs {
		if name != subjectFile {
			names[strings.TrimSuffix(name, path.Ext(name))] = true
		}
	}
	for name := range names {
		s := &tset{html: srcs[name+".html"], text: srcs[name+".txt"]}
		if s.html == nil {
			s.html = srcs[DefaultSet+".html"]
		}
		if s.text == nil {
			s.text = srcs[DefaultSet+".txt"]
		}
		var err1, err2 error
		s.htmlT, err1 = parseHTML(s.html)
		s.textT, err2 = parseText(s.text)
		if err1 != nil || err2 != nil {
			errs = append(errs, err1, err2)
			continue
		}
		t.sets[name] = s
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// CheckTemplates parses the templates in dir, over the defaults, and
// renders each set and the subject with sample data, so that mistakes that
// only show when a template runs (a misspelt field) are found too. Errors
// name the file and line.
func CheckTemplates(dir string) error {
	t, err := LoadTemplates(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range t.Sets() {
		if _, _, _, err := t.render(name, "", sampleData()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Check reports whether d can be rendered: its template set exists, and its
// subject template parses and runs on sample data.
func (t *Templates) Check(d Digest) error {
	set := d.Template
	if set == "" {
		set = DefaultSet
	}
	if _, ok := t.sets[set]; !ok {
		where := "the templates folder (templates:)"
		if t.dir != "" {
			where = t.dir
		}
		return fmt.Errorf("digest %q: template %q: no %s.html or %s.txt in %s", d.Name, set, set, set, where)
	}
	if _, _, _, err := t.render(set, d.Subject, sampleData()); err != nil {
		return fmt.Errorf("digest %q: %w", d.Name, err)
	}
	return nil
}

// Sets lists the template sets, sorted.
func (t *Templates) Sets() []string {
	out := make([]string, 0, len(t.sets))
	for name := range t.sets {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// render runs set's templates on data, with subjectText (or subject.txt if
// empty) for the subject, and fills data.Subject.
func (t *Templates) render(set, subjectText string, data *Data) (subject, text, html string, err error) {
	s := t.sets[set]
	if s == nil {
		return "", "", "", fmt.Errorf("no template set %q", set)
	}
	subj, src, err := t.subjectTemplate(subjectText)
	if err != nil {
		return "", "", "", err
	}
	data.Subject = ""
	subject, err = execText(subj, src, data)
	if err != nil {
		return "", "", "", err
	}
	subject = oneLine(subject)
	data.Subject = subject
	if text, err = execText(s.textT, s.text, data); err != nil {
		return "", "", "", err
	}
	text = tidyText(text)

	inst, _ := s.pool.Get().(*instance)
	if inst == nil {
		inst = &instance{}
		c, err := s.htmlT.Clone()
		if err != nil {
			return "", "", "", err
		}
		inst.html = c.Funcs(funcs(func() *Data { return inst.cur }))
	}
	inst.cur = data
	var b bytes.Buffer
	err = inst.html.Execute(&b, data)
	inst.cur = nil
	if err != nil {
		// An instance that failed may be half escaped: drop it.
		return "", "", "", fileError(s.html, err)
	}
	s.pool.Put(inst)
	return subject, text, b.String(), nil
}

// subjectTemplate returns the pristine subject template for text, or
// subject.txt's when text is empty.
func (t *Templates) subjectTemplate(text string) (*texttemplate.Template, *source, error) {
	src := t.subject
	if text != "" {
		src = &source{name: "subject", file: "subject:", text: text}
	}
	if v, ok := t.subjects.Load(src.text); ok {
		return v.(*texttemplate.Template), src, nil
	}
	tt, err := parseText(src)
	if err != nil {
		return nil, nil, err
	}
	t.subjects.Store(src.text, tt)
	return tt, src, nil
}

func parseHTML(src *source) (*htmltemplate.Template, error) {
	t, err := htmltemplate.New(src.name).Funcs(funcs(nil)).Parse(src.text)
	if err != nil {
		return nil, fileError(src, err)
	}
	return t, nil
}

func parseText(src *source) (*texttemplate.Template, error) {
	t, err := texttemplate.New(src.name).Funcs(funcs(nil)).Parse(src.text)
	if err != nil {
		return nil, fileError(src, err)
	}
	return t, nil
}

// execText runs a clone of t, whose functions see data. Cloning a text
// template copies two small maps; the parse trees are shared.
func execText(t *texttemplate.Template, src *source, data *Data) (string, error) {
	c, err := t.Clone()
	if err != nil {
		return "", err
	}
	c.Funcs(funcs(func() *Data { return data }))
	var b bytes.Buffer
	if err := c.Execute(&b, data); err != nil {
		return "", fileError(src, err)
	}
	return b.String(), nil
}

// templateErr matches the "template: NAME:LINE[:COL]: " that text/template
// and html/template put before their messages.
var templateErr = regexp.MustCompile(`^(?:html/)?template: ?([^:]+):(\d+(?::\d+)?): (?:executing "[^"]*" )?`)

// fileError rewrites a template error to start with the file and line:
// "templates/digest.html:12:5: at <.Fo>: can't evaluate field Fo".
func fileError(src *source, err error) error {
	msg := err.Error()
	if m := templateErr.FindStringSubmatch(msg); m != nil && m[1] == src.name {
		file := src.file
		if strings.HasSuffix(file, ":") { // a subject from config.yaml
			return fmt.Errorf("subject template, line %s: %s", m[2], msg[len(m[0]):])
		}
		return fmt.Errorf("%s:%s: %s", file, m[2], msg[len(m[0]):])
	}
	if strings.HasSuffix(src.file, ":") {
		return fmt.Errorf("subject template: %s", msg)
	}
	return fmt.Errorf("%s: %s", src.file, msg)
}

// funcs are the template functions; cur returns the Data being rendered
// (nil while parsing, when they are never called).
func funcs(cur func() *Data) map[string]any {
	return map[string]any{
		"date": func(args ...any) (string, error) {
			var d *Data
			if cur != nil {
				d = cur()
			}
			if d == nil {
				return "", errors.New("date: no digest being rendered")
			}
			switch len(args) {
			case 0:
				return d.Time.Format(dateLayout), nil
			case 1, 2:
				layout, ok := args[0].(string)
				if !ok {
					return "", fmt.Errorf("date: layout is %T, want a string such as \"Mon 2 Jan\"", args[0])
				}
				tm := d.Time
				if len(args) == 2 {
					if tm, ok = args[1].(time.Time); !ok {
						return "", fmt.Errorf("date: second argument is %T, want a time such as .Published", args[1])
					}
					tm = tm.In(d.Time.Location())
				}
				return tm.Format(layout), nil
			}
			return "", fmt.Errorf("date: %d arguments, want at most 2", len(args))
		},
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		"join":     func(ss []string, sep string) string { return strings.Join(ss, sep) },
		"upper":    strings.ToUpper,
		"lower":    strings.ToLower,
		"trim":     strings.TrimSpace,
		"wrap":     wrap,
		"indent":   indent,
		"repeat":   func(s string, n int) string { return strings.Repeat(s, max(0, min(n, 1000))) },
		"truncate": func(n int, s string) string { return truncate(max(n, 2), s) },
	}
}

// wrap re-flows s into lines of at most width columns, breaking at
// spaces; a longer word (a URL) gets a line of its own. Wide characters
// (Hangul, CJK ideographs, fullwidth forms) take two columns, as
// terminals and monospaced mail readers show them.
func wrap(width int, s string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		l := sanitize.Columns(w)
		switch {
		case n == 0:
		case n+1+l > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}

// indent puts n spaces before every non-empty line of s.
func indent(n int, s string) string {
	pad := strings.Repeat(" ", max(0, n))
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}

// tidyText trims trailing spaces from each line, keeps at most one blank
// line in a row, and ends the text with one newline, so that templates
// need not fight text/template's white space.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := true // drops leading blank lines
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}

// sampleData is a digest with every field filled, for checking templates.
func sampleData() *Data {
	loc := time.UTC
	at := time.Date(2025, 3, 3, 7, 0, 0, 0, loc)
	it := func(title, outlet string, ago time.Duration) Item {
		p := at.Add(-ago)
		return Item{Title: title, Outlet: outlet, Link: "https://example.com/" + outlet, Excerpt: "An excerpt of " + title + ".",
			Author: "A. Writer", Kind: "editorial", Time: itemTime(p, at), Published: p}
	}
	s1 := []Item{it("A story three outlets carry", "Alpha", time.Hour), it("The same story", "Beta", 2*time.Hour), it("Again", "Gamma", 3*time.Hour)}
	s2 := []Item{it("A story of one outlet", "Alpha", 30*time.Hour)}
	story := func(n int, items []Item) Story {
		l := items[0]
		outs := make([]string, len(items))
		for i, x := range items {
			outs[i] = x.Outlet
		}
		return Story{Number: n, Label: l.Title, Title: l.Title, Link: l.Link, Excerpt: l.Excerpt, Outlet: l.Outlet, Time: l.Time, Published: l.Published,
			Items: items, More: items[1:], Outlets: outs, OutletCount: len(items)}
	}
	return &Data{
		Title: "broadsheet", Digest: "sample", Date: at.Format(dateLayout), Time: at,
		Since: at.Add(-24 * time.Hour), Until: at, Recipient: "reader@example.com",
		Topics: []Topic{
			{Slug: "one", Label: "One", Kind: "configured", Stories: []Story{story(1, s1)}, StoryCount: 1, ItemCount: 3, OutletCount: 3},
			{Label: "Other stories", Stories: []Story{story(2, s2)}, StoryCount: 1, ItemCount: 1, OutletCount: 1},
		},
		TopicCount: 2, StoryCount: 2, ItemCount: 4, OutletCount: 3,
		Preheader:      "A story three outlets carry · A story of one outlet",
		UnsubscribeURL: "https://example.com/unsubscribe/token",
		SiteURL:        "https://example.com/",
	}
}
