package compare

import (
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/metrics"
	"github.com/leadscore/leadscore/train/suggest"
)

// MaxDisagreements is how many contacts each disagreement list shows.
const MaxDisagreements = 10

// shownReasons and shownHits bound each side's explanation of a disagreement.
const (
	shownReasons = 3
	shownHits    = 4
)

// z95 is the standard normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// Report is a predictive model and a manual points score judged side by side on the same closed
// contacts. Contacts an exclusion of the rules leaves unscored are left out of both sides and counted
// in Excluded, so that both scores rank exactly the same contacts.
type Report struct {
	Model   string // the model's name
	Version int    // the model's version in the store, 0 if unknown
	Rules   string // the rules file's name
	// Source says which contacts were compared, for people ("holdout of contacts.parquet"); Build
	// leaves it empty for the caller to fill.
	Source string
	AsOf   time.Time // the scoring time of time-based rules and recency features
	// IDColumn is the frame's identifier column (from the model's spec), empty when it has none.
	IDColumn string

	// Given is the number of rows passed to Build; Open of them were skipped as still open.
	Given, Open int
	// Contacts and Customers count the compared contacts: closed and scored by both.
	Contacts, Customers int
	Rate                float64 // Customers / Contacts

	Headline Headline
	// Gains has one point per percent of contacts called, 0 to 100, best-ranked first.
	Gains []GainPoint
	// Deciles are the ten tenths of the contacts ranked by each score (see metrics.Deciles).
	PredictiveDeciles, ManualDeciles []models.Decile
	// Calibration compares the predicted probability with the observed rate in ten bins; ECE is the
	// expected calibration error over them.
	Calibration []models.CalibrationBin
	ECE         float64

	Tiers  []Group // VERY_HIGH, HIGH, MEDIUM, LOW
	Stages []Group // SQL, MQL, LEAD
	// Agreement crosses the predictive tier (rows) with the manual stage (columns).
	Agreement *Matrix
	// SQLButLow and VeryHighButLead are the contacts where the scores disagree most.
	SQLButLow, VeryHighButLead Disagreements
	// FitEngagement is the fit grade (rows A-D) x engagement level (columns 1-4) heat map of each
	// score; Manual is nil when the rules set no fit grades or engagement levels.
	PredictiveFitEngagement, ManualFitEngagement *Matrix
	// HeatMax is the conversion rate drawn hottest in the heat maps (the highest rate among their cells
	// with at least heatMinContacts contacts).
	HeatMax float64

	Excluded Excluded
	// RateTables are the model's conversion-rate tables (from its training rows), strongest first,
	// with each column's single-column AUC from the model's leakage audit.
	RateTables []RateTable
	// RatesOverall is the model's overall training conversion rate; zero without rate tables.
	RatesOverall features.RateReport
	// Suggested, if not nil (see AddSuggested), is a rules file derived from the model.
	Suggested *Suggested

	compared []int // the rows of the compared contacts, in Build's order
}

// Suggested is a points rules file suggested from the model (suggest.FromModel), judged on the same
// contacts as the two scores.
type Suggested struct {
	YAML     string
	AUC      float64 // of the suggested points on the compared contacts
	MQL, SQL float64 // its thresholds
	// Top20 is the share of customers found in the top 20% of contacts by the suggested points.
	Top20 float64
}

// AddSuggested scores the compared contacts (closed and not excluded by the manual rules, the same
// contacts both scores are judged on) with suggested rules and attaches them to the report. f and
// labels must be those given to Build.
func (r *Report) AddSuggested(s *suggest.Suggestion, f *features.Frame, labels []features.Label) {
	var scores []float64
	var y []bool
	for _, i := range r.compared {
		scores = append(scores, s.Rules.Summary(f.Contact(i, ""), r.AsOf).Total)
		y = append(y, labels[i] == features.Won)
	}
	sug := &Suggested{YAML: string(s.YAML), AUC: metrics.AUC(scores, y), MQL: s.MQL, SQL: s.SQL}
	if d := metrics.Deciles(scores, y); len(d) > 1 {
		sug.Top20 = d[1].CumGain
	}
	r.Suggested = sug
}

// Headline is the comparison in a few numbers and one plain sentence.
type Headline struct {
	Predictive, Manual Side
	Sentence           string // "Calling the top 20% by the predictive score reaches 61% of customers; by the manual score, 38%."
	TierSentence       string // the conversion rates of the top tier and the top stage, in words
}

// Side is one score's headline numbers.
type Side struct {
	Name string // "predictive" or "manual"
	AUC  float64
	// Top10 and Top20 are the shares of all customers among the best-ranked 10% and 20% of contacts;
	// Top10Customers and Top20Customers count them (see GainPoint for ties).
	Top10, Top20                   float64
	Top10Customers, Top20Customers int
	// TopTier is the contacts of the score's top tier: VERY_HIGH for the predictive score, SQL for
	// the manual one.
	TopTier Group
}

// GainPoint is the cumulative gain and lift of both scores after calling the best-ranked Percent% of
// the contacts (Contacts of them). Contacts tied on a score that straddles the cut count with the
// share of their customers that falls above it, rounded half up: the expected count under a random
// order among the tied contacts, as metrics.Deciles counts them.
type GainPoint struct {
	Percent                              int
	Contacts                             int
	PredictiveCustomers, ManualCustomers int
	PredictiveGain, ManualGain           float64 // share of all customers reached
	PredictiveLift, ManualLift           float64 // gain over the share of contacts called; 0 at 0%
}

// Group is a set of contacts with how many became customers.
type Group struct {
	Name                string
	Contacts, Customers int
	// Share is Contacts over all compared contacts; Rate is Customers / Contacts with its 95% Wilson
	// interval [Lower, Upper]. All zero for an empty group.
	Share, Rate, Lower, Upper float64
}

// Cell is one cell of a matrix.
type Cell struct {
	Contacts, Customers int
	Rate                float64 // 0 for an empty cell
}

// Matrix counts contacts and customers by two categorisations.
type Matrix struct {
	Title      string
	RowTitle   string
	ColTitle   string
	Rows, Cols []string
	Cells      [][]Cell // [row][col]
	// RowTotals and ColTotals sum the cells of each row and column.
	RowTotals, ColTotals []Cell
}

// Disagreements is one kind of disagreement: how many contacts have it and the strongest of them.
type Disagreements struct {
	Group                // Name says which kind, for example "Manual SQL, predictive LOW"
	Shown []Disagreement // at most MaxDisagreements
}

// Disagreement is a contact the two scores judge very differently.
type Disagreement struct {
	Row         int // index in the frame
	ID          string
	Won         bool
	Probability float64
	Priority    string
	Points      float64 // the manual total
	Stage       string
	// Reasons are the predictive reasons pointing the model's way (lowering a LOW contact's score,
	// raising a VERY_HIGH one's); Hits are the manual rules that gave or took points, largest first.
	Reasons []models.Reason
	Hits    []rules.Hit
}

// Excluded is the contacts an exclusion of the rules left unscored.
type Excluded struct {
	Group
	ByRule []Group // one per exclusion that matched, in the rules' order
}

// RateTable is one of the model's conversion-rate tables with its column's single-column AUC.
type RateTable struct {
	features.RateTable
	AUC float64 // 0 when the audit has no entry for the column
}
