package fit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/internal/sklearntest"
)

const (
	nonnegScript = "nonneg_check.py"
	nonnegGolden = "testdata/scipy_nonneg.json"
	// nonnegRows is the rows of the cross-checked term design (termProblem, seed 9).
	nonnegRows = 4000
	// nonnegTol is the agreement asked of the weights and intercept (absolute) with scipy's
	// L-BFGS-B; measured within 1.2e-5 (scipy 1.10.1; at C=100 that is L-BFGS-B's own accuracy, the
	// other penalties agree within 1.1e-6).
	nonnegTol = 1e-4
)

// nonnegC are the penalties cross-checked: strong, scikit-learn's default and weak.
var nonnegC = []float64{0.01, 1, 100}

// scipyOut is what scripts/sklearn/nonneg_check.py prints.
type scipyOut struct {
	Version string `json:"scipy"`
	Solver  string `json:"solver"`
	Fits    []struct {
		C         float64   `json:"C"`
		Intercept float64   `json:"intercept"`
		Coef      []float64 `json:"coef"`
	} `json:"fits"`
}

type scipyGolden struct {
	Command   string   `json:"command"`
	CSVSHA256 string   `json:"csv_sha256"`
	Scipy     scipyOut `json:"scipy"`
}

// nonnegData is the scorecard-shaped term design the cross-check fits: its bins, terms, the dense
// matrix of its terms, the outcome and that matrix as CSV.
func nonnegData() (bins []uint16, terms []Term, y []float64, csv []byte) {
	bins, terms, X, y := termProblem(9, nonnegRows)
	return bins, terms, y, matrixCSV(X, nonnegRows, len(terms), y, nil)
}

// runScipy runs scripts/sklearn/nonneg_check.py on csv at the penalties cs.
func runScipy(t *testing.T, csv []byte, cs []float64) scipyOut {
	t.Helper()
	path := sklearntest.WriteTemp(t, "terms.csv", csv)
	var list []string
	for _, c := range cs {
		list = append(list, strconv.FormatFloat(c, 'g', -1, 64))
	}
	var got scipyOut
	sklearntest.Run(t, &got, nonnegScript, "--data", path, "--C", strings.Join(list, ","))
	return got
}

// compareScipy fits the term design with FitNonNegative at each of want's penalties and compares
// with scipy's coefficients. The constraint must hold some weights at 0 in scipy's solution, or
// the check would not exercise it.
func compareScipy(t *testing.T, bins []uint16, terms []Term, y []float64, want scipyOut) {
	t.Helper()
	if len(want.Fits) != len(nonnegC) {
		t.Fatalf("scipy gave %d fits, want %d", len(want.Fits), len(nonnegC))
	}
	d := mustTermDesign(t, bins, terms, nonnegRows)
	for _, fw := range want.Fits {
		res, err := FitNonNegative(d, y, Options{C: fw.C})
		if err != nil {
			t.Fatalf("C=%v: %v", fw.C, err)
		}
		diff := math.Abs(res.Intercept - fw.Intercept)
		zeros := 0
		for j, v := range fw.Coef {
			diff = max(diff, math.Abs(res.Weights[j]-v))
			if v == 0 {
				zeros++
			}
		}
		t.Logf("C=%v vs scipy %s %s: max |diff| %.2g, %d of %d weights at 0, after %d iterations", fw.C, want.Version, want.Solver, diff, zeros, len(fw.Coef), res.Iterations)
		if diff > nonnegTol || len(fw.Coef) != len(terms) || !res.Converged {
			t.Errorf("C=%v: max |coefficient - scipy| = %g (converged %v), want <= %g\ngot  %v %v\nwant %v %v",
				fw.C, diff, res.Converged, nonnegTol, res.Intercept, res.Weights, fw.Intercept, fw.Coef)
		}
		if zeros == 0 {
			t.Errorf("C=%v: no weight at 0 in scipy's solution: the check does not exercise the constraint", fw.C)
		}
	}
}

// TestScipyNonNegative compares FitNonNegative on a scorecard-shaped term design (termProblem: rows
// stored as bins, columns the chained and single terms over them) with scipy's L-BFGS-B on the dense
// matrix of the same terms, the same penalty and the same bounds, an implementation that shares
// nothing with the Go solver. The expected values are stored in testdata so that it runs without
// Python; they came from scripts/sklearn/nonneg_check.py (see testdata/README).
func TestScipyNonNegative(t *testing.T) {
	bins, terms, y, csv := nonnegData()
	sum := sha256.Sum256(csv)
	if *update {
		if err := sklearntest.Available(); err != nil {
			t.Fatalf("-update needs scipy: %s -c 'import sklearn' fails (%v; apt-get install python3-sklearn python3-scipy)", sklearntest.Python, err)
		}
		g := scipyGolden{Command: "go test ./train/fit -run TestScipyNonNegative -update", CSVSHA256: hex.EncodeToString(sum[:]),
			Scipy: runScipy(t, csv, nonnegC)}
		data, err := json.MarshalIndent(g, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(nonnegGolden, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(nonnegGolden)
	if err != nil {
		t.Fatal(err)
	}
	var g scipyGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sum[:]); got != g.CSVSHA256 {
		t.Fatalf("the test design changed (sha256 %s, golden %s); regenerate with: %s", got, g.CSVSHA256, g.Command)
	}
	compareScipy(t, bins, terms, y, g.Scipy)
}

// TestScipyNonNegativeLive runs scipy itself on the same design; it is skipped when
// /usr/bin/python3 has no scikit-learn (which brings scipy).
func TestScipyNonNegativeLive(t *testing.T) {
	sklearntest.Require(t, "TestScipyNonNegative still compares with stored values")
	bins, terms, y, csv := nonnegData()
	compareScipy(t, bins, terms, y, runScipy(t, csv, nonnegC))
}
