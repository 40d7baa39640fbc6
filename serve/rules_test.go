package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// fitRules reads only properties of the fixture's model; fixtureRules also reads webinar, which the
// model does not know.
const fitRules = `
groups:
  - {name: fit, limit: 50, grades: {C: 10, B: 20, A: 35}}
  - {name: engagement, limit: 80, levels: {3: 10, 2: 25, 1: 45}}
rules:
  - {name: Software, group: fit, points: 30, when: {industry: Software}}
  - name: Visits
    group: engagement
    property: visits
    ranges:
      - {between: [2, 5], points: 10}
      - {at_least: 6, points: 40}
`

// TestModelRules checks rules that belong to one model: they score that model only, and a file that
// reads a property the model does not know is refused at load, naming it, until it is fixed.
func TestModelRules(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	mustPublish(t, fx.st, "other", mustArtifact(t, 0))
	dir := t.TempDir()
	own := filepath.Join(dir, "lead-rules.yaml")
	if err := os.WriteFile(own, []byte(fixtureRules), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(fx.st, RegistryOptions{ModelRules: map[string]string{"lead": own}})
	if err != nil {
		t.Fatal(err)
	}
	err = reg.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "does not fit model lead version 1") || !strings.Contains(err.Error(), "webinar") {
		t.Fatalf("rules reading an unknown property: %v, want an error naming the model and webinar", err)
	}
	srv := mustServer(t, reg, Options{})
	manual := func(model string) *leadscorev1.ManualScore {
		t.Helper()
		resp, err := srv.Predict(context.Background(), &leadscorev1.PredictRequest{Model: model, Contact: sampleContact()})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetManual()
	}
	if m := manual("lead"); m != nil {
		t.Errorf("refused rules scored: %v", m)
	}

	if err := os.WriteFile(own, []byte(fitRules), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := manual("lead"); m.GetScore() != 70 {
		t.Errorf("lead's own rules: manual %v, want 70 points (Software 30, 7 visits 40)", m)
	}
	if m := manual("other"); m != nil {
		t.Errorf("another model got lead's rules: %v", m)
	}

	// A shared file still scores the models without their own.
	shared := filepath.Join(dir, "shared.yaml")
	if err := os.WriteFile(shared, []byte(strings.ReplaceAll(fitRules, "points: 30", "points: 5")), 0o644); err != nil {
		t.Fatal(err)
	}
	reg2, err := NewRegistry(fx.st, RegistryOptions{RulesFile: shared, ModelRules: map[string]string{"lead": own}})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg2.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv = mustServer(t, reg2, Options{})
	if got := manual("lead").GetScore(); got != 70 {
		t.Errorf("lead with its own and a shared file: %v points, want its own 70", got)
	}
	if got := manual("other").GetScore(); got != 45 {
		t.Errorf("other with the shared file: %v points, want 45", got)
	}
}
