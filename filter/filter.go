// Package filter parses and applies a source's keep and block rules, as
// Miniflux's: which of a feed's items are stored. It is the one parser of
// the rule syntax; config validates rules through it and the poller
// applies them before storing. Standard library only.
//
// A rule is either "field:regexp", where field is title, category, author
// or link and regexp is RE2 syntax (Go's regexp; "(?i)" makes it ignore
// case), or a plain phrase, matched ignoring case anywhere in the title,
// a category or the author. Only those four field names make a prefix: a
// phrase such as "Breaking: news" is a phrase.
package filter

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Fields a rule can name.
const (
	FieldTitle    = "title"
	FieldCategory = "category"
	FieldAuthor   = "author"
	FieldLink     = "link"
)

var fields = []string{FieldTitle, FieldCategory, FieldAuthor, FieldLink}

// Item is what rules look at of one feed item.
type Item struct {
	Title, Author, Link string
	Categories          []string
}

// Rule is one parsed rule.
type Rule struct {
	Field  string         // one of the Field constants; "" for a phrase
	re     *regexp.Regexp // for a field rule
	phrase string         // lower-cased, for a phrase rule
}

// maxRuleBytes bounds a rule, so that a configuration cannot make every
// poll compile or run a pathological pattern (RE2 is linear, but in the
// size of the pattern too).
const maxRuleBytes = 1000

// Parse parses one rule. The error says what is wrong and how to write it.
func Parse(s string) (Rule, error) {
	if strings.TrimSpace(s) == "" {
		return Rule{}, errors.New("is empty: write a phrase, or field:regexp such as title:(?i)sponsored")
	}
	if len(s) > maxRuleBytes {
		return Rule{}, fmt.Errorf("is %d bytes long: rules are at most %d", len(s), maxRuleBytes)
	}
	if field, pat, ok := strings.Cut(s, ":"); ok {
		f := strings.ToLower(strings.TrimSpace(field))
		if f == "categories" {
			f = FieldCategory
		}
		for _, known := range fields {
			if f != known {
				continue
			}
			if pat == "" {
				return Rule{}, fmt.Errorf("%q has no regular expression after %s:; write e.g. %s:(?i)sponsored", s, field, f)
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				return Rule{}, fmt.Errorf("%q: the part after %s: is not a valid regular expression (Go RE2 syntax): %v", s, field, unwrapSyntax(err))
			}
			return Rule{Field: f, re: re}, nil
		}
	}
	return Rule{phrase: strings.ToLower(strings.TrimSpace(s))}, nil
}

// unwrapSyntax leaves out the pattern that regexp repeats in its message.
func unwrapSyntax(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: `%s`", se.Code, se.Expr)
	}
	return err.Error()
}

// Match reports whether r matches it.
func (r Rule) Match(it Item) bool {
	switch r.Field {
	case FieldTitle:
		return r.re.MatchString(it.Title)
	case FieldAuthor:
		return r.re.MatchString(it.Author)
	case FieldLink:
		return r.re.MatchString(it.Link)
	case FieldCategory:
		for _, c := range it.Categories {
			if r.re.MatchString(c) {
				return true
			}
		}
		return false
	}
	if contains(it.Title, r.phrase) || contains(it.Author, r.phrase) {
		return true
	}
	for _, c := range it.Categories {
		if contains(c, r.phrase) {
			return true
		}
	}
	return false
}

func contains(s, lowerPhrase string) bool {
	return strings.Contains(strings.ToLower(s), lowerPhrase)
}

// RuleError is a rule that does not parse: List is "keep" or "block" and
// Index its place in that list, for config to point at.
type RuleError struct {
	List  string
	Index int
	Err   error
}

func (e *RuleError) Error() string { return fmt.Sprintf("%s[%d]: %v", e.List, e.Index, e.Err) }
func (e *RuleError) Unwrap() error { return e.Err }

// Filter is one source's rules. The zero value and nil keep everything.
// It is safe for concurrent use.
type Filter struct {
	keep, block []Rule
}

// New parses keep and block rules. Every bad rule is reported, each as a
// *RuleError, joined.
func New(keep, block []string) (*Filter, error) {
	f := &Filter{}
	var errs []error
	for _, l := range []struct {
		name  string
		rules []string
		into  *[]Rule
	}{{"keep", keep, &f.keep}, {"block", block, &f.block}} {
		for i, s := range l.rules {
			r, err := Parse(s)
			if err != nil {
				errs = append(errs, &RuleError{List: l.name, Index: i, Err: err})
				continue
			}
			*l.into = append(*l.into, r)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// Empty reports whether f keeps everything.
func (f *Filter) Empty() bool { return f == nil || len(f.keep)+len(f.block) == 0 }

// Allow reports whether it is stored: when there are keep rules it must
// match one, and it must match no block rule (block wins).
func (f *Filter) Allow(it Item) bool {
	if f == nil {
		return true
	}
	if len(f.keep) > 0 && !anyMatch(f.keep, it) {
		return false
	}
	return !anyMatch(f.block, it)
}

func anyMatch(rs []Rule, it Item) bool {
	for _, r := range rs {
		if r.Match(it) {
			return true
		}
	}
	return false
}
