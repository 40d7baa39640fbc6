package features_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadscore/leadscore/features"
)

func TestContactFromJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    features.Contact
		wantErr error
	}{
		{"empty", `{}`, features.Contact{Props: map[string]features.Value{}}, nil},
		{"kinds", `{"contact_id": "C1", "employees": 120, "unsubscribed": true, "annual_revenue": null, "at": "2024-01-02 10:00:00+02:00"}`,
			features.Contact{ID: "C1", Props: map[string]features.Value{
				"contact_id":   features.String("C1"),
				"employees":    features.Number(120),
				"unsubscribed": features.Flag(true),
				"at":           features.String("2024-01-02 10:00:00+02:00"),
			}}, nil},
		// cmd_rules.go once read `k == "contact_id" || k == "id" && c.ID == ""`: the id then
		// depended on the map's order. contact_id wins, whatever the order.
		{"contact_id before id", `{"id": "X", "contact_id": "C7"}`,
			features.Contact{ID: "C7", Props: map[string]features.Value{"id": features.String("X"), "contact_id": features.String("C7")}}, nil},
		{"numeric id", `{"id": 42}`, features.Contact{ID: "42", Props: map[string]features.Value{"id": features.Number(42)}}, nil},
		{"nested object", `{"a": {"b": 1}}`, features.Contact{}, features.ErrWrongType},
		{"array", `{"a": [1]}`, features.Contact{}, features.ErrWrongType},
		{"too big a number", `{"a": 1e400}`, features.Contact{}, features.ErrNotFinite},
		{"not an object", `[1]`, features.Contact{}, features.ErrJSON},
		{"null", `null`, features.Contact{}, features.ErrJSON},
		{"two objects", `{} {}`, features.Contact{}, features.ErrJSON},
		{"not JSON", `industry=Software`, features.Contact{}, features.ErrJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := features.ContactFromJSON([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				var pe *features.PropertyError
				if !errors.Is(err, features.ErrJSON) && (!errors.As(err, &pe) || pe.Property != "a") {
					t.Errorf("err %v does not name property a", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
