package reliability

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/store"
)

// FuzzDecodeArtifact stores random bytes as model.json, with a MANIFEST that matches, and loads the
// version as the server would: Store.Load must never panic, and an artifact it accepts must score a
// contact without panicking, with an error or a probability in [0, 1].
func FuzzDecodeArtifact(f *testing.F) {
	a, _ := mustTrained(f)
	model := validModelJSON(f, a)
	f.Add(model)
	f.Add(model[:len(model)/2])
	for _, s := range []string{"", "null", "{}", `{"format":1}`, `{"format":99}`, `{"format":1,"spec":{},"encoder":{}}`, "[]", `"x"`} {
		f.Add([]byte(s))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(model, &m); err != nil {
		f.Fatal(err)
	}
	var w []float64
	if err := json.Unmarshal(m["weights"], &w); err != nil {
		f.Fatal(err)
	}
	for j := range w {
		w[j] = math.MaxFloat64 * float64(1-2*(j%2))
	}
	m["weights"], _ = json.Marshal(w)
	extreme, err := json.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(extreme)

	st := store.OpenDir(f.TempDir())
	dir := filepath.Join(st.Dir(), modelName, "1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	contact := features.Contact{ID: "C1", Props: map[string]features.Value{
		"industry": features.String("Software"), "employees": features.Number(1e300), "visits": features.Number(-1e300),
		"email": features.String("ana@acme-robotics.com"), "job_title": features.String("VP Sales"),
		"created_at": features.Timestamp(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := writeModel(dir, data); err != nil {
			t.Fatal(err)
		}
		a, err := st.Load(context.Background(), modelName, 1)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("Load accepted an artifact that does not validate: %v", err)
		}
		for _, c := range []features.Contact{{Props: map[string]features.Value{}}, contact} {
			p, err := a.Predict(c, time.Time{})
			if err != nil {
				continue
			}
			if !(p.Probability >= 0 && p.Probability <= 1) {
				t.Fatalf("probability %v for %v", p.Probability, c.Props)
			}
		}
	})
}
