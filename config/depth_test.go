package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func nestedBlock(d int) string {
	var b strings.Builder
	for i := range d {
		b.WriteString(strings.Repeat(" ", i) + "x-a:\n")
	}
	return b.String()
}

func TestParse_Depth(t *testing.T) {
	deep := MaxDepth + 1
	refused := []struct {
		name      string
		data      string
		line, col int
	}{
		{"flow lists", "x-a: " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n", 1, 5 + MaxDepth},
		{"flow maps", "x-a: " + strings.Repeat("{a: ", deep) + strings.Repeat("}", deep) + "\n", 1, 6 + 4*(MaxDepth-1)},
		{"block maps", nestedBlock(deep + 1), deep, deep},
		{"dashes on one line", "x-a:\n" + strings.Repeat("- ", deep) + "x\n", 2, 2*(MaxDepth-1) + 1},
		{"flow over lines", "x-a:\n" + strings.Repeat("[\n", deep) + strings.Repeat("]", deep) + "\n", deep, 1},
		{"the issue's 60 KB", "x-a: " + strings.Repeat("[", 30_000) + strings.Repeat("]", 30_000), 1, 5 + MaxDepth},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("deep.yaml", []byte(tt.data))
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) != 1 {
				t.Fatalf("Parse = %v, want one *Error problem", err)
			}
			p := e.Problems[0]
			if p.Line != tt.line || p.Col != tt.col || !strings.Contains(p.Msg, "nest more than 64 levels") {
				t.Errorf("problem = %d:%d %q, want %d:%d and the nesting limit", p.Line, p.Col, p.Msg, tt.line, tt.col)
			}
			if !strings.HasPrefix(err.Error(), "deep.yaml:") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}

	// Within the limit, and brackets that are text, not nesting (the
	// scanner alone: repeated keys would be other errors).
	accepted := []struct{ name, data string }{
		{"flow at the limit", "x-a: " + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + "\n"},
		{"block at the limit", nestedBlock(MaxDepth)},
		{"brackets in text", strings.Repeat("x-t: a [b {c\n", 200)},
		{"brackets in quotes", strings.Repeat("x-t: \"[[[{{\\\" #\"\n", 100) + strings.Repeat("x-u: '[[{{'' ['\n", 100)},
		{"brackets in a block scalar", "x-b: |\n" + strings.Repeat("  [[[[[[[[[[ {{{{{{{{\n", 100)},
		{"brackets in comments", strings.Repeat("# [[[[[[[[[[\nx-c: 1 # {{{{{{{{{\n", 100)},
		{"quoted over lines", "x-q: \"[[[[\n" + strings.Repeat("  [[[[[[[[\n", 100) + "  \"\n"},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			if p := checkShape([]byte(tt.data)); p != nil {
				t.Errorf("checkShape: %v", p)
			}
		})
	}
}

// TestLoad_Size checks that a file over MaxFileBytes is refused by position
// without being read whole.
func TestLoad_Size(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	line := "# " + strings.Repeat("x", 97) + "\n" // 100 bytes
	data := strings.Repeat(line, MaxFileBytes/100+10)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 1 {
		t.Fatalf("Load = %v, want one *Error problem", err)
	}
	p := e.Problems[0]
	wantLine, wantCol := MaxFileBytes/100+1, MaxFileBytes%100+1
	if p.Line != wantLine || p.Col != wantCol || !strings.Contains(p.Msg, "larger than 4 MiB") {
		t.Errorf("problem = %d:%d %q, want %d:%d and the size limit", p.Line, p.Col, p.Msg, wantLine, wantCol)
	}
	if !strings.HasPrefix(err.Error(), path+":") {
		t.Errorf("error %q does not name the file", err)
	}
	// The shipped example and the test files are well within both limits.
	for _, name := range []string{"../config.yaml", "testdata/full.yaml", "testdata/minimal.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if p := checkShape(b); p != nil {
			t.Errorf("%s: %v", name, p)
		}
	}
}
