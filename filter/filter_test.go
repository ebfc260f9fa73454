package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, rule string
		field      string
		err        string // a part of the error; "" for none
	}{
		{"Phrase", "Sponsored", "", ""},
		{"PhraseWithColon", "Breaking: news", "", ""},
		{"Title", "title:(?i)sponsored", FieldTitle, ""},
		{"FieldCase", "Title:x", FieldTitle, ""},
		{"Categories", "categories:^Ads$", FieldCategory, ""},
		{"Author", "author:^PR Desk$", FieldAuthor, ""},
		{"Link", `link:/sponsored/`, FieldLink, ""},
		{"Empty", "  ", "", "is empty"},
		{"NoPattern", "title:", "", "has no regular expression"},
		{"BadRegexp", "title:(unclosed", "", "missing closing )"},
		{"TooLong", "title:" + strings.Repeat("a", 1001), "", "at most 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(tt.rule)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.rule, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.rule, err)
			}
			if r.Field != tt.field {
				t.Errorf("Parse(%q).Field = %q, want %q", tt.rule, r.Field, tt.field)
			}
		})
	}
}

func TestFilter_Allow(t *testing.T) {
	ad := Item{Title: "SPONSORED: a better mattress", Author: "PR Desk", Link: "https://example.com/sponsored/1", Categories: []string{"Ads"}}
	news := Item{Title: "Harbour reopens after storm", Author: "Jane Roe", Link: "https://example.com/news/2", Categories: []string{"Local", "Weather"}}
	sport := Item{Title: "Cup final tonight", Author: "Jane Roe", Link: "https://example.com/sport/3", Categories: []string{"Sport"}}
	tests := []struct {
		name        string
		keep, block []string
		want        [3]bool // ad, news, sport
	}{
		{"None", nil, nil, [3]bool{true, true, true}},
		{"BlockPhrase", nil, []string{"sponsored"}, [3]bool{false, true, true}},
		{"BlockTitleRegexpCase", nil, []string{"title:(?i)^sponsored"}, [3]bool{false, true, true}},
		{"BlockTitleRegexpNoCase", nil, []string{"title:^sponsored"}, [3]bool{true, true, true}},
		{"BlockCategory", nil, []string{"category:^Sport$"}, [3]bool{true, true, false}},
		{"BlockAuthor", nil, []string{"author:PR"}, [3]bool{false, true, true}},
		{"BlockLink", nil, []string{`link:/sponsored/`}, [3]bool{false, true, true}},
		{"PhraseInCategory", nil, []string{"weather"}, [3]bool{true, false, true}},
		{"PhraseNotInLink", nil, []string{"news/2"}, [3]bool{true, true, true}},
		{"Keep", []string{"category:^(Local|Sport)$"}, nil, [3]bool{false, true, true}},
		{"KeepThenBlock", []string{"jane roe"}, []string{"cup final"}, [3]bool{false, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.keep, tt.block)
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range []Item{ad, news, sport} {
				if got := f.Allow(it); got != tt.want[i] {
					t.Errorf("Allow(%q) = %v, want %v", it.Title, got, tt.want[i])
				}
			}
		})
	}
	var nilF *Filter
	if !nilF.Allow(ad) || !nilF.Empty() {
		t.Error("a nil Filter must keep everything")
	}
}

func TestNew_Errors(t *testing.T) {
	_, err := New([]string{"ok", "title:("}, []string{"", "author:[z-a]"})
	if err == nil {
		t.Fatal("New accepted bad rules")
	}
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var re *RuleError
		if !errors.As(e, &re) {
			t.Fatalf("%v is not a *RuleError", e)
		}
		got = append(got, re.List+"#"+string(rune('0'+re.Index)))
	}
	if want := "keep#1 block#0 block#1"; strings.Join(got, " ") != want {
		t.Errorf("errors at %v, want %s", got, want)
	}
}
