package features

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the one value parser: every path that brings a raw value into leadscore (a CSV field,
// a typed Parquet value, a JSON value from the command line or the REST front, a wire value in the
// server) reads it as its column's kind through Parse and the text readers below, so the same text
// gives the same value whichever way it came.

// DefaultMissingValues are the texts read as missing values unless a caller gives its own list:
// pandas' default na_values, form placeholders that CRM exports keep ("Select", "-", "none",
// "unknown") and spreadsheet error markers. They match case-insensitively after trimming spaces.
var DefaultMissingValues = []string{
	"", "NA", "N/A", "#N/A", "#N/A N/A", "#NA", "<NA>", "NULL", "None", "nil", "NaN", "-NaN",
	"1.#IND", "1.#QNAN", "-1.#IND", "-1.#QNAN", "#VALUE!", "#REF!", "#DIV/0!",
	"-", "--", "?", "Select", "Select...", "(select)", "- select -", "-- select --", "Please select",
	"unknown", "(unknown)", "not provided", "not specified", "not set", "(not set)", "(blank)",
	"undefined",
}

// MissingValues is a set of texts that stand for no value, matched case-insensitively after trimming
// spaces. A nil *MissingValues is DefaultMissingValues. It is only read once made, so one set may
// serve many goroutines.
type MissingValues struct {
	list    []string
	set     map[string]bool // folded texts
	longest int
	byLen   [][]string // folded texts by length
}

var defaultMissing = NewMissingValues(DefaultMissingValues)

// NewMissingValues returns the set of the given texts. An empty list means that only blank text is
// missing; a nil list means DefaultMissingValues.
func NewMissingValues(texts []string) *MissingValues {
	if texts == nil {
		texts = DefaultMissingValues
	}
	m := &MissingValues{list: slices.Clone(texts), set: map[string]bool{"": true}}
	for _, t := range texts {
		f := Fold(t)
		m.set[f] = true
		m.longest = max(m.longest, len(f))
	}
	m.byLen = make([][]string, m.longest+1)
	for f := range m.set {
		m.byLen[len(f)] = append(m.byLen[len(f)], f)
	}
	return m
}

// List returns the texts of the set as given.
func (m *MissingValues) List() []string {
	if m == nil {
		return slices.Clone(DefaultMissingValues)
	}
	return slices.Clone(m.list)
}

// Has reports whether text, trimmed of spaces, is a missing value.
func (m *MissingValues) Has(text string) bool { return hasMissing(m, strings.TrimSpace(text)) }

// HasBytes is Has for text that is already trimmed of spaces; it does not allocate for text that
// cannot be in the set.
func (m *MissingValues) HasBytes(t []byte) bool { return hasMissing(m, t) }

// has is Has for trimmed text.
func hasMissing[T Text](m *MissingValues, t T) bool {
	if m == nil {
		m = defaultMissing
	}
	if len(t) == 0 {
		return true
	}
	if len(t) > 2*m.longest+4 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] >= utf8.RuneSelf { // lower-casing may change the length: fold, then look up
			return m.set[Fold(string(t))]
		}
	}
	if len(t) >= len(m.byLen) {
		return false
	}
	for _, f := range m.byLen[len(t)] {
		if asciiEqualFold(t, f) {
			return true
		}
	}
	return false
}

// Fold is the one normalisation of category values: spaces trimmed and letters in lower case. The
// encoder, the rate tables and the manual rules all compare category values through it, so "Software",
// "software " and "SOFTWARE" are one value everywhere.
func Fold(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// SameCategory reports whether a and b are one category value: equal once folded (see Fold). It
// does not allocate.
func SameCategory(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// FormatNumber writes x in the fewest digits that read back as x, without an exponent for ordinary
// magnitudes: the text of a number wherever one is written or read as a category.
func FormatNumber(x float64) string {
	if a := math.Abs(x); a != 0 && (a >= 1e15 || a < 1e-4) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// FormatTime writes t as RFC 3339 in UTC with as many fractional digits as it needs.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// timeLayouts are the timestamp forms read from text; a value without a zone is UTC. Fractional
// seconds are accepted after the seconds in every layout.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
}

// Text is raw text as the readers take it: a string, or bytes of a file's buffer.
type Text interface{ ~string | ~[]byte }

// FlagText reads trimmed text as a flag: true/false or yes/no in any case.
func FlagText[T Text](t T) (bool, bool) {
	if len(t) < 2 || len(t) > 5 {
		return false, false
	}
	switch {
	case asciiEqualFold(t, "true"), asciiEqualFold(t, "yes"):
		return true, true
	case asciiEqualFold(t, "false"), asciiEqualFold(t, "no"):
		return false, true
	}
	return false, false
}

func asciiEqualFold[T Text](t T, lower string) bool {
	if len(t) != len(lower) {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// NumberText reads trimmed text as a number the way a data file holds one: decimal text that
// strconv.ParseFloat reads as a finite number. Integers written with a leading zero (007, 02134) are
// identifiers, not numbers.
func NumberText[T Text](t T) (float64, bool) {
	if len(t) > 0 && len(t) <= 15 && (t[0] != '0' || len(t) == 1) {
		// Integers of at most 15 digits, which float64 holds exactly: the common case, quickly.
		var x int64
		i := 0
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			x = x*10 + int64(t[i]-'0')
		}
		if i == len(t) {
			return float64(x), true
		}
	}
	if len(t) == 0 {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return 0, false
		}
	}
	digits := t
	for len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if len(digits) > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9' {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(t), 64)
	if err != nil || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

// NonFiniteText reports whether trimmed text spells an infinite or not-a-number value (inf,
// -Infinity, nan in any case): in a number column such a value is missing.
func NonFiniteText[T Text](t T) bool {
	if len(t) < 3 || len(t) > 9 {
		return false
	}
	if t[0] == '+' || t[0] == '-' {
		t = t[1:]
	}
	return asciiEqualFold(t, "inf") || asciiEqualFold(t, "infinity") || asciiEqualFold(t, "nan")
}

// TimeText reads trimmed text as a time, in Unix seconds: RFC 3339, 2006-01-02, or
// 2006-01-02 15:04:05 with T or a space, an optional fraction and an optional zone (UTC when none).
func TimeText[T Text](t T) (float64, bool) {
	if sec, ok := fastTime(t); ok {
		return float64(sec), true
	}
	if len(t) < 10 || t[4] != '-' || t[7] != '-' {
		return 0, false
	}
	s := string(t)
	for _, layout := range timeLayouts {
		if tm, err := time.Parse(layout, s); err == nil {
			return UnixSeconds(tm), true
		}
	}
	return 0, false
}

// fastTime parses 2006-01-02T15:04:05Z and 2006-01-02 (UTC); false for any other text and for
// out-of-range fields, which TimeText then judges.
func fastTime[T Text](t T) (int64, bool) {
	var hour, minute, sec int
	switch {
	case len(t) == 10:
	case len(t) == 20 && t[10] == 'T' && t[13] == ':' && t[16] == ':' && t[19] == 'Z':
		var ok1, ok2, ok3 bool
		hour, ok1 = digits(t[11:13])
		minute, ok2 = digits(t[14:16])
		sec, ok3 = digits(t[17:19])
		if !ok1 || !ok2 || !ok3 || hour > 23 || minute > 59 || sec > 59 {
			return 0, false
		}
	default:
		return 0, false
	}
	if t[4] != '-' || t[7] != '-' {
		return 0, false
	}
	year, ok1 := digits(t[0:4])
	month, ok2 := digits(t[5:7])
	day, ok3 := digits(t[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 {
		return 0, false
	}
	d := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if d.Day() != day { // day past the end of the month
		return 0, false
	}
	return d.Unix(), true
}

// digits parses b, which must be all decimal digits.
func digits[T Text](b T) (int, bool) {
	x := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + int(c-'0')
	}
	return x, true
}

// InferKind returns the kind that trimmed, non-missing text has on its own, as a data file's column
// is typed: a flag (true/false, yes/no), else a number (NumberText; 1 and 0 stay numbers), else a
// time (TimeText), else a category. Text that spells a non-finite number is a number.
func InferKind[T Text](t T) Kind {
	if _, ok := FlagText(t); ok {
		return KindFlag
	}
	if _, ok := NumberText(t); ok || NonFiniteText(t) {
		return KindNumber
	}
	if _, ok := TimeText(t); ok {
		return KindTime
	}
	return KindCategory
}

// Parse reads the raw value v as a value of kind k; the zero Value when it is missing. It is the one
// place where a value meets its column's kind:
//
//   - Missing values, and text that is blank or in missing (nil: DefaultMissingValues), are missing
//     for every kind.
//   - category: text as it is; a number as FormatNumber writes it; a flag as true or false; a time as
//     FormatTime writes it.
//   - number: a number; text that strconv.ParseFloat reads (leading zeros allowed here, since the
//     column is known to hold numbers); text spelling inf or nan is missing.
//   - flag: a flag; the numbers 1 and 0; text true/false, yes/no (any case), 1 or 0.
//   - time: a time; text as TimeText reads it.
//
// A value that does not fit is ErrWrongType; a NaN or infinite number given as a number (not as
// text) is ErrNotFinite, for every kind. Errors are bare: the caller adds the property.
func Parse(k Kind, v Value, missing *MissingValues) (Value, error) {
	switch v.Kind {
	case KindNone:
		return Value{}, nil
	case KindNumber:
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return Value{}, ErrNotFinite
		}
	case KindCategory:
		if missing == nil {
			missing = defaultMissing
		}
		t := strings.TrimSpace(v.Str)
		if hasMissing(missing, t) {
			return Value{}, nil
		}
		if k != KindCategory {
			return parseText(k, t)
		}
	}
	if v.Kind == k {
		return v, nil
	}
	switch k {
	case KindCategory:
		switch v.Kind {
		case KindNumber:
			return String(FormatNumber(v.Num)), nil
		case KindFlag:
			return String(strconv.FormatBool(v.Bool)), nil
		case KindTime:
			return String(FormatTime(v.Time)), nil
		}
	case KindFlag:
		if v.Kind == KindNumber && (v.Num == 0 || v.Num == 1) {
			return Flag(v.Num == 1), nil
		}
	}
	return Value{}, ErrWrongType
}

// parseText reads trimmed, non-missing text t as kind k (not a category).
func parseText(k Kind, t string) (Value, error) {
	b := t
	switch k {
	case KindNumber:
		if x, ok := NumberText(b); ok {
			return Number(x), nil
		}
		if NonFiniteText(b) {
			return Value{}, nil
		}
		if x, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			return Number(x), nil
		}
	case KindFlag:
		if f, ok := FlagText(b); ok {
			return Flag(f), nil
		}
		switch t {
		case "1":
			return Flag(true), nil
		case "0":
			return Flag(false), nil
		}
	case KindTime:
		if sec, ok := TimeText(b); ok {
			return Timestamp(UnixTime(sec)), nil
		}
	}
	return Value{}, ErrWrongType
}
