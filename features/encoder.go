package features

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// MissingValues are the texts read as missing (see MissingValues); nil means
	// DefaultMissingValues. The encoder keeps the list, so serving reads text as training did.
	MissingValues []string
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
	// Binned makes the outputs one indicator per bin, for a scorecard (see Encoder.Binned); for a
	// time column Cuts are then in days ago.
	Binned bool `json:"binned,omitempty"`
}

// width is the number of outputs of the column.
func (ce *ColumnEncoding) width() int {
	if ce.Binned {
		return ce.binWidth()
	}
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
	// MissingValues are the texts read as missing values, matched case-insensitively; nil (an
	// encoder saved before the list was kept) means DefaultMissingValues.
	MissingValues []string `json:"missing_values"`

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
	missing *MissingValues
}

func (e *Encoder) index() (*encoderIndex, error) {
	e.once.Do(func() { e.ix, e.err = e.build() })
	return e.ix, e.err
}

func (e *Encoder) build() (*encoderIndex, error) {
	ix := &encoderIndex{offsets: make([]int, len(e.Columns)+1), levels: make([]map[string]int, len(e.Columns))}
	ix.missing = NewMissingValues(e.MissingValues)
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
			// A raw value is looked up as it is, then folded (see Fold); the first level of a
			// folded spelling wins, so an encoder saved before values were folded still loads.
			for j, l := range ce.Levels {
				if f := Fold(l); ce.Derive == "" && f != l {
					if _, dup := m[f]; !dup {
						m[f] = j
					}
				}
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
		if len(ce.Cuts) > 0 && ce.Kind != KindNumber && !ce.Binned {
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
	if ce.Binned {
		return ce.checkBin()
	}
	return nil
}

func isFiniteNum(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (ce *ColumnEncoding) features() []Feature {
	if ce.Binned {
		return ce.binFeatures()
	}
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

// NumberOutputs returns the outputs, ascending, that hold a scaled number or age; every other output
// of EncodeContact and EncodeFrame is 0 or 1 (a category level, a missing indicator, a range, a flag,
// a scorecard's bin). A sparse design stores the latter as the indices of its ones.
func (e *Encoder) NumberOutputs() []int {
	ix, _ := e.index()
	var out []int
	for i := range e.Columns {
		ce := &e.Columns[i]
		if !ce.Binned && (ce.Kind == KindNumber || ce.Kind == KindTime) {
			out = append(out, ix.offsets[i])
		}
	}
	return out
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
