package topics

import (
	"net/url"
	"slices"
	"strings"
	"unicode"

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
}

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
	acc := map[string]*rawTerm{}
	var order []string
	get := func(term string, comp bool) *rawTerm {
		r := acc[term]
		if r == nil {
			r = &rawTerm{term: term, comp: comp}
			acc[term] = r
			order = append(order, term)
		}
		return r
	}
	add := func(term string, w float64, cap, low bool) {
		r := get(term, false)
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
	addPart := func(term, whole string, w float64, cap bool) {
		r := get(term, true)
		r.w += w
		if cap {
			r.cap = 1
		}
		if !slices.Contains(r.names, whole) {
			r.names = append(r.names, whole)
		}
	}
	isName := func(term string) bool {
		c, l := st.capitalized(term)
		return c > 0 && float64(c) >= p.capRatio*float64(c+l)
	}
	text := func(toks []token, fw float64, limit int) {
		if limit > 0 && len(toks) > limit {
			toks = toks[:limit]
		}
		style := styleOf(toks)
		// run collects consecutive names ("Kim Jong Un", "US Navy"). A
		// run of two or more is one name, boosted, and its words are its
		// parts (see rawTerm.comp): "North Korea" and "South Korea" share
		// a word, not a name, and the clusterer does not take a shared
		// part of two different names as evidence of one story.
		type name struct {
			term string
			cap  bool
			lead bool // a stop word that leads a name ("New" York): no term of its own
		}
		var run []name
		// pending is a capitalized word not known to be a name, where
		// capitals say little (a sentence's first word, any word of a
		// Title Case text), and never seen in lower case: it joins a name
		// that follows it ("North" in "North Korea fires", "North Korea
		// Must Not Give Up"), else it counts as a plain word. lead is a
		// capitalized stop word that begins names ("New" in "New York",
		// "New Zealand"): it joins a name that follows it, else it is
		// dropped.
		var pending name
		lead := ""
		push := func(n name) {
			if lead != "" {
				run = append(run, name{term: lead, lead: true})
				lead = ""
			}
			if pending.term != "" {
				run = append(run, pending)
				pending = name{}
			}
			run = append(run, n)
		}
		flush := func() {
			lead = ""
			if pending.term != "" {
				add(pending.term, fw, pending.cap, false)
				pending = name{}
			}
			switch {
			case len(run) == 1:
				add(run[0].term, fw*p.entity, run[0].cap, false)
			case len(run) > 1:
				words := make([]string, len(run))
				for i, n := range run {
					words[i] = n.term
				}
				whole := strings.Join(words, " ")
				for _, n := range run {
					if !n.lead {
						addPart(n.term, whole, fw*p.runWord, n.cap)
					}
				}
				add(whole, fw*p.entity, false, false)
			}
			run = run[:0]
		}
		for _, t := range toks {
			if t.start || t.brk {
				flush()
			}
			switch t.kind {
			case kindCJK:
				flush()
				for _, g := range cjkGrams(t.text) {
					add(g, fw, false, false)
				}
			case kindNumber:
				flush()
				w := fw
				if len(t.text) >= 3 && !isYear(t.text) {
					w *= p.entity
				}
				add(t.text, w, false, false)
			default:
				if len(t.text) < 2 {
					flush()
					continue
				}
				if nameLeads[t.text] && t.upper && !t.caps && style != allCaps {
					flush()
					lead = t.text
					continue
				}
				if stopWords[t.text] && !(t.caps && acronymStops[t.text]) {
					flush() // "VIDEO:", "UPDATE 2-" are shouted, not acronyms
					continue
				}
				if t.caps && style != allCaps && len(t.text) <= 6 {
					push(name{term: st.stem(t.text)})
					if t.poss {
						flush() // "South Korea's Moon" is two names
					}
					continue
				}
				if stopWords[t.text] {
					flush()
					continue
				}
				term := st.stem(t.text)
				// Every capitalized word seen past a sentence start and
				// every lower-case one count towards learning which words
				// are names, for Title Case texts where capitals say little
				// by themselves.
				cap := t.upper && !t.start && style != allCaps
				low := !t.upper
				// A capital inside a word marks a name in any style.
				isN := cap && style == sentenceCase || t.camel && style != allCaps
				if !isN && !low {
					isN = isName(term)
				}
				if isN {
					push(name{term: term, cap: cap})
					if t.poss {
						flush()
					}
					continue
				}
				flush()
				if t.upper && (t.start && style == sentenceCase || style == titleCase) {
					if _, l := st.capitalized(term); l == 0 {
						pending = name{term: term, cap: cap}
						if t.poss {
							flush()
						}
						continue
					}
				}
				add(term, fw, cap, low)
			}
		}
		flush()
	}
	titleToks := tokenize(a.Title)
	text(titleToks, p.titleW, 0)
	if p.urlW > 0 {
		for _, w := range slugWords(a.Link) {
			if len(w) < 2 || stopWords[w] {
				continue
			}
			term := st.stem(w)
			if acc[term] != nil { // in the title, or repeated in the URL
				continue
			}
			wt := p.urlW
			if isName(term) {
				wt *= p.entity
			}
			add(term, wt, false, false)
		}
	}
	if p.excerptW > 0 && a.Excerpt != "" {
		text(tokenize(a.Excerpt), p.excerptW, p.excerpt)
	}
	if p.catW > 0 {
		for _, c := range a.Categories {
			for _, t := range tokenize(c) {
				switch {
				case t.kind == kindCJK:
					for _, g := range cjkGrams(t.text) {
						add(g, p.catW, false, false)
					}
				case len(t.text) >= 2 && !stopWords[t.text]:
					add(st.stem(t.text), p.catW, false, false)
				}
			}
		}
	}
	out := make([]rawTerm, 0, len(order))
	for _, t := range order {
		out = append(out, *acc[t])
	}
	return out, titleWords(titleToks, st)
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
