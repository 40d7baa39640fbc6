package models

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadscore/leadscore/features"
)

// plainText is features.Value.Text for a category or flag value, without allocating.
func plainText(v features.Value) string {
	switch {
	case v.Kind == features.KindCategory:
		return v.Str
	case v.Bool:
		return "true"
	}
	return "false"
}

// appendValue appends v as features.Value.Text renders it, without allocating.
func appendValue(buf []byte, v features.Value) []byte {
	switch v.Kind {
	case features.KindCategory:
		return append(buf, v.Str...)
	case features.KindNumber:
		if v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < 1e15 {
			// Whole numbers this small convert to int64 exactly, and integers format faster.
			if v.Num == 0 && math.Signbit(v.Num) {
				return append(buf, "-0"...)
			}
			return strconv.AppendInt(buf, int64(v.Num), 10)
		}
		return strconv.AppendFloat(buf, v.Num, 'g', -1, 64)
	case features.KindFlag:
		return strconv.AppendBool(buf, v.Bool)
	case features.KindTime:
		return v.Time.UTC().AppendFormat(buf, time.RFC3339)
	}
	return buf
}

// appendReadable appends a number as a sentence shows it: whole from 1,000 up, with thousands
// separators ("1,560", "920,692"); below, at most two decimals ("12.5") or two significant digits
// ("0.0012").
func appendReadable(buf []byte, x float64) []byte {
	a := math.Abs(x)
	switch {
	case math.IsNaN(x) || a >= 1e15:
		return strconv.AppendFloat(buf, x, 'g', 3, 64)
	case a >= 1000 || x == math.Trunc(x):
		return appendThousands(buf, int(math.Round(x)))
	case a >= 1:
		return strconv.AppendFloat(buf, math.Round(x*100)/100, 'f', -1, 64)
	}
	scale := math.Pow(10, 1-math.Floor(math.Log10(a)))
	return strconv.AppendFloat(buf, math.Round(x*scale)/scale, 'f', -1, 64)
}

// appendReadableLabel appends a rate table's range label ("22081.93888625872 - 65307683.68", "< 6")
// with its numbers made readable ("22,082 - 65,307,684").
func appendReadableLabel(buf []byte, label string) []byte {
	for first := true; ; first = false {
		tok, rest, more := strings.Cut(label, " ")
		if !first {
			buf = append(buf, ' ')
		}
		x, err := 0.0, strconv.ErrSyntax
		if numeric(tok) {
			x, err = strconv.ParseFloat(tok, 64)
		}
		if err == nil {
			buf = appendReadable(buf, x)
		} else {
			buf = append(buf, tok...)
		}
		if !more {
			return buf
		}
		label = rest
	}
}

// numeric reports whether tok starts like a number; it spares ParseFloat's allocated error on the
// words and signs of a label.
func numeric(tok string) bool {
	if len(tok) > 1 && tok[0] == '-' {
		tok = tok[1:]
	}
	return tok != "" && (tok[0] >= '0' && tok[0] <= '9' || tok[0] == '.')
}

// appendDaysAgo words a duration back from the scoring time: "today", "1 day ago", "12 days ago",
// "in the future" for a time after it.
func appendDaysAgo(buf []byte, d time.Duration) []byte {
	days := int(math.Floor(d.Hours() / 24))
	switch {
	case d < 0:
		return append(buf, "in the future"...)
	case days == 0:
		return append(buf, "today"...)
	case days == 1:
		return append(buf, "1 day ago"...)
	}
	return append(appendThousands(buf, days), " days ago"...)
}

// appendPercent appends a rate in [0, 1] as people read it: whole percents from 10% ("24%"), tenths
// below ("9.4%", "0.3%", "9%").
func appendPercent(buf []byte, rate float64) []byte {
	tenths := math.Round(rate * 1000)
	switch {
	case !(tenths >= 0 && tenths <= 1000):
		buf = strconv.AppendFloat(buf, 100*rate, 'g', 3, 64)
	case tenths >= 100:
		buf = strconv.AppendInt(buf, int64(math.Round(rate*100)), 10)
	default:
		t := int64(tenths)
		buf = strconv.AppendInt(buf, t/10, 10)
		if t%10 != 0 {
			buf = append(buf, '.', byte('0'+t%10))
		}
	}
	return append(buf, '%')
}

// Thousands formats n with comma separators: 1203 -> "1,203". It is the one thousands formatter of
// leadscore's reasons, reports and summaries.
func Thousands(n int) string { return string(appendThousands(nil, n)) }

// appendThousands appends n with comma separators: 1203 -> "1,203".
func appendThousands(buf []byte, n int) []byte {
	var tmp [24]byte
	digits := strconv.AppendInt(tmp[:0], int64(n), 10)
	if n < 0 {
		buf = append(buf, '-')
		digits = digits[1:]
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, d)
	}
	return buf
}

// titleCase turns a property name into words: "annual_revenue" -> "Annual Revenue".
func titleCase(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == ' ' || r == '.' })
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[size:]
	}
	if len(words) == 0 {
		return name
	}
	return strings.Join(words, " ")
}
