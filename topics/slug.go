package topics

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/broadsheet/broadsheet/feeds"
)

// storyID derives a story's id from its founding article's id: the whole
// id, so that two stories never share one.
func storyID(articleID string) string {
	for i := 0; i < len(articleID); i++ {
		ch := articleID[i]
		if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			sum := sha256.Sum256([]byte(articleID))
			return "s" + hex.EncodeToString(sum[:10])
		}
	}
	return "s" + articleID
}

// headlineCore is title without a leading section mark ("[Editorial] ",
// "Opinion: "), which says what kind of piece it is, not what it is about,
// and would start every slug of an outlet's editorials the same way.
func headlineCore(title string) string {
	t := strings.TrimSpace(title)
	for {
		rest := t
		if strings.HasPrefix(rest, "[") {
			if i := strings.IndexByte(rest, ']'); i > 0 && i < 40 {
				rest = strings.TrimSpace(rest[i+1:])
			}
		} else if i := strings.IndexAny(rest, ":|"); i > 0 && sectionMarks[strings.ToLower(strings.TrimSpace(rest[:i]))] {
			rest = strings.TrimSpace(rest[i+1:])
		}
		if rest == t || rest == "" {
			return t
		}
		t = rest
	}
}

// sectionMarks are the words that, before a colon or a bar, only name the
// kind of piece ("Opinion: …"); other words there ("Brexit: …") are news.
var sectionMarks = map[string]bool{"opinion": true, "editorial": true, "op-ed": true, "commentary": true, "comment": true, "column": true, "analysis": true, "letters": true}

// storySlug is the first words of the founding title and six characters of
// the story id, readable and unique.
func storySlug(title, id string) string {
	suffix := strings.TrimPrefix(id, "s")
	if len(suffix) > 6 {
		suffix = suffix[:6]
	}
	words := strings.Split(feeds.Slugify(fold(headlineCore(clip(title, maxTitle)))), "-")
	var b strings.Builder
	for _, w := range words {
		if w == "" {
			continue
		}
		if b.Len() > 0 && b.Len()+len(w) > 48 {
			break
		}
		if len(w) > 48 { // a long word, or CJK text without spaces
			cut := 0
			for i := range w {
				if i > 48 {
					break
				}
				cut = i
			}
			w = w[:cut]
		}
		b.WriteString(w)
		b.WriteByte('-')
		if strings.Count(b.String(), "-") == 6 {
			break
		}
	}
	if b.Len() == 0 {
		b.WriteString("story-")
	}
	return b.String() + suffix
}
