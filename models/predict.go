package models

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadscore/leadscore/features"
)

// maxReasons is how many positive and how many negative reasons a prediction gives at most.
const maxReasons = 5

// Prediction is a model's answer for one contact.
type Prediction struct {
	// Probability is the predicted chance that the contact becomes a customer, in [0, 1].
	Probability float64
	Priority    Priority
	// FitGrade ("A" best to "D") and EngagementLevel (1 most engaged to 4) place the contact's summed
	// fit and engagement contributions among the training contacts' quartiles.
	FitGrade        string
	EngagementLevel int
	// Reasons are the properties that moved the score most against the average contact: up to five
	// that raised it, strongest first, then up to five that lowered it, strongest first.
	Reasons  []Reason
	Warnings []features.Warning
}

// Reason is one property's part in a prediction.
type Reason struct {
	Property string
	// Value is the contact's value as text ("" when missing); for an e-mail address the model reads
	// by its domain, the domain class ("free-mail", "company", ...).
	Value string
	// Contribution is the property's change to the log-odds against the average training contact
	// (the sum over its encoded features of w_j * (x_j - Baseline_j)); positive raises the score.
	Contribution float64
	// ConversionRate and Contacts describe the training contacts that share this value (or range),
	// from the artifact's rate tables; both are zero when the tables have no row for it.
	ConversionRate float64
	Contacts       int
	// Text says it in a sentence a salesperson can read.
	Text string
}

// plan is what Predict needs besides the artifact, worked out once.
type plan struct {
	width    int
	featProp []int  // encoded feature -> index in props
	engaged  []bool // encoded feature is in the engagement group
	props    []propPlan
	overall  string // conversion rate of all training contacts, as reasons print it
	scratch  sync.Pool
}

type propPlan struct {
	name   string
	title  string // "Annual Revenue" for annual_revenue
	rank   int    // position of name among the property names in byte order, to break ties
	kind   features.Kind
	derive string
	rates  *features.RateTable // nil when the rate tables have none for the property
	rows   []rowText           // the words of each of rates.Rows, in the same order
}

// rowText is the part of a reason that depends only on the rate row it quotes, worded once so that
// Predict formats just the contact's value.
type rowText struct {
	// label is the row's range label made readable (appendReadableLabel); "" when the row has none.
	label string
	// suffix is the end of the sentence: ": 24% of 1,203 such contacts became customers, against
	// 9% overall".
	suffix string
	// whole is the full sentence for a contact whose value is the row's category value ("Industry is
	// Software: 24% of ..."), for properties where the sentence shows that value as it is; else "".
	whole string
}

// scratch is one Predict call's working memory, pooled.
type scratch struct {
	x    []float64 // encoded contact
	sums []float64 // contribution per property
	buf  []byte    // the reasons' words
}

func (a *Artifact) getPlan() (*plan, error) {
	if p := a.plan.Load(); p != nil {
		return p, nil
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	feats := a.Encoder.Features()
	p := &plan{width: a.Encoder.Width(), featProp: make([]int, len(feats)), engaged: make([]bool, len(feats))}
	tables := map[string]*features.RateTable{}
	if a.Rates != nil {
		p.overall = string(appendPercent(nil, a.Rates.Rate))
		for i := range a.Rates.Tables {
			t := &a.Rates.Tables[i]
			if _, dup := tables[t.Property]; !dup {
				tables[t.Property] = t
			}
		}
	}
	index := map[string]int{}
	for j, f := range feats {
		k, ok := index[f.Property]
		if !ok {
			k = len(p.props)
			index[f.Property] = k
			p.props = append(p.props, propPlan{name: f.Property, title: titleCase(f.Property), kind: f.Kind, derive: f.Derive, rates: tables[f.Property]})
		}
		p.featProp[j] = k
		p.engaged[j] = f.Group == features.GroupEngagement
	}
	byName := make([]int, len(p.props))
	for k := range byName {
		byName[k] = k
	}
	slices.SortFunc(byName, func(i, j int) int { return strings.Compare(p.props[i].name, p.props[j].name) })
	for rank, k := range byName {
		p.props[k].rank = rank
	}
	for k := range p.props {
		p.props[k].rows = p.rowTexts(&p.props[k])
	}
	n := len(p.props)
	p.scratch.New = func() any {
		return &scratch{x: make([]float64, p.width), sums: make([]float64, n), buf: make([]byte, 0, 1024)}
	}
	// Concurrent first calls may each build a plan; they are equal, and one wins.
	a.plan.CompareAndSwap(nil, p)
	return a.plan.Load(), nil
}

// rowTexts words every row of prop's rate table; nil without a table.
func (p *plan) rowTexts(prop *propPlan) []rowText {
	if prop.rates == nil {
		return nil
	}
	// whole holds for the sentences reason writes as title, " is ", the trimmed value and the suffix:
	// no derived class, no range label (numbers) and no days ago (times).
	whole := prop.derive == "" && prop.kind != features.KindNumber && prop.kind != features.KindTime
	rows := make([]rowText, len(prop.rates.Rows))
	var buf []byte
	for i := range prop.rates.Rows {
		row := &prop.rates.Rows[i]
		if row.Label != "" {
			rows[i].label = string(appendReadableLabel(buf[:0], row.Label))
		}
		rows[i].suffix = string(p.appendSuffix(buf[:0], row))
		if whole && !row.Pooled && !row.Missing && strings.TrimSpace(row.Value) != "" {
			buf = append(append(buf[:0], prop.title...), " is "...)
			buf = append(buf, strings.TrimSpace(row.Value)...)
			rows[i].whole = string(append(buf, rows[i].suffix...))
		}
	}
	return rows
}

// rowIndex returns the index in prop.rates.Rows of a row RateTable.Lookup returned: the first row
// with the same label, value, pooling, rate and count, so that its precomputed words are the ones
// row itself would give. It returns -1 if there is none (a NaN rate).
func (prop *propPlan) rowIndex(row *features.RateRow) int {
	for i := range prop.rates.Rows {
		r := &prop.rates.Rows[i]
		if r.Rate == row.Rate && r.Contacts == row.Contacts && r.Pooled == row.Pooled && r.Label == row.Label && r.Value == row.Value {
			return i
		}
	}
	return -1
}

// Predict scores contact c as of asOf (the zero time means the model's reference time, see
// features.Encoder.EncodeContact). Errors are the encoder's (a *features.PropertyError for a value
// that does not fit its column) or, for an artifact that does not validate, ErrInvalidArtifact.
// Predict is safe for concurrent use.
func (a *Artifact) Predict(c features.Contact, asOf time.Time) (Prediction, error) {
	p, err := a.getPlan()
	if err != nil {
		return Prediction{}, err
	}
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	warnings, err := a.Encoder.EncodeContact(c, asOf, s.x)
	if err != nil {
		return Prediction{}, err
	}
	clear(s.sums)
	logit := a.Intercept
	var fitSum, engSum float64
	for j, x := range s.x {
		w := a.Weights[j]
		logit += w * x
		contrib := w * (x - a.Baseline[j])
		s.sums[p.featProp[j]] += contrib
		if p.engaged[j] {
			engSum += contrib
		} else {
			fitSum += contrib
		}
	}
	prob := sigmoid(logit)
	pred := Prediction{
		Probability:     prob,
		Priority:        PriorityOf(prob, a.Tiers),
		FitGrade:        FitGrade(fitSum, a.FitCuts),
		EngagementLevel: EngagementLevel(engSum, a.EngagementCuts),
		Warnings:        warnings,
	}
	if asOf.IsZero() {
		asOf = a.Encoder.ReferenceTime
	}
	pred.Reasons = p.reasons(c, s, asOf)
	return pred, nil
}

// reasons picks the strongest positive and negative properties and words them. Values and
// sentences that are not already whole strings (the contact's own value, a sentence worded when the
// plan was made) are appended to one buffer that becomes a single string, so the words cost at most
// one allocation however many reasons there are.
func (p *plan) reasons(c features.Contact, s *scratch, now time.Time) []Reason {
	// The strongest of each sign, strongest first, by insertion into short ranked lists: raising
	// reasons by contribution descending, lowering ones ascending; equal contributions order by
	// property name, ascending among raising reasons and descending among lowering ones.
	var pos, neg [maxReasons]int
	nPos, nNeg := 0, 0
	for k, v := range s.sums {
		switch {
		case v > 0:
			nPos = p.insert(&pos, nPos, k, s.sums, 1)
		case v < 0:
			nNeg = p.insert(&neg, nNeg, k, s.sums, -1)
		}
	}
	if nPos+nNeg == 0 {
		return nil
	}
	var ks [2 * maxReasons]int
	copy(ks[nPos:], neg[:nNeg])
	copy(ks[:], pos[:nPos])
	out := make([]Reason, nPos+nNeg)
	var spans [2 * maxReasons]span
	buf := s.buf[:0]
	for i, k := range ks[:nPos+nNeg] {
		out[i] = Reason{Property: p.props[k].name, Contribution: s.sums[k]}
		buf = p.reason(buf, &out[i], c, k, now, &spans[i])
	}
	var all string
	if len(buf) > 0 {
		all = string(buf)
	}
	for i := range out {
		spans[i].fill(&out[i], all)
	}
	if cap(buf) <= maxKeptBuffer {
		s.buf = buf
	}
	return out
}

// insert places property k into top, the n best so far (at most maxReasons) in order of sign*sum,
// larger first, and returns the new count.
func (p *plan) insert(top *[maxReasons]int, n, k int, sums []float64, sign float64) int {
	before := func(i, j int) bool { // i ranks before j
		if a, b := sign*sums[i], sign*sums[j]; a != b {
			return a > b
		}
		return (sign > 0) == (p.props[i].rank < p.props[j].rank)
	}
	if n == maxReasons {
		if !before(k, top[n-1]) {
			return n
		}
		n--
	}
	at := n
	for at > 0 && before(k, top[at-1]) {
		top[at] = top[at-1]
		at--
	}
	top[at] = k
	return n + 1
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

// reason words property k's part in the prediction: it appends the value and the sentence to buf
// (or, where they exist as strings already, sets r.Value and r.Text to them), records where in sp,
// and fills r's rate fields. r.Contribution must be set. See span.fill.
func (p *plan) reason(buf []byte, r *Reason, c features.Contact, k int, now time.Time, sp *span) []byte {
	prop := &p.props[k]
	v := c.Props[prop.name]
	if v.Kind == features.KindCategory && strings.TrimSpace(v.Str) == "" {
		v = features.Value{} // the encoder reads a blank string as missing
	}
	missing := v.Missing()
	email := prop.derive == features.DeriveEmailDomain
	// class is the derived property's class (the model's view), by which its rates are tabled.
	var class string
	derived := false
	if !missing {
		switch prop.derive {
		case features.DeriveEmailDomain:
			class, derived = features.EmailDomainClass(v.Text()), true
		case features.DeriveTitleSeniority:
			class, derived = features.TitleSeniority(v.Text()), true
		}
	}

	var row features.RateRow
	haveRow, ri := false, -1
	if prop.rates != nil {
		lv := v
		if derived {
			lv = features.String(class)
		}
		row, haveRow = prop.rates.Lookup(lv)
		haveRow = haveRow && row.Contacts > 0
		if haveRow {
			r.ConversionRate, r.Contacts = row.Rate, row.Contacts
			ri = prop.rowIndex(&row)
		}
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
		buf = p.appendSuffix(buf, &row)
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

// sigmoid is 1/(1+e^-z) computed without overflow for large |z|.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
