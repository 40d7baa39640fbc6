package features

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of encoding. Values that do not fit come wrapped in a *PropertyError.
var (
	// ErrWrongType: a value cannot be read as its column's kind ("abc" for a number column).
	ErrWrongType = errors.New("features: value does not fit the column's kind")
	// ErrNotFinite: a number is NaN or infinite.
	ErrNotFinite = errors.New("features: number is NaN or infinite")
	// ErrMissingColumn: a column the spec uses is not in the training data.
	ErrMissingColumn = errors.New("features: used column is not in the data")
	// ErrEncoder: an encoder (usually decoded from a file) is inconsistent.
	ErrEncoder = errors.New("features: invalid encoder")
)

// PropertyError is a property value that cannot be encoded.
type PropertyError struct {
	Property string
	// Row is the frame row index, or -1 for a single contact.
	Row int
	// Value is the offending value as text.
	Value string
	// Kind is the kind the column expects.
	Kind Kind
	// Err is ErrWrongType or ErrNotFinite.
	Err error
}

func (e *PropertyError) Error() string {
	var b strings.Builder
	b.WriteString("features: ")
	if e.Row >= 0 {
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	reason := "cannot be encoded"
	if e.Err != nil {
		reason = strings.TrimPrefix(e.Err.Error(), "features: ")
	}
	fmt.Fprintf(&b, "property %q (%s): value %q: %s", e.Property, e.Kind, e.Value, reason)
	return b.String()
}

func (e *PropertyError) Unwrap() error { return e.Err }

// Warning is a problem with a contact that does not stop it being scored.
type Warning struct {
	Property string `json:"property"`
	Message  string `json:"message"`
}

// The category levels that stand for values without their own level.
const (
	LevelOther   = "(other)"   // values rare in training (fewer than MinCount rows) or never seen
	LevelMissing = "(missing)" // no value
)

// clipZ bounds standardised values, so that an absurd input at serve time (or a rare outlier in
// training) cannot dominate a score or overflow.
const clipZ = 10

// MaxEncoded bounds the magnitude of every value an Encoder writes: standardised values are clipped
// to ±MaxEncoded and indicators are 0 or 1. A scorer can check its weights against it once, so that
// no contact can make a score overflow.
const MaxEncoded = clipZ

// EncoderOptions configures FitEncoder. The zero value gives the defaults.
type EncoderOptions struct {
	// MinCount is how many training rows a category value needs for its own level; rarer values are
	// pooled into LevelOther. Default 20.
	MinCount int
	// MaxCategories caps the levels of one column at its most frequent values; the rest are pooled
	// into LevelOther. Default 30.
	MaxCategories int
	// SkewThreshold: a number column whose training values are all >= 0 and whose sample skewness
	// exceeds it is log1p-transformed. 0 means the default, 1.
	SkewThreshold float64
	// NoLog turns the log1p transform of skewed counts off.
	NoLog bool
	// Bins gives, per number property, increasing cut points in the property's own units (typically
	// where its conversion rate changes, from the rate tables of the training rows). Such a property
	// gets one 0/1 output per range besides its scaled value, so the model can follow a rate that
	// saturates or steps. Cut points for other kinds are ignored.
	Bins map[string][]float64
}

func (o EncoderOptions) withDefaults() EncoderOptions {
	if o.MinCount <= 0 {
		o.MinCount = 20
	}
	if o.MaxCategories <= 0 {
		o.MaxCategories = 30
	}
	if o.SkewThreshold == 0 {
		o.SkewThreshold = 1
	}
	return o
}

// Feature describes one encoded column, so a model can explain a weight in terms of a property and
// its value.
type Feature struct {
	// Name is for people: "industry=Software", "visits (log1p)", "visits (missing)", "email: free-mail",
	// "last_activity_at: days ago (log1p)".
	Name string `json:"name"`
	// Property is the contact property (dataset column) the feature comes from.
	Property string `json:"property"`
	// Value is the category level (a value, a derived class such as "free-mail", LevelOther or
	// LevelMissing), "true" for a flag, LevelMissing for a missing indicator, and "" for a numeric
	// value.
	Value string `json:"value,omitempty"`
	// Group is GroupFit or GroupEngagement.
	Group string `json:"group"`
	// Kind and Derive are the property's kind and derivation in the spec.
	Kind   Kind   `json:"kind"`
	Derive string `json:"derive,omitempty"`
	// Lo and Hi bound the raw values of a range indicator (Lo <= x < Hi, with -Inf and +Inf at the
	// ends); both are zero for other features.
	Lo float64 `json:"-"`
	Hi float64 `json:"-"`
}

// Range reports whether f is the indicator of a numeric range (Lo <= x < Hi).
func (f Feature) Range() bool { return f.Lo != 0 || f.Hi != 0 }

// ColumnEncoding is the fitted encoding of one used column. Its outputs, in order:
//
//   - category (raw or derived): one 0/1 output per level in Levels, then LevelOther if Other, then
//     LevelMissing if Missing. No reference level is dropped: the L2 penalty keeps the weights
//     identifiable, and every level gets a readable weight. A value with no level and no LevelOther
//     output (possible only when training had no rare values) encodes as all zeros.
//   - number: (t - Mean) / SD clipped to ±10, where t is the value, or log1p(max(value, 0)) when Log;
//     a missing value takes t = Impute (the training median of t). Then a 0/1 missing indicator if
//     Missing.
//   - flag: 1 for true, 0 for false or missing; then a missing indicator if Missing.
//   - time: t = log1p(days from the timestamp to asOf, clamped at 0), standardised and imputed like a
//     number; then a missing indicator if Missing.
type ColumnEncoding struct {
	Property string `json:"property"`
	Kind     Kind   `json:"kind"`
	Derive   string `json:"derive,omitempty"`
	Group    string `json:"group"`
	// Levels are the category values (or derived classes) with their own output, most frequent first.
	Levels []string `json:"levels,omitempty"`
	// Other is true when training had values pooled into LevelOther.
	Other bool `json:"other,omitempty"`
	// Missing is true when training had missing values: a LevelMissing level or indicator follows.
	Missing bool `json:"missing,omitempty"`
	// Log is true for a number column encoded as log1p.
	Log bool `json:"log,omitempty"`
	// Impute, Mean and SD are in transformed units (after log1p), for number and time columns.
	Impute float64 `json:"impute,omitempty"`
	Mean   float64 `json:"mean,omitempty"`
	SD     float64 `json:"sd,omitempty"`
	// Cuts, for a number column, are increasing cut points: outputs follow for the ranges
	// (-Inf, Cuts[0]), [Cuts[0], Cuts[1]), ... [Cuts[n-1], +Inf), set to 1 for the range the value
	// falls in and all 0 when it is missing.
	Cuts []float64 `json:"cuts,omitempty"`
}

// width is the number of outputs of the column.
func (ce *ColumnEncoding) width() int {
	n := 1
	if ce.Kind == KindCategory {
		n = len(ce.Levels)
		if ce.Other {
			n++
		}
	}
	if ce.Missing {
		n++
	}
	if len(ce.Cuts) > 0 {
		n += len(ce.Cuts) + 1
	}
	return n
}

// Encoder turns contacts into feature vectors. It is fitted once (FitEncoder) and then only read,
// so one Encoder may serve many goroutines. Its exported fields are the whole fitted state and
// round-trip through encoding/json; use it through a pointer.
type Encoder struct {
	// ReferenceTime is the asOf used when none is given (the spec's ReferenceTime).
	ReferenceTime time.Time `json:"reference_time"`
	// Columns are the used columns in spec order; their outputs follow one another.
	Columns []ColumnEncoding `json:"columns"`
	// Ignore lists properties the spec knows but does not use (excluded columns, the label):
	// EncodeContact ignores them without a warning.
	Ignore []string `json:"ignore,omitempty"`

	once sync.Once
	ix   *encoderIndex // built once from the fields above, then only read
	err  error         // set with ix
}

// encoderIndex is what Encoder derives from its exported fields for fast encoding.
type encoderIndex struct {
	width   int
	offsets []int // first output of each column; offsets[len(Columns)] == width
	feats   []Feature
	levels  []map[string]int // per column: level -> output position within the column
	ignore  []string         // Ignore without duplicates and used names
}

func (e *Encoder) index() (*encoderIndex, error) {
	e.once.Do(func() { e.ix, e.err = e.build() })
	return e.ix, e.err
}

func (e *Encoder) build() (*encoderIndex, error) {
	ix := &encoderIndex{offsets: make([]int, len(e.Columns)+1), levels: make([]map[string]int, len(e.Columns))}
	used := make(map[string]bool, len(e.Columns))
	for i := range e.Columns {
		ce := &e.Columns[i]
		if err := ce.check(); err != nil {
			return ix, err
		}
		if used[ce.Property] {
			return ix, fmt.Errorf("%w: property %q encoded twice", ErrEncoder, ce.Property)
		}
		used[ce.Property] = true
		ix.offsets[i] = ix.width
		ix.width += ce.width()
		ix.feats = append(ix.feats, ce.features()...)
		if ce.Kind == KindCategory {
			m := make(map[string]int, len(ce.Levels))
			for j, l := range ce.Levels {
				if _, dup := m[l]; dup {
					return ix, fmt.Errorf("%w: property %q: level %q listed twice", ErrEncoder, ce.Property, l)
				}
				m[l] = j
			}
			ix.levels[i] = m
		}
	}
	ix.offsets[len(e.Columns)] = ix.width
	for _, name := range e.Ignore {
		if !used[name] {
			used[name] = true
			ix.ignore = append(ix.ignore, name)
		}
	}
	return ix, nil
}

func (ce *ColumnEncoding) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: property %q: %s", ErrEncoder, ce.Property, fmt.Sprintf(format, args...))
	}
	if ce.Property == "" {
		return fmt.Errorf("%w: a column has no property name", ErrEncoder)
	}
	switch ce.Kind {
	case KindCategory:
		if ce.Derive != "" && ce.Derive != DeriveEmailDomain && ce.Derive != DeriveTitleSeniority {
			return bad("derive %q does not fit a category", ce.Derive)
		}
	case KindNumber, KindTime:
		if ce.Derive != "" && (ce.Kind != KindTime || ce.Derive != DeriveRecency) {
			return bad("derive %q does not fit a %s", ce.Derive, ce.Kind)
		}
		if !(ce.SD > 0) || math.IsInf(ce.SD, 0) || !isFiniteNum(ce.Mean) || !isFiniteNum(ce.Impute) {
			return bad("scaling (impute %v, mean %v, sd %v) is not finite with sd > 0", ce.Impute, ce.Mean, ce.SD)
		}
		if len(ce.Cuts) > 0 && ce.Kind != KindNumber {
			return bad("cut points are only for numbers")
		}
		for k, x := range ce.Cuts {
			if !isFiniteNum(x) || (k > 0 && x <= ce.Cuts[k-1]) {
				return bad("cut points %v are not finite and increasing", ce.Cuts)
			}
		}
	case KindFlag:
		if ce.Derive != "" {
			return bad("derive %q does not fit a flag", ce.Derive)
		}
	default:
		return bad("kind %s cannot be encoded", ce.Kind)
	}
	return nil
}

func isFiniteNum(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (ce *ColumnEncoding) features() []Feature {
	p := ce.Property
	f := Feature{Property: p, Group: ce.Group, Kind: ce.Kind, Derive: ce.Derive}
	missing := f
	missing.Name, missing.Value = p+" (missing)", LevelMissing
	var out []Feature
	switch ce.Kind {
	case KindCategory:
		sep := "="
		if ce.Derive != "" {
			sep = ": "
		}
		levels := ce.Levels
		if ce.Other {
			levels = append(slices.Clip(levels), LevelOther)
		}
		if ce.Missing {
			levels = append(slices.Clip(levels), LevelMissing)
		}
		for _, l := range levels {
			f.Name, f.Value = p+sep+l, l
			out = append(out, f)
		}
		return out
	case KindNumber:
		f.Name = p
		if ce.Log {
			f.Name = p + " (log1p)"
		}
	case KindFlag:
		f.Name, f.Value = p, "true"
	case KindTime:
		f.Name = p + ": days ago (log1p)"
	}
	out = append(out, f)
	if ce.Missing {
		out = append(out, missing)
	}
	for k := 0; len(ce.Cuts) > 0 && k <= len(ce.Cuts); k++ {
		b := f
		b.Value = rangeText(ce.Cuts, k)
		b.Lo, b.Hi = math.Inf(-1), math.Inf(1)
		if k > 0 {
			b.Lo = ce.Cuts[k-1]
		}
		if k < len(ce.Cuts) {
			b.Hi = ce.Cuts[k]
		}
		b.Name = p + " " + b.Value
		out = append(out, b)
	}
	return out
}

// rangeText names range k of cuts for people: "< 5", "in [5, 12)", ">= 40".
func rangeText(cuts []float64, k int) string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	switch {
	case k == 0:
		return "< " + g(cuts[0])
	case k == len(cuts):
		return ">= " + g(cuts[k-1])
	}
	return "in [" + g(cuts[k-1]) + ", " + g(cuts[k]) + ")"
}

// Validate checks an encoder, typically one decoded from a file: known kinds and derivations,
// finite scaling with a positive SD, no property or level twice. Errors wrap ErrEncoder.
func (e *Encoder) Validate() error {
	_, err := e.index()
	return err
}

// Width returns the length of an encoded vector.
func (e *Encoder) Width() int {
	ix, _ := e.index()
	return ix.width
}

// Features describes each output of the encoder, in order; len(Features()) == Width(). The slice is
// shared: do not modify it.
func (e *Encoder) Features() []Feature {
	ix, _ := e.index()
	return ix.feats
}

// MissingColumns returns the used properties that are not columns of f, in spec order. EncodeFrame
// treats them as missing in every row.
func (e *Encoder) MissingColumns(f *Frame) []string {
	var out []string
	for _, ce := range e.Columns {
		if f.Column(ce.Property) == nil {
			out = append(out, ce.Property)
		}
	}
	return out
}

// FitEncoder fits an encoder for the used columns of spec on the given rows of f (nil rows: every
// row): category vocabularies with rare values pooled, missing indicators where training had missing
// values, the log1p choice, medians, means and standard deviations. Recency is measured from
// spec.ReferenceTime. A value of the wrong kind or NaN in a training row is a *PropertyError; a used
// column absent from f wraps ErrMissingColumn; an invalid spec wraps ErrSpec. Columns are fitted on up
// to GOMAXPROCS goroutines.
func FitEncoder(spec *Spec, f *Frame, rows []int, opts EncoderOptions) (*Encoder, error) {
	if spec == nil || f == nil {
		return nil, errors.New("features: FitEncoder needs a spec and a frame")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	rows, err := encodeRows(rows, f.Len())
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("features: FitEncoder: no training rows")
	}
	opts = opts.withDefaults()
	e := &Encoder{ReferenceTime: spec.ReferenceTime}
	asOf := UnixSeconds(spec.ReferenceTime)
	used := make(map[string]bool)
	var cols []*Column
	for _, cs := range spec.Columns {
		if !cs.Use {
			continue
		}
		used[cs.Name] = true
		col := f.Column(cs.Name)
		if col == nil {
			return nil, fmt.Errorf("%w: %q", ErrMissingColumn, cs.Name)
		}
		ce := ColumnEncoding{Property: cs.Name, Kind: cs.Kind, Derive: cs.Derive, Group: cs.Group}
		if ce.Kind == KindNumber {
			ce.Cuts = slices.Clone(opts.Bins[cs.Name])
		}
		if ce.Kind == KindTime {
			ce.Derive = DeriveRecency
		}
		e.Columns = append(e.Columns, ce)
		cols = append(cols, col)
	}
	// Columns are fitted independently, on up to GOMAXPROCS goroutines; the error reported is the
	// first column's in spec order.
	errs := make([]error, len(cols))
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(cols) {
				return
			}
			errs[i] = e.Columns[i].fit(cols[i], rows, asOf, opts)
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(cols)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, cs := range spec.Columns {
		if !cs.Use && !used[cs.Name] {
			e.Ignore = append(e.Ignore, cs.Name)
		}
	}
	if spec.Label != "" && spec.Column(spec.Label) == nil {
		e.Ignore = append(e.Ignore, spec.Label)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// encodeRows returns rows, or 0..n-1 when rows is nil, after checking every index is in [0, n).
func encodeRows(rows []int, n int) ([]int, error) {
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		return rows, nil
	}
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("features: row %d out of range [0, %d)", r, n)
		}
	}
	return rows, nil
}

func (ce *ColumnEncoding) fit(col *Column, rows []int, asOf float64, opts EncoderOptions) error {
	var (
		counts  map[string]int
		xs      []float64
		missing int
	)
	if ce.Kind == KindCategory {
		counts = make(map[string]int)
	} else {
		xs = make([]float64, 0, len(rows))
	}
	for _, i := range rows {
		c, err := ce.frameCell(col, i)
		if err != nil {
			return ce.propertyError(col.Value(i), i, err)
		}
		if !c.ok {
			missing++
			continue
		}
		switch ce.Kind {
		case KindCategory:
			counts[ce.key(c.s)]++
		case KindNumber:
			xs = append(xs, c.x)
		case KindTime:
			xs = append(xs, recencyDays(asOf, c.x))
		}
	}
	ce.Missing = missing > 0
	switch ce.Kind {
	case KindCategory:
		type vc struct {
			v string
			n int
		}
		var all []vc
		for v, n := range counts {
			all = append(all, vc{v, n})
		}
		slices.SortFunc(all, func(a, b vc) int {
			if c := cmp.Compare(b.n, a.n); c != 0 {
				return c
			}
			return strings.Compare(a.v, b.v)
		})
		for k, x := range all {
			if x.n < opts.MinCount || k >= opts.MaxCategories {
				ce.Other = true
				break
			}
			ce.Levels = append(ce.Levels, x.v)
		}
	case KindNumber:
		if !opts.NoLog && len(xs) > 0 && slices.Min(xs) >= 0 && sampleSkewness(xs) > opts.SkewThreshold {
			ce.Log = true
			for k, x := range xs {
				xs[k] = numberValue(x, true)
			}
		}
		ce.scaling(xs)
	case KindTime:
		ce.scaling(xs)
	}
	return nil
}

// scaling sets Mean and SD (population) of the transformed training values, and Impute to their
// median; with no values, 0 and 1. A constant column gets SD 1, so it encodes as 0.
func (ce *ColumnEncoding) scaling(ts []float64) {
	ce.Impute, ce.Mean, ce.SD = 0, 0, 1
	if len(ts) == 0 {
		return
	}
	var sum float64
	for _, t := range ts {
		sum += t
	}
	mean := sum / float64(len(ts))
	var ss float64
	for _, t := range ts {
		ss += (t - mean) * (t - mean)
	}
	ce.Mean = mean
	if sd := math.Sqrt(ss / float64(len(ts))); sd > 0 && isFiniteNum(sd) {
		ce.SD = sd
	}
	ce.Impute = medianInPlace(ts)
}

// sampleSkewness is the population sample skewness m3 / m2^1.5; 0 for constant data.
func sampleSkewness(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	var m2, m3 float64
	for _, x := range xs {
		d := x - mean
		m2 += d * d
		m3 += d * d * d
	}
	n := float64(len(xs))
	m2, m3 = m2/n, m3/n
	if !(m2 > 0) {
		return 0
	}
	return m3 / math.Pow(m2, 1.5)
}

// medianInPlace returns the median of xs (mean of the two middle values for an even count), reordering xs.
func medianInPlace(xs []float64) float64 {
	k := len(xs) / 2
	hi := selectKth(xs, k)
	if len(xs)%2 == 1 {
		return hi
	}
	lo := slices.Max(xs[:k])
	return lo + (hi-lo)/2
}

// selectKth reorders a so that a[k] is the k-th smallest value and a[:k] holds values <= a[k]
// (quickselect with Hoare partitioning and a median-of-three pivot), and returns a[k].
func selectKth(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		p := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// cell is one property value read as its column's kind: s for a category, x for a number, Unix
// seconds for a time, 1 or 0 for a flag. ok is false for a missing value.
type cell struct {
	ok bool
	s  string
	x  float64
}

// catCell reads a category value; blank strings are missing.
func catCell(s string) cell {
	if strings.TrimSpace(s) == "" {
		return cell{}
	}
	return cell{ok: true, s: s}
}

func numCell(x float64) (cell, error) {
	if !isFiniteNum(x) {
		return cell{}, ErrNotFinite
	}
	return cell{ok: true, x: x}, nil
}

func flagCell(b bool) cell {
	if b {
		return cell{ok: true, x: 1}
	}
	return cell{ok: true}
}

// timeCell reads Unix seconds as a contact's time.Time would hold them, so that both encoding paths
// see the same float.
func timeCell(sec float64) cell { return cell{ok: true, x: UnixSeconds(UnixTime(sec))} }

// timeLayouts are the layouts a time column accepts from a string, tried in order.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// cellOf reads a contact's value as the column's kind. It returns ErrWrongType or ErrNotFinite
// (bare; the caller adds the property).
func (ce *ColumnEncoding) cellOf(v Value) (cell, error) {
	if v.Kind == KindNumber && !isFiniteNum(v.Num) {
		return cell{}, ErrNotFinite
	}
	switch ce.Kind {
	case KindCategory:
		switch v.Kind {
		case KindNone:
			return cell{}, nil
		case KindCategory:
			return catCell(v.Str), nil
		}
		return catCell(v.Text()), nil
	case KindNumber:
		switch v.Kind {
		case KindNone:
			return cell{}, nil
		case KindNumber:
			return numCell(v.Num)
		case KindCategory:
			s := strings.TrimSpace(v.Str)
			if s == "" {
				return cell{}, nil
			}
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return cell{}, ErrWrongType
			}
			return numCell(x)
		}
	case KindFlag:
		switch v.Kind {
		case KindNone:
			return cell{}, nil
		case KindFlag:
			return flagCell(v.Bool), nil
		case KindNumber:
			switch v.Num {
			case 0:
				return flagCell(false), nil
			case 1:
				return flagCell(true), nil
			}
		case KindCategory:
			s := strings.TrimSpace(v.Str)
			switch {
			case s == "":
				return cell{}, nil
			case s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes"):
				return flagCell(true), nil
			case s == "0" || strings.EqualFold(s, "false") || strings.EqualFold(s, "no"):
				return flagCell(false), nil
			}
		}
	case KindTime:
		switch v.Kind {
		case KindNone:
			return cell{}, nil
		case KindTime:
			return cell{ok: true, x: UnixSeconds(v.Time)}, nil
		case KindCategory:
			s := strings.TrimSpace(v.Str)
			if s == "" {
				return cell{}, nil
			}
			for _, layout := range timeLayouts {
				if t, err := time.Parse(layout, s); err == nil {
					return cell{ok: true, x: UnixSeconds(t)}, nil
				}
			}
		}
	}
	return cell{}, ErrWrongType
}

// frameCell reads row i of col as the column's kind: directly from the column's slice when the kinds
// agree, else through cellOf, exactly as EncodeContact would read f.Contact(i, "").
func (ce *ColumnEncoding) frameCell(col *Column, i int) (cell, error) {
	if !col.Valid[i] {
		return cell{}, nil
	}
	if col.Kind == ce.Kind {
		switch col.Kind {
		case KindCategory:
			return catCell(col.Str[i]), nil
		case KindNumber:
			return numCell(col.Num[i])
		case KindFlag:
			return flagCell(col.Bool[i]), nil
		case KindTime:
			return timeCell(col.Num[i]), nil
		}
	}
	return ce.cellOf(col.Value(i))
}

func (ce *ColumnEncoding) propertyError(v Value, row int, err error) error {
	return &PropertyError{Property: ce.Property, Row: row, Value: v.Text(), Kind: ce.Kind, Err: err}
}

// key is the vocabulary key of a category value: the value, or its derived class.
func (ce *ColumnEncoding) key(s string) string { return DerivedClass(ce.Derive, s) }

// DerivedClass returns the class a derived category property is encoded by: the e-mail domain class
// for DeriveEmailDomain, the title seniority for DeriveTitleSeniority, and s itself otherwise.
func DerivedClass(derive, s string) string {
	switch derive {
	case DeriveEmailDomain:
		return EmailDomainClass(s)
	case DeriveTitleSeniority:
		return TitleSeniority(s)
	}
	return s
}

// numberValue is the transformed value of a number: x, or log1p(max(x, 0)) when log.
func numberValue(x float64, log bool) float64 {
	if !log {
		return x
	}
	if !(x > 0) {
		x = 0
	}
	return math.Log1p(x)
}

// scale standardises a transformed value and clips it to ±clipZ.
func (ce *ColumnEncoding) scale(t float64) float64 {
	z := (t - ce.Mean) / ce.SD
	switch {
	case z > clipZ:
		return clipZ
	case z < -clipZ:
		return -clipZ
	}
	return z
}

// put writes the outputs of one value into dst, the column's zeroed slice of the vector. Both
// EncodeContact and EncodeFrame go through it.
func (ce *ColumnEncoding) put(levels map[string]int, c cell, asOf float64, dst []float64) {
	switch ce.Kind {
	case KindCategory:
		if !c.ok {
			if ce.Missing {
				dst[len(dst)-1] = 1
			}
			return
		}
		if j, ok := levels[ce.key(c.s)]; ok {
			dst[j] = 1
		} else if ce.Other {
			dst[len(ce.Levels)] = 1
		}
		return
	case KindNumber:
		t := ce.Impute
		if c.ok {
			t = numberValue(c.x, ce.Log)
		}
		dst[0] = ce.scale(t)
	case KindFlag:
		dst[0] = c.x
	case KindTime:
		t := ce.Impute
		if c.ok {
			t = recencyDays(asOf, c.x)
		}
		dst[0] = ce.scale(t)
	}
	if ce.Missing && !c.ok {
		dst[1] = 1
	}
	if len(ce.Cuts) > 0 && c.ok {
		off := 1
		if ce.Missing {
			off = 2
		}
		k, _ := slices.BinarySearch(ce.Cuts, c.x)
		if k < len(ce.Cuts) && ce.Cuts[k] == c.x {
			k++ // a value on a cut point belongs to the range it starts
		}
		dst[off+k] = 1
	}
}

// EncodeContact writes the feature vector of c into dst, which must have length Width (else it
// panics). asOf is the "now" of recency features; the zero time means ReferenceTime. Values are read
// leniently: numeric strings (" 3.5 ") for number columns; true/false/yes/no/1/0 strings and 0/1
// numbers for flags; RFC 3339 or "2006-01-02" strings for times; any value's Text for a category.
// Blank strings are missing. A value that cannot be read, or a NaN or infinite number, is a
// *PropertyError wrapping ErrWrongType or ErrNotFinite (the first in spec order). Properties the spec
// does not know give warnings, sorted by property; known but unused ones are ignored. It allocates
// only for warnings and errors.
func (e *Encoder) EncodeContact(c Contact, asOf time.Time, dst []float64) ([]Warning, error) {
	ix, err := e.index()
	if err != nil {
		return nil, err
	}
	if len(dst) != ix.width {
		panic(fmt.Sprintf("features: EncodeContact: len(dst) = %d, want Width() = %d", len(dst), ix.width))
	}
	if asOf.IsZero() {
		asOf = e.ReferenceTime
	}
	now := UnixSeconds(asOf)
	clear(dst)
	known := 0
	for i := range e.Columns {
		ce := &e.Columns[i]
		v, ok := c.Props[ce.Property]
		if ok {
			known++
		}
		cl, err := ce.cellOf(v)
		if err != nil {
			return nil, ce.propertyError(v, -1, err)
		}
		ce.put(ix.levels[i], cl, now, dst[ix.offsets[i]:ix.offsets[i+1]])
	}
	for _, name := range ix.ignore {
		if _, ok := c.Props[name]; ok {
			known++
		}
	}
	if known == len(c.Props) {
		return nil, nil
	}
	var warnings []Warning
	for name := range c.Props {
		if !e.knows(ix, name) {
			warnings = append(warnings, Warning{Property: name, Message: "not in the model's spec; ignored"})
		}
	}
	slices.SortFunc(warnings, func(a, b Warning) int { return strings.Compare(a.Property, b.Property) })
	return warnings, nil
}

func (e *Encoder) knows(ix *encoderIndex, name string) bool {
	for _, ce := range e.Columns {
		if ce.Property == name {
			return true
		}
	}
	return slices.Contains(ix.ignore, name)
}

// EncodeFrame encodes the given rows of f (nil: every row) into a row-major len(rows) x Width()
// matrix, reading each column's slice directly. Row r of the result is bit-identical to what
// EncodeContact writes for f.Contact(rows[r], ""). A used column absent from f is missing in every
// row (see MissingColumns); columns the encoder does not use are ignored. Errors are those of
// EncodeContact, with the row index set. Blocks of rows are encoded on up to GOMAXPROCS goroutines.
func (e *Encoder) EncodeFrame(f *Frame, rows []int, asOf time.Time) ([]float64, error) {
	ix, err := e.index()
	if err != nil {
		return nil, err
	}
	rows, err = encodeRows(rows, f.Len())
	if err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		asOf = e.ReferenceTime
	}
	now := UnixSeconds(asOf)
	out := make([]float64, len(rows)*ix.width)
	cols := make([]*Column, len(e.Columns))
	for ci := range e.Columns {
		cols[ci] = f.Column(e.Columns[ci].Property)
	}
	// Blocks of rows, column by column within a block: each column's loop stays simple while the
	// block's output stays in cache. Blocks are shared among GOMAXPROCS goroutines; they write
	// disjoint parts of out, and the error reported is the one of the lowest failing block.
	const block = 256
	blocks := (len(rows) + block - 1) / block
	errs := make([]error, blocks)
	var next atomic.Int64
	work := func() {
		for {
			b := int(next.Add(1)) - 1
			if b >= blocks {
				return
			}
			errs[b] = e.encodeBlock(ix, cols, rows, b*block, min((b+1)*block, len(rows)), now, out)
		}
	}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), blocks) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// encodeBlock encodes rows[start:end] into their rows of out.
func (e *Encoder) encodeBlock(ix *encoderIndex, cols []*Column, rows []int, start, end int, now float64, out []float64) error {
	w := ix.width
	for ci := range e.Columns {
		ce, col, levels := &e.Columns[ci], cols[ci], ix.levels[ci]
		lo, hi := ix.offsets[ci], ix.offsets[ci+1]
		for r := start; r < end; r++ {
			var c cell
			if col != nil {
				var err error
				if c, err = ce.frameCell(col, rows[r]); err != nil {
					return ce.propertyError(col.Value(rows[r]), rows[r], err)
				}
			}
			ce.put(levels, c, now, out[r*w+lo:r*w+hi])
		}
	}
	return nil
}
