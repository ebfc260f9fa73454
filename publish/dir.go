package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteDir refreshes and writes every output into dir for static hosting:
// feed.atom, feed.rss, feed.json, editorials.*, topics/{slug}.* (the
// topic's page as topics/{slug}.html, which static hosts such as GitHub
// Pages serve at /topics/{slug} too), sources/{slug}.*, opml.xml and
// index.html. Each file is replaced atomically; files left in topics/ and
// sources/ by an earlier run whose topic or source is gone are removed.
// Other files in dir are left alone.
func (h *Handler) WriteDir(ctx context.Context, dir string) error {
	if err := h.Refresh(ctx); err != nil {
		return err
	}
	s := h.snap.Load()
	keep := map[string]bool{}
	for _, o := range s.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(o.file))
		if err := writeFile(path, o.body); err != nil {
			return err
		}
		keep[path] = true
	}
	for _, lf := range s.sources {
		for i := range formats {
			if err := ctx.Err(); err != nil {
				return err
			}
			// Rendered past the cache: a static copy reads each once.
			o, err := h.renderLazy(lazyOutput{feed: lf, format: i})
			if err != nil {
				return err
			}
			path := filepath.Join(dir, filepath.FromSlash(o.file))
			if err := writeFile(path, o.body); err != nil {
				return err
			}
			keep[path] = true
		}
	}
	for _, sub := range []string{"topics", "sources"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("write %s: %w", dir, err)
		}
		for _, de := range ents {
			path := filepath.Join(dir, sub, de.Name())
			ext := filepath.Ext(de.Name())
			if de.Type().IsRegular() && !keep[path] && (ext == ".atom" || ext == ".rss" || ext == ".json" || sub == "topics" && ext == ".html") {
				if err := os.Remove(path); err != nil {
					return fmt.Errorf("remove stale %s: %w", path, err)
				}
			}
		}
	}
	return nil
}

// writeFile replaces path with body through a temporary file and a rename,
// so that a web server never serves half a feed.
func writeFile(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+strings.TrimPrefix(filepath.Base(path), ".")+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
