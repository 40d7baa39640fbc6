package train_test

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/metrics"
	"github.com/leadscore/leadscore/train/suggest"
	"github.com/leadscore/leadscore/train/synth"
)

const shoppersCSV = "../../shared/data/uci-online-shoppers/online_shoppers_intention.csv"

// acceptanceSet is a data set the scorecard is judged on.
type acceptanceSet struct {
	name   string
	frame  *features.Frame
	labels []features.Label
	cfg    train.Config
	truth  string // column of true probabilities, if any
}

// acceptanceSets loads the generated contacts, the demo data and, when present, the two public
// data sets of the issue; it skips the missing ones with a message.
func acceptanceSets(t *testing.T) []acceptanceSet {
	t.Helper()
	var sets []acceptanceSet
	f, labels := generated(t, 20000, 3)
	sets = append(sets, acceptanceSet{"generated", f, labels,
		train.Config{Label: synth.LabelColumn, TimeColumn: "created_at", Seed: 1, Exclude: []string{synth.TruthColumn}}, synth.TruthColumn})

	demo, err := dataset.ReadFile("../testdata/contacts.parquet", dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dl, _, err := dataset.Outcome{Column: synth.LabelColumn, Positive: []string{synth.StageWon}, Negative: []string{synth.StageLost}}.Labels(demo)
	if err != nil {
		t.Fatal(err)
	}
	var exclude []string
	if demo.Column(synth.TruthColumn) != nil {
		exclude = []string{synth.TruthColumn}
	}
	sets = append(sets, acceptanceSet{"demo", demo, dl, train.Config{Label: synth.LabelColumn, TimeColumn: "created_at", Seed: 1, Exclude: exclude}, ""})

	for _, d := range []struct {
		name, file, label, positive, exclude string
	}{
		{"bank", bankCSV, "y", "yes", "duration"},
		{"shoppers", shoppersCSV, "Revenue", "TRUE", "PageValues"},
	} {
		if _, err := os.Stat(d.file); err != nil {
			t.Logf("%s: data not found at %s; skipped", d.name, d.file)
			continue
		}
		f, err := dataset.ReadFile(d.file, dataset.ReadOptions{Kinds: map[string]features.Kind{d.label: features.KindCategory}})
		if err != nil {
			t.Fatal(err)
		}
		labels, _, err := dataset.Outcome{Column: d.label, Positive: []string{d.positive}}.Labels(f)
		if err != nil {
			t.Fatal(err)
		}
		sets = append(sets, acceptanceSet{d.name, f, labels, train.Config{Label: d.label, Seed: 1, Exclude: []string{d.exclude}}, ""})
	}
	return sets
}

// TestScorecardAcceptance is the acceptance check of issue 11 on generated contacts (with their
// truth), the demo data, and the bank and online-shoppers data when present. For both models, every
// holdout contact's reasons agree with the rates they quote and none quotes a rate within 10% of the
// overall rate. The default model, the scorecard, meets the bars on generated, bank and shoppers
// data: holdout AUC within 0.005 of the one-hot model's on the same split (and within 0.01 of the
// truth's on generated data) and calibration error under 0.02. The demo's holdout (848 rows) is too
// small for the calibration bar (a perfectly calibrated model's ECE there is 0.022 by chance, 95th
// percentile 0.034, as logged) and is held to the reasons bar alone. The scorecard's points follow
// every monotone rate, its unrounded points sheet gives its probabilities to 1e-9 and its suggested
// rules rank the holdout with Spearman >= 0.995. Logged for the table in the README: both models' AUC,
// ECE and its noise floor, largest opposite pair of contributions and suggested rules' Spearman.
func TestScorecardAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two models on each of four data sets")
	}
	for _, set := range acceptanceSets(t) {
		t.Run(set.name, func(t *testing.T) {
			cfg := set.cfg
			cfg.Model = "" // the default
			card, err := train.Train(context.Background(), set.frame, set.labels, cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Model = train.ModelOneHot
			hot, err := train.Train(context.Background(), set.frame, set.labels, cfg)
			if err != nil {
				t.Fatal(err)
			}
			a, d := card.Artifact, hot.Artifact
			if a.Scorecard == nil || d.Scorecard != nil {
				t.Fatal("the default model is not a scorecard, or the one-hot model is one")
			}
			t.Logf("scorecard AUC %.4f ECE %.4f; one-hot AUC %.4f ECE %.4f (%d holdout rows)",
				a.Metrics.AUC, a.Metrics.ECE, d.Metrics.AUC, d.Metrics.ECE, a.Metrics.Rows)
			logECEFloor(t, "scorecard", a, set.frame, card.HoldoutRows)
			logECEFloor(t, "one-hot", d, set.frame, hot.HoldoutRows)
			if set.name != "demo" {
				if gap := a.Metrics.AUC - d.Metrics.AUC; gap < -0.005 {
					t.Errorf("holdout AUC %.4f is %.4f below the one-hot model's %.4f; want within 0.005", a.Metrics.AUC, -gap, d.Metrics.AUC)
				}
				if a.Metrics.ECE >= 0.02 {
					t.Errorf("calibration error %.4f, want < 0.02", a.Metrics.ECE)
				}
			}
			if set.truth != "" {
				truth := set.frame.Column(set.truth)
				p := make([]float64, len(card.HoldoutRows))
				y := make([]bool, len(card.HoldoutRows))
				for r, i := range card.HoldoutRows {
					p[r], y[r] = truth.Num[i], set.labels[i] == features.Won
				}
				truthAUC := metrics.AUC(p, y)
				t.Logf("the true probabilities' holdout AUC %.4f", truthAUC)
				if diff := a.Metrics.AUC - truthAUC; math.Abs(diff) > 0.01 {
					t.Errorf("holdout AUC %.4f is %+.4f from the truth's; want within 0.01", a.Metrics.AUC, diff)
				}
			}
			checkHonestReasons(t, a, set.frame, card.HoldoutRows)
			checkHonestReasons(t, d, set.frame, hot.HoldoutRows)
			logOpposite(t, "scorecard", a, set.frame, card.HoldoutRows)
			logOpposite(t, "one-hot", d, set.frame, hot.HoldoutRows)
			checkMonotonePoints(t, a)
			checkPointsSheet(t, a, set.frame, card.HoldoutRows)
			if rho := suggestedRulesSpearman(t, a, set.frame, card.TrainRows, card.HoldoutRows); rho < 0.995 {
				t.Errorf("the scorecard's suggested rules rank the holdout with Spearman %.4f against the model, want >= 0.995", rho)
			}
			suggestedRulesSpearman(t, d, set.frame, hot.TrainRows, hot.HoldoutRows) // logged for the table
		})
	}
}

// checkHonestReasons predicts every row and checks every reason against the rate it quotes.
func checkHonestReasons(t *testing.T, a *models.Artifact, f *features.Frame, rows []int) {
	t.Helper()
	overall := a.Rates.Rate
	var reasons, bad int
	for _, i := range rows {
		p, err := a.Predict(f.Contact(i, ""), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var pos, neg int
		for _, r := range p.Reasons {
			reasons++
			if r.Contribution > 0 {
				pos++
			} else {
				neg++
			}
			gap := r.ConversionRate - overall
			if r.Contribution*gap <= 0 || math.Abs(gap) < 0.1*overall || r.Contacts == 0 {
				bad++
				if bad <= 5 {
					t.Errorf("row %d: reason %q (contribution %+.3f) quotes %.4f against %.4f overall", i, r.Text, r.Contribution, r.ConversionRate, overall)
				}
			}
		}
		if pos > 5 || neg > 5 {
			t.Errorf("row %d: %d raising and %d lowering reasons, want at most 5 each", i, pos, neg)
		}
	}
	t.Logf("%d reasons on %d contacts, %d dishonest", reasons, len(rows), bad)
	if reasons == 0 {
		t.Error("no reasons at all")
	}
}

// logECEFloor logs the calibration error a perfectly calibrated model would show on rows by chance:
// outcomes are drawn from a's own holdout probabilities (500 draws, seeded) and the ECE of the
// probabilities against them is measured as Train measures it. Its mean and 95th percentile are
// the noise floor against which a's ECE on a small holdout must be read.
func logECEFloor(t *testing.T, model string, a *models.Artifact, f *features.Frame, rows []int) {
	t.Helper()
	scores, err := a.ScoreFrame(f, rows, a.Spec.ReferenceTime)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, len(rows))
	for r, s := range scores {
		p[r] = s.Probability
	}
	const draws = 500
	rng := rand.New(rand.NewPCG(11, 11))
	eces := make([]float64, draws)
	y := make([]bool, len(p))
	mean := 0.0
	for k := range eces {
		for r, q := range p {
			y[r] = rng.Float64() < q
		}
		_, eces[k] = metrics.Calibration(p, y)
		mean += eces[k] / draws
	}
	slices.Sort(eces)
	t.Logf("%s: ECE noise floor on %d rows (outcomes drawn from its own probabilities, %d draws): mean %.4f, 95th percentile %.4f",
		model, len(rows), draws, mean, eces[draws*95/100])
}

// logOpposite logs the largest opposite pair of property contributions on rows: the contact and
// the two properties where the smaller of the strongest raising and the strongest lowering
// contribution is largest (collinear properties given large opposite weights show up here).
func logOpposite(t *testing.T, model string, a *models.Artifact, f *features.Frame, rows []int) {
	t.Helper()
	x, err := a.Encoder.EncodeFrame(f, rows, a.Spec.ReferenceTime)
	if err != nil {
		t.Fatal(err)
	}
	feats := a.Encoder.Features()
	w := len(feats)
	best, bestPos, bestNeg := 0.0, "", ""
	var pos, neg float64
	for r := range rows {
		sums := map[string]float64{}
		for j, v := range x[r*w : (r+1)*w] {
			sums[feats[j].Property] += a.Weights[j] * (v - a.Baseline[j])
		}
		hi, lo, hiName, loName := 0.0, 0.0, "", ""
		for p, v := range sums {
			if v > hi {
				hi, hiName = v, p
			}
			if v < lo {
				lo, loName = v, p
			}
		}
		if m := min(hi, -lo); m > best {
			best, bestPos, bestNeg, pos, neg = m, hiName, loName, hi, lo
		}
	}
	t.Logf("%s: largest opposite pair %+.2f %s / %+.2f %s (log-odds)", model, pos, bestPos, neg, bestNeg)
}

// checkMonotonePoints checks that the points of every number or time whose ranges' training rates
// are monotone rise or fall with them.
func checkMonotonePoints(t *testing.T, a *models.Artifact) {
	t.Helper()
	for _, pp := range a.Points().Properties {
		var bins []models.BinPoints
		for _, b := range pp.Bins {
			if b.Feature.Range() {
				bins = append(bins, b)
			}
		}
		up, down := len(bins) > 1, len(bins) > 1
		for i := 1; i < len(bins); i++ {
			p, q := bins[i-1], bins[i]
			up = up && p.Contacts > 0 && q.Contacts > 0 && p.Rate() <= q.Rate()
			down = down && p.Contacts > 0 && q.Contacts > 0 && p.Rate() >= q.Rate()
		}
		for i := 1; i < len(bins); i++ {
			p, q := bins[i-1].Points, bins[i].Points
			if up && q < p-1e-9 || down && !up && q > p+1e-9 {
				t.Errorf("%s: the rate is monotone (rising %v) but the points of %s and %s are %.3f and %.3f",
					pp.Property, up, bins[i-1].Feature.Name, bins[i].Feature.Name, p, q)
			}
		}
	}
}

// checkPointsSheet adds up each row's unrounded points and checks the probability they map to.
func checkPointsSheet(t *testing.T, a *models.Artifact, f *features.Frame, rows []int) {
	t.Helper()
	pts := a.Points()
	x, err := a.Encoder.EncodeFrame(f, rows, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	w := a.Encoder.Width()
	var points []float64
	for _, pp := range pts.Properties {
		for _, b := range pp.Bins {
			points = append(points, b.Points)
		}
	}
	scores, err := a.ScoreFrame(f, rows, a.Spec.ReferenceTime)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for r := range rows {
		score := pts.Base
		for j, v := range x[r*w : (r+1)*w] {
			score += v * points[j]
		}
		worst = max(worst, math.Abs(a.Scorecard.Probability(score)-scores[r].Probability))
	}
	if worst > 1e-9 {
		t.Errorf("the points sheet misses a probability by %.3g, want <= 1e-9", worst)
	}
}

// suggestedRulesSpearman turns a model into a rules file with suggest.FromModel and returns (and
// logs) the Spearman correlation of the rules engine's totals with the model's probabilities on the
// holdout.
func suggestedRulesSpearman(t *testing.T, a *models.Artifact, f *features.Frame, trainRows, hold []int) float64 {
	t.Helper()
	s, err := suggest.FromModel(a, f, trainRows, suggest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scores, err := a.ScoreFrame(f, hold, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	prob := make([]float64, len(hold))
	total := make([]float64, len(hold))
	for r, i := range hold {
		prob[r] = scores[r].Probability
		total[r] = s.Rules.Score(f.Contact(i, ""), a.Spec.ReferenceTime).Total
	}
	rho := stat.Correlation(ranks(prob), ranks(total), nil)
	model := "one-hot"
	if a.Scorecard != nil {
		model = "scorecard"
	}
	t.Logf("%s: suggested rules Spearman %.4f against the model on %d holdout contacts", model, rho, len(hold))
	return rho
}

// ranks returns the ranks of xs from 1, ties sharing their mean rank (as scipy.stats.rankdata).
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(xs[a], xs[b]) })
	out := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			out[idx[k]] = float64(i+j+1) / 2
		}
		i = j
	}
	return out
}
