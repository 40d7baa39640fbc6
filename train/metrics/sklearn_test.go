package metrics

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/leadscore/leadscore/internal/sklearntest"
)

var update = flag.Bool("update", false, "rewrite testdata/sklearn_metrics.json from scikit-learn (needs /usr/bin/python3 with sklearn)")

const (
	metricsScript = "metrics_check.py"
	metricsGolden = "testdata/sklearn_metrics.json"
	// sklearnTol allows for summation order only: both sides compute the same sums in float64.
	sklearnTol = 1e-12
)

type sklearnValues struct {
	Version          string   `json:"sklearn"`
	AUC              float64  `json:"auc"`
	AveragePrecision float64  `json:"average_precision"`
	LogLoss          *float64 `json:"log_loss,omitempty"`
	Brier            *float64 `json:"brier,omitempty"`
}

type sklearnCase struct {
	Name          string        `json:"name"`
	Probabilities bool          `json:"probabilities"`
	CSVSHA256     string        `json:"csv_sha256"`
	Sklearn       sklearnValues `json:"sklearn"`
}

type sklearnGolden struct {
	Command string        `json:"command"`
	Cases   []sklearnCase `json:"cases"`
}

func sklearnCases() []sklearnCase {
	return []sklearnCase{
		{Name: "probabilities", Probabilities: true},
		{Name: "points"},
	}
}

// sklearnData returns the scores of a case and their CSV. "probabilities" are 3000 miscalibrated
// probabilities rounded to 3 decimals (so with ties), with some exactly 0 and 1 to exercise
// clipping; "points" are 3000 integer manual scores 0..100 in steps of 5.
func sklearnData(c sklearnCase) ([]float64, []bool, []byte) {
	var s []float64
	var y []bool
	if c.Probabilities {
		rng := rand.New(rand.NewPCG(7, 7))
		for i := range 3000 {
			z := 1.5*rng.NormFloat64() - 1
			p := math.Round(1000/(1+math.Exp(-z))) / 1000
			switch i % 500 {
			case 0:
				p = 0
			case 1:
				p = 1
			}
			s = append(s, p)
			y = append(y, rng.Float64() < 0.1+0.8*p)
		}
	} else {
		s, y = manualPoints(3, 3000)
	}
	var b bytes.Buffer
	b.WriteString("score,y\n")
	for i, v := range s {
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		if y[i] {
			b.WriteString(",1\n")
		} else {
			b.WriteString(",0\n")
		}
	}
	return s, y, b.Bytes()
}

func runSklearn(t *testing.T, c sklearnCase, csv []byte) sklearnValues {
	t.Helper()
	args := []string{"--data", sklearntest.WriteTemp(t, "scores.csv", csv)}
	if c.Probabilities {
		args = append(args, "--probabilities")
	}
	var v sklearnValues
	sklearntest.Run(t, &v, metricsScript, args...)
	return v
}

func compareSklearn(t *testing.T, s []float64, y []bool, want sklearnValues) {
	t.Helper()
	check := func(name string, got, exp float64) {
		t.Helper()
		if math.Abs(got-exp) > sklearnTol {
			t.Errorf("%s = %.17g, sklearn %s gives %.17g", name, got, want.Version, exp)
		} else {
			t.Logf("%s = %.17g, sklearn %s %.17g", name, got, want.Version, exp)
		}
	}
	check("AUC", AUC(s, y), want.AUC)
	check("averagePrecision", averagePrecision(s, y), want.AveragePrecision)
	if want.LogLoss != nil {
		check("LogLoss", LogLoss(s, y), *want.LogLoss)
	}
	if want.Brier != nil {
		check("Brier", Brier(s, y), *want.Brier)
	}
}

// TestSklearnGolden compares with scikit-learn's roc_auc_score, average_precision_score,
// log_loss and brier_score_loss stored in testdata (written by scripts/sklearn/metrics_check.py;
// see testdata/README), so that it runs without Python.
func TestSklearnGolden(t *testing.T) {
	if *update {
		if err := sklearntest.Available(); err != nil {
			t.Fatalf("-update needs scikit-learn: %s -c 'import sklearn' fails (%v; apt-get install python3-sklearn)", sklearntest.Python, err)
		}
		g := sklearnGolden{Command: "go test ./train/metrics -run TestSklearnGolden -update"}
		for _, c := range sklearnCases() {
			_, _, csv := sklearnData(c)
			sum := sha256.Sum256(csv)
			c.CSVSHA256 = hex.EncodeToString(sum[:])
			c.Sklearn = runSklearn(t, c, csv)
			g.Cases = append(g.Cases, c)
		}
		data, err := json.MarshalIndent(g, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(metricsGolden, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(metricsGolden)
	if err != nil {
		t.Fatal(err)
	}
	var g sklearnGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != len(sklearnCases()) {
		t.Fatalf("%s has %d cases, want %d; regenerate with: %s", metricsGolden, len(g.Cases), len(sklearnCases()), g.Command)
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			s, y, csv := sklearnData(c)
			sum := sha256.Sum256(csv)
			if got := hex.EncodeToString(sum[:]); got != c.CSVSHA256 {
				t.Fatalf("the test scores changed (sha256 %s, golden %s); regenerate with: %s", got, c.CSVSHA256, g.Command)
			}
			compareSklearn(t, s, y, c.Sklearn)
		})
	}
}

// TestSklearnLive runs scikit-learn itself; it is skipped when /usr/bin/python3 has no sklearn.
func TestSklearnLive(t *testing.T) {
	sklearntest.Require(t, "TestSklearnGolden still compares with stored values")
	for _, c := range sklearnCases() {
		t.Run(c.Name, func(t *testing.T) {
			s, y, csv := sklearnData(c)
			compareSklearn(t, s, y, runSklearn(t, c, csv))
		})
	}
}
