package topics

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/broadsheet/broadsheet/feeds"
)

// Rule defines a configured topic. An article belongs to it when it comes
// from one of Sources (if any), carries one of Categories (if any), contains
// every phrase of All, at least one of Any (if any) and none of None.
//
// Phrases are matched in the title, the excerpt and the categories, each on
// its own, ignoring case and accents, on word boundaries: "US" does not
// match "focus", "North Korea" matches "north korea's". A trailing "*"
// matches any ending ("korea*" matches "Korean"). A phrase written in
// capitals, two to six letters ("US", "NATO"), is an acronym and matches
// only words written in capitals ("US", "U.S."), not "us", unless the whole
// text is in capitals. A phrase with Chinese, Japanese or Korean characters
// matches as a substring, since those scripts do not separate words.
// Categories compare whole names, ignoring case and accents; a category also
// matches one part of a "World/Asia" path. Sources compare by slug, as
// feeds.Source.Slug and config do ("The Verge" is "the-verge").
type Rule struct {
	Name       string
	Slug       string // derived from Name when empty, as config does
	Any        []string
	All        []string
	None       []string
	Categories []string
	Sources    []string
}

// RuleError reports a rule NewMatcher cannot use.
type RuleError struct {
	Index  int    // position in the rules given
	Name   string // the rule's name, or its slug
	Reason string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("topic %q (rule %d): %s", e.Name, e.Index+1, e.Reason)
}

// Matcher assigns articles to configured topics. It is immutable once
// built and safe for concurrent use.
type Matcher struct {
	rules []rule
}

type rule struct {
	name, slug string
	any        []phrase
	all        []phrase
	none       []phrase
	categories map[string]bool
	sources    map[string]bool
}

// phrase is a compiled phrase: a sequence of folded words, or for CJK text
// a folded substring.
type phrase struct {
	words   []string
	prefix  bool // the last word matches as a prefix
	acronym bool // match only words written in capitals
	sub     string
}

// NewMatcher compiles rules. It returns a *RuleError for a rule without a
// name or slug, with a slug that is not lower-case words joined by dashes,
// with a slug already used, with an empty phrase, or that would match
// every article (no Any, All, Categories or Sources).
func NewMatcher(rules []Rule) (*Matcher, error) {
	m := &Matcher{}
	seen := map[string]bool{}
	for i, r := range rules {
		name := strings.TrimSpace(r.Name)
		slug := strings.TrimSpace(r.Slug)
		fail := func(format string, args ...any) error {
			n := name
			if n == "" {
				n = slug
			}
			return &RuleError{Index: i, Name: n, Reason: fmt.Sprintf(format, args...)}
		}
		if name == "" && slug == "" {
			return nil, fail("needs a name or a slug")
		}
		if slug == "" {
			// As config derives it, so that both agree.
			slug = feeds.Slugify(name)
			if slug == "" {
				return nil, fail("no slug can be derived from the name; set one")
			}
		} else if feeds.Slugify(slug) != slug {
			return nil, fail("slug %q must be lower-case letters and digits joined by dashes, such as %q", slug, feeds.Slugify(slug))
		}
		if seen[slug] {
			return nil, fail("slug %q is used by another topic", slug)
		}
		seen[slug] = true
		if name == "" {
			name = slug
		}
		cr := rule{name: name, slug: slug}
		var err error
		for _, list := range []struct {
			field string
			in    []string
			out   *[]phrase
		}{{"any", r.Any, &cr.any}, {"all", r.All, &cr.all}, {"none", r.None, &cr.none}} {
			for _, s := range list.in {
				p, ok := compilePhrase(s)
				if !ok {
					err = fail("%s: phrase %q has no words to match", list.field, s)
					break
				}
				*list.out = append(*list.out, p)
			}
			if err != nil {
				return nil, err
			}
		}
		if cr.categories, err = nameSet(r.Categories); err != nil {
			return nil, fail("categories: %v", err)
		}
		if cr.sources, err = slugSet(r.Sources); err != nil {
			return nil, fail("sources: %v", err)
		}
		if len(cr.any) == 0 && len(cr.all) == 0 && cr.categories == nil && cr.sources == nil {
			return nil, fail("would match every article: give any, all, categories or sources")
		}
		m.rules = append(m.rules, cr)
	}
	return m, nil
}

// Topics lists the configured topics, in the order of the rules.
func (m *Matcher) Topics() []Topic {
	out := make([]Topic, len(m.rules))
	for i, r := range m.rules {
		out[i] = Topic{Slug: r.slug, Label: r.name, Kind: KindConfigured}
	}
	return out
}

// Match returns the slugs of the topics a belongs to, in the order of the
// rules, or nil.
func (m *Matcher) Match(a feeds.Article) []string {
	if len(m.rules) == 0 {
		return nil
	}
	t := newMatchText(a)
	var out []string
	for i := range m.rules {
		if m.rules[i].matches(a, t) {
			out = append(out, m.rules[i].slug)
		}
	}
	return out
}

func (r *rule) matches(a feeds.Article, t *matchText) bool {
	if r.sources != nil && !r.sources[feeds.Slugify(a.Source)] {
		return false
	}
	if r.categories != nil && !t.hasCategory(r.categories) {
		return false
	}
	for _, p := range r.all {
		if !t.has(p) {
			return false
		}
	}
	for _, p := range r.none {
		if t.has(p) {
			return false
		}
	}
	if len(r.any) == 0 {
		return true
	}
	for _, p := range r.any {
		if t.has(p) {
			return true
		}
	}
	return false
}

func compilePhrase(s string) (phrase, bool) {
	s = strings.TrimSpace(s)
	for _, r := range s {
		if isCJK(r) {
			sub := collapseSpace(fold(strings.TrimSuffix(s, "*")))
			return phrase{sub: sub}, sub != ""
		}
	}
	var p phrase
	if strings.HasSuffix(s, "*") {
		p.prefix = true
		s = strings.TrimRight(s, "*")
	}
	toks := tokenize(s)
	for _, t := range toks {
		p.words = append(p.words, t.text)
	}
	if len(toks) == 1 && toks[0].caps && !p.prefix {
		letters := 0
		for _, r := range toks[0].text {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		p.acronym = letters >= 2 && letters <= 6
	}
	return p, len(p.words) > 0
}

// nameSet folds names for whole-name comparison; nil when there are none.
func nameSet(names []string) (map[string]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	m := map[string]bool{}
	for _, n := range names {
		k := normName(n)
		if k == "" {
			return nil, fmt.Errorf("empty name")
		}
		m[k] = true
	}
	return m, nil
}

// slugSet holds source names by slug, as config and feeds.Source compare
// them; nil when there are none.
func slugSet(names []string) (map[string]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	m := map[string]bool{}
	for _, n := range names {
		k := feeds.Slugify(n)
		if k == "" {
			return nil, fmt.Errorf("%q has no letters or digits", n)
		}
		m[k] = true
	}
	return m, nil
}

func normName(s string) string { return collapseSpace(fold(s)) }

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// matchText is an article's text prepared for phrase matching.
type matchText struct {
	fields []matchField
	cats   []string // folded categories
}

type matchField struct {
	toks  []token
	at    map[string][]int // word -> positions
	caps  bool             // the whole field is in capitals
	plain string           // folded, for CJK substrings; built on demand
	raw   string
}

func newMatchText(a feeds.Article) *matchText {
	t := &matchText{}
	add := func(s string) {
		if strings.TrimSpace(s) == "" {
			return
		}
		f := matchField{toks: tokenize(s), raw: s, at: map[string][]int{}}
		for i, tk := range f.toks {
			f.at[tk.text] = append(f.at[tk.text], i)
		}
		f.caps = styleOf(f.toks) == allCaps
		t.fields = append(t.fields, f)
	}
	add(a.Title)
	add(a.Excerpt)
	for _, c := range a.Categories {
		add(c)
		t.cats = append(t.cats, normName(c))
	}
	return t
}

func (t *matchText) hasCategory(want map[string]bool) bool {
	for _, c := range t.cats {
		if want[c] {
			return true
		}
		for _, part := range strings.FieldsFunc(c, func(r rune) bool { return r == '/' || r == '>' || r == '|' }) {
			if want[strings.TrimSpace(part)] {
				return true
			}
		}
	}
	return false
}

func (t *matchText) has(p phrase) bool {
	for i := range t.fields {
		if t.fields[i].has(p) {
			return true
		}
	}
	return false
}

func (f *matchField) has(p phrase) bool {
	if p.sub != "" {
		if f.plain == "" {
			f.plain = collapseSpace(fold(f.raw))
		}
		return strings.Contains(f.plain, p.sub)
	}
	n := len(p.words)
	var starts []int
	if n == 1 && p.prefix {
		for i, tk := range f.toks {
			if strings.HasPrefix(tk.text, p.words[0]) {
				starts = append(starts, i)
			}
		}
	} else {
		starts = f.at[p.words[0]]
	}
	for _, s := range starts {
		if s+n > len(f.toks) {
			continue
		}
		ok := true
		for j := 1; j < n && ok; j++ {
			w := f.toks[s+j].text
			if j == n-1 && p.prefix {
				ok = strings.HasPrefix(w, p.words[j])
			} else {
				ok = w == p.words[j]
			}
		}
		if ok && p.acronym && !f.caps && !f.toks[s].caps {
			ok = false
		}
		if ok {
			return true
		}
	}
	return false
}
