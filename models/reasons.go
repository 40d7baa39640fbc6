package models

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
)

// Reasons a prediction gives.
const (
	// maxReasons is how many positive and how many negative reasons a prediction gives at most.
	maxReasons = 5
	// MaxReasons is how many reasons a prediction gives at most, raising and lowering together.
	MaxReasons = 2 * maxReasons
	// MinContribution is the smallest change to the log-odds (about 5% of the odds) a reason must
	// make to be listed.
	MinContribution = 0.05
	// MinRateGap is how far, relative to the overall rate, the rate a reason quotes must be from
	// the overall rate: a rate within 10% of it is no reason at all.
	MinRateGap = 0.1
)

// Reason is one property's part in a prediction. A reason is given only when it is honest: its
// contribution is material (at least MinContribution), it quotes the conversion rate of the
// training contacts that share the value, that rate is at least MinRateGap (relative) away from the
// overall rate, and the contribution moves the score the way the rate does (up for a rate above
// the overall one). A scorecard's reasons always agree with their rates; a one-hot model's
// contribution is conditional on every other property and may not, in which case it is left out.
type Reason struct {
	Property string
	// Value is the contact's value as text ("" when missing); for an e-mail address the model reads
	// by its domain, the domain class ("free-mail", "company", ...).
	Value string
	// Contribution is the property's change to the log-odds (the sum over its encoded features of
	// w_j * (x_j - Baseline_j)): against the overall rate for a scorecard, whose baseline is zero,
	// and against the average training contact for a one-hot model; positive raises the score.
	Contribution float64
	// ConversionRate and Contacts describe the training contacts that share this value (or range,
	// or the scorecard's bin).
	ConversionRate float64
	Contacts       int
	// Text says it in a sentence a salesperson can read.
	Text string
}

// Honest reports whether a reason with contribution contrib that quotes rate against the overall
// rate may be given (see Reason).
func Honest(contrib, rate, overall float64) bool {
	gap := rate - overall
	return (contrib >= MinContribution && gap > 0 || contrib <= -MinContribution && gap < 0) &&
		abs(gap) >= MinRateGap*overall
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// ReasonsLine puts the n strongest of a prediction's reasons (by the size of their contribution,
// raising and lowering alike) in one line for a CRM field: each sentence after "+ " or "- ", joined
// by " | ". n <= 0 means all.
func ReasonsLine(rs []Reason, n int) string {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b Reason) int { return cmp.Compare(abs(b.Contribution), abs(a.Contribution)) })
	if n > 0 && len(rs) > n {
		rs = rs[:n]
	}
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" | ")
		}
		if r.Contribution > 0 {
			b.WriteString("+ ")
		} else {
			b.WriteString("- ")
		}
		b.WriteString(r.Text)
	}
	return b.String()
}

// quoted is the rate row a reason for property k would quote for contact c.
type quoted struct {
	// row is the row, in the property's rates (at ri) unless it has no index there; nil for none. It
	// is read, never changed.
	row *features.RateRow
	ri  int  // index of row in the property's rates, or -1
	ok  bool // false: no row (no table, or no training contact in it)
}

// class returns the class the model reads from a derived property's value (the e-mail domain class,
// the title seniority), and whether it has one: not for other properties or a missing value.
func (prop *propPlan) class(v features.Value) (string, bool) { return derivedClass(prop.derive, v) }

// derivedClass is propPlan.class for a property whose Derive is derive.
func derivedClass(derive string, v features.Value) (string, bool) {
	if derive == "" || v.Missing() || v.Kind == features.KindCategory && strings.TrimSpace(v.Str) == "" {
		return "", false
	}
	switch derive {
	case features.DeriveEmailDomain:
		return features.EmailDomainClass(v.Text()), true
	case features.DeriveTitleSeniority:
		return features.TitleSeniority(v.Text()), true
	}
	return "", false
}

// class is prop.class(v), read from the bins a binned plan keeps (see Artifact.bins) when v's is
// kept.
func (p *plan) class(prop *propPlan, v features.Value) (string, bool) {
	if p.binOf != nil && v.Kind == features.KindCategory {
		if kept := p.binOf[prop.col]; kept != nil {
			if b, ok := kept.Get(v.Str); ok {
				return b.class, b.hasClass
			}
		}
	}
	return prop.class(v)
}

// quote finds the row property k's reason quotes: a scorecard's bin, or the rate table's row of the
// contact's value (its class for a derived property). vals are the contact's values by encoder column.
func (p *plan) quote(vals []features.Value, k int, s *scratch) quoted {
	prop := &p.props[k]
	q := quoted{ri: -1}
	if prop.rates == nil {
		return q
	}
	if p.binRow != nil {
		q.ri = p.binRow[s.active[k]]
		q.row = &prop.rates.Rows[q.ri]
	} else {
		v := vals[prop.col]
		key, keep := v.Key()
		keep = keep && len(v.Str) <= maxCachedValue && prop.rowOf != nil
		if keep {
			if ri, ok := prop.rowOf.Get(key); ok {
				if ri < 0 {
					return q
				}
				q.ri, q.row = ri, &prop.rates.Rows[ri]
				q.ok = q.row.Contacts > 0
				return q
			}
		}
		if v.Kind == features.KindCategory && strings.TrimSpace(v.Str) == "" {
			v = features.Value{} // the encoder reads a blank string as missing
		}
		if cls, ok := prop.class(v); ok {
			v = features.String(cls)
		}
		row, ok := prop.rates.Lookup(v)
		if q.ok = ok; ok {
			// The row at its index has the fields a reason reads (see rowIndex).
			if q.ri = prop.rowIndex(&row); q.ri >= 0 {
				q.row = &prop.rates.Rows[q.ri]
			} else {
				own := row
				q.row = &own
			}
		}
		// A row found without an index (a NaN rate) is not kept: -1 stands for no row.
		if keep && (q.ri >= 0 || !q.ok) && prop.rowOf.Len() < maxCachedReasons {
			prop.rowOf.Add(key, q.ri)
		}
		if !q.ok {
			return q
		}
	}
	q.ok = q.row.Contacts > 0
	return q
}

// reasons picks the strongest honest positive and negative properties and words them. Values and
// sentences that are not already whole strings (the contact's own value, a sentence worded when the
// plan was made) are appended to one buffer that becomes a single string, so the words cost at most
// one allocation however many reasons there are. vals are the contact's values by encoder column.
// The reasons are appended to out[:0] (nil: a new slice).
func (p *plan) reasons(out []Reason, vals []features.Value, s *scratch, now time.Time) []Reason {
	if p.overall == "" {
		return nil
	}
	// Candidates by strength: raising reasons by contribution descending, then lowering ones
	// ascending; equal contributions order by property name, ascending among raising reasons and
	// descending among lowering ones.
	cands := s.cands[:0]
	for k, v := range s.sums {
		if abs(v) >= MinContribution {
			cands = append(cands, k)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sortCandidates(cands, s.sums, p.props)
	var picked [2 * maxReasons]int
	var quotes [2 * maxReasons]quoted
	nPos, nNeg := 0, 0
	for _, k := range cands {
		pos := s.sums[k] > 0
		if pos && nPos == maxReasons || !pos && nNeg == maxReasons {
			continue
		}
		q := p.quote(vals, k, s)
		if !q.ok || !Honest(s.sums[k], q.row.Rate, p.rate) {
			continue
		}
		picked[nPos+nNeg], quotes[nPos+nNeg] = k, q
		if pos {
			nPos++
		} else {
			nNeg++
		}
	}
	s.cands = cands
	n := nPos + nNeg
	if n == 0 {
		return nil
	}
	out = slices.Grow(out[:0], n)[:n]
	var spans [2 * maxReasons]span
	var keys [2 * maxReasons]reasonKey
	var keep [2 * maxReasons]bool // worded now, to be kept in the property's words
	buf := s.buf[:0]
	for i, k := range picked[:n] {
		out[i] = Reason{Property: p.props[k].name, Contribution: s.sums[k]}
		prop := &p.props[k]
		key, cached := p.reasonKey(vals, k, &quotes[i], s.sums[k] < 0)
		if cached {
			w, ok := prop.words.Get(key.value)
			if ok && w.row == key.row && w.lower == key.lower {
				out[i].Value, out[i].Text = w.value, w.text
				out[i].ConversionRate, out[i].Contacts = quotes[i].row.Rate, quotes[i].row.Contacts
				spans[i] = span{value: [2]int{-1, -1}, text: [2]int{-1, -1}}
				continue
			}
			// Words kept for the value with another row or direction (which the value decides, but
			// for a time, whose words are not kept) are not these: worded now, and not kept.
			keys[i], keep[i] = key, !ok && prop.words.Len() < maxCachedReasons
		}
		buf = p.reason(buf, &out[i], vals, k, &quotes[i], now, &spans[i])
	}
	var all string
	if len(buf) > 0 {
		all = string(buf)
	}
	for i := range out {
		spans[i].fill(&out[i], all)
		if keep[i] {
			// Cloned: all holds every reason of this call.
			w := reasonWords{value: strings.Clone(out[i].Value), text: strings.Clone(out[i].Text), row: keys[i].row, lower: keys[i].lower}
			p.props[picked[i]].words.Add(keys[i].value, w)
		}
	}
	if cap(buf) <= maxKeptBuffer {
		s.buf = buf
	}
	return out
}

// reasonKey is what decides the words of a property's reason (reason's Value and Text): the
// contact's value (for an e-mail address, only whether it is missing and its class, all the reason
// shows of it), the row it quotes and whether the reason lowers the score.
type reasonKey struct {
	value features.Key
	row   int
	lower bool
}

// reasonWords are a reason's Value and Text, worded once, kept by the value of its reasonKey with the
// rest of the key.
type reasonWords struct {
	value, text string
	row         int
	lower       bool
}

// Bounds of the reasons' words kept per property: those of the first maxCachedReasons values seen
// (see reasonKey), each of a value up to maxCachedValue bytes long. Counts, flags, categories and
// e-mail classes repeat; a property whose values never repeat fills its words once and then words
// each reason as without them.
const (
	maxCachedReasons = 256
	maxCachedValue   = 128
)

// reasonKey returns the key of property k's reason for c quoting q, and false for a reason whose
// words are not kept: of a time (it says how long ago), of a value without a features.Key or longer
// than maxCachedValue, or quoting no row.
func (p *plan) reasonKey(vals []features.Value, k int, q *quoted, lower bool) (reasonKey, bool) {
	prop := &p.props[k]
	if prop.words == nil || q.ri < 0 {
		return reasonKey{}, false
	}
	v := vals[prop.col]
	if v.Kind == features.KindTime || len(v.Str) > maxCachedValue {
		return reasonKey{}, false
	}
	if prop.derive == features.DeriveEmailDomain {
		if cls, ok := p.class(prop, v); ok {
			v = features.String(cls)
		} else {
			v = features.Value{}
		}
	}
	key, ok := v.Key()
	return reasonKey{value: key, row: q.ri, lower: lower}, ok
}

// sortCandidates orders properties: positive sums first, larger first, then negative ones, more
// negative first; ties by name, ascending among positive and descending among negative sums.
func sortCandidates(ks []int, sums []float64, props []propPlan) {
	// The order is total (no two properties have the same rank), so the positive sums can be moved
	// first in any order, then each part sorted by itself: half the comparisons of sorting them
	// together, and simpler ones.
	npos := 0
	for i, k := range ks {
		if sums[k] > 0 {
			ks[npos], ks[i] = k, ks[npos]
			npos++
		}
	}
	sortBySize(ks[:npos], sums, props, true)
	sortBySize(ks[npos:], sums, props, false)
}

// sortBySize orders properties whose sums have the same sign (positive: pos) by the size of their
// sums, larger first; ties by rank, ascending when pos, else descending. Insertion sort: a handful of
// properties, and no allocation.
func sortBySize(ks []int, sums []float64, props []propPlan, pos bool) {
	for i := 1; i < len(ks); i++ {
		k := ks[i]
		a, rank := abs(sums[k]), props[k].rank
		j := i
		for ; j > 0; j-- {
			prev := ks[j-1]
			b := abs(sums[prev])
			if a < b || a == b && pos != (rank < props[prev].rank) {
				break // k goes after prev
			}
			ks[j] = prev
		}
		ks[j] = k
	}
}

// span locates a reason's value and sentence in the words buffer. A start of -1 means reason set
// the field to a whole string itself.
type span struct {
	value, text [2]int
}

// fill sets r's Value and Text from all, the buffer as a string, where sp says.
func (sp *span) fill(r *Reason, all string) {
	if sp.value[0] >= 0 {
		r.Value = all[sp.value[0]:sp.value[1]]
	}
	if sp.text[0] >= 0 {
		r.Text = all[sp.text[0]:sp.text[1]]
	}
}

// maxKeptBuffer bounds the text buffer a pooled scratch keeps, so that one contact with huge values
// does not pin memory.
const maxKeptBuffer = 16 << 10

// reason words property k's part in the prediction, quoting q: it appends the value and the
// sentence to buf (or, where they exist as strings already, sets r.Value and r.Text to them), records
// where in sp, and fills r's rate fields. r.Contribution must be set. See span.fill.
func (p *plan) reason(buf []byte, r *Reason, vals []features.Value, k int, q *quoted, now time.Time, sp *span) []byte {
	prop := &p.props[k]
	v := vals[prop.col]
	if v.Kind == features.KindCategory && strings.TrimSpace(v.Str) == "" {
		v = features.Value{} // the encoder reads a blank string as missing
	}
	missing := v.Missing()
	email := prop.derive == features.DeriveEmailDomain
	class, _ := prop.class(v)
	row, haveRow, ri := q.row, q.ok, q.ri
	if haveRow {
		r.ConversionRate, r.Contacts = row.Rate, row.Contacts
	}

	// A category or flag value that is its row's value: both strings exist already.
	if ri >= 0 && prop.rows[ri].whole != "" && (v.Kind == features.KindCategory || v.Kind == features.KindFlag) {
		if text := plainText(v); text == row.Value {
			r.Value, r.Text = text, prop.rows[ri].whole
			sp.value[0], sp.text[0] = -1, -1
			return buf
		}
	}

	sp.value[0] = len(buf)
	if email && !missing {
		// The class is what the model used, and it keeps the address out of logs and CRM fields.
		buf = append(buf, class...)
	} else {
		buf = appendValue(buf, v)
	}
	sp.value[1] = len(buf)
	sp.text[0] = len(buf)
	buf = append(buf, prop.title...)
	switch {
	case missing && haveRow:
		buf = append(buf, " is missing"...)
	case missing:
		buf = append(buf, " missing"...)
	case prop.kind == features.KindNumber && !haveRow:
		buf = append(buf, " of "...)
	default:
		buf = append(buf, " is "...)
	}
	shownAt, shownEnd := len(buf), len(buf)
	if !missing {
		// The value as the sentence gives it.
		switch {
		case email:
			buf = append(buf, "a "...)
			buf = append(buf, class...)
			buf = append(buf, " address"...)
		case prop.kind == features.KindTime && v.Kind == features.KindTime:
			buf = appendDaysAgo(buf, now.Sub(v.Time))
		case v.Kind == features.KindNumber:
			buf = appendReadable(buf, v.Num)
		default:
			buf = append(buf, bytes.TrimSpace(buf[sp.value[0]:sp.value[1]])...)
			if prop.derive == features.DeriveTitleSeniority {
				buf = append(buf, " ("...)
				buf = append(buf, class...)
				buf = append(buf, ')')
			}
		}
		shownEnd = len(buf)
	}
	if !haveRow {
		switch {
		case r.Contribution < 0 && (missing || prop.kind == features.KindNumber):
			buf = append(buf, " lowers the score"...)
		case missing || prop.kind == features.KindNumber:
			buf = append(buf, " raises the score"...)
		case r.Contribution < 0:
			buf = append(buf, ", which lowers the score"...)
		default:
			buf = append(buf, ", which raises the score"...)
		}
		sp.text[1] = len(buf)
		return buf
	}
	if !missing {
		switch {
		case row.Pooled:
			buf = append(buf, " (counted with the other rare values)"...)
		case prop.kind == features.KindNumber && row.Label != "":
			// The range, unless it is the value itself ("17" for a column of whole numbers).
			var label string
			if ri >= 0 {
				label = prop.rows[ri].label
			} else {
				label = string(appendReadableLabel(nil, row.Label))
			}
			if label != string(buf[shownAt:shownEnd]) {
				buf = append(append(append(buf, " ("...), label...), ')')
			}
		}
	}
	if ri >= 0 {
		buf = append(buf, prop.rows[ri].suffix...)
	} else {
		buf = p.appendSuffix(buf, row)
	}
	sp.text[1] = len(buf)
	return buf
}

// appendSuffix appends the end of a reason that quotes row: ": 24% of 1,203 such contacts became
// customers, against 9% overall".
func (p *plan) appendSuffix(buf []byte, row *features.RateRow) []byte {
	buf = append(buf, ": "...)
	buf = appendPercent(buf, row.Rate)
	buf = append(buf, " of "...)
	buf = appendThousands(buf, row.Contacts)
	if row.Contacts == 1 {
		buf = append(buf, " such contact became a customer, against "...)
	} else {
		buf = append(buf, " such contacts became customers, against "...)
	}
	buf = append(buf, p.overall...)
	return append(buf, " overall"...)
}
