package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/broadsheet/broadsheet/schedule"
)

const day = 24 * time.Hour

// ParseDuration reads a Go duration ("90s", "15m", "72h") optionally led by
// whole days ("7d", "1d12h"). A day is 24 hours. It is schedule's, which
// reads the same durations in "@every 1d".
func ParseDuration(s string) (time.Duration, error) { return schedule.ParseDuration(s) }

// sizeUnits maps lower-cased unit names to bytes: KB, MB and GB are powers
// of 1000, KiB, MiB and GiB powers of 1024.
var sizeUnits = map[string]float64{
	"":    1,
	"b":   1,
	"kb":  1e3,
	"mb":  1e6,
	"gb":  1e9,
	"tb":  1e12,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
}

// ParseSize reads a byte count written as a whole number ("1048576") or a
// number and a unit ("16MiB", "512KB", "1.5 GiB"); units are
// case-insensitive.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok || strings.IndexFunc(unit, unicode.IsSpace) >= 0 {
		return 0, fmt.Errorf("%q is not a size: use a number of bytes or a number and a unit, as in \"16MiB\" or \"512KB\" (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err == nil && (mult == 1 || n <= int64(float64(math.MaxInt64)/mult)) {
			return n * int64(mult), nil
		}
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%q is not a size", s)
		}
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	return int64(v), nil
}

// FormatDuration writes d as ParseDuration reads it, in days when it is a
// whole number of them.
func FormatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
