package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train/dataset"
)

// valueTexts are raw texts of each kind, as real exports write them: times with a zone offset and a
// space, numbers with "Inf" and placeholders, flags in several spellings, categories in several cases.
var valueTexts = map[string][]string{
	"when":     {"2024-01-02 10:00:00+02:00", "2024-01-03", "2024-01-04T05:06:07Z", "2024-01-05 08:00:00", "2024-01-06 09:30:00.5", "N/A"},
	"amount":   {"1250.5", "Inf", "12", "N/A", "-3", " 7 "},
	"opted":    {"yes", "false", "TRUE", "", "No", "null"},
	"industry": {"Software", "software ", "Select", "Retail", "RETAIL", "unknown"},
}

// TestOneValueParser feeds the same strings through every path a value takes into a model (CSV reader,
// Parquet reader, the command line's JSON contact, the server's wire contact) and requires identical
// encodings: issue 10's "train and serve disagree" case, where a CSV column of
// "2024-01-02 10:00:00+02:00" trained as a time and the same string was refused by the server.
func TestOneValueParser(t *testing.T) {
	dir := t.TempDir()
	names := []string{"contact_id", "when", "amount", "opted", "industry", "outcome"}
	const n = 60
	rows := make([][]string, n)
	for i := range rows {
		outcome := "lost"
		if i%3 == 0 {
			outcome = "won"
		}
		rows[i] = []string{fmt.Sprintf("C%d", i), valueTexts["when"][i%6], valueTexts["amount"][(i/2)%6],
			valueTexts["opted"][(i/3)%6], valueTexts["industry"][(i/5)%6], outcome}
	}

	// CSV: the file as an export writes it.
	var csv strings.Builder
	csv.WriteString(strings.Join(names, ",") + "\n")
	for _, r := range rows {
		csv.WriteString(strings.Join(r, ",") + "\n")
	}
	csvPath := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fromCSV, err := dataset.ReadFile(csvPath, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]features.Kind{"when": features.KindTime, "amount": features.KindNumber, "opted": features.KindFlag, "industry": features.KindCategory} {
		if got := fromCSV.Column(name).Kind; got != want {
			t.Fatalf("CSV column %s read as %s, want %s", name, got, want)
		}
	}

	// Parquet: the same texts as string columns (a warehouse export that kept everything as text).
	textFrame := &features.Frame{}
	for j, name := range names {
		col := &features.Column{Name: name, Kind: features.KindCategory, Str: make([]string, n), Valid: make([]bool, n)}
		for i, r := range rows {
			col.Str[i], col.Valid[i] = r[j], true
		}
		textFrame.Columns = append(textFrame.Columns, col)
	}
	pqPath := filepath.Join(dir, "contacts.parquet")
	if err := dataset.WriteFile(pqPath, textFrame); err != nil {
		t.Fatal(err)
	}
	fromParquet, err := dataset.ReadFile(pqPath, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}

	spec := features.InferSpec(fromCSV, "outcome")
	for _, name := range []string{"when", "amount", "opted", "industry"} {
		c := spec.Column(name)
		c.Use, c.Reason = true, ""
		if c.Group == "" {
			c.Group = features.GroupFit
		}
	}
	enc, err := features.FitEncoder(spec, fromCSV, nil, features.EncoderOptions{MinCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	w := enc.Width()
	csvX, err := enc.EncodeFrame(fromCSV, nil, asOf)
	if err != nil {
		t.Fatal(err)
	}
	pqX, err := enc.EncodeFrame(fromParquet, nil, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(csvX, pqX) {
		t.Errorf("Parquet strings encode differently from the CSV file")
	}

	// JSON, as `predict --contact`, `rules test --contact` and the REST front take a contact.
	jsonContacts := make([]features.Contact, n)
	for i, r := range rows {
		obj := make(map[string]any)
		for j, name := range names[:5] {
			obj[name] = r[j]
		}
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if jsonContacts[i], err = features.ContactFromJSON(raw); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		got := make([]float64, w)
		if _, err := enc.EncodeContact(jsonContacts[i], asOf, got); err != nil {
			t.Fatalf("row %d: JSON contact: %v", i, err)
		}
		if want := csvX[i*w : (i+1)*w]; !slices.Equal(got, want) {
			t.Errorf("row %d %v: JSON encodes as %v, CSV as %v", i, r, got, want)
		}
	}

	// The server: a model with these columns, asked over gRPC with the JSON contacts' wire form.
	weights := make([]float64, w)
	for j := range weights {
		weights[j] = 0.25 * float64(j%7-3)
	}
	a := &models.Artifact{
		Format: models.FormatVersion, Spec: spec, Encoder: enc, Weights: weights, Baseline: make([]float64, w),
		Penalty: 1, Tiers: [3]float64{0.1, 0.25, 0.5}, FitCuts: [3]float64{-0.5, 0, 0.5}, EngagementCuts: [3]float64{-0.5, 0, 0.5},
		Metrics:    models.Metrics{Rows: n, Positives: n / 3, AUC: 0.7, PRAUC: 0.4, LogLoss: 0.6, Brier: 0.2},
		Provenance: models.Provenance{DataFile: csvPath, Rows: n, Label: "outcome", Split: "random", TrainedAt: asOf},
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	st := store.OpenDir(t.TempDir())
	if _, err := st.Publish(context.Background(), modelName, a); err != nil {
		t.Fatal(err)
	}
	srv := startInproc(t, st, time.Hour, serve.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		want, err := a.Predict(fromCSV.Contact(i, "contact_id"), asOf)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		pc := &leadscorev1.Contact{Id: jsonContacts[i].ID, Properties: map[string]*leadscorev1.Value{}}
		for name, v := range jsonContacts[i].Props {
			pc.Properties[name] = str(v.Str) // every JSON value here is a string
		}
		resp, err := srv.client.Predict(ctx, &leadscorev1.PredictRequest{Model: modelName, Contact: pc, AsOf: timestamppb.New(asOf)})
		if err != nil {
			t.Fatalf("row %d %v: server: %v", i, rows[i], err)
		}
		if resp.GetProbability() != want.Probability {
			t.Errorf("row %d %v: server %v, CSV %v", i, rows[i], resp.GetProbability(), want.Probability)
		}
	}
}
