package fetch

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// months maps month names and abbreviations in English, Spanish, Italian,
// French, German, Portuguese and Dutch to month numbers. Weekday names need
// no table: unknown words are ignored.
var months = map[string]time.Month{}

func init() {
	for m, names := range [12]string{
		"january jan enero ene gennaio gen janvier janv januar jän jänner janeiro januari",
		"february feb febrero febbraio février fevrier févr fevr fév fev februar fevereiro februari",
		"march mar marzo mars märz maerz mär mrz março marco maart mrt",
		"april apr abril abr aprile avril avr",
		"may mayo maggio mag mai maio mei",
		"june jun junio giugno giu juin juni junho",
		"july jul julio luglio lug juillet juil juli julho",
		"august aug agosto ago août aout aoû augustus",
		"september sep sept septiembre setiembre set settembre septembre setembro",
		"october oct octubre ottobre ott octobre oktober okt outubro out",
		"november nov noviembre novembre novembro",
		"december dec diciembre dic dicembre décembre decembre déc dezember dez dezembro",
	} {
		for _, n := range strings.Fields(names) {
			months[n] = time.Month(m + 1)
		}
	}
}

// zones are the abbreviations feeds write, as offsets east of UTC in
// minutes. Ambiguous ones take their most common meaning in feeds (CST is
// US Central, IST is India).
var zones = map[string]int{
	"gmt": 0, "ut": 0, "utc": 0, "z": 0, "wet": 0,
	"est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
	"pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600,
	"ast": -240, "adt": -180, "nst": -210, "ndt": -150, "brt": -180, "art": -180,
	"bst": 60, "ist": 330, "cet": 60, "cest": 120, "met": 60, "mest": 120, "mez": 60, "mesz": 120,
	"west": 60, "eet": 120, "eest": 180, "msk": 180, "pkt": 300, "ict": 420, "wib": 420,
	"hkt": 480, "sgt": 480, "pht": 480, "awst": 480, "kst": 540, "jst": 540,
	"acst": 570, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
}

var (
	reClock    = regexp.MustCompile(`(\d{1,2})(?::|h)(\d{2})(?::(\d{2}))?(?:[.,]\d+)?`)
	reCJKUnit  = regexp.MustCompile(`(\d{1,4})\s*(년|年|월|月|일|日|시|時|분|分|초|秒)`)
	reOffset   = regexp.MustCompile(`^([+-])(\d{1,2})(?::?(\d{2}))?$`)
	reDateWord = regexp.MustCompile(`[\p{L}]+|\d+|[+-]\d{1,2}(?::?\d{2})?`)
	reISOT     = regexp.MustCompile(`(\d)t(\d)`)
)

// parseDate reads the dates gofeed cannot: month names in several
// languages, Korean, Chinese and Japanese unit-suffixed dates, dotted
// numeric dates and unusual zone names. A date without a zone is taken to
// be in loc; an all-numeric day and month pair that could be read either
// way is read day first when dayFirst is set. The result is in UTC.
func parseDate(s string, loc *time.Location, dayFirst bool) (time.Time, bool) {
	if len(s) > 128 || s == "" {
		return time.Time{}, false
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	s = strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
	s = reISOT.ReplaceAllString(s, "$1 $2")

	var (
		year, month, day   = -1, -1, -1
		hour, minute, sec  = 0, 0, 0
		pm, am, zoneFound  bool
		offset             int // minutes east of UTC
		numbers, tail      []string
		clockEnd, clockPos = -1, -1
	)
	// Korean "2026년 8월 14일 오후 3시 20분", Chinese/Japanese "2026年8月14日".
	for _, m := range reCJKUnit.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "년", "年":
			year = n
		case "월", "月":
			month = n
		case "일", "日":
			day = n
		case "시", "時":
			hour = n
		case "분", "分":
			minute = n
		case "초", "秒":
			sec = n
		}
	}
	s = reCJKUnit.ReplaceAllString(s, " ")
	if strings.Contains(s, "오후") || strings.Contains(s, "午後") || strings.Contains(s, "下午") {
		pm = true
	}
	if strings.Contains(s, "오전") || strings.Contains(s, "午前") || strings.Contains(s, "上午") {
		am = true
	}

	if loc := reClock.FindStringSubmatchIndex(s); loc != nil {
		hour, _ = strconv.Atoi(s[loc[2]:loc[3]])
		minute, _ = strconv.Atoi(s[loc[4]:loc[5]])
		if loc[6] >= 0 {
			sec, _ = strconv.Atoi(s[loc[6]:loc[7]])
		}
		clockPos, clockEnd = loc[0], loc[1]
	}

	var monthWord time.Month
	if clockPos >= 0 {
		// What follows the clock: zone, meridiem.
		for _, tok := range reDateWord.FindAllString(s[clockEnd:], -1) {
			switch {
			case tok == "pm":
				pm = true
			case tok == "am":
				am = true
			case reOffset.MatchString(tok):
				m := reOffset.FindStringSubmatch(tok)
				h, _ := strconv.Atoi(m[2])
				mm, _ := strconv.Atoi(m[3])
				if h > 14 || mm > 59 {
					return time.Time{}, false
				}
				off := h*60 + mm
				if m[1] == "-" {
					off = -off
				}
				offset, zoneFound = offset+off, true
			default:
				if z, ok := zones[tok]; ok && !zoneFound {
					offset, zoneFound = z, true
				} else if mo, ok := months[strings.TrimSuffix(tok, ".")]; ok {
					monthWord = mo
				} else if isDigits(tok) {
					tail = append(tail, tok)
				}
			}
		}
		s = s[:clockPos]
	}
	for _, tok := range reDateWord.FindAllString(s, -1) {
		switch {
		case isDigits(tok):
			numbers = append(numbers, tok)
		case tok[0] == '+' || tok[0] == '-':
			// A date separator caught with the next number: "2026-08-14".
			numbers = append(numbers, tok[1:])
		default:
			// The last month name wins: a leading weekday may look like
			// one ("mar" is Tuesday in Spanish, Italian and French).
			if mo, ok := months[tok]; ok {
				monthWord = mo
			}
		}
	}
	numbers = append(numbers, tail...)
	if monthWord != 0 {
		month = int(monthWord)
	}
	if !assignDate(&year, &month, &day, numbers, dayFirst) {
		return time.Time{}, false
	}

	if pm && hour < 12 {
		hour += 12
	} else if am && hour == 12 {
		hour = 0
	}
	if sec == 60 {
		sec = 59 // a leap second
	}
	if year < 1970 || year > 2200 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	zone := loc
	if zoneFound {
		zone = time.FixedZone("", offset*60)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, zone).UTC(), true
}

// assignDate fills the date fields still unknown from the numbers found,
// in the orders feeds write them.
func assignDate(year, month, day *int, numbers []string, dayFirst bool) bool {
	var ns []int
	var lens []int
	for _, t := range numbers {
		if len(t) > 8 {
			return false
		}
		n, _ := strconv.Atoi(t)
		ns = append(ns, n)
		lens = append(lens, len(t))
	}
	if *year >= 0 && *month >= 0 && *day >= 0 {
		return true
	}
	if *year < 0 && *month < 0 && *day < 0 && len(ns) >= 1 && lens[0] == 8 {
		// 20260814
		*year, *month, *day = ns[0]/10000, ns[0]/100%100, ns[0]%100
		return true
	}
	if *month >= 0 && *year < 0 && *day < 0 {
		// A month name: the day and the year are the numbers, the year
		// being the four-digit one, else the later one.
		if len(ns) < 2 {
			return false
		}
		di, yi := 0, 1
		if lens[0] >= 3 || ns[0] > 31 {
			di, yi = 1, 0
		}
		*day, *year = ns[di], fullYear(ns[yi], lens[yi])
		return true
	}
	if *year >= 0 || *month >= 0 || *day >= 0 {
		// Partly given in units ("8월 14일" without the year): too little.
		return false
	}
	if len(ns) < 3 {
		return false
	}
	a, b, c := ns[0], ns[1], ns[2]
	switch {
	case lens[0] == 4:
		*year, *month, *day = a, b, c
	case lens[2] == 4 || lens[2] == 2:
		*year = fullYear(c, lens[2])
		switch {
		case a > 12:
			*day, *month = a, b
		case b > 12:
			*month, *day = a, b
		case dayFirst:
			*day, *month = a, b
		default:
			*month, *day = a, b
		}
	default:
		return false
	}
	return true
}

// fullYear turns a two-digit year into a four-digit one.
func fullYear(y, digits int) int {
	if digits > 2 {
		return y
	}
	if y < 70 {
		return 2000 + y
	}
	return 1900 + y
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// reURLDate finds dates in URL paths: /2026/0814/, /2026/08/14/,
// /2026-08-14/ and /20260814/ (each followed by a separator or the end).
var reURLDate = regexp.MustCompile(`/((?:19|20)\d\d)(?:/(\d\d)(\d\d)|/(\d{1,2})/(\d{1,2})|-(\d\d)-(\d\d)|(\d\d)(\d\d))(?:[/_.-]|$)`)

// urlDate returns the first plausible date found in the paths of raws: a
// real calendar day, not before 1995 and not after now (allowing for zones
// ahead of UTC), as midnight UTC but never after now.
func urlDate(now time.Time, raws ...string) (time.Time, bool) {
	for _, raw := range raws {
		if raw == "" {
			continue
		}
		path := raw
		if u, err := url.Parse(raw); err == nil {
			path = u.Path
		}
		for _, m := range reURLDate.FindAllStringSubmatch(path, -1) {
			y, _ := strconv.Atoi(m[1])
			var mo, d int
			for i := 2; i+1 < len(m); i += 2 {
				if m[i] != "" {
					mo, _ = strconv.Atoi(m[i])
					d, _ = strconv.Atoi(m[i+1])
					break
				}
			}
			if y < 1995 || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) {
				continue
			}
			t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
			if t.After(now.Add(14 * time.Hour)) {
				continue
			}
			if t.After(now) {
				t = now
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// zoneFor guesses the zone of dates written without one from the feed's
// language, for the countries that have a single zone.
func zoneFor(lang string) *time.Location {
	lang = strings.ToLower(lang)
	switch {
	case strings.HasPrefix(lang, "ko"):
		return time.FixedZone("KST", 9*3600)
	case strings.HasPrefix(lang, "ja"):
		return time.FixedZone("JST", 9*3600)
	case strings.HasPrefix(lang, "zh"):
		return time.FixedZone("CST", 8*3600)
	}
	return time.UTC
}

// dayFirstFor says whether ambiguous numeric dates (04/05/2026) of a feed
// in lang put the day first: everywhere but in English.
func dayFirstFor(lang string) bool {
	lang = strings.ToLower(strings.TrimSpace(lang))
	return lang != "" && !strings.HasPrefix(lang, "en")
}
