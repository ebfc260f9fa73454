// Package testcorpus finds the shared public test corpus (../shared/corpus
// beside the repository) for tests. In CI a missing corpus fails the test;
// elsewhere it skips with a message saying where the corpus is looked for.
package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// workplaceCorpus is where the workplace keeps the corpus, for clones that
// do not sit beside it.
const workplaceCorpus = "/work/shared/corpus"

// Dir returns the corpus folder sub (e.g. "stories"), from
// $BROADSHEET_CORPUS if set, else ../shared/corpus next to the module root,
// else /work/shared/corpus.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	var dir string
	if base := os.Getenv("BROADSHEET_CORPUS"); base != "" {
		dir = filepath.Join(base, sub)
	} else {
		root, err := moduleRoot()
		if err != nil {
			t.Fatalf("find module root: %v", err)
		}
		dir = filepath.Join(root, "..", "shared", "corpus", sub)
		if _, err := os.Stat(dir); err != nil {
			dir = filepath.Join(workplaceCorpus, sub)
		}
	}
	if _, err := os.Stat(dir); err != nil {
		msg := "test corpus not found at " + dir + ": set BROADSHEET_CORPUS to the folder holding feedparser/ and stories/"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
