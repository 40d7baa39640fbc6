package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// tinyFrame is four training contacts: industry Software, Software, Retail, Retail and visits 2, 2,
// 6, 6. Fitted with MinCount 1, the encoder's outputs are industry=Retail, industry=Software (levels
// by count, ties by name) and visits standardised as (v - 4) / 2 (mean 4, population SD 2, skewness
// 0 so no log). The baseline (mean encoded row) is therefore [0.5, 0.5, 0].
func tinyFrame() *features.Frame {
	return &features.Frame{Columns: []*features.Column{
		{Name: "industry", Kind: features.KindCategory, Str: []string{"Software", "Software", "Retail", "Retail"}, Valid: []bool{true, true, true, true}},
		{Name: "visits", Kind: features.KindNumber, Num: []float64{2, 2, 6, 6}, Valid: []bool{true, true, true, true}},
		{Name: "outcome", Kind: features.KindCategory, Str: []string{"won", "lost", "won", "lost"}, Valid: []bool{true, true, true, true}},
	}}
}

func tinySpec() *features.Spec {
	return &features.Spec{Label: "outcome", Columns: []features.ColumnSpec{
		{Name: "industry", Kind: features.KindCategory, Group: features.GroupFit, Use: true},
		{Name: "visits", Kind: features.KindNumber, Group: features.GroupEngagement, Use: true},
		{Name: "outcome", Kind: features.KindCategory, Reason: "label"},
	}}
}

// mustTinyArtifact returns a valid artifact over tinyFrame with intercept -1 and weights
// [-0.5, 0.5, 0.8] (Retail, Software, visits), and rate tables quoting 1,203 Software contacts.
func mustTinyArtifact(tb testing.TB) *Artifact {
	tb.Helper()
	a, err := tinyArtifact()
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func tinyArtifact() (*Artifact, error) {
	spec := tinySpec()
	enc, err := features.FitEncoder(spec, tinyFrame(), nil, features.EncoderOptions{MinCount: 1, NoLog: true})
	if err != nil {
		return nil, err
	}
	if got, want := enc.Width(), 3; got != want {
		return nil, fmt.Errorf("tiny encoder width = %d, want %d (features %v)", got, want, enc.Features())
	}
	return &Artifact{
		Format:         FormatVersion,
		Name:           "tiny",
		Spec:           spec,
		Encoder:        enc,
		Intercept:      -1,
		Weights:        []float64{-0.5, 0.5, 0.8},
		Baseline:       []float64{0.5, 0.5, 0},
		Penalty:        1,
		Tiers:          [3]float64{0.2, 0.5, 0.8},
		FitCuts:        [3]float64{-0.5, 0, 0.5},
		EngagementCuts: [3]float64{-1, 0, 1},
		Rates: &features.RateReport{Contacts: 5000, Customers: 450, Rate: 0.09, Tables: []features.RateTable{
			{Property: "industry", Kind: features.KindCategory, Rows: []features.RateRow{
				{Label: "Software", Value: "Software", Contacts: 1203, Customers: 289, Rate: 0.24},
				{Label: "Retail", Value: "Retail", Contacts: 3797, Customers: 161, Rate: 161.0 / 3797},
			}},
			{Property: "visits", Kind: features.KindNumber, Rows: []features.RateRow{
				{Label: "< 6", Lo: math.Inf(-1), Hi: 6, Contacts: 4598, Customers: 325, Rate: 325.0 / 4598},
				{Label: ">= 6", Lo: 6, Hi: math.Inf(1), Contacts: 402, Customers: 125, Rate: 125.0 / 402},
			}},
		}},
		Metrics:    Metrics{Rows: 100, Positives: 10, AUC: 0.8},
		Audit:      []AuditEntry{{Column: "industry", AUC: 0.6}},
		Provenance: Provenance{DataFile: "tiny.csv", Rows: 4, Won: 2, Lost: 2, Label: "outcome", TrainedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Seed: 1, Split: "random"},
		Holdout:    HoldoutRef{Method: "random", Share: 0.2, Seed: 1},
	}, nil
}

// mustWideArtifact returns an artifact over n number properties p00, p01, ... in the fit group, each
// trained on the values 0 and 2 (so encoded as v - 1, baseline 0), with the given weights. A contact
// with every property 2 then has contribution w_j for property j.
func mustWideArtifact(tb testing.TB, weights []float64) *Artifact {
	tb.Helper()
	spec := &features.Spec{Label: "outcome"}
	f := &features.Frame{}
	for j := range weights {
		name := fmt.Sprintf("p%02d", j)
		spec.Columns = append(spec.Columns, features.ColumnSpec{Name: name, Kind: features.KindNumber, Group: features.GroupFit, Use: true})
		f.Columns = append(f.Columns, &features.Column{Name: name, Kind: features.KindNumber, Num: []float64{0, 2}, Valid: []bool{true, true}})
	}
	enc, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{NoLog: true})
	if err != nil {
		tb.Fatal(err)
	}
	return &Artifact{
		Format: FormatVersion, Spec: spec, Encoder: enc, Weights: weights,
		Baseline: make([]float64, len(weights)), Tiers: [3]float64{0.25, 0.5, 0.75},
	}
}

// benchFrame is n synthetic contacts shaped like the generated schema: categories, skewed counts, a
// flag, a time, an e-mail and a job title, with some values missing.
func benchFrame(n int, seed uint64) (*features.Frame, []features.Label) {
	rng := rand.New(rand.NewPCG(seed, seed))
	industries := []string{"Software", "Retail", "Finance", "Health", "Education", "Manufacturing", "Media", "Energy"}
	countries := []string{"US", "UK", "DE", "FR", "ES", "NL", "SE", "BR", "IN", "JP"}
	sources := []string{"Organic Search", "Paid Search", "Paid Social", "Email Marketing", "Referrals", "Direct Traffic"}
	titles := []string{"VP Sales", "Chief Marketing Officer", "Marketing Manager", "Software Engineer", "Student", "Marketing Intern"}
	domains := []string{"gmail.com", "yahoo.com", "acme-robotics.com", "initech.io", "globex.com"}
	ref := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	cat := func(name string) *features.Column {
		return &features.Column{Name: name, Kind: features.KindCategory, Str: make([]string, n), Valid: make([]bool, n)}
	}
	num := func(name string, kind features.Kind) *features.Column {
		return &features.Column{Name: name, Kind: kind, Num: make([]float64, n), Valid: make([]bool, n)}
	}
	industry, country, source, title, email := cat("industry"), cat("country"), cat("source"), cat("job_title"), cat("email")
	employees, revenue, visits, opens := num("employees", features.KindNumber), num("annual_revenue", features.KindNumber), num("visits", features.KindNumber), num("email_opens", features.KindNumber)
	last := num("last_activity_at", features.KindTime)
	unsub := &features.Column{Name: "unsubscribed", Kind: features.KindFlag, Bool: make([]bool, n), Valid: make([]bool, n)}
	labels := make([]features.Label, n)
	for i := range n {
		industry.Str[i], industry.Valid[i] = industries[rng.IntN(len(industries))], true
		country.Str[i], country.Valid[i] = countries[rng.IntN(len(countries))], true
		source.Str[i], source.Valid[i] = sources[rng.IntN(len(sources))], true
		title.Str[i], title.Valid[i] = titles[rng.IntN(len(titles))], true
		email.Str[i], email.Valid[i] = fmt.Sprintf("c%d@%s", i, domains[rng.IntN(len(domains))]), true
		employees.Num[i], employees.Valid[i] = math.Round(math.Exp(rng.Float64()*8)), true
		revenue.Num[i], revenue.Valid[i] = math.Exp(10+rng.Float64()*8), rng.Float64() < 0.8
		visits.Num[i], visits.Valid[i] = float64(rng.IntN(40)), true
		opens.Num[i], opens.Valid[i] = float64(rng.IntN(20)), true
		last.Num[i], last.Valid[i] = features.UnixSeconds(ref.Add(-time.Duration(rng.IntN(200*24))*time.Hour)), rng.Float64() < 0.9
		unsub.Bool[i], unsub.Valid[i] = rng.Float64() < 0.1, true
		labels[i] = features.Lost
		if rng.Float64() < 0.1+visits.Num[i]/80 {
			labels[i] = features.Won
		}
	}
	return &features.Frame{Columns: []*features.Column{industry, country, source, title, email, employees, revenue, visits, opens, last, unsub}}, labels
}

// mustBenchArtifact fits an encoder and rate tables on benchFrame; the weights are random, which is
// all Predict's cost depends on.
func mustBenchArtifact(tb testing.TB) (*Artifact, *features.Frame) {
	tb.Helper()
	f, labels := benchFrame(2000, 7)
	spec := &features.Spec{Label: "outcome", ReferenceTime: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	for _, c := range f.Columns {
		cs := features.ColumnSpec{Name: c.Name, Kind: c.Kind, Group: features.GroupFit, Use: true}
		switch c.Name {
		case "visits", "email_opens", "last_activity_at", "unsubscribed":
			cs.Group = features.GroupEngagement
		}
		switch c.Name {
		case "email":
			cs.Derive = features.DeriveEmailDomain
		case "job_title":
			cs.Derive = features.DeriveTitleSeniority
		case "last_activity_at":
			cs.Derive = features.DeriveRecency
		}
		spec.Columns = append(spec.Columns, cs)
	}
	enc, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	// Rates of derived properties are tabled by class, as train does.
	rated := &features.Frame{}
	for _, col := range f.Columns {
		cs := spec.Column(col.Name)
		if cs == nil || col.Kind != features.KindCategory || (cs.Derive != features.DeriveEmailDomain && cs.Derive != features.DeriveTitleSeniority) {
			rated.Columns = append(rated.Columns, col)
			continue
		}
		d := *col
		d.Str = make([]string, len(col.Str))
		for i, s := range col.Str {
			d.Str[i] = features.DerivedClass(cs.Derive, s)
		}
		rated.Columns = append(rated.Columns, &d)
	}
	rates, err := features.ComputeRates(rated, labels, features.RateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	w := make([]float64, enc.Width())
	base := make([]float64, enc.Width())
	for j := range w {
		w[j] = rng.NormFloat64()
		base[j] = rng.Float64()
	}
	a := &Artifact{
		Format: FormatVersion, Name: "bench", Spec: spec, Encoder: enc, Intercept: -2, Weights: w,
		Baseline: base, Tiers: [3]float64{0.1, 0.2, 0.4}, FitCuts: [3]float64{-1, 0, 1},
		EngagementCuts: [3]float64{-1, 0, 1}, Rates: rates,
	}
	if err := a.Validate(); err != nil {
		tb.Fatal(err)
	}
	return a, f
}
