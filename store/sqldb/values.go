package sqldb

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/feeds"
)

// cleanText is s as every backend can store it: without NUL, which
// PostgreSQL refuses in text and SQLite's functions read as the end of the
// string, and with invalid UTF-8 replaced by U+FFFD, which PostgreSQL
// refuses too. The two stores then keep the same text.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// cleanArticle applies cleanText to every text field of a.
func cleanArticle(a *feeds.Article) {
	for _, p := range []*string{&a.Source, &a.Identity, &a.Link, &a.LinkKey, &a.Title, &a.Summary,
		&a.Content, &a.Excerpt, &a.Author, &a.Language} {
		*p = cleanText(*p)
	}
	if len(a.Categories) > 0 {
		cats := make([]string, len(a.Categories))
		for i, c := range a.Categories {
			cats[i] = cleanText(c)
		}
		a.Categories = cats
	}
	if len(a.Enclosures) > 0 {
		encs := make([]feeds.Enclosure, len(a.Enclosures))
		for i, e := range a.Enclosures {
			encs[i] = feeds.Enclosure{URL: cleanText(e.URL), Type: cleanText(e.Type), Length: e.Length}
		}
		a.Enclosures = encs
	}
}

// ms is t as unix milliseconds, or NULL for the zero time.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// ms0 is t as unix milliseconds, or 0 for the zero time, for NOT NULL
// columns.
func ms0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS reads a time column: NULL and 0 are the zero time.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// roundMS is t as it reads back from the database.
func roundMS(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func toJSON(ss []string) (string, error) {
	if len(ss) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ss)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// fromJSON reads a string list; an empty list reads as nil.
func fromJSON(s string) ([]string, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var ss []string
	if err := json.Unmarshal([]byte(s), &ss); err != nil {
		return nil, fmt.Errorf("decode list %.40q: %w", s, err)
	}
	if len(ss) == 0 {
		return nil, nil
	}
	return ss, nil
}

// enclosure is the stored form of a feeds.Enclosure.
type enclosure struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`
	Length int64  `json:"length,omitempty"`
}

func enclosuresJSON(es []feeds.Enclosure) (string, error) {
	if len(es) == 0 {
		return "[]", nil
	}
	out := make([]enclosure, len(es))
	for i, e := range es {
		out[i] = enclosure(e)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// enclosuresFromJSON reads an enclosures column; an empty list reads as nil.
func enclosuresFromJSON(s string) ([]feeds.Enclosure, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var es []enclosure
	if err := json.Unmarshal([]byte(s), &es); err != nil {
		return nil, fmt.Errorf("decode enclosures %.40q: %w", s, err)
	}
	if len(es) == 0 {
		return nil, nil
	}
	out := make([]feeds.Enclosure, len(es))
	for i, e := range es {
		out[i] = feeds.Enclosure(e)
	}
	return out, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
