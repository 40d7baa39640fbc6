package rules

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadscore/leadscore/features"
)

type opKind uint8

const (
	opEquals opKind = iota
	opIn
	opNotIn
	opContainsAny
	opDomainIn
	opRange
	opKnown
	opUnknown
	opIs
	opWithinDays
	opDecay
	opEmailClass // email_class: the class features.EmailDomainClass gives the value
	opSeniority  // seniority: the level features.TitleSeniority reads from the value
)

// op is one operator of a criterion. Every operator except unknown needs a known value.
type op struct {
	kind    opKind
	lits    []literal  // equals (one), in, not_in
	phrases [][]string // contains_any: each phrase as lower-case words
	texts   []string   // contains_any, domain_in, email_class, seniority: as written, for people
	domains []string   // domain_in, lower case
	rng     bounds
	flag    bool    // is
	days    float64 // within_days
	decay   Decay
}

// literal is a value written in the rules file.
type literal struct {
	text  string
	num   float64
	isNum bool // text is a number
	flag  bool
	isFlg bool // text is true or false
}

// bounds is a numeric interval; lo and hi are -Inf and +Inf when open.
type bounds struct {
	lo, hi         float64
	loIncl, hiIncl bool
}

func (b bounds) contains(x float64) bool {
	return (x > b.lo || b.loIncl && x == b.lo) && (x < b.hi || b.hiIncl && x == b.hi)
}

// empty reports whether no number lies in b.
func (b bounds) empty() bool {
	return b.lo > b.hi || b.lo == b.hi && !(b.loIncl && b.hiIncl)
}

// overlaps reports whether some number lies in both a and b.
func (b bounds) overlaps(o bounds) bool {
	lo, loIncl := b.lo, b.loIncl
	if o.lo > lo || o.lo == lo && !o.loIncl {
		lo, loIncl = o.lo, o.loIncl
	}
	hi, hiIncl := b.hi, b.hiIncl
	if o.hi < hi || o.hi == hi && !o.hiIncl {
		hi, hiIncl = o.hi, o.hiIncl
	}
	return !bounds{lo, hi, loIncl, hiIncl}.empty()
}

func (b bounds) String() string {
	openLo, openHi := math.IsInf(b.lo, -1), math.IsInf(b.hi, 1)
	switch {
	case openLo && openHi:
		return "any number"
	case b.loIncl && b.hiIncl && !openLo && !openHi:
		if b.lo == b.hi {
			return "exactly " + num(b.lo)
		}
		return num(b.lo) + " to " + num(b.hi)
	case openHi && b.loIncl:
		return num(b.lo) + " or more"
	case openLo && b.hiIncl:
		return num(b.hi) + " or less"
	}
	var parts []string
	if !openLo {
		if b.loIncl {
			parts = append(parts, "at least "+num(b.lo))
		} else {
			parts = append(parts, "above "+num(b.lo))
		}
	}
	if !openHi {
		if b.hiIncl {
			parts = append(parts, "at most "+num(b.hi))
		} else {
			parts = append(parts, "below "+num(b.hi))
		}
	}
	return strings.Join(parts, " and ")
}

// condition describes b as a criterion: "between 2 and 5", "at least 1", "above 2 and below 6".
func (b bounds) condition() string {
	openLo, openHi := math.IsInf(b.lo, -1), math.IsInf(b.hi, 1)
	if b.loIncl && b.hiIncl && !openLo && !openHi {
		return "between " + num(b.lo) + " and " + num(b.hi)
	}
	var parts []string
	switch {
	case openLo:
	case b.loIncl:
		parts = append(parts, "at least "+num(b.lo))
	default:
		parts = append(parts, "above "+num(b.lo))
	}
	switch {
	case openHi:
	case b.hiIncl:
		parts = append(parts, "at most "+num(b.hi))
	default:
		parts = append(parts, "below "+num(b.hi))
	}
	return strings.Join(parts, " and ")
}

// eval reports whether v satisfies the operator at time at, and the factor it applies to the points.
func (o *op) eval(v features.Value, at time.Time) (bool, float64) {
	if o.kind == opUnknown {
		return !known(v), 1
	}
	if !known(v) {
		return false, 1
	}
	switch o.kind {
	case opEquals, opIn:
		for i := range o.lits {
			if o.lits[i].matches(v) {
				return true, 1
			}
		}
		return false, 1
	case opNotIn:
		for i := range o.lits {
			if o.lits[i].matches(v) {
				return false, 1
			}
		}
		return true, 1
	case opContainsAny:
		s := v.Str
		if v.Kind != features.KindCategory {
			s = v.Text()
		}
		return containsAny(s, o.phrases), 1
	case opDomainIn:
		if v.Kind != features.KindCategory {
			return false, 1
		}
		d := domainOf(v.Str)
		for _, want := range o.domains {
			if inDomain(d, want) {
				return true, 1
			}
		}
		return false, 1
	case opEmailClass, opSeniority:
		if v.Kind != features.KindCategory {
			return false, 1
		}
		class := features.EmailDomainClass(v.Str)
		if o.kind == opSeniority {
			class = features.TitleSeniority(v.Str)
		}
		for _, want := range o.texts {
			if class == want {
				return true, 1
			}
		}
		return false, 1
	case opRange:
		x, ok := number(v)
		return ok && o.rng.contains(x), 1
	case opKnown:
		return true, 1
	case opIs:
		b, ok := flag(v)
		return ok && b == o.flag, 1
	case opWithinDays:
		age, ok := ageDays(v, at)
		return ok && age <= o.days, 1
	case opDecay:
		age, ok := ageDays(v, at)
		if !ok {
			return false, 1
		}
		return true, o.decay.factor(age)
	}
	return false, 1
}

// name returns the operator as written in the rules file.
func (o *op) name() string {
	switch o.kind {
	case opEquals:
		return "equals"
	case opIn:
		return "in"
	case opNotIn:
		return "not_in"
	case opContainsAny:
		return "contains_any"
	case opDomainIn:
		return "domain_in"
	case opEmailClass:
		return "email_class"
	case opSeniority:
		return "seniority"
	case opRange:
		return "a numeric range"
	case opKnown:
		return "known"
	case opUnknown:
		return "unknown"
	case opIs:
		return "is"
	case opWithinDays:
		return "within_days"
	}
	return "decay"
}

// needs reports which column kinds the operator can match, and whether kind is one of them.
func (o *op) needs(kind features.Kind) (string, bool) {
	switch o.kind {
	case opContainsAny, opDomainIn, opEmailClass, opSeniority:
		return "a category", kind == features.KindCategory
	case opRange:
		return "a number", kind == features.KindNumber
	case opIs:
		return "a flag", kind == features.KindFlag
	case opWithinDays, opDecay:
		return "a time", kind == features.KindTime
	case opEquals, opIn, opNotIn:
		return "a category, number or flag", kind != features.KindTime
	}
	return "", true
}

func (o *op) String() string {
	switch o.kind {
	case opEquals:
		return "equals " + o.lits[0].text
	case opIn:
		return "is one of " + list(litTexts(o.lits))
	case opNotIn:
		return "is none of " + list(litTexts(o.lits))
	case opContainsAny:
		return "contains any of " + list(o.texts)
	case opDomainIn:
		return "has a domain in " + list(o.texts)
	case opEmailClass:
		return "is a " + orList(o.texts) + " address"
	case opSeniority:
		return "reads as " + orList(o.texts)
	case opRange:
		return o.rng.condition()
	case opKnown:
		return "is known"
	case opUnknown:
		return "is unknown"
	case opIs:
		return "is " + strconv.FormatBool(o.flag)
	case opWithinDays:
		return "within the last " + num(o.days) + " days"
	}
	return o.decay.String()
}

// orList joins items with "or": "free-mail or education".
func orList(items []string) string { return strings.Join(items, " or ") }

func litTexts(lits []literal) []string {
	out := make([]string, len(lits))
	for i, l := range lits {
		out[i] = l.text
	}
	return out
}

// list joins items for people, eliding all but the first six.
func list(items []string) string {
	const show = 6
	if len(items) > show {
		return strings.Join(items[:show], ", ") + ", ..."
	}
	return strings.Join(items, ", ")
}

// matches compares a literal with a known value: strings case-insensitively (surrounding spaces
// ignored), numbers numerically (a numeric string counts as its number), flags as true/false.
func (l *literal) matches(v features.Value) bool {
	switch v.Kind {
	case features.KindCategory:
		if features.SameCategory(v.Str, l.text) {
			return true
		}
		if l.isNum {
			x, ok := number(v)
			return ok && x == l.num
		}
		if l.isFlg {
			b, ok := flag(v)
			return ok && b == l.flag
		}
	case features.KindNumber:
		return l.isNum && v.Num == l.num
	case features.KindFlag:
		return l.isFlg && v.Bool == l.flag
	}
	return false
}

// known reports whether v holds a value: not missing, not a blank string and not NaN.
func known(v features.Value) bool {
	switch v.Kind {
	case features.KindNone:
		return false
	case features.KindCategory:
		return strings.TrimSpace(v.Str) != ""
	case features.KindNumber:
		return !math.IsNaN(v.Num)
	case features.KindTime:
		return !v.Time.IsZero()
	}
	return true
}

// number returns v as a finite number: a number, or a string holding one (features.Parse).
func number(v features.Value) (float64, bool) {
	if v.Kind == features.KindNumber { // what Parse returns, without copying the value twice
		return v.Num, !math.IsNaN(v.Num) && !math.IsInf(v.Num, 0)
	}
	p, err := features.Parse(features.KindNumber, v, nil)
	return p.Num, err == nil && p.Kind == features.KindNumber
}

// flag returns v as a boolean: a flag, the strings true/false/yes/no (any case) or 1/0, or the
// numbers 1 and 0 (features.Parse).
func flag(v features.Value) (bool, bool) {
	if v.Kind == features.KindFlag {
		return v.Bool, true
	}
	p, err := features.Parse(features.KindFlag, v, nil)
	return p.Bool, err == nil && p.Kind == features.KindFlag
}

// timeOf returns v as a time: a timestamp, or a string in a form features.Parse reads (RFC 3339,
// 2006-01-02, 2006-01-02 15:04:05 with an optional zone; UTC when none).
func timeOf(v features.Value) (time.Time, bool) {
	if v.Kind == features.KindTime {
		return v.Time, !v.Time.IsZero()
	}
	p, err := features.Parse(features.KindTime, v, nil)
	return p.Time, err == nil && p.Kind == features.KindTime && !p.Time.IsZero()
}

// ageDays returns how many days before at the timestamp v lies; negative when after at.
func ageDays(v features.Value, at time.Time) (float64, bool) {
	t, ok := timeOf(v)
	if !ok {
		return 0, false
	}
	return at.Sub(t).Hours() / 24, true
}

// isWordByte reports whether ASCII byte c is a letter or digit.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// wordRune reports whether the rune starting at s[i] is a letter or digit, and its size.
func wordRune(s string, i int) (bool, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return isWordByte(c), 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r), size
}

// nextWord returns the bounds of the first word (letters and digits) in s at or after i; start == len(s)
// when there is none.
func nextWord(s string, i int) (start, end int) {
	for i < len(s) {
		ok, size := wordRune(s, i)
		if ok {
			break
		}
		i += size
	}
	start = i
	for i < len(s) {
		ok, size := wordRune(s, i)
		if !ok {
			break
		}
		i += size
	}
	return start, i
}

// words splits s into its lower-case words.
func words(s string) []string {
	var out []string
	for i := 0; ; {
		start, end := nextWord(s, i)
		if start == len(s) {
			return out
		}
		out = append(out, strings.ToLower(s[start:end]))
		i = end
	}
}

// containsAny reports whether the words of one of phrases occur consecutively among the words of s,
// ignoring case. It does not allocate.
func containsAny(s string, phrases [][]string) bool {
	for i := 0; ; {
		start, end := nextWord(s, i)
		if start == len(s) {
			return false
		}
		for _, phrase := range phrases {
			if strings.EqualFold(s[start:end], phrase[0]) && restFollows(s, end, phrase[1:]) {
				return true
			}
		}
		i = end
	}
}

// restFollows reports whether the words after position i in s begin with rest, ignoring case.
func restFollows(s string, i int, rest []string) bool {
	for _, w := range rest {
		start, end := nextWord(s, i)
		if start == len(s) || !strings.EqualFold(s[start:end], w) {
			return false
		}
		i = end
	}
	return true
}

// domainOf returns the domain of an e-mail address (after the last "@"), or of a web address
// ("https://www.acme.com/about" -> "acme.com"), without surrounding spaces or a trailing dot.
func domainOf(s string) string {
	s = strings.TrimSpace(s)
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		s = s[at+1:]
	} else {
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[i+3:]
		}
		if i := strings.IndexAny(s, "/?#:"); i >= 0 {
			s = s[:i]
		}
		if len(s) > 4 && strings.EqualFold(s[:4], "www.") {
			s = s[4:]
		}
	}
	return strings.TrimSuffix(s, ".")
}

// inDomain reports whether domain d is want or one of its subdomains, ignoring case; want is lower case.
func inDomain(d, want string) bool {
	if len(d) < len(want) || !strings.EqualFold(d[len(d)-len(want):], want) {
		return false
	}
	return len(d) == len(want) || d[len(d)-len(want)-1] == '.'
}
