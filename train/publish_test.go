package train_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/fit"
)

// TestPublishGate runs the gate through its cases on one store: a first version with a leak allowed
// is too good to be true and refused unless forced; an honest retrain is then judged on its own
// holdout against the serving (leaky) version and passes, because the serving version uses a column
// this audit excludes; a much weaker model is refused, with the metrics of both on the same rows.
func TestPublishGate(t *testing.T) {
	f, labels := generated(t, 4000, 5)
	st := store.OpenDir(t.TempDir())
	fitRes := func(cfg train.Config) *train.Result {
		t.Helper()
		cfg.Label, cfg.Seed = "deal_stage", 2
		cfg.Exclude = append(cfg.Exclude, "true_probability")
		cfg.Grid = []float64{0.1}
		res, err := train.Train(context.Background(), f, labels, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	leaky := fitRes(train.Config{Allow: []string{"lifecycle_stage"}})
	v, g, err := train.Publish(context.Background(), st, "leads", leaky, labels, train.PublishOptions{})
	if !errors.Is(err, train.ErrGate) || v != 0 || g == nil || g.Passed {
		t.Fatalf("leaky model (AUC %.3f): got version %d, gate %+v, error %v; want a refusal as too good to be true", leaky.Artifact.Metrics.AUC, v, g, err)
	}
	if !strings.Contains(g.Reason, "too good") {
		t.Errorf("refusal reason %q does not say too good to be true", g.Reason)
	}
	if v, g, err = train.Publish(context.Background(), st, "leads", leaky, labels, train.PublishOptions{Force: true}); err != nil || v != 1 {
		t.Fatalf("forced: got version %d, error %v; want version 1", v, err)
	}
	var forced bytes.Buffer
	train.WriteSummary(&forced, leaky.Artifact, leaky, dataset.OutcomeCounts{}, g)
	if !strings.Contains(forced.String(), "Published leads version 1") || !strings.Contains(forced.String(), "would refuse, published because forced") {
		t.Errorf("the summary of a forced publish does not say both:\n%s", forced.String())
	}

	honest := fitRes(train.Config{})
	v, g, err = train.Publish(context.Background(), st, "leads", honest, labels, train.PublishOptions{})
	if err != nil || v != 2 {
		t.Fatalf("honest retrain: got version %d, gate %+v, error %v; want version 2", v, g, err)
	}
	if g.Serving != 1 || len(g.Leaky) != 1 || g.Leaky[0] != "lifecycle_stage" || g.Rows != len(honest.HoldoutRows) {
		t.Errorf("gate %+v: want serving 1, leaky [lifecycle_stage] and %d rows", g, len(honest.HoldoutRows))
	}
	if g.ServingAUC <= g.AUC {
		t.Errorf("the leaky version's AUC on the same rows %.3f is not above the honest %.3f", g.ServingAUC, g.AUC)
	}
	if honest.Artifact.Provenance.ParentVersion != 1 {
		t.Errorf("parent version %d, want 1", honest.Artifact.Provenance.ParentVersion)
	}
	if err := st.Promote(context.Background(), "leads", 2); err != nil {
		t.Fatal(err)
	}

	weak := fitRes(train.Config{Exclude: []string{"visits", "page_views", "pricing_page_views", "demo_page_views",
		"email_clicks", "email_opens", "forms_bofu", "forms_mofu", "forms_tofu", "days_since_last_activity",
		"last_activity_at", "job_title", "email", "industry", "unsubscribed", "careers_page_views", "source", "employees"}})
	v, g, err = train.Publish(context.Background(), st, "leads", weak, labels, train.PublishOptions{})
	if !errors.Is(err, train.ErrGate) || v != 0 {
		t.Fatalf("weak model: got version %d, error %v; want a refusal", v, err)
	}
	if g.Serving != 2 || g.AUC != weak.Artifact.Metrics.AUC || g.ServingAUC < g.AUC/train.DefaultGateShare {
		t.Errorf("gate %+v: want serving 2 and the weak AUC below %.0f%% of the serving one", g, 100*train.DefaultGateShare)
	}
	var out bytes.Buffer
	train.WriteSummary(&out, weak.Artifact, weak, dataset.OutcomeCounts{}, g)
	for _, want := range []string{"NOT published", "AUC", "refused: new model is worse", "serving version 2 AUC"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary of a refused run does not say %q:\n%s", want, out.String())
		}
	}
}

// TestTrainProgressCounts checks that Train reports every step it counts, in order.
func TestTrainProgressCounts(t *testing.T) {
	f, labels := generated(t, 2000, 7)
	var got []int
	total := 0
	_, err := train.Train(context.Background(), f, labels, train.Config{
		Label: "deal_stage", Exclude: []string{"true_probability"}, Grid: []float64{0.1},
		Progress: func(_ string, n, of int) { got, total = append(got, n), of },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != total || total == 0 || got[len(got)-1] != total {
		t.Errorf("progress reported steps %v of %d", got, total)
	}
}

// TestTrainWidensPenaltyGrid trains on noise, whose best penalty is the strongest: the default grid
// is widened below its lowest C, and the edge is warned about.
func TestTrainWidensPenaltyGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	n := 600
	x := &features.Column{Name: "noise", Kind: features.KindNumber, Num: make([]float64, n), Valid: make([]bool, n)}
	g := &features.Column{Name: "group", Kind: features.KindCategory, Str: make([]string, n), Valid: make([]bool, n)}
	labels := make([]features.Label, n)
	for i := range n {
		x.Num[i], x.Valid[i] = rng.NormFloat64(), true
		g.Str[i], g.Valid[i] = fmt.Sprint("g", rng.IntN(4)), true
		labels[i] = features.Lost
		if rng.IntN(2) == 0 {
			labels[i] = features.Won
		}
	}
	res, err := train.Train(context.Background(), &features.Frame{Columns: []*features.Column{x, g}}, labels, train.Config{Label: "y", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	lowest := fit.DefaultGrid()[0]
	if res.CV[0].C >= lowest || res.Artifact.Penalty >= lowest {
		t.Errorf("grid starts at C = %g and C = %g was chosen; want the grid widened below %g", res.CV[0].C, res.Artifact.Penalty, lowest)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "edge of the grid") }) {
		t.Errorf("no warning about the grid's edge in %q", res.Warnings)
	}
}

// TestPublishGateSchemaChange publishes a version, then trains on data where a column changed kind
// (employees as text): the serving version cannot score the new holdout, so the gate refuses and
// says why, and Force publishes.
func TestPublishGateSchemaChange(t *testing.T) {
	f, labels := generated(t, 3000, 6)
	st := store.OpenDir(t.TempDir())
	cfg := train.Config{Label: "deal_stage", Seed: 2, Exclude: []string{"true_probability"}, Grid: []float64{0.1}}
	res, err := train.Train(context.Background(), f, labels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := train.Publish(context.Background(), st, "leads", res, labels, train.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	changed := &features.Frame{}
	for _, c := range f.Columns {
		if c.Name == "employees" {
			text := &features.Column{Name: c.Name, Kind: features.KindCategory, Str: make([]string, len(c.Num)), Valid: c.Valid}
			for i, x := range c.Num {
				text.Str[i] = fmt.Sprintf("%.0f people", x)
			}
			c = text
		}
		changed.Columns = append(changed.Columns, c)
	}
	res, err = train.Train(context.Background(), changed, labels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, g, err := train.Publish(context.Background(), st, "leads", res, labels, train.PublishOptions{})
	if !errors.Is(err, train.ErrGate) || v != 0 || g == nil || !strings.Contains(g.Reason, "cannot score the new holdout") {
		t.Fatalf("schema change: got version %d, gate %+v, error %v; want a refusal saying version 1 cannot score the holdout", v, g, err)
	}
	if v, _, err = train.Publish(context.Background(), st, "leads", res, labels, train.PublishOptions{Force: true}); err != nil || v != 2 {
		t.Errorf("forced: got version %d, error %v; want version 2", v, err)
	}
}
