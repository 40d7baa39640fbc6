package store

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/leadscore/leadscore/store/disk"
)

// TestLabelChangesLogged checks that each label change leaves one info record naming the model, the
// label, the new version and the one before, and that a failed or empty change leaves none.
func TestLabelChangesLogged(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	dir := filepath.Join(t.TempDir(), "models")
	s := New(&disk.Dir{Root: dir}, dir, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	for range 3 {
		mustPublish(t, s, "m", mustTinyArtifact(t))
	}
	if err := s.SetLabel(ctx, "m", "stable", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabel(ctx, "m", "canary", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabel(ctx, "m", "stable", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabel(ctx, "m", "stable", 9); err == nil { // no such version: no record
		t.Fatal("SetLabel to a missing version succeeded")
	}
	if _, err := s.Rollback(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLabel(ctx, "m", "canary"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLabel(ctx, "m", "canary"); err != nil { // not set: no record
		t.Fatal(err)
	}

	type record struct {
		Level, Msg, Model, Label, Store string
		Version, Was, WasServing        int
	}
	want := []record{
		{"INFO", "store: label set", "m", "stable", dir, 2, 0, 0},
		{"INFO", "store: label set", "m", "canary", dir, 3, 0, 0},
		{"INFO", "store: label set", "m", "stable", dir, 3, 2, 0},
		{"INFO", "store: rolled back", "m", "stable", dir, 2, 0, 3},
		{"INFO", "store: label removed", "m", "canary", dir, 0, 3, 0},
	}
	var got []record
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		num := func(k string) int { f, _ := m[k].(float64); return int(f) }
		str := func(k string) string { s, _ := m[k].(string); return s }
		got = append(got, record{str("level"), str("msg"), str("model"), str("label"), str("store"), num("version"), num("was"), num("was_serving")})
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
