package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeJoinFixture writes contacts (lead_id, created, source, visits, city in Latin-1) and, apart,
// the closed deals of the converted ones (lead_id, amount, owner): the export pair of issue 10's
// case 5. Contacts of the last 30 days that did not convert are still open.
func writeJoinFixture(t *testing.T, dir string) (contacts, deals string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 3))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var c, d strings.Builder
	c.WriteString("lead_id,created,source,visits,city\n")
	d.WriteString("lead_id,amount,owner\n")
	sources := []string{"Web", "Referral", "Event", "Select"}
	cities := []string{"K\xf6ln", "M\xfcnchen", "Berlin"}
	for i := range 600 {
		src := sources[rng.IntN(4)]
		visits := rng.IntN(12)
		p := 0.05 + 0.03*float64(visits)
		if src == "Referral" {
			p += 0.25
		}
		fmt.Fprintf(&c, "%d,%s,%s,%d,%s\n", 1000+i, start.AddDate(0, 0, i/3).Format("2006-01-02"), src, visits, cities[rng.IntN(3)])
		if rng.Float64() < p {
			fmt.Fprintf(&d, "%d,%d,owner%d\n", 1000+i, 1000+rng.IntN(9000), rng.IntN(5))
		}
	}
	contacts, deals = filepath.Join(dir, "leads.csv"), filepath.Join(dir, "deals.csv")
	if err := os.WriteFile(contacts, []byte(c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(deals, []byte(d.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return contacts, deals
}

// TestTrainOutcomesFile trains with the outcome joined from a second file: only the outcome crosses
// the join (the deals' amount and owner never reach the model), the Latin-1 city is decoded and said,
// and the placeholder "Select" is a missing source.
func TestTrainOutcomesFile(t *testing.T) {
	dir := t.TempDir()
	contacts, deals := writeJoinFixture(t, dir)
	store := filepath.Join(dir, "models")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"train", "--data", contacts, "--outcomes", deals, "--key", "lead_id",
		"--time-column", "created", "--outcome-window", "720h", "--models", store, "--name", "leads", "--c", "1",
		"--min-class", "10", "--quiet", "--allow", "source,visits,city"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("train: %v\nstderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "is not UTF-8; read it as windows-1252") {
		t.Errorf("stderr %q does not say the file was decoded", stderr.String())
	}
	a, err := loadStored(store, "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range a.Spec.Columns {
		if c.Name == "amount" || c.Name == "owner" {
			t.Errorf("the deals file's column %q reached the model's spec", c.Name)
		}
	}
	if a.Spec.Label != "outcome" || a.Provenance.Outcomes == nil || a.Provenance.Outcomes.Key != "lead_id" {
		t.Errorf("label %q, provenance outcomes %+v; want the joined outcome recorded", a.Spec.Label, a.Provenance.Outcomes)
	}
	if p := a.Provenance; p.Open == 0 || p.Won == 0 || p.Lost == 0 {
		t.Errorf("won %d, lost %d, open %d: want recent unconverted contacts open", p.Won, p.Lost, p.Open)
	}
	// The holdout is found again through the join (train.ModelData), so compare needs no --data.
	if err := run(context.Background(), []string{"compare", "--models", store, "--name", "leads", "--out", filepath.Join(dir, "report")},
		&stdout, &stderr); err != nil {
		t.Errorf("compare on the joined model's holdout: %v", err)
	}
	var levels []string
	for _, ce := range a.Encoder.Columns {
		if ce.Property == "city" || ce.Property == "source" {
			levels = append(levels, ce.Levels...)
		}
	}
	joined := strings.Join(levels, ",")
	if !strings.Contains(joined, "Köln") || strings.Contains(joined, "\ufffd") || strings.Contains(joined, "Select") {
		t.Errorf("levels %q: want Köln decoded and Select missing", levels)
	}
}
