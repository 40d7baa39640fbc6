package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train/dataset"
)

// This file turns a generated frame into the shapes real CRM exports take (issue 10): the outcome in a
// second file, text placeholders and non-finite numbers, city names outside ASCII for a Latin-1
// export. Each keeps the contacts and their truth; only the form changes.

// Placeholders are the form placeholders and missing-value spellings AddPlaceholders writes.
var Placeholders = []string{"Select", "none", "-", "unknown", "N/A", "NULL"}

// AddPlaceholders replaces about share of the values of the category columns industry, country and
// source with a form placeholder, and of the number columns employees and visits with NaN or an
// infinity, the way exports from web forms and spreadsheets hold "no value". The frame is changed in
// place; a reader that treats placeholders and non-finite numbers as missing recovers Generate's
// columns with those values missing.
func AddPlaceholders(f *features.Frame, share float64, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x706c6163))
	for _, name := range []string{"industry", "country", "source"} {
		if c := f.Column(name); c != nil && c.Kind == features.KindCategory {
			for i := range c.Str {
				if rng.Float64() < share {
					c.Str[i], c.Valid[i] = Placeholders[rng.IntN(len(Placeholders))], true
				}
			}
		}
	}
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, name := range []string{"employees", "visits"} {
		if c := f.Column(name); c != nil && c.Kind == features.KindNumber {
			for i := range c.Num {
				if rng.Float64() < share {
					c.Num[i], c.Valid[i] = specials[rng.IntN(len(specials))], true
				}
			}
		}
	}
}

// Cities are the values of the column AddCity adds: most are not ASCII, so that a Latin-1 export
// differs from UTF-8.
var Cities = []string{"Köln", "München", "Zürich", "Málaga", "São Paulo", "Göteborg", "Besançon", "Berlin"}

// AddCity adds the column city, drawn from Cities independently of the outcome.
func AddCity(f *features.Frame, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x63697479))
	n := f.Len()
	c := features.NewColumn("city", features.KindCategory, n)
	for i := range n {
		c.Str[i], c.Valid[i] = Cities[rng.IntN(len(Cities))], true
	}
	f.Columns = append(f.Columns, c)
}

// SplitOutcomes splits f into the two exports of a CRM that keeps leads and closed deals apart: the
// contacts without their outcome (and without lifecycle_stage and close_date, which state it), and
// the won deals keyed by contact_id with columns of their own (deal_amount, deal_owner, close_date)
// that must never reach a model. Lost and open contacts are in no deal file, as in a CRM where only
// customers become deals.
func SplitOutcomes(f *features.Frame, seed uint64) (contacts, deals *features.Frame, err error) {
	ids, stage := f.Column("contact_id"), f.Column(LabelColumn)
	if ids == nil || stage == nil {
		return nil, nil, fmt.Errorf("%w: SplitOutcomes needs contact_id and %s", ErrConfig, LabelColumn)
	}
	contacts = &features.Frame{}
	for _, c := range f.Columns {
		switch c.Name {
		case LabelColumn, "lifecycle_stage", "close_date":
		default:
			contacts.Columns = append(contacts.Columns, c)
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x6465616c))
	id := &features.Column{Name: "contact_id", Kind: features.KindCategory}
	amount := &features.Column{Name: "deal_amount", Kind: features.KindNumber}
	owner := &features.Column{Name: "deal_owner", Kind: features.KindCategory}
	closed := &features.Column{Name: "close_date", Kind: features.KindTime}
	closeDates := f.Column("close_date")
	for i := range f.Len() {
		if !stage.Valid[i] || stage.Str[i] != StageWon {
			continue
		}
		id.Str, id.Valid = append(id.Str, ids.Str[i]), append(id.Valid, true)
		amount.Num, amount.Valid = append(amount.Num, float64(1000+rng.IntN(50000))), append(amount.Valid, true)
		owner.Str, owner.Valid = append(owner.Str, fmt.Sprintf("rep%02d", rng.IntN(12))), append(owner.Valid, true)
		var t float64
		ok := closeDates != nil && closeDates.Valid[i]
		if ok {
			t = closeDates.Num[i]
		}
		closed.Num, closed.Valid = append(closed.Num, t), append(closed.Valid, ok)
	}
	deals = &features.Frame{Columns: []*features.Column{id, amount, owner, closed}}
	return contacts, deals, nil
}

// Export is a generated contacts file in the shape of a real CRM export, as `leadscore generate`
// writes it.
type Export struct {
	Config               // the contacts
	Out          string  // the contacts file: .parquet, .csv or .tsv (see dataset.WriteFile)
	OutcomesOut  string  // if set, the won deals are written apart here (SplitOutcomes) and the outcome left out of Out
	Encoding     string  // if set, Out (text) is written in this encoding (dataset.Transcode), with a city column (AddCity)
	Placeholders float64 // share of values replaced by placeholders and non-finite numbers (AddPlaceholders)
}

// Counts are a generated file's contacts by outcome.
type Counts struct {
	Rows, Won, Lost, Open int
}

// String says the counts for people: "30 won, 60 lost, 10 open (33.3% of closed won)".
func (c Counts) String() string {
	rate := math.NaN()
	if c.Won+c.Lost > 0 {
		rate = 100 * float64(c.Won) / float64(c.Won+c.Lost)
	}
	return fmt.Sprintf("%d won, %d lost, %d open (%.1f%% of closed won)", c.Won, c.Lost, c.Open, rate)
}

// WriteExport generates e's contacts and writes its files. It returns the contacts by outcome, which
// Out holds even when the outcome is written apart. A write error is dataset's (ErrFormat for an
// unknown extension).
func WriteExport(e Export) (Counts, error) {
	full, err := Generate(e.Config)
	if err != nil {
		return Counts{}, err
	}
	f := full
	if e.Placeholders > 0 {
		AddPlaceholders(f, e.Placeholders, e.Seed)
	}
	if e.Encoding != "" {
		AddCity(f, e.Seed)
	}
	if e.OutcomesOut != "" {
		contacts, deals, err := SplitOutcomes(f, e.Seed)
		if err != nil {
			return Counts{}, err
		}
		if err := dataset.WriteFile(e.OutcomesOut, deals); err != nil {
			return Counts{}, err
		}
		f = contacts
	}
	if err := dataset.WriteFile(e.Out, f); err != nil {
		return Counts{}, err
	}
	if e.Encoding != "" {
		if err := dataset.Transcode(e.Out, e.Encoding); err != nil {
			return Counts{}, err
		}
	}
	c := Counts{Rows: full.Len()}
	for _, s := range full.Column(LabelColumn).Str {
		switch s {
		case StageWon:
			c.Won++
		case StageLost:
			c.Lost++
		case StageOpen:
			c.Open++
		}
	}
	return c, nil
}
