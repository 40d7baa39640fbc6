package compare_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/leadscore/leadscore/train/compare"
)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll() // also checks every line has the header's width
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func TestWriteCSV(t *testing.T) {
	rep := mustFixture(t).report
	dir := filepath.Join(t.TempDir(), "out")
	if err := rep.WriteCSV(dir); err != nil {
		t.Fatal(err)
	}
	tables := map[string][][]string{}
	for _, name := range compare.CSVFiles {
		tables[name] = readCSV(t, filepath.Join(dir, name))
		if len(tables[name]) == 0 {
			t.Errorf("%s is empty, want at least a header", name)
		}
	}
	wantRows := map[string]int{ // data lines, header excluded
		"headline.csv":                  2,
		"gains.csv":                     101,
		"deciles.csv":                   10,
		"calibration.csv":               10,
		"tiers.csv":                     4,
		"stages.csv":                    3,
		"agreement.csv":                 12,
		"fit_engagement_predictive.csv": 16,
		"fit_engagement_manual.csv":     16,
		"disagreements.csv":             len(rep.SQLButLow.Shown) + len(rep.VeryHighButLead.Shown),
		"excluded.csv":                  len(rep.Excluded.ByRule),
	}
	for name, want := range wantRows {
		if got := len(tables[name]) - 1; got != want {
			t.Errorf("%s has %d data lines, want %d", name, got, want)
		}
	}
	rateRows := 0
	for _, tab := range rep.RateTables {
		rateRows += len(tab.Rows)
	}
	if got := len(tables["rates.csv"]) - 1; got != rateRows || rateRows == 0 {
		t.Errorf("rates.csv has %d data lines, want %d (> 0)", got, rateRows)
	}

	head := tables["headline.csv"]
	for k, side := range []compare.Side{rep.Headline.Predictive, rep.Headline.Manual} {
		row := head[k+1]
		auc, err := strconv.ParseFloat(row[3], 64)
		if err != nil || row[0] != side.Name || auc != side.AUC || row[6] != strconv.Itoa(side.Top20Customers) || row[8] != side.TopTier.Name {
			t.Errorf("headline.csv line %v, want %s with AUC %v, %d in the top 20%%, top tier %s", row, side.Name, side.AUC, side.Top20Customers, side.TopTier.Name)
		}
	}
	for k, g := range rep.Stages {
		row := tables["stages.csv"][k+1]
		rate, err := strconv.ParseFloat(row[4], 64)
		if err != nil || row[0] != g.Name || row[1] != strconv.Itoa(g.Contacts) || row[3] != strconv.Itoa(g.Customers) || rate != g.Rate {
			t.Errorf("stages.csv line %v, want %s %d contacts %d customers rate %v", row, g.Name, g.Contacts, g.Customers, g.Rate)
		}
	}
	cell := rep.Agreement.Cells[0][0]
	if row := tables["agreement.csv"][1]; row[0] != "VERY_HIGH" || row[1] != "SQL" || row[2] != strconv.Itoa(cell.Contacts) || row[3] != strconv.Itoa(cell.Customers) {
		t.Errorf("agreement.csv first line %v, want VERY_HIGH,SQL,%d,%d", row, cell.Contacts, cell.Customers)
	}
}
