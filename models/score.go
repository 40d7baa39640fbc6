package models

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/internal/memo"
)

// Prediction is a model's answer for one contact.
type Prediction struct {
	// Probability is the predicted chance that the contact becomes a customer, in [0, 1].
	Probability float64
	Priority    Priority
	// FitGrade ("A" best to "D") and EngagementLevel (1 most engaged to 4) place the contact's summed
	// fit and engagement contributions among the training contacts' quartiles.
	FitGrade        string
	EngagementLevel int
	// Reasons are the properties that moved the score most and honestly (see Reason): up to five
	// that raised it, strongest first, then up to five that lowered it, strongest first.
	Reasons  []Reason
	Warnings []features.Warning
}

// Score is a model's score of one encoded contact.
type Score struct {
	// Logit is Intercept + Weights . x; Probability is Sigmoid(Logit).
	Logit, Probability float64
	// Fit and Engagement sum the contributions (w_j * (x_j - Baseline_j)) of the features of each
	// group: what FitGrade and EngagementLevel place among the training contacts.
	Fit, Engagement float64
}

// plan is what Predict needs besides the artifact, worked out once.
type plan struct {
	width    int
	featProp []int  // encoded feature -> index in props
	engaged  []bool // encoded feature is in the engagement group
	props    []propPlan
	overall  string  // conversion rate of all training contacts, as reasons print it
	rate     float64 // the same as a number; NaN when unknown
	// binRow, for a scorecard, maps an encoded feature to its row in its property's rates (the
	// property's bins); nil for a one-hot model, whose rows are looked up by value.
	binRow   []int
	zeroBase bool // every Baseline is 0 (a scorecard's)
	// binned: every column of the encoder is binned and zeroBase holds (a scorecard), so a contact is
	// scored from the one output of each column that is 1 (see scoreBins).
	binned bool
	// binOf holds, for a binned plan, each category column's bins of the texts seen (see bins); nil
	// for other columns and plans.
	binOf []*memo.Map[string, keptBin]
	// numBinOf holds, for a binned plan, each number column's bins of the numbers seen, by their
	// bits (see bins); nil for other columns and plans.
	numBinOf []*memo.Map[uint64, int]
	scratch  sync.Pool
}

type propPlan struct {
	name   string
	col    int    // index of the property's column in the encoder's Columns
	title  string // "Annual Revenue" for annual_revenue
	rank   int    // position of name among the property names in byte order, to break ties
	kind   features.Kind
	derive string
	rates  *features.RateTable // nil when the rate tables have none for the property
	rows   []rowText           // the words of each of rates.Rows, in the same order
	// words holds the reasons already worded for the property, by the value of their reasonKey
	// (texts and numbers on Go's fast paths, see memo.Split); nil for a time, whose reason says how
	// long ago it was.
	words *memo.Split[features.Key, reasonWords]
	// rowOf holds, for a one-hot model, the index in rates.Rows of the row quoted for each value seen
	// (-1: none), so that a value seen before is not looked up in the table again; nil otherwise.
	rowOf *memo.Map[features.Key, int]
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
	vals   []features.Value // the contact's values by encoder column, for Predict
	x      []float64        // encoded contact
	bins   []int            // for a binned plan: the encoded contact's outputs that are 1, one per column
	sums   []float64        // contribution per property
	active []int            // per property, for a scorecard: the encoded feature of its bin
	cands  []int            // properties that may give a reason
	buf    []byte           // the reasons' words
}

func (a *Artifact) getPlan() (*plan, error) {
	if p := a.plan.Load(); p != nil {
		return p, nil
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	feats := a.Encoder.Features()
	p := &plan{width: a.Encoder.Width(), featProp: make([]int, len(feats)), engaged: make([]bool, len(feats)), rate: math.NaN()}
	tables := map[string]*features.RateTable{}
	switch {
	case a.Scorecard != nil:
		// A scorecard's reasons quote the bins it scores by, so a reason's rate is its bin's.
		p.rate = a.Scorecard.Overall
		p.binRow = make([]int, len(feats))
		for j, f := range feats {
			t := tables[f.Property]
			if t == nil {
				t = &features.RateTable{Property: f.Property, Kind: f.Kind}
				tables[f.Property] = t
			}
			p.binRow[j] = len(t.Rows)
			t.Rows = append(t.Rows, binRow(f, a.Scorecard.Bins[j]))
		}
	case a.Rates != nil:
		p.rate = a.Rates.Rate
		for i := range a.Rates.Tables {
			t := &a.Rates.Tables[i]
			if _, dup := tables[t.Property]; !dup {
				tables[t.Property] = t
			}
		}
	}
	if !math.IsNaN(p.rate) {
		p.overall = string(appendPercent(nil, p.rate))
	}
	p.zeroBase = !slices.ContainsFunc(a.Baseline, func(b float64) bool { return b != 0 })
	p.binned = p.zeroBase && len(a.Encoder.Columns) > 0 &&
		!slices.ContainsFunc(a.Encoder.Columns, func(c features.ColumnEncoding) bool { return !c.Binned })
	if p.binned {
		p.binOf = make([]*memo.Map[string, keptBin], len(a.Encoder.Columns))
		p.numBinOf = make([]*memo.Map[uint64, int], len(a.Encoder.Columns))
		for i := range a.Encoder.Columns {
			switch a.Encoder.Columns[i].Kind {
			case features.KindCategory:
				p.binOf[i] = memo.New[string, keptBin](maxCachedReasons)
			case features.KindNumber:
				p.numBinOf[i] = memo.New[uint64, int](maxCachedReasons)
			}
		}
	}
	cols := make(map[string]int, len(a.Encoder.Columns))
	for i := range a.Encoder.Columns {
		cols[a.Encoder.Columns[i].Property] = i
	}
	index := map[string]int{}
	for j, f := range feats {
		k, ok := index[f.Property]
		if !ok {
			k = len(p.props)
			index[f.Property] = k
			p.props = append(p.props, propPlan{name: f.Property, col: cols[f.Property], title: titleCase(f.Property), kind: f.Kind, derive: f.Derive, rates: tables[f.Property]})
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
		prop := &p.props[k]
		prop.rows = p.rowTexts(prop)
		if prop.kind != features.KindTime {
			prop.words = memo.NewSplit[features.Key, reasonWords](maxCachedReasons)
		}
		if p.binRow == nil && prop.rates != nil {
			prop.rowOf = memo.New[features.Key, int](maxCachedReasons)
		}
	}
	n, ncols := len(p.props), len(a.Encoder.Columns)
	p.scratch.New = func() any {
		return &scratch{vals: make([]features.Value, ncols), x: make([]float64, p.width), bins: make([]int, ncols), sums: make([]float64, n), active: make([]int, n), cands: make([]int, 0, n), buf: make([]byte, 0, 1024)}
	}
	// Concurrent first calls may each build a plan; they are equal, and one wins.
	a.plan.CompareAndSwap(nil, p)
	return a.plan.Load(), nil
}

// binRow is the rate row a reason quotes for a scorecard bin.
func binRow(f features.Feature, b Bin) features.RateRow {
	r := features.RateRow{Label: f.Value, Contacts: b.Contacts, Customers: b.Customers, Rate: b.Rate()}
	switch {
	case f.Value == features.LevelMissing:
		r.Missing = true
	case f.Value == features.LevelOther:
		r.Pooled = true
	case f.Range():
		r.Lo, r.Hi = f.Lo, f.Hi
	default:
		r.Value = f.Value
	}
	return r
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

// Predict scores contact c as of asOf (the zero time means AsOf's default, the clock). Errors are the
// encoder's (a *features.PropertyError for a value that does not fit its column) or, for an artifact
// that does not validate, ErrInvalidArtifact. Properties the model's spec does not list give warnings
// (features.UnknownWarning). Predict is safe for concurrent use.
func (a *Artifact) Predict(c features.Contact, asOf time.Time) (Prediction, error) {
	p, err := a.getPlan()
	if err != nil {
		return Prediction{}, err
	}
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	defer clear(s.vals) // the pool must not keep the contact's strings alive
	for i := range a.Encoder.Columns {
		s.vals[i] = c.Props[a.Encoder.Columns[i].Property]
	}
	pred, err := a.predict(p, s, s.vals, asOf, nil)
	if err != nil {
		return Prediction{}, err
	}
	pred.Warnings = a.Encoder.Unknown(c)
	return pred, nil
}

// PredictValues is Predict for a contact resolved against the encoder's columns: vals[i] is the
// value of Encoder.Columns[i].Property (the zero Value when the contact has none), as a server that
// resolves each contact once for the model and the manual rules holds it. It gives the same answer
// as Predict without the warnings about properties the model's spec does not list, which only the
// caller can know. len(vals) must be len(Encoder.Columns). The reasons are appended to reasons[:0]
// (nil: a new slice), so that a caller done with them before its next call can reuse their memory;
// MaxReasons is room for all.
func (a *Artifact) PredictValues(vals []features.Value, asOf time.Time, reasons []Reason) (Prediction, error) {
	p, err := a.getPlan()
	if err != nil {
		return Prediction{}, err
	}
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	return a.predict(p, s, vals, asOf, reasons)
}

// predict is the one path of Predict and PredictValues.
func (a *Artifact) predict(p *plan, s *scratch, vals []features.Value, asOf time.Time, reasons []Reason) (Prediction, error) {
	asOf = AsOf(asOf)
	var sc Score
	if p.binned {
		if err := a.bins(p, vals, asOf, s.bins); err != nil {
			return Prediction{}, err
		}
		sc = a.scoreBins(p, s.bins, s)
	} else {
		if err := a.Encoder.EncodeValues(vals, asOf, s.x); err != nil {
			return Prediction{}, err
		}
		sc = a.score(p, s.x, s)
	}
	pred := a.prediction(sc)
	pred.Reasons = p.reasons(reasons, vals, s, asOf)
	return pred, nil
}

// prediction is the part of a Prediction that follows from the score.
func (a *Artifact) prediction(sc Score) Prediction {
	return Prediction{
		Probability:     sc.Probability,
		Priority:        PriorityOf(sc.Probability, a.Tiers),
		FitGrade:        FitGrade(sc.Fit, a.FitCuts),
		EngagementLevel: EngagementLevel(sc.Engagement, a.EngagementCuts),
	}
}

// score is the one place a model scores an encoded contact x: Predict and ScoreFrame
// (training's metrics and tiers, compare, batch scoring) all come here. With s, it also keeps each
// property's contribution and, for a scorecard, the feature of its bin, for the reasons.
func (a *Artifact) score(p *plan, x []float64, s *scratch) Score {
	if s != nil {
		clear(s.sums)
	}
	logit := a.Intercept
	var fitSum, engSum float64
	weights, base := a.Weights[:len(x)], a.Baseline[:len(x)]
	for j, v := range x {
		if v == 0 && (p.zeroBase || base[j] == 0) {
			// The feature would add w*0, a signed zero, to each sum, which changes none: the sums
			// start at +0 and so are never -0 (the intercept aside, whose sign gives the same
			// probability). All of a scorecard's features but one bin per property are such zeros.
			continue
		}
		w := weights[j]
		logit += w * v
		contrib := w * (v - base[j])
		if s != nil {
			k := p.featProp[j]
			s.sums[k] += contrib
			if v != 0 {
				s.active[k] = j
			}
		}
		if p.engaged[j] {
			engSum += contrib
		} else {
			fitSum += contrib
		}
	}
	return Score{Logit: logit, Probability: Sigmoid(logit), Fit: fitSum, Engagement: engSum}
}

// keptBin is a category text's bin, with its derived class (see propPlan.class), which the
// reasons read.
type keptBin struct {
	bin      int
	class    string
	hasClass bool
}

// bins is features.Encoder.BinValues for a binned plan, which keeps the bins of the texts its
// category columns have seen (the first maxCachedReasons of up to maxCachedValue bytes per column)
// and of the numbers its number columns have seen (the first maxCachedReasons, by their bits): such a
// value's bin follows from the value alone, and reading it (trimming, the missing values, the
// vocabulary, an e-mail address's class or a title's seniority; a number's checks and cut points)
// costs more than looking it up. The derived class of a text is kept with it. Only values that bin
// without an error are kept.
func (a *Artifact) bins(p *plan, vals []features.Value, asOf time.Time, dst []int) error {
	for i, v := range vals {
		if nums := p.numBinOf[i]; nums != nil && v.Kind == features.KindNumber {
			bits := math.Float64bits(v.Num)
			j, ok := nums.Get(bits)
			if !ok {
				var err error
				if j, err = a.Encoder.BinOf(i, v, asOf); err != nil {
					return err
				}
				if nums.Len() < maxCachedReasons {
					nums.Add(bits, j)
				}
			}
			dst[i] = j
			continue
		}
		kept := p.binOf[i]
		if kept == nil || v.Kind != features.KindCategory || len(v.Str) > maxCachedValue {
			j, err := a.Encoder.BinOf(i, v, asOf)
			if err != nil {
				return err
			}
			dst[i] = j
			continue
		}
		b, ok := kept.Get(v.Str)
		if !ok {
			var err error
			if b.bin, err = a.Encoder.BinOf(i, v, asOf); err != nil {
				return err
			}
			b.class, b.hasClass = derivedClass(a.Encoder.Columns[i].Derive, v)
			if kept.Len() < maxCachedReasons {
				kept.Add(v.Str, b)
			}
		}
		dst[i] = b.bin
	}
	return nil
}

// scoreBins is score for a binned plan's contact whose outputs that are 1 are bins (ascending, one
// per column): the features score adds up, in the same order, with the same bits (w*1 is w), without
// reading the outputs that are 0.
func (a *Artifact) scoreBins(p *plan, bins []int, s *scratch) Score {
	clear(s.sums)
	logit := a.Intercept
	var fitSum, engSum float64
	for _, j := range bins {
		w := a.Weights[j]
		logit += w
		k := p.featProp[j]
		s.sums[k] += w
		s.active[k] = j
		if p.engaged[j] {
			engSum += w
		} else {
			fitSum += w
		}
	}
	return Score{Logit: logit, Probability: Sigmoid(logit), Fit: fitSum, Engagement: engSum}
}

// ScoreFrame scores the given rows of f (nil: every row) as of asOf (the zero time means AsOf's
// default, the clock), as Predict would score each row's contact, without the reasons: the batch
// path of training, comparison and batch scoring.
// Errors are those of features.Encoder.EncodeFrame and ErrInvalidArtifact.
func (a *Artifact) ScoreFrame(f *features.Frame, rows []int, asOf time.Time) ([]Score, error) {
	p, err := a.getPlan()
	if err != nil {
		return nil, err
	}
	at := AsOf(asOf)
	n := len(rows)
	if rows == nil {
		n = f.Len()
	}
	out := make([]Score, n)
	// A chunk of rows at a time, so that the dense encoding of all of them is never held.
	var chunk []int
	for lo := 0; lo < n; lo += scoreChunk {
		hi := min(lo+scoreChunk, n)
		if rows != nil {
			chunk = rows[lo:hi]
		} else {
			chunk = chunk[:0]
			for i := lo; i < hi; i++ {
				chunk = append(chunk, i)
			}
		}
		x, err := a.Encoder.EncodeFrame(f, chunk, at)
		if err != nil {
			return nil, err
		}
		for r := range hi - lo {
			out[lo+r] = a.score(p, x[r*p.width:(r+1)*p.width], nil)
		}
	}
	return out, nil
}

// scoreChunk is the number of rows ScoreFrame encodes at a time.
const scoreChunk = 1 << 14

// Sigmoid is 1/(1+e^-z), the probability of log-odds z, computed without overflow for large |z|.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
