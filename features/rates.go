package features

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// ErrNoClosedContacts is returned by ComputeRates when no row is won or lost.
var ErrNoClosedContacts = errors.New("features: no closed contacts (won or lost) to compute rates from")

// Defaults of RateOptions.
const (
	DefaultMinContacts = 30
	DefaultMaxValues   = 50
	DefaultMaxRanges   = 10
)

// z95 is the standard normal quantile of 0.975: the z of a two-sided 95% interval.
const z95 = 1.959963984540054

// Labels of the rows that do not stand for one value or range.
const (
	labelOther   = "(other)"
	labelMissing = "(missing)"
	labelEmpty   = "(empty)"
)

// candidateQuantiles is how many base bins of roughly equal size a numeric column is cut into before
// supervised binning; columns with at most maxDistinctCandidates distinct values use every value instead.
const (
	candidateQuantiles    = 32
	maxDistinctCandidates = 64
)

// RateOptions configures ComputeRates. The zero value works.
type RateOptions struct {
	// MinContacts is the fewest closed contacts a category value needs to get a row of its own (rarer
	// values are pooled into "(other)") and the fewest a numeric range may hold. 0 means 30.
	MinContacts int
	// MaxValues caps the value rows of a category table; past it the smallest values join "(other)".
	// 0 means 50.
	MaxValues int
	// MaxRanges caps the ranges of a number or time table. 0 means 10.
	MaxRanges int
	// Columns restricts the tables to these columns; nil means every column of the frame.
	Columns []string
	// Exclude leaves these columns out, typically the outcome column itself.
	Exclude []string
	// Rows, if not nil, are the rows of the frame to count, ascending (training's rows, so that
	// they need no copy); nil means every row. The labels still have one entry per row of the frame.
	Rows []int
	// Derive maps a category column to a derivation (DeriveEmailDomain, DeriveTitleSeniority): its
	// table counts each value's class (DerivedClass) instead of the value.
	Derive map[string]string
}

func (o RateOptions) withDefaults() (RateOptions, error) {
	if o.MinContacts < 0 || o.MaxValues < 0 || o.MaxRanges < 0 {
		return o, fmt.Errorf("features: negative rate option (min contacts %d, max values %d, max ranges %d)",
			o.MinContacts, o.MaxValues, o.MaxRanges)
	}
	if o.MinContacts == 0 {
		o.MinContacts = DefaultMinContacts
	}
	if o.MaxValues == 0 {
		o.MaxValues = DefaultMaxValues
	}
	if o.MaxRanges == 0 {
		o.MaxRanges = DefaultMaxRanges
	}
	return o, nil
}

// RateRow is one line of a conversion-rate table: a category value, a numeric range [Lo, Hi), the
// pooled rare values or the missing values, with how many of its closed contacts became customers.
type RateRow struct {
	// Label is the row as people read it: the value, a range such as "5 - 12", "(other)" or "(missing)".
	Label string `json:"label"`
	// Value is the category value of a value row (for flags "true" or "false"); empty otherwise.
	Value string `json:"value,omitempty"`
	// Lo and Hi bound a range row of a number or time table: Lo <= x < Hi, with -Inf and +Inf at the
	// ends (+Inf itself falls in the last range). Time tables hold Unix seconds. Zero in other rows.
	Lo float64 `json:"-"`
	Hi float64 `json:"-"`
	// Missing marks the row of contacts without a value.
	Missing bool `json:"missing,omitempty"`
	// Pooled marks the "(other)" row of rare category values; Values says how many were pooled.
	Pooled bool `json:"pooled,omitempty"`
	Values int  `json:"values,omitempty"`
	// Contacts is the number of closed contacts in the row, Customers how many of them were won.
	Contacts  int `json:"contacts"`
	Customers int `json:"customers"`
	// Rate is Customers/Contacts, Lower and Upper its 95% Wilson interval, Lift Rate over the
	// overall rate (0 when the overall rate is 0).
	Rate  float64 `json:"rate"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	Lift  float64 `json:"lift"`
}

type rateRowAlias RateRow

// MarshalJSON writes Lo and Hi as "lo" and "hi" (infinite ends as the strings "-Inf" and "+Inf",
// which plain JSON numbers cannot hold), leaving both out when both are zero.
func (r RateRow) MarshalJSON() ([]byte, error) {
	aux := struct {
		rateRowAlias
		Lo *jsonFloat `json:"lo,omitempty"`
		Hi *jsonFloat `json:"hi,omitempty"`
	}{rateRowAlias: rateRowAlias(r)}
	if r.Lo != 0 || r.Hi != 0 {
		lo, hi := jsonFloat(r.Lo), jsonFloat(r.Hi)
		aux.Lo, aux.Hi = &lo, &hi
	}
	return json.Marshal(aux)
}

// UnmarshalJSON is the inverse of MarshalJSON.
func (r *RateRow) UnmarshalJSON(b []byte) error {
	aux := struct {
		*rateRowAlias
		Lo *jsonFloat `json:"lo"`
		Hi *jsonFloat `json:"hi"`
	}{rateRowAlias: (*rateRowAlias)(r)}
	*r = RateRow{}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.Lo != nil {
		r.Lo = float64(*aux.Lo)
	}
	if aux.Hi != nil {
		r.Hi = float64(*aux.Hi)
	}
	return nil
}

// jsonFloat is a float64 whose infinities travel through JSON as strings.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	case math.IsNaN(x):
		return nil, errors.New("features: NaN range bound")
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	s := string(b)
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("features: range bound %s: %w", b, err)
	}
	*f = jsonFloat(x)
	return nil
}

// RateTable is the conversion-rate table of one property.
type RateTable struct {
	Property string `json:"property"`
	Kind     Kind   `json:"kind"`
	// Rows: category and flag tables list value rows by rate, highest first, then "(other)" and
	// "(missing)"; number and time tables list ranges in ascending order, then "(missing)".
	Rows []RateRow `json:"rows"`
	// Strength is the information value of the rows: how well the property alone separates won from
	// lost contacts (see ComputeRates). Below 0.02 it separates nothing, above 0.5 suspiciously much.
	Strength float64 `json:"strength"`
}

// SkippedColumn names a column ComputeRates made no table for, and why.
type SkippedColumn struct {
	Property string `json:"property"`
	Kind     Kind   `json:"kind"`
	Reason   string `json:"reason"`
}

// RateReport holds the overall conversion rate and one table per property.
type RateReport struct {
	// Contacts is the number of closed (won or lost) contacts, Customers the won ones, Open the rows
	// skipped because their outcome is not known yet.
	Contacts  int `json:"contacts"`
	Customers int `json:"customers"`
	Open      int `json:"open"`
	// Rate is Customers/Contacts with its 95% Wilson interval [Lower, Upper].
	Rate  float64 `json:"rate"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	// Tables are ordered by Strength, strongest first; ties keep the frame's column order.
	Tables []RateTable `json:"tables"`
	// Skipped lists the columns without a table, in the frame's column order.
	Skipped []SkippedColumn `json:"skipped,omitempty"`
}

// Table returns the table of property, or nil.
func (r *RateReport) Table(property string) *RateTable {
	for i := range r.Tables {
		if r.Tables[i].Property == property {
			return &r.Tables[i]
		}
	}
	return nil
}

// Wilson returns the Wilson score interval of a proportion with k successes in n trials, for the
// standard normal quantile z (1.96 for a 95% interval):
//
//	(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n),  p = k/n.
//
// Unlike the normal approximation it stays inside [0, 1] and is sound near 0 and 1: lo is exactly 0
// when k == 0 and hi exactly 1 when k == n. With n == 0 nothing bounds the rate and Wilson returns
// (0, 1). It panics if n < 0, k < 0, k > n, or z is negative or NaN.
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n < 0 || k < 0 || k > n || !(z >= 0) {
		panic(fmt.Sprintf("features: Wilson(%d, %d, %g): need 0 <= k <= n and z >= 0", k, n, z))
	}
	if n == 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	center := p + z2/(2*nf)
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo = max(0, (center-half)/den)
	hi = min(1, (center+half)/den)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// ComputeRates measures, for every column of f, how the conversion rate of closed contacts (won over
// won plus lost; labels[i] is the outcome of row i, open rows are skipped) varies with the column's
// values.
//
// Category and flag columns get one row per value. Category values with fewer than MinContacts closed
// contacts, and the smallest values past MaxValues, are pooled into one "(other)" row; flags are
// never pooled. A category column with more than MaxValues distinct values that are at least half as
// many as its contacts (identifiers, e-mail addresses, free text) is skipped, not tabled.
//
// Number and time columns (time as Unix seconds, ranges printed as dates) are cut into ranges where
// the conversion rate changes, by supervised binning: the sorted values are first cut into fine base
// bins (every distinct value when there are at most 64, otherwise about 32 bins of equal count, cut
// only between different values; time cuts are rounded down to midnight UTC when the column spans two
// weeks or more); then ranges are split in two at the base-bin boundary of lowest class entropy
// (highest information gain), keeping at least MinContacts contacts on each side, and a split is
// accepted only when its gain passes the minimum-description-length test of Fayyad and Irani (1993).
// Splits are applied best first, by gain times contacts, until none passes or MaxRanges is reached.
// A column without signal thus keeps a single range. NaN counts as missing. Between two neighbouring
// values a cut sits at the shortest decimal that separates them ("< 20" rather than "< 19.8372").
// Labels read "< 5", "5 - 12", ">= 40": for a column of whole numbers both ends are included
// ("5 - 12" is [5, 13)), otherwise the range is [Lo, Hi); time ranges print as dates when every cut
// is a midnight.
//
// Every table gets a "(missing)" row when some closed contacts lack a value. A table with fewer than
// two rows tells nothing and is skipped, as is a column where no closed contact has a value.
//
// Strength is the information value of the final rows, as in credit scoring:
// IV = Σ (w_i − l_i)·ln(w_i / l_i), where w_i and l_i are the shares of all won and of all lost
// contacts that fall in row i, each smoothed by adding 0.5 to the row's counts. Tables are ordered by
// Strength, strongest first.
//
// ComputeRates returns an error when f is inconsistent, len(labels) != f.Len(), an option is negative,
// a column named in opts.Columns does not exist, or ErrNoClosedContacts. The result is deterministic
// and does not depend on row order.
func ComputeRates(f Columns, labels []Label, opts RateOptions) (*RateReport, error) {
	if len(labels) != f.Len() {
		return nil, fmt.Errorf("features: %d labels for %d rows", len(labels), f.Len())
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cols, err := rateColumns(f, o)
	if err != nil {
		return nil, err
	}

	rep := &RateReport{Tables: []RateTable{}}
	rows := o.Rows
	if rows == nil {
		rows = make([]int, len(labels))
		for i := range rows {
			rows[i] = i
		}
	}
	closed := make([]int, 0, len(rows))
	for _, i := range rows {
		if i < 0 || i >= len(labels) {
			return nil, fmt.Errorf("features: rates: row %d of %d", i, len(labels))
		}
		switch labels[i] {
		case Won:
			rep.Customers++
			closed = append(closed, i)
		case Lost:
			closed = append(closed, i)
		default:
			rep.Open++
		}
	}
	rep.Contacts = len(closed)
	if rep.Contacts == 0 {
		return nil, ErrNoClosedContacts
	}
	rep.Rate = float64(rep.Customers) / float64(rep.Contacts)
	rep.Lower, rep.Upper = Wilson(rep.Customers, rep.Contacts, z95)

	type result struct {
		table  RateTable
		reason string
	}
	results := make([]result, len(cols))
	errs := make([]error, len(cols))
	b := rateBuilder{labels: labels, closed: closed, won: rep.Customers, rate: rep.Rate, opts: o}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range cols {
		g.Go(func() error {
			col, err := load(f, cols[i])
			if err == nil {
				results[i].table, results[i].reason = b.table(col)
			}
			errs[i] = err
			return nil
		})
	}
	_ = g.Wait() // errors are kept per column, to report the first in frame order
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	for i, r := range results {
		if r.reason != "" {
			rep.Skipped = append(rep.Skipped, SkippedColumn{Property: cols[i], Kind: f.Kind(cols[i]), Reason: r.reason})
			continue
		}
		rep.Tables = append(rep.Tables, r.table)
	}
	slices.SortStableFunc(rep.Tables, func(a, b RateTable) int { return cmp.Compare(b.Strength, a.Strength) })
	return rep, nil
}

// rateColumns returns the names of the columns to table, in frame order.
func rateColumns(f Columns, o RateOptions) ([]string, error) {
	for _, name := range o.Columns {
		if !has(f, name) {
			return nil, fmt.Errorf("features: rates: no column %q", name)
		}
	}
	var cols []string
	for _, name := range f.Names() {
		if o.Columns != nil && !slices.Contains(o.Columns, name) {
			continue
		}
		if slices.Contains(o.Exclude, name) {
			continue
		}
		cols = append(cols, name)
	}
	return cols, nil
}

// rateBuilder holds what every table of one ComputeRates call shares; it is read-only.
type rateBuilder struct {
	labels []Label
	closed []int // rows whose outcome is known, ascending
	won    int   // won rows among closed
	rate   float64
	opts   RateOptions
}

// table builds the table of c, or returns the reason it has none.
func (b *rateBuilder) table(c *Column) (RateTable, string) {
	var rows []RateRow
	var reason string
	switch c.Kind {
	case KindCategory, KindFlag:
		rows, reason = b.categoryRows(c)
	default:
		rows, reason = b.rangeRows(c)
	}
	if reason != "" {
		return RateTable{}, reason
	}
	for i := range rows {
		b.finish(&rows[i])
	}
	return RateTable{Property: c.Name, Kind: c.Kind, Rows: rows, Strength: b.strength(rows)}, ""
}

// finish fills the rate, interval and lift of r from its counts.
func (b *rateBuilder) finish(r *RateRow) {
	if r.Contacts > 0 {
		r.Rate = float64(r.Customers) / float64(r.Contacts)
	}
	r.Lower, r.Upper = Wilson(r.Customers, r.Contacts, z95)
	if b.rate > 0 {
		r.Lift = r.Rate / b.rate
	}
}

// strength is the smoothed information value of rows.
func (b *rateBuilder) strength(rows []RateRow) float64 {
	const smooth = 0.5
	m := float64(len(rows))
	won := float64(b.won) + smooth*m
	lost := float64(len(b.closed)-b.won) + smooth*m
	var iv float64
	for _, r := range rows {
		w := (float64(r.Customers) + smooth) / won
		l := (float64(r.Contacts-r.Customers) + smooth) / lost
		iv += (w - l) * math.Log(w/l)
	}
	return iv
}

type valueCount struct {
	value     string
	contacts  int
	customers int
}

func (b *rateBuilder) categoryRows(c *Column) ([]RateRow, string) {
	var missing valueCount
	var counts []valueCount
	if c.Kind == KindFlag {
		counts = []valueCount{{value: "true"}, {value: "false"}}
		for _, i := range b.closed {
			vc := &missing
			if c.Valid[i] {
				vc = &counts[1]
				if c.Bool[i] {
					vc = &counts[0]
				}
			}
			vc.contacts++
			if b.labels[i] == Won {
				vc.customers++
			}
		}
		counts = slices.DeleteFunc(counts, func(vc valueCount) bool { return vc.contacts == 0 })
	} else {
		// Values are grouped once folded (see Fold), under their first spelling, trimmed.
		index, folded := make(map[string]int), make(map[string]int)
		derive := b.opts.Derive[c.Name]
		for _, i := range b.closed {
			vc := &missing
			if c.Valid[i] {
				v := c.Str[i]
				if derive != "" {
					v = DerivedClass(derive, v)
				}
				j, ok := index[v]
				if !ok {
					k := Fold(v)
					if j, ok = folded[k]; !ok {
						j = len(counts)
						folded[k] = j
						counts = append(counts, valueCount{value: strings.TrimSpace(v)})
					}
					index[v] = j
				}
				vc = &counts[j]
			}
			vc.contacts++
			if b.labels[i] == Won {
				vc.customers++
			}
		}
	}
	present := len(b.closed) - missing.contacts
	if present == 0 {
		return nil, "no closed contact has a value"
	}
	if c.Kind == KindCategory && len(counts) > b.opts.MaxValues && 2*len(counts) >= present {
		return nil, fmt.Sprintf("%d distinct values in %d contacts: an identifier or free text", len(counts), present)
	}

	slices.SortFunc(counts, func(x, y valueCount) int {
		return cmp.Or(cmp.Compare(y.contacts, x.contacts), strings.Compare(x.value, y.value))
	})
	var rows []RateRow
	other := RateRow{Label: labelOther, Pooled: true}
	for j, vc := range counts {
		if c.Kind == KindCategory && (vc.contacts < b.opts.MinContacts || j >= b.opts.MaxValues) {
			other.Values++
			other.Contacts += vc.contacts
			other.Customers += vc.customers
			continue
		}
		label := vc.value
		if label == "" {
			label = labelEmpty
		}
		rows = append(rows, RateRow{Label: label, Value: vc.value, Contacts: vc.contacts, Customers: vc.customers})
	}
	// Order by rate without dividing, so that equal rates compare equal.
	slices.SortStableFunc(rows, func(x, y RateRow) int {
		return cmp.Compare(y.Customers*x.Contacts, x.Customers*y.Contacts)
	})
	switch {
	case len(rows) == 0:
		if missing.contacts == 0 {
			return nil, fmt.Sprintf("every value has fewer than %d closed contacts", b.opts.MinContacts)
		}
	case len(rows) == 1 && other.Values == 0 && missing.contacts == 0:
		return nil, "a single value"
	}
	if other.Values > 0 {
		rows = append(rows, other)
	}
	if missing.contacts > 0 {
		rows = append(rows, RateRow{Label: labelMissing, Missing: true, Contacts: missing.contacts, Customers: missing.customers})
	}
	return rows, ""
}

// Lookup returns the row of t that the value v falls in: for category and flag tables the row of
// v.Text() (for a category, whatever its case and surrounding spaces: see Fold), else the pooled
// "(other)" row; for number tables (numbers or numeric strings) and time
// tables (timestamps) the range holding it; the "(missing)" row for a missing value or NaN. ok is
// false when no row fits: a category unseen and no "(other)" row, no "(missing)" row, or a value of
// the wrong kind.
func (t *RateTable) Lookup(v Value) (RateRow, bool) {
	find := func(match func(r *RateRow) bool) (RateRow, bool) {
		for i := range t.Rows {
			if match(&t.Rows[i]) {
				return t.Rows[i], true
			}
		}
		return RateRow{}, false
	}
	missing := func(r *RateRow) bool { return r.Missing }
	if v.Missing() {
		return find(missing)
	}
	switch t.Kind {
	case KindCategory, KindFlag:
		s := v.Text()
		if r, ok := find(func(r *RateRow) bool {
			return !r.Missing && !r.Pooled && (r.Value == s || t.Kind == KindCategory && SameCategory(r.Value, s))
		}); ok {
			return r, true
		}
		return find(func(r *RateRow) bool { return r.Pooled })
	}
	var x float64
	switch {
	case t.Kind == KindNumber && v.Kind == KindNumber:
		x = v.Num
	case t.Kind == KindNumber && v.Kind == KindCategory:
		p, err := Parse(KindNumber, v, nil)
		if err != nil {
			return RateRow{}, false
		}
		if p.Missing() {
			return find(missing)
		}
		x = p.Num
	case t.Kind == KindTime && v.Kind == KindTime:
		x = UnixSeconds(v.Time)
	default:
		return RateRow{}, false
	}
	if math.IsNaN(x) {
		return find(missing)
	}
	return find(func(r *RateRow) bool {
		return !r.Missing && x >= r.Lo && (x < r.Hi || math.IsInf(r.Hi, 1))
	})
}

// StrengthBand names an information value with the usual credit-scoring bands (Siddiqi, Credit Risk
// Scorecards, 2006): below 0.02 "not predictive", then "weak", "medium" (from 0.1), "strong" (from
// 0.3) and, above 0.5, "very strong".
func StrengthBand(iv float64) string {
	switch {
	case iv < 0.02:
		return "not predictive"
	case iv < 0.1:
		return "weak"
	case iv < 0.3:
		return "medium"
	case iv <= 0.5:
		return "strong"
	}
	return "very strong"
}
