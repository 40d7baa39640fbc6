package features_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

var encRef = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// encHandFrame is six rows small enough to fit by hand (see TestEncoderHandComputed).
func encHandFrame() *features.Frame {
	day := func(d int) time.Time { return encRef.AddDate(0, 0, -d) }
	return &features.Frame{Columns: []*features.Column{
		encCol("contact_id", features.KindCategory, "C1", "C2", "C3", "C4", "C5", "C6"),
		encCol("industry", features.KindCategory, "Software", "Software", "Retail", "Retail", "Mining", nil),
		encCol("visits", features.KindNumber, 0, 0, 0, 1, 15, nil),
		encCol("employees", features.KindNumber, 10, 20, 30, 40, 50, nil),
		encCol("unsubscribed", features.KindFlag, true, false, false, false, false, false),
		encCol("last_activity_at", features.KindTime, day(0), day(1), day(3), day(7), nil, nil),
		encCol("deal_stage", features.KindCategory, "closedwon", "closedlost", "closedwon", "closedlost", "open", "open"),
	}}
}

func encHandSpec() *features.Spec {
	use := func(name string, kind features.Kind, group string) features.ColumnSpec {
		return features.ColumnSpec{Name: name, Kind: kind, Group: group, Use: true}
	}
	return &features.Spec{Label: "deal_stage", ReferenceTime: encRef, Columns: []features.ColumnSpec{
		{Name: "contact_id", Kind: features.KindCategory, Reason: "identifier"},
		use("industry", features.KindCategory, features.GroupFit),
		use("visits", features.KindNumber, features.GroupEngagement),
		use("employees", features.KindNumber, features.GroupFit),
		use("unsubscribed", features.KindFlag, features.GroupEngagement),
		use("last_activity_at", features.KindTime, features.GroupEngagement),
		{Name: "deal_stage", Kind: features.KindCategory, Reason: "label"},
	}}
}

func mustFitEncoder(tb testing.TB, spec *features.Spec, f *features.Frame, rows []int, opts features.EncoderOptions) *features.Encoder {
	tb.Helper()
	e, err := features.FitEncoder(spec, f, rows, opts)
	if err != nil {
		tb.Fatalf("FitEncoder: %v", err)
	}
	return e
}

func encContact(props map[string]features.Value) features.Contact {
	return features.Contact{ID: "x", Props: props}
}

func TestEncoderHandComputed(t *testing.T) {
	e := mustFitEncoder(t, encHandSpec(), encHandFrame(), nil, features.EncoderOptions{MinCount: 2})

	// The fitted state, computed by hand from encHandFrame:
	//   industry: Software 2, Retail 2, Mining 1 (< MinCount), one missing
	//     -> levels Retail, Software (ties by value), (other), (missing).
	//   visits 0,0,0,1,15: skewness 1.48 > 1 and min 0 -> log1p: t = 0,0,0,ln2,4ln2;
	//     mean ln2, sd ln2*sqrt(2.4), median 0; one missing -> indicator.
	//   employees 10..50: skewness 0; mean 30, sd sqrt(200), median 30; one missing.
	//   unsubscribed: no missing -> one output.
	//   last_activity_at 0,1,3,7 days: t = 0, ln2, 2ln2, 3ln2; mean 1.5ln2, sd ln2*sqrt(1.25),
	//     median 1.5ln2; missing -> indicator.
	wantNames := []string{
		"industry=Retail", "industry=Software", "industry=(other)", "industry=(missing)",
		"visits (log1p)", "visits (missing)", "employees", "employees (missing)", "unsubscribed",
		"last_activity_at: days ago (log1p)", "last_activity_at (missing)",
	}
	var names []string
	for _, f := range e.Features() {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, wantNames) || e.Width() != len(wantNames) {
		t.Fatalf("features = %q (width %d), want %q", names, e.Width(), wantNames)
	}

	var (
		s24    = math.Sqrt(2.4)
		s125   = math.Sqrt(1.25)
		s200   = math.Sqrt(200)
		str    = features.String
		num    = features.Number
		flag   = features.Flag
		ts     = features.Timestamp
		dayAgo = func(d int) features.Value { return ts(encRef.AddDate(0, 0, -d)) }
	)
	tests := []struct {
		name  string
		props map[string]features.Value
		asOf  time.Time
		want  []float64
	}{
		{
			name: "all present",
			props: map[string]features.Value{"industry": str("Software"), "visits": num(15), "employees": num(10),
				"unsubscribed": flag(true), "last_activity_at": dayAgo(1)},
			want: []float64{0, 1, 0, 0, 3 / s24, 0, -20 / s200, 0, 1, -0.5 / s125, 0},
		},
		{
			name:  "all missing",
			props: map[string]features.Value{},
			want:  []float64{0, 0, 0, 1, -1 / s24, 1, 0, 1, 0, 0, 1},
		},
		{
			name:  "zero values are missing",
			props: map[string]features.Value{"industry": {}, "visits": {}, "unsubscribed": {}},
			want:  []float64{0, 0, 0, 1, -1 / s24, 1, 0, 1, 0, 0, 1},
		},
		{
			name: "strings, unseen category",
			props: map[string]features.Value{"industry": str("Farming"), "visits": str("3"), "employees": str(" 50 "),
				"unsubscribed": str("false"), "last_activity_at": str("2024-02-23")},
			want: []float64{0, 0, 1, 0, 1 / s24, 0, 20 / s200, 0, 0, 1.5 / s125, 0},
		},
		{
			name:  "rare training value pooled",
			props: map[string]features.Value{"industry": str("Mining"), "unsubscribed": str("TRUE"), "last_activity_at": str("2024-02-29T00:00:00Z")},
			want:  []float64{0, 0, 1, 0, -1 / s24, 1, 0, 1, 1, -0.5 / s125, 0},
		},
		{
			name:  "blank strings are missing",
			props: map[string]features.Value{"industry": str(" "), "visits": str(""), "unsubscribed": str(""), "last_activity_at": str("")},
			want:  []float64{0, 0, 0, 1, -1 / s24, 1, 0, 1, 0, 0, 1},
		},
		{
			name:  "number for a category and a flag",
			props: map[string]features.Value{"industry": num(12), "unsubscribed": num(1)},
			want:  []float64{0, 0, 1, 0, -1 / s24, 1, 0, 1, 1, 0, 1},
		},
		{
			name:  "asOf one day after the reference",
			props: map[string]features.Value{"last_activity_at": ts(encRef)},
			asOf:  encRef.AddDate(0, 0, 1),
			want:  []float64{0, 0, 0, 1, -1 / s24, 1, 0, 1, 0, -0.5 / s125, 0},
		},
		{
			name:  "future timestamp counts as now",
			props: map[string]features.Value{"last_activity_at": ts(encRef.AddDate(1, 0, 0))},
			want:  []float64{0, 0, 0, 1, -1 / s24, 1, 0, 1, 0, -1.5 / s125, 0},
		},
		{
			name:  "negative count clamped at 0 before log1p",
			props: map[string]features.Value{"visits": num(-5)},
			want:  []float64{0, 0, 0, 1, -1 / s24, 0, 0, 1, 0, 0, 1},
		},
		{
			name:  "absurd values clipped at 10 sd",
			props: map[string]features.Value{"employees": num(1e300), "visits": num(math.MaxFloat64)},
			want:  []float64{0, 0, 0, 1, 10, 0, 10, 0, 0, 0, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]float64, e.Width())
			warnings, err := e.EncodeContact(encContact(tt.props), tt.asOf, got)
			if err != nil || warnings != nil {
				t.Fatalf("EncodeContact: warnings %v, error %v", warnings, err)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-12 {
					t.Errorf("output %d (%s) = %v, want %v", i, wantNames[i], got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEncoderPooling(t *testing.T) {
	vals := func(counts map[string]int, missing int) []any {
		var out []any
		for _, v := range slices.Sorted(func(yield func(string) bool) {
			for k := range counts {
				if !yield(k) {
					return
				}
			}
		}) {
			for range counts[v] {
				out = append(out, v)
			}
		}
		for range missing {
			out = append(out, nil)
		}
		return out
	}
	tests := []struct {
		name    string
		counts  map[string]int
		missing int
		opts    features.EncoderOptions
		want    []string // feature values in order
		encode  map[string]int
	}{
		{
			name:   "min count and max categories",
			counts: map[string]int{"A": 5, "B": 4, "C": 3, "D": 1},
			opts:   features.EncoderOptions{MinCount: 3, MaxCategories: 2},
			want:   []string{"A", "B", features.LevelOther},
			encode: map[string]int{"A": 0, "B": 1, "C": 2, "D": 2, "Z": 2},
		},
		{
			name:   "defaults pool everything below 20",
			counts: map[string]int{"A": 25, "B": 19},
			want:   []string{"A", features.LevelOther},
			encode: map[string]int{"A": 0, "B": 1},
		},
		{
			name:    "nothing rare: unseen values encode as zeros",
			counts:  map[string]int{"A": 2, "B": 2},
			missing: 1,
			opts:    features.EncoderOptions{MinCount: 1},
			want:    []string{"A", "B", features.LevelMissing},
			encode:  map[string]int{"A": 0, "B": 1, "Z": -1, "": 2},
		},
		{
			name:   "ties by value",
			counts: map[string]int{"b": 2, "a": 2, "c": 3},
			opts:   features.EncoderOptions{MinCount: 1},
			want:   []string{"c", "a", "b"},
			encode: map[string]int{"a": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &features.Frame{Columns: []*features.Column{encCol("c", features.KindCategory, vals(tt.counts, tt.missing)...)}}
			spec := &features.Spec{Label: "y", Columns: []features.ColumnSpec{{Name: "c", Kind: features.KindCategory, Group: features.GroupFit, Use: true}}}
			e := mustFitEncoder(t, spec, f, nil, tt.opts)
			var got []string
			for _, ft := range e.Features() {
				got = append(got, ft.Value)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("levels = %q, want %q", got, tt.want)
			}
			for v, pos := range tt.encode {
				dst := make([]float64, e.Width())
				if _, err := e.EncodeContact(encContact(map[string]features.Value{"c": features.String(v)}), time.Time{}, dst); err != nil {
					t.Fatal(err)
				}
				want := make([]float64, e.Width())
				if pos >= 0 {
					want[pos] = 1
				}
				if !slices.Equal(dst, want) {
					t.Errorf("encode %q = %v, want %v", v, dst, want)
				}
			}
		})
	}
}

func TestEncoderDerived(t *testing.T) {
	f := &features.Frame{Columns: []*features.Column{
		encCol("email", features.KindCategory, "a@gmail.com", "b@acme.com", "c@acme.io", "d@yahoo.com", "bad", nil),
		encCol("job_title", features.KindCategory, "CEO", "VP Sales", "Marketing Manager", "Engineer", "Intern", ""),
	}}
	spec := &features.Spec{Label: "y", Columns: []features.ColumnSpec{
		{Name: "email", Kind: features.KindCategory, Group: features.GroupFit, Use: true, Derive: features.DeriveEmailDomain},
		{Name: "job_title", Kind: features.KindCategory, Group: features.GroupFit, Use: true, Derive: features.DeriveTitleSeniority},
	}}
	e := mustFitEncoder(t, spec, f, nil, features.EncoderOptions{MinCount: 1})
	// By hand: email classes company 2, free-mail 2, invalid 1, one missing; titles executive 2, then
	// individual, manager, student with 1 each; the blank title is missing.
	want := []features.Feature{
		{Name: "email: company", Property: "email", Value: "company"},
		{Name: "email: free-mail", Property: "email", Value: "free-mail"},
		{Name: "email: invalid", Property: "email", Value: "invalid"},
		{Name: "email: (missing)", Property: "email", Value: "(missing)"},
		{Name: "job_title: executive", Property: "job_title", Value: "executive"},
		{Name: "job_title: individual", Property: "job_title", Value: "individual"},
		{Name: "job_title: manager", Property: "job_title", Value: "manager"},
		{Name: "job_title: student", Property: "job_title", Value: "student"},
		{Name: "job_title: (missing)", Property: "job_title", Value: "(missing)"},
	}
	for i := range want {
		want[i].Group, want[i].Kind = features.GroupFit, features.KindCategory
		want[i].Derive = spec.Columns[0].Derive
		if want[i].Property == "job_title" {
			want[i].Derive = spec.Columns[1].Derive
		}
	}
	if got := e.Features(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Features() =\n%+v\nwant\n%+v", got, want)
	}
	dst := make([]float64, e.Width())
	c := encContact(map[string]features.Value{"email": features.String("Zoe@Hotmail.com"), "job_title": features.String("Chief Revenue Officer")})
	if _, err := e.EncodeContact(c, time.Time{}, dst); err != nil {
		t.Fatal(err)
	}
	if wantVec := []float64{0, 1, 0, 0, 1, 0, 0, 0, 0}; !slices.Equal(dst, wantVec) {
		t.Errorf("encoded %v, want %v", dst, wantVec)
	}
}

// encErrorCases are values that must be refused; FuzzEncodeContact starts from them too.
var encErrorCases = []struct {
	name     string
	property string
	value    features.Value
	want     error
}{
	{"text for a number", "visits", features.String("abc"), features.ErrWrongType},
	{"NaN", "visits", features.Number(math.NaN()), features.ErrNotFinite},
	{"infinite number for a category", "industry", features.Number(math.Inf(1)), features.ErrNotFinite},
	{"flag for a number", "employees", features.Flag(true), features.ErrWrongType},
	{"time for a number", "visits", features.Timestamp(encRef), features.ErrWrongType},
	{"word for a flag", "unsubscribed", features.String("maybe"), features.ErrWrongType},
	{"2 for a flag", "unsubscribed", features.Number(2), features.ErrWrongType},
	{"NaN for a flag", "unsubscribed", features.Number(math.NaN()), features.ErrNotFinite},
	{"text for a time", "last_activity_at", features.String("yesterday"), features.ErrWrongType},
	{"number for a time", "last_activity_at", features.Number(1.7e9), features.ErrWrongType},
}

// Text spelling a non-finite number, and the missing-value tokens, are missing values in a number
// column (issue 10: "Inf" must not make a number column a category nor fail a contact); a NaN sent as a
// number is still refused above.
func TestEncodeContactMissingText(t *testing.T) {
	e := mustFitEncoder(t, encHandSpec(), encHandFrame(), nil, features.EncoderOptions{MinCount: 2})
	want := make([]float64, e.Width())
	if _, err := e.EncodeContact(encContact(map[string]features.Value{}), time.Time{}, want); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"NaN", "-Inf", "inf", "Infinity", "N/A", "null", " none ", "Select", "-", "UNKNOWN"} {
		got := make([]float64, e.Width())
		if _, err := e.EncodeContact(encContact(map[string]features.Value{"employees": features.String(text)}), time.Time{}, got); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("employees %q encodes as %v, want missing %v", text, got, want)
		}
	}
}

func TestEncodeContactErrors(t *testing.T) {
	e := mustFitEncoder(t, encHandSpec(), encHandFrame(), nil, features.EncoderOptions{MinCount: 2})
	for _, tt := range encErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]float64, e.Width())
			_, err := e.EncodeContact(encContact(map[string]features.Value{tt.property: tt.value}), time.Time{}, dst)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var pe *features.PropertyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PropertyError", err)
			}
			if pe.Property != tt.property || pe.Row != -1 {
				t.Errorf("PropertyError{Property: %q, Row: %d}, want %q, -1", pe.Property, pe.Row, tt.property)
			}
			if prefix := fmt.Sprintf("features: property %q", tt.property); !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
		})
	}
}

func TestEncodeContactWarnings(t *testing.T) {
	e := mustFitEncoder(t, encHandSpec(), encHandFrame(), nil, features.EncoderOptions{MinCount: 2})
	tests := []struct {
		name  string
		props map[string]features.Value
		want  []string
	}{
		{"known only", map[string]features.Value{"visits": features.Number(1), "industry": features.String("Retail")}, nil},
		{"excluded and label ignored", map[string]features.Value{"contact_id": features.String("C9"), "deal_stage": features.String("open")}, nil},
		{"unknown", map[string]features.Value{"zeta": features.Number(1), "visits": features.Number(1), "alpha": {}}, []string{"alpha", "zeta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]float64, e.Width())
			warnings, err := e.EncodeContact(encContact(tt.props), time.Time{}, dst)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range warnings {
				got = append(got, w.Property)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings for %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEncodeContactPanicsOnShortDst(t *testing.T) {
	e := mustFitEncoder(t, encHandSpec(), encHandFrame(), nil, features.EncoderOptions{})
	defer func() {
		if recover() == nil {
			t.Error("EncodeContact with a short dst did not panic")
		}
	}()
	e.EncodeContact(features.Contact{}, time.Time{}, make([]float64, e.Width()-1))
}

func TestFitEncoderErrors(t *testing.T) {
	tests := []struct {
		name   string
		frame  func(*features.Frame)
		spec   func(*features.Spec)
		rows   []int
		target error
	}{
		{"invalid spec", nil, func(s *features.Spec) { s.Columns[1].Group = "" }, nil, features.ErrSpec},
		{"used column not in data", func(f *features.Frame) { f.Columns = f.Columns[:2] }, nil, nil, features.ErrMissingColumn},
		{"NaN in training", func(f *features.Frame) { f.Column("visits").Num[2] = math.NaN() }, nil, nil, features.ErrNotFinite},
		{"wrong kind in training", func(f *features.Frame) {
			f.Columns[1] = encCol("industry", features.KindCategory, "x", "y", "z", "1", "2", "3")
		},
			func(s *features.Spec) { s.Columns[1].Kind = features.KindNumber }, nil, features.ErrWrongType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, spec := encHandFrame(), encHandSpec()
			if tt.frame != nil {
				tt.frame(f)
			}
			if tt.spec != nil {
				tt.spec(spec)
			}
			_, err := features.FitEncoder(spec, f, tt.rows, features.EncoderOptions{})
			if !errors.Is(err, tt.target) {
				t.Errorf("FitEncoder error = %v, want %v", err, tt.target)
			}
		})
	}
	if _, err := features.FitEncoder(encHandSpec(), encHandFrame(), []int{0, 6}, features.EncoderOptions{}); err == nil {
		t.Error("FitEncoder with row 6 of 6: no error")
	}
	if _, err := features.FitEncoder(encHandSpec(), encHandFrame(), []int{}, features.EncoderOptions{}); err == nil {
		t.Error("FitEncoder with no rows: no error")
	}
}

func TestFitEncoderUsesOnlyTrainingRows(t *testing.T) {
	f := encHandFrame()
	// Rows 0-3 hold no missing visits and no Mining: no indicator, no (other) level.
	e := mustFitEncoder(t, encHandSpec(), f, []int{0, 1, 2, 3}, features.EncoderOptions{MinCount: 1})
	var got []string
	for _, ft := range e.Features() {
		got = append(got, ft.Name)
	}
	want := []string{"industry=Retail", "industry=Software", "visits (log1p)", "employees", "unsubscribed", "last_activity_at: days ago (log1p)"}
	if !slices.Equal(got, want) {
		t.Errorf("features = %q, want %q", got, want)
	}
}

// encGenFrame is n rows shaped like `leadscore generate` output, with about 10% missing values,
// fractional numbers and timestamps with fractional seconds, plus columns whose frame kind differs
// from the kind a spec may ask for.
func encGenFrame(n int, seed uint64) *features.Frame {
	rng := rand.New(rand.NewPCG(seed, seed))
	miss := func(v any) any {
		if rng.IntN(10) == 0 {
			return nil
		}
		return v
	}
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	start := encRef.AddDate(-2, 0, 0)
	span := encRef.Sub(start).Seconds()
	at := func() time.Time { return start.Add(time.Duration(rng.Float64() * span * float64(time.Second))) }
	col := func(name string, kind features.Kind, f func(i int) any) *features.Column {
		return encCol(name, kind, encRepeat(n, f)...)
	}
	count := func(scale float64) func(int) any {
		return func(int) any { return miss(math.Floor(rng.ExpFloat64() * scale)) }
	}
	return &features.Frame{Columns: []*features.Column{
		col("contact_id", features.KindCategory, func(i int) any { return fmt.Sprintf("C%07d", i) }),
		col("created_at", features.KindTime, func(int) any { return at() }),
		col("email", features.KindCategory, func(i int) any {
			return miss(fmt.Sprintf("u%d@%s", i, pick("gmail.com", "yahoo.com", "acme-robotics.com", "globex.io", "initech.de")))
		}),
		col("job_title", features.KindCategory, func(int) any {
			return miss(pick("VP Sales", "Chief Marketing Officer", "Marketing Manager", "Software Engineer", "Student", "Marketing Intern", "Director of IT"))
		}),
		col("industry", features.KindCategory, func(int) any {
			return miss(pick("Software", "Retail", "Banking", "Health", "Education", "Mining", "Farming", "Media"))
		}),
		col("employees", features.KindNumber, func(int) any { return miss(float64(1 + rng.IntN(5000))) }),
		col("annual_revenue", features.KindNumber, func(int) any { return miss(math.Exp(14 + 2*rng.NormFloat64())) }),
		col("country", features.KindCategory, func(int) any { return miss(pick("US", "DE", "FR", "UK", "BR", "IN", "JP", " ")) }),
		col("visits", features.KindNumber, count(8)),
		col("page_views", features.KindNumber, count(20)),
		col("email_opens", features.KindNumber, count(3)),
		col("forms_bofu", features.KindNumber, count(0.3)),
		col("days_since_last_activity", features.KindNumber, func(int) any { return miss(rng.Float64() * 400) }),
		col("last_activity_at", features.KindTime, func(int) any { return miss(at()) }),
		col("unsubscribed", features.KindFlag, func(int) any { return miss(rng.IntN(8) == 0) }),
		col("employees_text", features.KindCategory, func(int) any { return miss(fmt.Sprintf(" %.3f", rng.Float64()*1000)) }),
		col("opted_in", features.KindCategory, func(int) any { return miss(pick("yes", "no", "1", "0", "TRUE")) }),
		col("region_code", features.KindNumber, func(int) any { return miss(float64(rng.IntN(40)) / 4) }),
		col("first_seen", features.KindCategory, func(int) any { return miss(at().Format(time.RFC3339Nano)) }),
		col("deal_stage", features.KindCategory, func(int) any { return pick("closedwon", "closedlost", "open") }),
	}}
}

// encGenSpec infers a spec for encGenFrame and reads some columns as another kind than the frame's.
func encGenSpec(f *features.Frame) *features.Spec {
	spec := features.InferSpec(f, "deal_stage")
	spec.Column("employees_text").Kind = features.KindNumber
	spec.Column("opted_in").Kind = features.KindFlag
	spec.Column("region_code").Kind = features.KindCategory
	first := spec.Column("first_seen")
	first.Kind, first.Use, first.Reason, first.Derive = features.KindTime, true, "", features.DeriveRecency
	return spec
}

func TestEncodeFrameMatchesEncodeContact(t *testing.T) {
	f := encGenFrame(600, 7)
	spec := encGenSpec(f)
	train := make([]int, 0, 400)
	for i := range 400 {
		train = append(train, i)
	}
	e := mustFitEncoder(t, spec, f, train, features.EncoderOptions{MinCount: 5})
	for _, asOf := range []time.Time{{}, encRef.Add(36*time.Hour + 123456789)} {
		t.Run(fmt.Sprintf("asOf=%v", asOf.IsZero()), func(t *testing.T) {
			rows := []int{599, 0, 450, 3, 3}
			for i := 10; i < f.Len(); i += 3 {
				rows = append(rows, i)
			}
			got, err := e.EncodeFrame(f, rows, asOf)
			if err != nil {
				t.Fatal(err)
			}
			w := e.Width()
			want := make([]float64, w)
			for r, i := range rows {
				if _, err := e.EncodeContact(f.Contact(i, ""), asOf, want); err != nil {
					t.Fatalf("row %d: %v", i, err)
				}
				for j := range want {
					if math.Float64bits(got[r*w+j]) != math.Float64bits(want[j]) {
						t.Fatalf("row %d, feature %d (%s): EncodeFrame %v, EncodeContact %v",
							i, j, e.Features()[j].Name, got[r*w+j], want[j])
					}
				}
			}
		})
	}
	all, err := e.EncodeFrame(f, nil, time.Time{})
	if err != nil || len(all) != f.Len()*e.Width() {
		t.Errorf("EncodeFrame(nil rows): len %d, error %v; want %d", len(all), err, f.Len()*e.Width())
	}
}

func TestEncodeFrameErrors(t *testing.T) {
	f := encHandFrame()
	e := mustFitEncoder(t, encHandSpec(), f, nil, features.EncoderOptions{})
	f.Column("employees").Num[4] = math.Inf(-1)
	_, err := e.EncodeFrame(f, nil, time.Time{})
	var pe *features.PropertyError
	if !errors.As(err, &pe) || !errors.Is(err, features.ErrNotFinite) || pe.Row != 4 || pe.Property != "employees" {
		t.Errorf("EncodeFrame error = %v, want a PropertyError for employees in row 4 wrapping ErrNotFinite", err)
	}
	// With many blocks encoded concurrently, the error reported is still the first row's.
	big := encGenFrame(2000, 9)
	eb := mustFitEncoder(t, encGenSpec(big), big, nil, features.EncoderOptions{})
	for _, i := range []int{1900, 700, 1200} {
		big.Column("visits").Num[i], big.Column("visits").Valid[i] = math.NaN(), true
	}
	if _, err := eb.EncodeFrame(big, nil, time.Time{}); !errors.As(err, &pe) || pe.Row != 700 {
		t.Errorf("EncodeFrame error = %v, want one for row 700", err)
	}
	if _, err := e.EncodeFrame(f, []int{-1}, time.Time{}); err == nil {
		t.Error("EncodeFrame with row -1: no error")
	}
	// A used column absent from the frame is missing in every row, as in a contact without it.
	g := encHandFrame()
	g.Columns = slices.DeleteFunc(g.Columns, func(c *features.Column) bool { return c.Name == "visits" })
	if got := e.MissingColumns(g); !slices.Equal(got, []string{"visits"}) {
		t.Errorf("MissingColumns = %q, want [visits]", got)
	}
	x, err := e.EncodeFrame(g, []int{0}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, e.Width())
	if _, err := e.EncodeContact(g.Contact(0, ""), time.Time{}, want); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, want) {
		t.Errorf("without visits: EncodeFrame %v, EncodeContact %v", x, want)
	}
}

func TestEncoderJSONRoundTrip(t *testing.T) {
	f := encGenFrame(300, 3)
	e := mustFitEncoder(t, encGenSpec(f), f, nil, features.EncoderOptions{MinCount: 3})
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back features.Encoder
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("Validate after round trip: %v", err)
	}
	if !reflect.DeepEqual(back.Features(), e.Features()) {
		t.Errorf("features changed by the round trip")
	}
	again, err := json.Marshal(&back)
	if err != nil || string(again) != string(data) {
		t.Errorf("second encoding differs (error %v)", err)
	}
	want, err := e.EncodeFrame(f, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.EncodeFrame(f, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("value %d: %v after the round trip, %v before", i, got[i], want[i])
		}
	}
}

func TestEncoderValidate(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"zero sd", `{"columns":[{"property":"x","kind":"number","group":"fit","sd":0}]}`},
		{"bad kind", `{"columns":[{"property":"x","kind":"none","group":"fit"}]}`},
		{"derive on number", `{"columns":[{"property":"x","kind":"number","derive":"email_domain","sd":1}]}`},
		{"twice", `{"columns":[{"property":"x","kind":"flag"},{"property":"x","kind":"flag"}]}`},
		{"level twice", `{"columns":[{"property":"x","kind":"category","levels":["a","a"]}]}`},
		{"no name", `{"columns":[{"kind":"flag"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e features.Encoder
			if err := json.Unmarshal([]byte(tt.json), &e); err != nil {
				t.Fatal(err)
			}
			if err := e.Validate(); !errors.Is(err, features.ErrEncoder) {
				t.Errorf("Validate() = %v, want ErrEncoder", err)
			}
			_, err := e.EncodeContact(features.Contact{}, time.Time{}, make([]float64, e.Width()))
			if !errors.Is(err, features.ErrEncoder) {
				t.Errorf("EncodeContact error = %v, want ErrEncoder", err)
			}
		})
	}
}

func TestEncodeContactAllocations(t *testing.T) {
	f := encGenFrame(200, 5)
	e := mustFitEncoder(t, encGenSpec(f), f, nil, features.EncoderOptions{MinCount: 3})
	c := encBenchContact()
	dst := make([]float64, e.Width())
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := e.EncodeContact(c, time.Time{}, dst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("EncodeContact allocates %v times per call, want 0", allocs)
	}
}

// encBenchContact is a typical contact for encGenFrame's schema, with values as a client sends them.
func encBenchContact() features.Contact {
	return features.Contact{ID: "C1", Props: map[string]features.Value{
		"contact_id":               features.String("C1"),
		"created_at":               features.Timestamp(encRef.AddDate(0, -5, 0)),
		"email":                    features.String("Ana@Acme-Robotics.com"),
		"job_title":                features.String("VP Sales EMEA"),
		"industry":                 features.String("Software"),
		"employees":                features.Number(250),
		"annual_revenue":           features.String("1250000.50"),
		"country":                  features.String("DE"),
		"visits":                   features.Number(12),
		"page_views":               features.Number(40),
		"email_opens":              features.Number(3),
		"forms_bofu":               features.Number(1),
		"days_since_last_activity": features.Number(4),
		"last_activity_at":         features.Timestamp(encRef.AddDate(0, 0, -4)),
		"unsubscribed":             features.Flag(false),
		"employees_text":           features.String("12.5"),
		"opted_in":                 features.String("yes"),
		"region_code":              features.String("2.5"),
		"first_seen":               features.String("2023-11-02T10:00:00Z"),
		"deal_stage":               features.String("open"),
	}}
}

func FuzzEncodeContact(f *testing.F) {
	frame := encGenFrame(200, 11)
	e := mustFitEncoder(f, encGenSpec(frame), frame, nil, features.EncoderOptions{MinCount: 3})
	props := []string{"email", "job_title", "industry", "employees", "annual_revenue", "visits", "unsubscribed",
		"last_activity_at", "employees_text", "opted_in", "region_code", "first_seen", "contact_id", "unknown"}
	for _, tt := range encErrorCases {
		kind := uint8(tt.value.Kind)
		f.Add(uint8(slices.Index(props, tt.property)), kind, tt.value.Str, tt.value.Num, tt.value.Bool, int64(0))
	}
	f.Add(uint8(0), uint8(features.KindCategory), "x@GMAIL.com", 0.0, false, int64(0))
	f.Add(uint8(1), uint8(features.KindCategory), "Geschäftsführer", 0.0, false, int64(0))
	f.Add(uint8(3), uint8(features.KindNumber), "", 1e308, false, int64(0))
	f.Add(uint8(7), uint8(features.KindTime), "", 0.0, false, int64(-1<<62))
	f.Fuzz(func(t *testing.T, prop, kind uint8, s string, x float64, b bool, sec int64) {
		var v features.Value
		switch features.Kind(kind % 5) {
		case features.KindCategory:
			v = features.String(s)
		case features.KindNumber:
			v = features.Number(x)
		case features.KindFlag:
			v = features.Flag(b)
		case features.KindTime:
			v = features.Timestamp(time.Unix(sec, int64(x)%1e9))
		}
		c := encBenchContact()
		c.Props[props[int(prop)%len(props)]] = v
		dst := make([]float64, e.Width())
		_, err := e.EncodeContact(c, time.Unix(sec, 0), dst)
		if err != nil {
			var pe *features.PropertyError
			if !errors.As(err, &pe) || !(errors.Is(err, features.ErrWrongType) || errors.Is(err, features.ErrNotFinite)) {
				t.Fatalf("error %v is not a PropertyError wrapping ErrWrongType or ErrNotFinite", err)
			}
			return
		}
		for i, y := range dst {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				t.Fatalf("output %d (%s) = %v", i, e.Features()[i].Name, y)
			}
		}
	})
}

// The benchmarks use the inferred spec, whose kinds agree with the frame's, as real data does.

func BenchmarkEncodeContact(b *testing.B) {
	f := encGenFrame(2000, 1)
	e := mustFitEncoder(b, features.InferSpec(f, "deal_stage"), f, nil, features.EncoderOptions{})
	c := encBenchContact()
	dst := make([]float64, e.Width())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.EncodeContact(c, time.Time{}, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"rows=1e4", 1e4}, {"rows=1e5", 1e5}} {
		n := size.n
		b.Run(size.name, func(b *testing.B) {
			f := encGenFrame(n, 1)
			e := mustFitEncoder(b, features.InferSpec(f, "deal_stage"), f, nil, features.EncoderOptions{})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.EncodeFrame(f, nil, time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
		})
	}
}

func BenchmarkFitEncoder(b *testing.B) {
	f := encGenFrame(1e5, 1)
	spec := features.InferSpec(f, "deal_stage")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleEncoder_EncodeContact() {
	f := &features.Frame{Columns: []*features.Column{
		encCol("industry", features.KindCategory, "Software", "Software", "Retail", nil),
		encCol("visits", features.KindNumber, 1, 2, 3, 4),
		encCol("won", features.KindFlag, true, false, true, false),
	}}
	spec := features.InferSpec(f, "won")
	e, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{MinCount: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	dst := make([]float64, e.Width())
	c := features.Contact{Props: map[string]features.Value{"industry": features.String("Mining"), "visits": features.String("2.5"), "plan": features.String("pro")}}
	warnings, err := e.EncodeContact(c, time.Time{}, dst)
	for i, ft := range e.Features() {
		fmt.Printf("%-20s %.3f\n", ft.Name, dst[i])
	}
	fmt.Println(warnings, err)
	// Output:
	// industry=Software    0.000
	// industry=(other)     1.000
	// industry=(missing)   0.000
	// visits               0.000
	// [{plan not in the model's spec; ignored}] <nil>
}
