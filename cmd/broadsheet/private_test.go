package main

import (
	"testing"

	"github.com/broadsheet/broadsheet/config"
)

// TestSources_Private checks that private: true in config.yaml reaches the
// source publish is given, and only for that source.
func TestSources_Private(t *testing.T) {
	cfg, err := config.Parse("config.yaml", []byte(`sources:
  - name: Open
    url: https://open.example/feed
  - name: Closed
    url: https://closed.example/u/secret/feed
    private: true
`))
	if err != nil {
		t.Fatal(err)
	}
	got := sources(cfg)
	if len(got) != 2 {
		t.Fatalf("got %d sources, want 2", len(got))
	}
	for _, s := range got {
		if want := s.Name == "Closed"; s.Private != want {
			t.Errorf("source %s: Private = %v, want %v", s.Name, s.Private, want)
		}
	}
}
