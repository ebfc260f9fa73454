package feeds

import (
	"net/url"
	"strings"
)

// opinionPaths are URL path segments that outlets use for opinion sections.
var opinionPaths = []string{"/opinion/", "/opinions/", "/editorial/", "/editorials/", "/commentisfree/", "/e_editorial/", "/column/", "/columns/"}

// titleMarks begin the titles of opinion pieces in many outlets' feeds.
var titleMarks = []string{"[editorial]", "editorial:", "editorial |", "[op-ed]", "op-ed:", "[opinion]", "opinion:", "opinion |", "[column]", "commentary:", "the guardian view on", "the observer view on"}

// opinionCategories are feed categories that mark opinion pieces.
var opinionCategories = map[string]bool{"opinion": true, "opinions": true, "editorial": true, "editorials": true, "comment": true, "commentary": true, "op-ed": true, "column": true, "columns": true}

// ClassifyKind says whether a is an editorial or opinion piece: because its
// source is configured as one, its title starts "[Editorial]" (as The
// Hankyoreh writes them), its URL lies in an opinion section, or a category
// says so.
func ClassifyKind(a Article, src Source) Kind {
	if src.Kind == KindEditorial {
		return KindEditorial
	}
	title := strings.ToLower(strings.TrimSpace(a.Title))
	for _, p := range titleMarks {
		if strings.HasPrefix(title, p) {
			return KindEditorial
		}
	}
	if u, err := url.Parse(a.Link); err == nil {
		path := strings.ToLower(u.Path)
		for _, p := range opinionPaths {
			if strings.Contains(path, p) {
				return KindEditorial
			}
		}
	}
	for _, c := range a.Categories {
		if opinionCategories[strings.ToLower(strings.TrimSpace(c))] {
			return KindEditorial
		}
	}
	return KindNews
}
