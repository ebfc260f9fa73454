package topics

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/feeds"
)

// rawTerm is one term of an item before IDF weighting.
type rawTerm struct {
	term string
	w    float64
	cap  int8 // +1: seen capitalized past the start of a sentence
	low  int8 // +1: seen in lower case
	// comp says the term occurs only as a word of the multi-word names
	// listed in names ("korea" of "north korea"), never on its own: it
	// then speaks for one of those names, not for itself.
	comp  bool
	names []string
	lede  bool // a term of the lede (Excerpt), a field of its own
}

// ledeMark starts the lede's terms, which are terms of their own: the
// lede is compared with the lede, the title with the title.
const ledeMark = "~"

// caseStyle says what capitalization means in a text.
type caseStyle uint8

const (
	sentenceCase caseStyle = iota // capitals mark names
	titleCase                     // most words capitalized: capitals say little
	allCaps                       // shouted: capitals say nothing
)

func styleOf(toks []token) caseStyle {
	var letters, words, upper, capsWords int
	for _, t := range toks {
		if t.kind != kindWord {
			continue
		}
		letters++
		if t.caps {
			capsWords++
		}
		if t.start || stopWords[t.text] || t.caps {
			continue
		}
		words++
		if t.upper {
			upper++
		}
	}
	switch {
	case letters >= 3 && capsWords*10 >= letters*8:
		return allCaps
	case words >= 2 && upper*4 >= words*3:
		return titleCase
	}
	return sentenceCase
}

// stats is what the clusterer has learned about a term, used to tell names
// in Title Case headlines where capitals say nothing.
type stats interface {
	capitalized(term string) (cap, low int)
	stem(word string) string
}

// analyze turns an article into weighted terms: title words, the first
// words of the excerpt, URL slug words the title lacks, and categories.
// Names, acronyms and numbers are multiplied by p.entity. It also returns
// the title's distinct words (see titleWords).
func analyze(a feeds.Article, p *params, st stats) ([]rawTerm, []string) {
	z := analyzer{p: p, st: st, acc: map[string]*rawTerm{}}
	titleToks := tokenize(clip(a.Title, maxTitle))
	z.text(titleToks, p.titleW, 0)
	if p.urlW > 0 {
		z.slug(clip(a.Link, maxLink))
	}
	if p.catW > 0 {
		cats := a.Categories[:min(len(a.Categories), maxCategories)]
		z.categories(cats)
	}
	if p.excerptW > 0 && a.Excerpt != "" {
		lede := tokenize(clip(a.Excerpt, maxLede))
		if p.ledeField {
			z.lede = true
			z.text(lede, 1, p.excerpt)
			z.lede = false
		} else {
			z.text(lede, p.excerptW, p.excerpt)
		}
	}
	return z.terms(), titleWords(titleToks, st)
}

// What an item contributes is capped, field by field, so that a huge title
// (a feed pasting its article there) costs what a normal one costs and
// does not fill the vocabulary: a headline is rarely over 200 bytes, and
// the lede is read for its first p.excerpt tokens anyway.
const (
	maxTitle      = 512  // bytes of the title read
	maxLede       = 1024 // bytes of the excerpt read
	maxLink       = 1024 // bytes of the link read
	maxCategories = 16   // categories read
	maxCategory   = 128  // bytes of each category read
)

// clip is s cut to at most n bytes, at the last space before the cut if
// there is one in its second half (else at a rune boundary).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if sp := strings.LastIndexByte(s[:i], ' '); sp > i/2 {
		i = sp
	}
	return s[:i]
}

// analyzer accumulates the weighted terms of one article, field by field.
type analyzer struct {
	p     *params
	st    stats
	acc   map[string]*rawTerm
	order []string // terms in the order first seen, for a deterministic result
	// named holds the words of names written under an alias ("united",
	// "kingdom" of "UK"), so that the URL slug does not bring them back.
	named map[string]bool
	lede  bool // reading the lede: terms get ledeMark
}

// terms returns the accumulated terms in the order first seen.
func (z *analyzer) terms() []rawTerm {
	out := make([]rawTerm, 0, len(z.order))
	for _, t := range z.order {
		out = append(out, *z.acc[t])
	}
	return out
}

// key is term as the current field names it.
func (z *analyzer) key(term string) string {
	if z.lede {
		return ledeMark + term
	}
	return term
}

func (z *analyzer) get(term string, comp bool) *rawTerm {
	term = z.key(term)
	r := z.acc[term]
	if r == nil {
		r = &rawTerm{term: term, comp: comp, lede: z.lede}
		z.acc[term] = r
		z.order = append(z.order, term)
	}
	return r
}

// add adds weight w to term, which then counts on its own (not only as a
// word of a name).
func (z *analyzer) add(term string, w float64, cap, low bool) {
	r := z.get(term, false)
	r.w += w
	r.comp = false
	if cap {
		r.cap = 1
	}
	if low {
		r.low = 1
	}
}

// addPart adds a word of the multi-word name whole.
func (z *analyzer) addPart(term, whole string, w float64, cap bool) {
	r := z.get(term, true)
	r.w += w
	if cap {
		r.cap = 1
	}
	if whole = z.key(whole); !slices.Contains(r.names, whole) {
		r.names = append(r.names, whole)
	}
}

// isName reports a term the clusterer has mostly seen capitalized.
func (z *analyzer) isName(term string) bool {
	c, l := z.st.capitalized(term)
	return c > 0 && float64(c) >= z.p.capRatio*float64(c+l)
}

// slug adds the words of link's headline slug that the title lacks.
func (z *analyzer) slug(link string) {
	for _, w := range slugWords(link) {
		if len(w) < 2 || stopWords[w] {
			continue
		}
		term := z.st.stem(w)
		if z.acc[term] != nil || z.named[term] { // in the title, or repeated in the URL
			continue
		}
		wt := z.p.urlW
		if z.isName(term) {
			wt *= z.p.entity
		}
		z.add(term, wt, false, false)
	}
}

func (z *analyzer) categories(cats []string) {
	for _, c := range cats {
		for _, t := range tokenize(clip(c, maxCategory)) {
			switch {
			case t.kind == kindCJK:
				for _, g := range cjkGrams(t.text) {
					z.add(g, z.p.catW, false, false)
				}
			case len(t.text) >= 2 && !stopWords[t.text]:
				z.add(z.st.stem(t.text), z.p.catW, false, false)
			}
		}
	}
}

// text adds the words of a text (the first limit tokens, if limit > 0)
// with weight fw, reading runs of names as one term each (see nameRun).
func (z *analyzer) text(toks []token, fw float64, limit int) {
	if limit > 0 && len(toks) > limit {
		toks = toks[:limit]
	}
	s := textScan{z: z, fw: fw, style: styleOf(toks)}
	for _, t := range toks {
		s.token(t)
	}
	s.flush()
}

// textScan reads one text's tokens in order, collecting runs of
// consecutive names ("Kim Jong Un", "US Navy"). A run of two or more is one
// name, boosted, and its words are its parts (see rawTerm.comp): "North
// Korea" and "South Korea" share a word, not a name, and the clusterer
// does not take a shared part of two different names as evidence of one
// story.
type textScan struct {
	z     *analyzer
	fw    float64
	style caseStyle
	run   []runName
	// pending is a capitalized word not known to be a name, where capitals
	// say little (a sentence's first word, any word of a Title Case text),
	// and never seen in lower case: it joins a name that follows it
	// ("North" in "North Korea fires", "North Korea Must Not Give Up"),
	// else it counts as a plain word.
	pending runName
	// lead is a capitalized stop word that begins names ("New" in "New
	// York", "New Zealand"): it joins a name that follows it, else it is
	// dropped.
	lead string
}

// runName is one word of a run of names.
type runName struct {
	term string
	cap  bool
	lead bool // a stop word that leads a name ("New" York): no term of its own
	abbr bool // an initial ("N." of "N. Korea"): no term of its own
}

// push adds n to the run, after the lead and pending word waiting for it.
func (s *textScan) push(n runName) {
	if s.lead != "" {
		s.run = append(s.run, runName{term: s.lead, lead: true})
		s.lead = ""
	}
	if s.pending.term != "" {
		s.run = append(s.run, s.pending)
		s.pending = runName{}
	}
	s.run = append(s.run, n)
}

// flush ends the run: a single name is a boosted term, a longer run one
// boosted whole with its words as parts.
func (s *textScan) flush() {
	z, fw := s.z, s.fw
	s.lead = ""
	if s.pending.term != "" {
		if canon, ok := aliases[s.pending.term]; ok {
			s.alias(canon)
		} else {
			z.add(s.pending.term, fw, s.pending.cap, false)
		}
		s.pending = runName{}
	}
	switch {
	case len(s.run) == 1:
		s.flushOne()
		return
	case len(s.run) > 1:
		words := make([]string, len(s.run))
		for i, n := range s.run {
			words[i] = n.term
		}
		whole := strings.Join(words, " ")
		if canon, ok := aliases[whole]; ok {
			for _, w := range words {
				s.z.name(w)
			}
			s.run = s.run[:0]
			s.alias(canon)
			return
		}
		if len(s.run) == 2 && s.run[0].abbr {
			// "N. Korea" unknown: the initial says too little alone.
			s.run = s.run[1:]
			s.flushOne()
			return
		}
		for _, n := range s.run {
			if !n.lead && !n.abbr {
				z.addPart(n.term, whole, fw*z.p.runWord, n.cap)
			}
		}
		z.add(whole, fw*z.p.entity, false, false)
	}
	s.run = s.run[:0]
}

// name records a word written as part of an aliased name.
func (z *analyzer) name(w string) {
	if z.named == nil {
		z.named = map[string]bool{}
	}
	z.named[w] = true
}

// flushOne adds the run's single name, under the name it is an alias of
// if it is one.
func (s *textScan) flushOne() {
	n := s.run[0]
	s.run = s.run[:0]
	if n.abbr {
		return
	}
	if canon, ok := aliases[n.term]; ok {
		// The URL slug must not bring the word back ("Washington" read
		// as the US, then "washington" from the link): one entity.
		s.z.name(n.term)
		s.alias(canon)
		return
	}
	s.z.add(n.term, s.fw*s.z.p.entity, n.cap, false)
}

// alias adds the name canon (see aliases) as if the text had written it:
// one boosted term, with its words as parts when it has several.
func (s *textScan) alias(canon []string) {
	z, fw := s.z, s.fw
	whole := strings.Join(canon, " ")
	if r := z.acc[z.key(whole)]; r != nil && !r.comp {
		// Named again another way ("US ... Washington"): one entity, not
		// twice the evidence.
		return
	}
	if len(canon) > 1 {
		for _, w := range canon {
			z.addPart(w, whole, fw*z.p.runWord, false)
		}
	}
	z.add(whole, fw*z.p.entity, false, false)
}

// token reads the next token.
func (s *textScan) token(t token) {
	if t.start || t.brk {
		s.flush()
	}
	switch t.kind {
	case kindCJK:
		s.flush()
		for _, g := range cjkGrams(t.text) {
			s.z.add(g, s.fw, false, false)
		}
	case kindNumber:
		s.flush()
		w := s.fw
		if len(t.text) >= 3 && !isYear(t.text) {
			w *= s.z.p.entity
		}
		s.z.add(t.text, w, false, false)
	default:
		s.word(t)
	}
}

// word reads a word token: a stop word ends the run, a name extends it,
// any other word ends it and counts on its own.
func (s *textScan) word(t token) {
	z := s.z
	if t.abbr && s.style != allCaps {
		s.pushName(runName{term: t.text, abbr: true}, false)
		return
	}
	if len(t.text) < 2 {
		s.flush()
		return
	}
	if nameLeads[t.text] && t.upper && !t.caps && s.style != allCaps {
		s.flush()
		s.lead = t.text
		return
	}
	if stopWords[t.text] && !(t.caps && acronymStops[t.text]) {
		s.flush() // "VIDEO:", "UPDATE 2-" are shouted, not acronyms
		return
	}
	if t.caps && s.style != allCaps && len(t.text) <= 6 {
		s.pushName(runName{term: z.st.stem(t.text)}, t.poss)
		return
	}
	if stopWords[t.text] {
		s.flush()
		return
	}
	term := z.st.stem(t.text)
	// Every capitalized word seen past a sentence start and every
	// lower-case one count towards learning which words are names, for
	// Title Case texts where capitals say little by themselves.
	cap := t.upper && !t.start && s.style != allCaps
	low := !t.upper
	// A capital inside a word marks a name in any style.
	isN := cap && s.style == sentenceCase || t.camel && s.style != allCaps
	if !isN && !low {
		isN = z.isName(term)
	}
	if isN {
		s.pushName(runName{term: term, cap: cap}, t.poss)
		return
	}
	s.flush()
	if t.upper && (t.start && s.style == sentenceCase || s.style == titleCase) {
		if _, l := z.st.capitalized(term); l == 0 {
			s.pending = runName{term: term, cap: cap}
			if t.poss {
				s.flush()
			}
			return
		}
	}
	z.add(term, s.fw, cap, low)
}

// pushName adds a name to the run; a possessive ends it ("South Korea's
// Moon" is two names).
func (s *textScan) pushName(n runName, poss bool) {
	s.push(n)
	if poss {
		s.flush()
	}
}

// titleWords returns the distinct words of a title, as the story label
// compares them: stems, numbers and CJK bigrams, without stop words (but
// with acronyms such as "US"). They depend on the title alone, never on
// what the Clusterer has learned, so that the label depends on the members
// alone.
func titleWords(toks []token, st stats) []string {
	out := make([]string, 0, len(toks))
	add := func(w string) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, t := range toks {
		switch {
		case t.kind == kindCJK:
			for _, g := range cjkGrams(t.text) {
				add(g)
			}
		case t.kind == kindNumber:
			add(t.text)
		case len(t.text) >= 2 && (!stopWords[t.text] || t.caps && acronymStops[t.text]):
			add(st.stem(t.text))
		}
	}
	return out
}

// slugWords returns the folded words of the path segments of link that look
// like a headline slug ("north-korea-talks-fail-1234.html"): at least three
// words of letters. Numbers, ids and the host are left out.
func slugWords(link string) []string {
	if link == "" {
		return nil
	}
	u, err := url.Parse(link)
	if err != nil {
		return nil
	}
	var out []string
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "" {
			continue
		}
		if dot := strings.LastIndexByte(seg, '.'); dot > 0 && len(seg)-dot <= 6 {
			seg = seg[:dot] // .html, .php, .ece
		}
		parts := strings.FieldsFunc(seg, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
		})
		var words []string
		for _, p := range parts {
			if !hasDigit(p) && len(p) >= 2 {
				words = append(words, fold(strings.ReplaceAll(p, "'", "")))
			}
		}
		if len(words) >= 3 {
			out = append(out, words...)
		}
	}
	return out
}

func hasDigit(s string) bool {
	for _, r := range s {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// isYear reports a number that reads as a recent year: it dates an item
// rather than naming its story.
func isYear(s string) bool {
	return len(s) == 4 && (s[:2] == "19" || s[:2] == "20")
}
