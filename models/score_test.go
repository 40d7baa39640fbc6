package models

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// tol is the tolerance on probabilities and contributions computed by hand: they differ from the
// code's only by float rounding.
const tol = 1e-12

func TestPredictTiny(t *testing.T) {
	// The tiny artifact (see mustTinyArtifact) encodes [Retail, Software, (visits-4)/2] with
	// intercept -1, weights [-0.5, 0.5, 0.8] and baseline [0.5, 0.5, 0]. Expected values by hand.
	tests := []struct {
		name       string
		props      map[string]features.Value
		prob       float64
		priority   Priority
		grade      string
		engagement int
		reasons    []Reason
		warnings   []string
	}{
		{
			// x = [0, 1, 2]; logit = -1 + 0.5 + 1.6 = 1.1; p = 1/(1+e^-1.1) = 0.7502601055951177.
			// Contributions: industry -0.5*(0-0.5) + 0.5*(1-0.5) = 0.5 (fit, at the top cut: A);
			// visits 0.8*(2-0) = 1.6 (engagement, above 1: level 1).
			name:  "software, many visits",
			props: map[string]features.Value{"industry": features.String("Software"), "visits": features.Number(8)},
			prob:  0.7502601055951177, priority: PriorityHigh, grade: "A", engagement: 1,
			reasons: []Reason{
				{Property: "visits", Value: "8", Contribution: 1.6, ConversionRate: 125.0 / 402, Contacts: 402,
					Text: "Visits is 8 (>= 6): 31% of 402 such contacts became customers, against 9% overall"},
				{Property: "industry", Value: "Software", Contribution: 0.5, ConversionRate: 0.24, Contacts: 1203,
					Text: "Industry is Software: 24% of 1,203 such contacts became customers, against 9% overall"},
			},
		},
		{
			// x = [1, 0, -1]; logit = -1 - 0.5 - 0.8 = -2.3; p = 0.09112296101485616.
			// Contributions: industry -0.5*0.5 + 0.5*(-0.5) = -0.5 (C); visits -0.8 (level 3).
			name:  "retail, few visits as a numeric string",
			props: map[string]features.Value{"industry": features.String("Retail"), "visits": features.String(" 2 ")},
			prob:  0.09112296101485616, priority: PriorityLow, grade: "C", engagement: 3,
			reasons: []Reason{
				{Property: "visits", Value: " 2 ", Contribution: -0.8, ConversionRate: 325.0 / 4598, Contacts: 4598,
					Text: "Visits is 2 (< 6): 7.1% of 4,598 such contacts became customers, against 9% overall"},
				{Property: "industry", Value: "Retail", Contribution: -0.5, ConversionRate: 161.0 / 3797, Contacts: 3797,
					Text: "Industry is Retail: 4.2% of 3,797 such contacts became customers, against 9% overall"},
			},
		},
		{
			// An unseen industry encodes as all zeros and a missing visits as the median, 4, so x = 0:
			// logit = -1, p = 0.2689414213699951; both contributions are 0, so no reasons.
			name:  "unseen industry, missing visits, unknown property",
			props: map[string]features.Value{"industry": features.String("Mining"), "shoe_size": features.Number(44)},
			prob:  0.2689414213699951, priority: PriorityMedium, grade: "B", engagement: 2,
			warnings: []string{"shoe_size"},
		},
	}
	a := mustTinyArtifact(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Predict(features.Contact{Props: tt.props}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Probability-tt.prob) > tol {
				t.Errorf("Probability = %.17g, want %.17g", got.Probability, tt.prob)
			}
			if got.Priority != tt.priority || got.FitGrade != tt.grade || got.EngagementLevel != tt.engagement {
				t.Errorf("priority, grade, engagement = %v, %q, %d; want %v, %q, %d",
					got.Priority, got.FitGrade, got.EngagementLevel, tt.priority, tt.grade, tt.engagement)
			}
			checkReasons(t, got.Reasons, tt.reasons)
			if len(got.Warnings) != len(tt.warnings) {
				t.Fatalf("Warnings = %v, want properties %v", got.Warnings, tt.warnings)
			}
			for i, w := range got.Warnings {
				if w.Property != tt.warnings[i] {
					t.Errorf("Warnings[%d].Property = %q, want %q", i, w.Property, tt.warnings[i])
				}
			}
		})
	}
}

func checkReasons(t *testing.T, got, want []Reason) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d reasons %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Property != w.Property || g.Value != w.Value || g.Contacts != w.Contacts || g.Text != w.Text ||
			math.Abs(g.Contribution-w.Contribution) > tol || math.Abs(g.ConversionRate-w.ConversionRate) > tol {
			t.Errorf("reason %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// TestPredictWithoutRates: a model without rate tables has no rates to quote, so it gives no
// reasons (a reason must quote the rate it agrees with).
func TestPredictWithoutRates(t *testing.T) {
	a := mustTinyArtifact(t)
	a.Rates = nil
	for _, props := range []map[string]features.Value{
		{"industry": features.String("Software"), "visits": features.Number(8)},
		{"industry": features.String("Retail"), "visits": features.Number(3)},
	} {
		p, err := a.Predict(features.Contact{Props: props}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Reasons) != 0 {
			t.Errorf("%v: got reasons %+v, want none", props, p.Reasons)
		}
	}
}

func TestPredictReasonOrder(t *testing.T) {
	const overall = 0.25
	tests := []struct {
		name    string
		weights []float64
		rates   []float64 // the rate of each property's row; nil: 0.5 for a positive weight, else 0.1
		want    []string  // properties, in order
	}{
		{
			name:    "five strongest of each sign",
			weights: []float64{3, -3, 2, -2, 1, -1, 0.5, -0.5, 0.25, -0.25, 0.1, -0.1},
			want:    []string{"p00", "p02", "p04", "p06", "p08", "p01", "p03", "p05", "p07", "p09"},
		},
		{
			name:    "ties by name, zero left out",
			weights: []float64{1, 0, 1, -1},
			want:    []string{"p00", "p02", "p03"},
		},
		{
			name:    "only negative",
			weights: []float64{-0.1, -2, -0.3},
			want:    []string{"p01", "p02", "p00"},
		},
		{
			// p00 contradicts its rate, p01 quotes a rate within 10% of the overall rate, p02 is
			// immaterial: the next ones take their places.
			name:    "dishonest, near-overall and immaterial left out",
			weights: []float64{3, 2, 0.04, 1, -1, -0.5},
			rates:   []float64{0.1, 0.26, 0.5, 0.5, 0.3, 0.2},
			want:    []string{"p03", "p05"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustWideArtifact(t, tt.weights)
			a.Rates = &features.RateReport{Contacts: 1000, Customers: 250, Rate: overall}
			for j, w := range tt.weights {
				rate := 0.1
				switch {
				case tt.rates != nil:
					rate = tt.rates[j]
				case w > 0:
					rate = 0.5
				}
				a.Rates.Tables = append(a.Rates.Tables, features.RateTable{Property: fmt.Sprintf("p%02d", j), Kind: features.KindNumber,
					Rows: []features.RateRow{{Label: ">= 1", Lo: 1, Hi: math.Inf(1), Contacts: 100, Customers: int(100 * rate), Rate: rate}}})
			}
			c := features.Contact{Props: map[string]features.Value{}}
			for _, f := range a.Encoder.Features() {
				c.Props[f.Property] = features.Number(2) // encoded as 1, so each contribution is its weight
			}
			p, err := a.Predict(c, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range p.Reasons {
				got = append(got, r.Property)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("reasons %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("reasons %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestPredictErrors(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(a *Artifact)
		props   map[string]features.Value
		wantErr error
	}{
		{"wrong type", nil, map[string]features.Value{"visits": features.String("many")}, features.ErrWrongType},
		{"NaN", nil, map[string]features.Value{"visits": features.Number(math.NaN())}, features.ErrNotFinite},
		{"infinite", nil, map[string]features.Value{"visits": features.Number(math.Inf(1))}, features.ErrNotFinite},
		{"invalid artifact", func(a *Artifact) { a.Weights = a.Weights[:1] }, nil, ErrInvalidArtifact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustTinyArtifact(t)
			if tt.damage != nil {
				tt.damage(a)
			}
			_, err := a.Predict(features.Contact{Props: tt.props}, time.Time{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Predict() error = %v, want %v", err, tt.wantErr)
			}
			var pe *features.PropertyError
			if tt.wantErr != ErrInvalidArtifact && (!errors.As(err, &pe) || pe.Property != "visits") {
				t.Errorf("Predict() error = %v, want a *features.PropertyError for visits", err)
			}
		})
	}
}

// TestPredictMatchesEncodeFrame checks that Predict gives, bit for bit, the probability that
// training and batch scoring compute from EncodeFrame's matrix.
func TestPredictMatchesEncodeFrame(t *testing.T) {
	a, f := mustBenchArtifact(t)
	rows := []int{0, 1, 2, 3, 10, 99, 500}
	x, err := a.Encoder.EncodeFrame(f, rows, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	w := a.Encoder.Width()
	for r, i := range rows {
		z := a.Intercept
		for j, v := range x[r*w : (r+1)*w] {
			z += a.Weights[j] * v
		}
		want := Sigmoid(z)
		// EncodeFrame's zero time is the reference time; Predict's is the clock (AsOf).
		p, err := a.Predict(f.Contact(i, ""), a.Encoder.ReferenceTime)
		if err != nil {
			t.Fatal(err)
		}
		if p.Probability != want {
			t.Errorf("row %d: Predict = %.17g, EncodeFrame path = %.17g", i, p.Probability, want)
		}
		if len(p.Reasons) > 2*maxReasons {
			t.Errorf("row %d: %d reasons, want at most %d", i, len(p.Reasons), 2*maxReasons)
		}
		for _, reason := range p.Reasons {
			if reason.Text == "" {
				t.Errorf("row %d: reason %+v has no text", i, reason)
			}
		}
	}
}

// TestPredictConcurrent runs Predict from several goroutines on a fresh artifact, so that the first
// calls race to prepare it (run with -race).
func TestPredictConcurrent(t *testing.T) {
	a, f := mustBenchArtifact(t)
	const rows = 50
	var wg sync.WaitGroup
	got := make([][]float64, 4)
	for g := range got {
		got[g] = make([]float64, rows)
		wg.Go(func() {
			for i := range rows {
				p, err := a.Predict(f.Contact(i, ""), time.Time{})
				if err != nil {
					t.Error(err)
					return
				}
				got[g][i] = p.Probability
			}
		})
	}
	wg.Wait()
	for g := range got {
		for i := range rows {
			if got[g][i] != got[0][i] {
				t.Fatalf("goroutine %d row %d: %v, goroutine 0: %v", g, i, got[g][i], got[0][i])
			}
		}
	}
}

func TestReasonDerived(t *testing.T) {
	a, _ := mustBenchArtifact(t)
	p, err := a.getPlan()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	activity := features.Timestamp(now.Add(-36 * time.Hour))
	tests := []struct {
		property  string
		value     features.Value
		contrib   float64
		wantValue string
		wantText  string // "" means: the text starts with wantStart
		wantStart string
	}{
		{"email", features.String("ana@gmail.com"), -0.3, "free-mail", "", "Email is a free-mail address: "},
		{"job_title", features.String("VP Sales"), 0.4, "VP Sales", "", "Job Title is VP Sales (executive): "},
		{"last_activity_at", activity, 0.2, activity.Text(), "", "Last Activity At is 1 day ago: "},
		{"annual_revenue", features.Value{}, -0.1, "", "", "Annual Revenue is missing: "},
		{"annual_revenue", features.String("  "), -0.1, "", "", "Annual Revenue is missing: "},
		{"annual_revenue", features.Number(920691.892084653), 0.1, "920691.892084653", "", "Annual Revenue is 920,692 ("},
	}
	for _, tt := range tests {
		t.Run(tt.property+"="+tt.value.Text(), func(t *testing.T) {
			k := -1
			for i, pp := range p.props {
				if pp.name == tt.property {
					k = i
				}
			}
			if k < 0 {
				t.Fatalf("no property %q in the plan", tt.property)
			}
			vals := make([]features.Value, len(a.Encoder.Columns))
			vals[p.props[k].col] = tt.value
			r := Reason{Property: tt.property, Contribution: tt.contrib}
			var sp span
			q := p.quote(vals, k, nil)
			buf := p.reason(nil, &r, vals, k, &q, now, &sp)
			sp.fill(&r, string(buf))
			if r.Value != tt.wantValue {
				t.Errorf("Value = %q, want %q", r.Value, tt.wantValue)
			}
			if tt.wantText != "" && r.Text != tt.wantText {
				t.Errorf("Text = %q, want %q", r.Text, tt.wantText)
			}
			if tt.wantStart != "" && (len(r.Text) < len(tt.wantStart) || r.Text[:len(tt.wantStart)] != tt.wantStart) {
				t.Errorf("Text = %q, want it to start %q", r.Text, tt.wantStart)
			}
		})
	}
}

func TestWording(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"thousands 0", string(appendThousands(nil, 0)), "0"},
		{"thousands 999", string(appendThousands(nil, 999)), "999"},
		{"thousands 1203", string(appendThousands(nil, 1203)), "1,203"},
		{"thousands 1234567", string(appendThousands(nil, 1234567)), "1,234,567"},
		{"thousands -45000", string(appendThousands(nil, -45000)), "-45,000"},
		{"thousands -100", string(appendThousands(nil, -100)), "-100"},
		{"percent 0", string(appendPercent(nil, 0)), "0%"},
		{"percent 9", string(appendPercent(nil, 0.09)), "9%"},
		{"percent 4.24", string(appendPercent(nil, 161.0/3797)), "4.2%"},
		{"percent 0.04", string(appendPercent(nil, 0.0004)), "0%"},
		{"percent 9.96", string(appendPercent(nil, 0.0996)), "10%"},
		{"percent 24.4", string(appendPercent(nil, 0.244)), "24%"},
		{"percent 100", string(appendPercent(nil, 1)), "100%"},
		{"readable integer", string(appendReadable(nil, 1560)), "1,560"},
		{"readable large fraction", string(appendReadable(nil, 920691.892084653)), "920,692"},
		{"readable negative", string(appendReadable(nil, -1234.5)), "-1,235"},
		{"readable small", string(appendReadable(nil, 12.345)), "12.35"},
		{"readable under one", string(appendReadable(nil, 0.0012345)), "0.0012"},
		{"readable zero", string(appendReadable(nil, 0)), "0"},
		{"readable huge", string(appendReadable(nil, 3e20)), "3e+20"},
		{"label range", string(appendReadableLabel(nil, "22081.93888625872 - 65307683.68213566")), "22,082 - 65,307,684"},
		{"label open", string(appendReadableLabel(nil, ">= 6")), ">= 6"},
		{"label text", string(appendReadableLabel(nil, "(missing)")), "(missing)"},
		{"title snake", titleCase("annual_revenue"), "Annual Revenue"},
		{"title one", titleCase("visits"), "Visits"},
		{"title mixed", titleCase("page-views.total"), "Page Views Total"},
		{"title accents", titleCase("état_civil"), "État Civil"},
		{"title only separators", titleCase("__"), "__"},
		{"days future", string(appendDaysAgo(nil, -time.Hour)), "in the future"},
		{"days today", string(appendDaysAgo(nil, 5*time.Hour)), "today"},
		{"days one", string(appendDaysAgo(nil, 30*time.Hour)), "1 day ago"},
		{"days many", string(appendDaysAgo(nil, 1500*24*time.Hour)), "1,500 days ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestAppendValue checks appendValue against features.Value.Text, which it must match.
func TestAppendValue(t *testing.T) {
	tests := []struct {
		name string
		v    features.Value
	}{
		{"missing", features.Value{}},
		{"string", features.String(" Software ")},
		{"integer", features.Number(1203)},
		{"negative zero", features.Number(math.Copysign(0, -1))},
		{"negative integer", features.Number(-1203)},
		{"largest whole", features.Number(999999999999999)},
		{"smallest whole", features.Number(-999999999999999)},
		{"whole too large", features.Number(1e15)},
		{"fraction", features.Number(0.125)},
		{"large", features.Number(3e20)},
		{"tiny", features.Number(-1e-9)},
		{"true", features.Flag(true)},
		{"false", features.Flag(false)},
		{"time", features.Timestamp(time.Date(2024, 2, 29, 13, 4, 5, 6, time.FixedZone("X", 3600)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := string(appendValue(nil, tt.v)), tt.v.Text(); got != want {
				t.Errorf("appendValue = %q, Value.Text = %q", got, want)
			}
		})
	}
}

func BenchmarkPredict(b *testing.B) {
	a, f := mustBenchArtifact(b)
	benchPredict(b, a, f)
}

// benchPredict predicts the first 256 contacts of f in turn with a.
func benchPredict(b *testing.B, a *Artifact, f *features.Frame) {
	contacts := make([]features.Contact, 256)
	for i := range contacts {
		contacts[i] = f.Contact(i, "")
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := a.Predict(contacts[i%len(contacts)], time.Time{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestReasonRows covers the rate rows a reason can quote: a value row (whose sentence the plan words
// once), the pooled rare values, a count of one, a range and no row. The texts were checked against
// the wording before sentences were precomputed.
func TestReasonRows(t *testing.T) {
	a := mustTinyArtifact(t)
	industry := &a.Rates.Tables[0]
	industry.Rows = append(industry.Rows,
		features.RateRow{Label: "Media", Value: "Media", Contacts: 1, Customers: 1, Rate: 1},
		features.RateRow{Label: "(other)", Pooled: true, Values: 3, Contacts: 1, Rate: 0})
	p, err := a.getPlan()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		property  string
		value     features.Value
		contrib   float64
		wantValue string
		wantText  string
		wantRate  float64
		wantN     int
	}{
		{"value row", "industry", features.String("Software"), 0.5, "Software",
			"Industry is Software: 24% of 1,203 such contacts became customers, against 9% overall", 0.24, 1203},
		{"one contact", "industry", features.String("Media"), 0.5, "Media",
			"Industry is Media: 100% of 1 such contact became a customer, against 9% overall", 1, 1},
		// Category values match whatever their case and spaces, as the encoder reads them (issue 10).
		{"folded value row", "industry", features.String(" SOFTWARE "), 0.5, " SOFTWARE ",
			"Industry is SOFTWARE: 24% of 1,203 such contacts became customers, against 9% overall", 0.24, 1203},
		{"pooled", "industry", features.String(" Mining "), -0.2, " Mining ",
			"Industry is Mining (counted with the other rare values): 0% of 1 such contact became a customer, against 9% overall", 0, 1},
		{"no row", "industry", features.Value{}, -0.2, "", "Industry missing lowers the score", 0, 0},
		{"range", "visits", features.Number(6), 0.4, "6",
			"Visits is 6 (>= 6): 31% of 402 such contacts became customers, against 9% overall", 125.0 / 402, 402},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wordReason(t, p, tt.property, tt.value, tt.contrib)
			if got.Value != tt.wantValue || got.Text != tt.wantText || got.Contacts != tt.wantN || math.Abs(got.ConversionRate-tt.wantRate) > tol {
				t.Errorf("got value %q, text %q, rate %v of %d;\nwant value %q, text %q, rate %v of %d",
					got.Value, got.Text, got.ConversionRate, got.Contacts, tt.wantValue, tt.wantText, tt.wantRate, tt.wantN)
			}
		})
	}
}

// wordReason words property's reason for a contact with just that value, as Predict would.
func wordReason(t *testing.T, p *plan, property string, v features.Value, contrib float64) Reason {
	t.Helper()
	for k, pp := range p.props {
		if pp.name == property {
			r := Reason{Property: property, Contribution: contrib}
			var sp span
			vals := make([]features.Value, pp.col+1) // reasons read only the property's own column
			vals[pp.col] = v
			q := p.quote(vals, k, nil)
			buf := p.reason(nil, &r, vals, k, &q, time.Time{}, &sp)
			sp.fill(&r, string(buf))
			return r
		}
	}
	t.Fatalf("no property %q in the plan", property)
	return Reason{}
}

// TestReasonWordsKept checks that reasons whose words the plan kept from an earlier contact with the
// same value read exactly as reasons worded afresh, for both kinds of model: every contact is scored
// twice by an artifact that keeps words and quoted rows (the second pass finds most of them kept, and
// fills the properties whose values never repeat) and by an equal artifact that keeps none.
func TestReasonWordsKept(t *testing.T) {
	for name, build := range map[string]func(testing.TB) (*Artifact, *features.Frame){
		"onehot": mustBenchArtifact, "scorecard": mustBenchScorecard,
	} {
		t.Run(name, func(t *testing.T) {
			a, f := build(t)
			fresh, _ := build(t)
			p, err := fresh.getPlan()
			if err != nil {
				t.Fatal(err)
			}
			for k := range p.props {
				p.props[k].words, p.props[k].rowOf = nil, nil
			}
			at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
			const rows = 600
			kept := 0
			for pass := range 2 {
				for i := range rows {
					c := f.Contact(i, "")
					got, err := a.Predict(c, at)
					if err != nil {
						t.Fatal(err)
					}
					want, err := fresh.Predict(c, at)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Reasons, want.Reasons) {
						t.Fatalf("pass %d, row %d:\n got %+v\nwant %+v", pass, i, got.Reasons, want.Reasons)
					}
				}
			}
			ap, _ := a.getPlan()
			quoted := 0
			for k := range ap.props {
				if w := ap.props[k].words; w != nil {
					kept += w.Len()
				}
				if r := ap.props[k].rowOf; r != nil {
					quoted += r.Len()
				}
			}
			if name == "onehot" && quoted == 0 {
				t.Fatal("no quoted rows were kept")
			}
			if kept == 0 {
				t.Fatal("no words were kept")
			}
		})
	}
}
