package sanitize

import "testing"

func TestColumns(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"Seoul", 5},
		{"한겨레", 6},
		{"中央日報 Daily", 14},
		{"ＡＢ", 4},   // fullwidth
		{"ｶﾀｶﾅ", 4}, // halfwidth katakana: one column each
		{"é", 1},
	} {
		if got := Columns(tt.in); got != tt.want {
			t.Errorf("Columns(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestClipColumns(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"Seoul", 5, "Seoul"},
		{"Seoul talks", 6, "Seoul…"},
		{"한겨레신문", 10, "한겨레신문"},
		{"한겨레신문", 9, "한겨레신…"},
		{"한겨레신문", 8, "한겨레…"}, // 신 would straddle the limit
		{"abc", 0, ""},
	} {
		got := ClipColumns(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("ClipColumns(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if Columns(got) > tt.n {
			t.Errorf("ClipColumns(%q, %d) = %q takes %d columns", tt.in, tt.n, got, Columns(got))
		}
	}
}
