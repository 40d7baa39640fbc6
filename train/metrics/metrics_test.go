package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/leadscore/leadscore/models"
)

const handTol = 1e-12

// clipHigh is 1-1e-15 rounded to float64, a variable so that 1-clipHigh is float64 arithmetic.
var clipHigh = 1 - 1e-15

func bools(s string) []bool {
	b := make([]bool, len(s))
	for i, c := range s {
		b[i] = c == '1'
	}
	return b
}

func close(a, b, tol float64) bool {
	return a == b || math.Abs(a-b) <= tol || (math.IsNaN(a) && math.IsNaN(b))
}

// TestRankingHand checks AUC, average precision and the F1-best threshold on cases computed by hand.
func TestRankingHand(t *testing.T) {
	tests := []struct {
		name      string
		scores    []float64
		y         []bool
		auc, ap   float64
		threshold float64
		conf      models.Confusion
	}{
		{
			// Positive-negative pairs: 0.9>0.8, 0.9>0.6, 0.7<0.8, 0.7>0.6, so AUC = 3/4.
			// AP: at 0.9 precision 1 and recall 1/2, at 0.7 precision 2/3 and recall 1:
			// 1/2*1 + 1/2*2/3 = 5/6. F1 by threshold: 0.9: 2/3, 0.8: 1/2, 0.7: 4/5, 0.6: 2/3.
			name: "distinct", scores: []float64{0.9, 0.8, 0.7, 0.6}, y: bools("1010"),
			auc: 0.75, ap: 5.0 / 6, threshold: 0.7,
			conf: models.Confusion{TP: 2, FP: 1, TN: 1, FN: 0, Precision: 2.0 / 3, Recall: 1, F1: 0.8},
		},
		{
			// Integer points with ties. Positives score 2 and 1, negatives 2, 1, 0. Pairs:
			// 2 vs (2,1,0) = 1/2+1+1, 1 vs (2,1,0) = 0+1/2+1, so AUC = 4/6.
			// AP: at 2 precision 1/2 and recall 1/2, at 1 precision 1/2 and recall 1: 1/2.
			// F1: at 2, 2*1/(2+1+1) = 1/2; at 1, 2*2/(4+2+0) = 2/3; at 0, 4/(4+3) = 4/7.
			name: "points with ties", scores: []float64{2, 2, 1, 1, 0}, y: bools("10100"),
			auc: 4.0 / 6, ap: 0.5, threshold: 1,
			conf: models.Confusion{TP: 2, FP: 2, TN: 1, FN: 0, Precision: 0.5, Recall: 1, F1: 2.0 / 3},
		},
		{
			// One score for all: every pair ties (AUC 1/2), one threshold with precision 2/5.
			name: "all tied", scores: []float64{3, 3, 3, 3, 3}, y: bools("01010"),
			auc: 0.5, ap: 0.4, threshold: 3,
			conf: models.Confusion{TP: 2, FP: 3, Precision: 0.4, Recall: 1, F1: 4.0 / 7},
		},
		{
			// Reversed ranking: AUC 0. AP: the positive comes last, precision 1/3 at recall 1.
			name: "reversed", scores: []float64{0.1, 0.5, 0.9}, y: bools("100"),
			auc: 0, ap: 1.0 / 3, threshold: 0.1,
			conf: models.Confusion{TP: 1, FP: 2, Precision: 1.0 / 3, Recall: 1, F1: 0.5},
		},
		{
			name: "one class", scores: []float64{0.1, 0.5}, y: bools("00"),
			auc: math.NaN(), ap: math.NaN(), threshold: 0.5,
			conf: models.Confusion{FP: 1, TN: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AUC(tt.scores, tt.y); !close(got, tt.auc, handTol) {
				t.Errorf("AUC = %v, want %v", got, tt.auc)
			}
			if got := averagePrecision(tt.scores, tt.y); !close(got, tt.ap, handTol) {
				t.Errorf("averagePrecision = %v, want %v", got, tt.ap)
			}
			th, conf := bestF1(tt.scores, tt.y)
			if th != tt.threshold || conf.TP != tt.conf.TP || conf.FP != tt.conf.FP || conf.TN != tt.conf.TN ||
				conf.FN != tt.conf.FN || !close(conf.Precision, tt.conf.Precision, handTol) ||
				!close(conf.Recall, tt.conf.Recall, handTol) || !close(conf.F1, tt.conf.F1, handTol) {
				t.Errorf("bestF1 = %v, %+v; want %v, %+v", th, conf, tt.threshold, tt.conf)
			}
		})
	}
}

func TestProbabilityHand(t *testing.T) {
	tests := []struct {
		name         string
		p            []float64
		y            []bool
		logLoss, bri float64
	}{
		// -(ln 0.8 + ln 0.7)/2; ((0.2)^2 + (0.3)^2)/2.
		{name: "two rows", p: []float64{0.8, 0.3}, y: bools("10"), logLoss: -(math.Log(0.8) + math.Log(0.7)) / 2, bri: 0.065},
		// Certain and wrong: clipped to [1e-15, 1-1e-15], so -ln(1e-15) and -ln(1-(1-1e-15)); the
		// second is 34.5392, not 34.5388, because 1-1e-15 rounds in float64 (as in scikit-learn).
		{name: "clipped", p: []float64{0, 1}, y: bools("10"), logLoss: (-math.Log(1e-15) - math.Log(1-clipHigh)) / 2, bri: 1},
		{name: "no rows", p: nil, y: nil, logLoss: 0, bri: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LogLoss(tt.p, tt.y); !close(got, tt.logLoss, 1e-9) {
				t.Errorf("LogLoss = %v, want %v", got, tt.logLoss)
			}
			if got := Brier(tt.p, tt.y); !close(got, tt.bri, handTol) {
				t.Errorf("Brier = %v, want %v", got, tt.bri)
			}
		})
	}
}

func TestCalibrationHand(t *testing.T) {
	// Bin 0: {0.05} rate 0; bin 1: {0.15, 0.12} mean 0.135 rate 1/2; bin 9: {1.0, 0.95} mean 0.975
	// rate 1. ECE = 1/5*0.05 + 2/5*0.365 + 2/5*0.025 = 0.166.
	bins, ece := Calibration([]float64{0.05, 0.15, 0.12, 1.0, 0.95}, bools("01011"))
	if !close(ece, 0.166, handTol) {
		t.Errorf("ECE = %v, want 0.166", ece)
	}
	want := map[int]models.CalibrationBin{
		0: {Lo: 0, Hi: 0.1, Rows: 1, MeanProb: 0.05, Positives: 0, Rate: 0},
		1: {Lo: 0.1, Hi: 0.2, Rows: 2, MeanProb: 0.135, Positives: 1, Rate: 0.5},
		9: {Lo: 0.9, Hi: 1, Rows: 2, MeanProb: 0.975, Positives: 2, Rate: 1},
	}
	if len(bins) != Bins {
		t.Fatalf("%d bins, want %d", len(bins), Bins)
	}
	for k, b := range bins {
		w := want[k]
		if k != 0 && k != 1 && k != 9 {
			w = models.CalibrationBin{Lo: float64(k) / 10, Hi: float64(k+1) / 10}
		}
		if b.Rows != w.Rows || b.Positives != w.Positives || !close(b.Lo, w.Lo, handTol) || !close(b.Hi, w.Hi, handTol) ||
			!close(b.MeanProb, w.MeanProb, handTol) || !close(b.Rate, w.Rate, handTol) {
			t.Errorf("bin %d = %+v, want %+v", k, b, w)
		}
	}
}

func TestDecilesHand(t *testing.T) {
	t.Run("distinct", func(t *testing.T) {
		// Scores 20..1, positives at 20, 19, 18 and 10: overall rate 4/20. Decile 1 = {20, 19}: 2
		// positives, rate 1, lift 5, gain 2/4, cumulative lift (2/4)/(2/20) = 5. Decile 2 = {18, 17}:
		// 1 positive. Decile 6 = {10, 9}: 1 positive.
		scores := make([]float64, 20)
		y := make([]bool, 20)
		for i := range scores {
			scores[i] = float64(20 - i)
		}
		y[0], y[1], y[2], y[10] = true, true, true, true
		d := Deciles(scores, y)
		wantPos := []int{2, 1, 0, 0, 0, 1, 0, 0, 0, 0}
		for i, dec := range d {
			if dec.Decile != i+1 || dec.Rows != 2 || dec.Positives != wantPos[i] || dec.MinScore != float64(19-2*i) {
				t.Errorf("decile %d = %+v, want 2 rows, %d positives, min score %d", i+1, dec, wantPos[i], 19-2*i)
			}
		}
		if top := d[0]; top.Rate != 1 || !close(top.Lift, 5, handTol) || top.CumGain != 0.5 || !close(top.CumLift, 5, handTol) {
			t.Errorf("decile 1 = %+v, want rate 1, lift 5, gain 0.5, cumulative lift 5", top)
		}
		if last := d[9]; last.CumGain != 1 || !close(last.CumLift, 1, handTol) {
			t.Errorf("decile 10 = %+v, want gain 1 and cumulative lift 1", last)
		}
	})
	t.Run("one tie group", func(t *testing.T) {
		// Ten rows on one score, five positives: the cumulative positives at cut d are
		// round-half-up(5*d/10) = 1, 1, 2, 2, 3, 3, 4, 4, 5, 5.
		d := Deciles(make([]float64, 10), bools("1111100000"))
		var got []int
		for _, dec := range d {
			got = append(got, dec.Positives)
		}
		if want := []int{1, 0, 1, 0, 1, 0, 1, 0, 1, 0}; !slices.Equal(got, want) {
			t.Errorf("positives by decile %v, want %v", got, want)
		}
	})
	t.Run("fewer rows than deciles", func(t *testing.T) {
		d := Deciles([]float64{0.9, 0.1, 0.5}, bools("100"))
		rows, pos := 0, 0
		for _, dec := range d {
			rows += dec.Rows
			pos += dec.Positives
		}
		if rows != 3 || pos != 1 || d[9].CumGain != 1 {
			t.Errorf("deciles %+v: want 3 rows and 1 positive in all, gain 1 at the end", d)
		}
	})
}

// manualPoints returns integer scores 0..100 in steps of 5 (many ties, like a points score) with
// outcomes that rise with the score.
func manualPoints(seed uint64, n int) ([]float64, []bool) {
	rng := rand.New(rand.NewPCG(seed, seed))
	s := make([]float64, n)
	y := make([]bool, n)
	for i := range s {
		s[i] = float64(5 * rng.IntN(21))
		y[i] = rng.Float64() < 0.05+0.4*s[i]/100
	}
	return s, y
}

// TestTiesOrderFree checks that every ranking measure ignores the order of tied rows: shuffling the
// input changes nothing.
func TestTiesOrderFree(t *testing.T) {
	s, y := manualPoints(1, 997)
	want := Evaluate(s, y)
	rng := rand.New(rand.NewPCG(2, 2))
	for range 5 {
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i]; y[i], y[j] = y[j], y[i] })
		got := Evaluate(s, y)
		if !slices.Equal(got.Deciles, want.Deciles) || got.AUC != want.AUC || got.PRAUC != want.PRAUC ||
			got.Threshold != want.Threshold || got.Confusion != want.Confusion {
			t.Fatalf("shuffled input changed the result:\n got %+v\nwant %+v", got, want)
		}
	}
	rows, pos := 0, 0
	for _, d := range want.Deciles {
		rows += d.Rows
		pos += d.Positives
		if d.Rows < 99 || d.Rows > 100 {
			t.Errorf("decile %d has %d rows, want 99 or 100", d.Decile, d.Rows)
		}
	}
	if rows != want.Rows || pos != want.Positives {
		t.Errorf("deciles hold %d rows and %d positives, want %d and %d", rows, pos, want.Rows, want.Positives)
	}
}

func TestEvaluate(t *testing.T) {
	t.Run("consistent", func(t *testing.T) {
		p := []float64{0.9, 0.8, 0.7, 0.6, 0.2, 0.05}
		y := bools("101100")
		m := Evaluate(p, y)
		th, conf := bestF1(p, y)
		bins, ece := Calibration(p, y)
		if m.Rows != 6 || m.Positives != 3 || m.AUC != AUC(p, y) || m.PRAUC != averagePrecision(p, y) ||
			m.LogLoss != LogLoss(p, y) || m.Brier != Brier(p, y) || m.ECE != ece || m.Threshold != th ||
			m.Confusion != conf || !slices.Equal(m.Calibration, bins) || !slices.Equal(m.Deciles, Deciles(p, y)) ||
			m.Manual != nil {
			t.Errorf("Evaluate = %+v disagrees with the single measures", m)
		}
	})
	t.Run("one class encodes", func(t *testing.T) {
		m := Evaluate([]float64{0.2, 0.4}, bools("00"))
		if m.AUC != 0 || m.PRAUC != 0 {
			t.Errorf("AUC %v and PR-AUC %v, want 0 when undefined", m.AUC, m.PRAUC)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Errorf("json.Marshal: %v", err)
		}
	})
	t.Run("no rows", func(t *testing.T) {
		m := Evaluate(nil, nil)
		if m.Rows != 0 || m.Deciles != nil || m.Calibration != nil {
			t.Errorf("Evaluate(nil) = %+v, want the zero Metrics", m)
		}
	})
}

func TestPanics(t *testing.T) {
	tests := []struct {
		name string
		fn   func()
	}{
		{name: "length", fn: func() { AUC([]float64{1}, nil) }},
		{name: "NaN", fn: func() { Deciles([]float64{math.NaN()}, []bool{true}) }},
		{name: "log loss length", fn: func() { LogLoss([]float64{1}, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tt.fn()
		})
	}
}

func BenchmarkAUC(b *testing.B) {
	for _, n := range []int{1e4, 1e6} {
		rng := rand.New(rand.NewPCG(1, 1))
		p := make([]float64, n)
		y := make([]bool, n)
		for i := range p {
			p[i] = rng.Float64()
			y[i] = rng.Float64() < p[i]
		}
		b.Run("probabilities/rows="+map[int]string{1e4: "1e4", 1e6: "1e6"}[n], func(b *testing.B) {
			for b.Loop() {
				AUC(p, y)
			}
		})
		s, yy := manualPoints(1, n)
		b.Run("points/rows="+map[int]string{1e4: "1e4", 1e6: "1e6"}[n], func(b *testing.B) {
			for b.Loop() {
				AUC(s, yy)
			}
		})
	}
}

func BenchmarkEvaluate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	p := make([]float64, 1e5)
	y := make([]bool, len(p))
	for i := range p {
		p[i] = rng.Float64()
		y[i] = rng.Float64() < p[i]
	}
	for b.Loop() {
		Evaluate(p, y)
	}
}

// TestAUCOfCounts: the AUC of rows given by counts per score (scores repeated, in any order) is
// exactly the AUC of the rows written out one by one.
func TestAUCOfCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := range 20 {
		k := 1 + rng.IntN(30)
		scores, pos, neg := make([]float64, k), make([]int, k), make([]int, k)
		var rowScores []float64
		var rowY []bool
		for g := range k {
			scores[g] = float64(rng.IntN(8)) / 8 // repeats on purpose
			pos[g], neg[g] = rng.IntN(5), rng.IntN(5)
			for range pos[g] {
				rowScores, rowY = append(rowScores, scores[g]), append(rowY, true)
			}
			for range neg[g] {
				rowScores, rowY = append(rowScores, scores[g]), append(rowY, false)
			}
		}
		got, want := AUCOfCounts(scores, pos, neg), AUC(rowScores, rowY)
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("trial %d: AUCOfCounts = %v, AUC of the rows = %v", trial, got, want)
		}
	}
}
