package outbox_test

import (
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/outbox"
	"github.com/broadsheet/broadsheet/digest/smtp"
)

func msg(to, id, text string) *digest.Message {
	return &digest.Message{
		From: "broadsheet <broadsheet@localhost>", To: to, Subject: "Digest", MessageID: id,
		Date: time.Date(2025, 3, 2, 22, 0, 0, 0, time.UTC), Text: text, HTML: "<p>" + text + "</p>",
	}
}

func TestOutbox_Send(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o := outbox.New(dir, smtp.WriteMessage)
	c, err := o.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []*digest.Message{
		msg("Reader <reader@example.com>", "a@x", "first"),
		msg("other@example.com", "b@x", "other"),
		msg("Reader <reader@example.com>", "a@x", "again"), // a retry of the first
		msg(`"../../etc/passwd"@example.com`, "c@x", "sneaky"),
	} {
		if err := c.Send(t.Context(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 {
		t.Fatalf("files %v, want 3 (a retry replaces its file, no temporary files left)", names)
	}
	first := filepath.Join(dir, outbox.FileName(msg("Reader <reader@example.com>", "a@x", "")))
	if !strings.HasPrefix(filepath.Base(first), "20250302T220000Z-reader@example.com-") {
		t.Errorf("file name %s", filepath.Base(first))
	}
	f, err := os.Open(first)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatalf("the .eml does not parse: %v", err)
	}
	if got := m.Header.Get("Message-ID"); got != "<a@x>" {
		t.Errorf("Message-ID %q", got)
	}
	b, _ := os.ReadFile(first)
	if !strings.Contains(string(b), "again") || strings.Contains(string(b), "first") {
		t.Errorf("the retry did not replace the file")
	}
	for _, n := range names {
		if strings.Contains(n, "/") || strings.HasPrefix(n, ".") {
			t.Errorf("unsafe file name %q", n)
		}
	}
}

func TestOutbox_OpenFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := outbox.New(filepath.Join(file, "sub"), smtp.WriteMessage).Open(t.Context())
	if err == nil || !digest.IsTemporary(err) {
		t.Errorf("error %v, want a temporary one", err)
	}
}
