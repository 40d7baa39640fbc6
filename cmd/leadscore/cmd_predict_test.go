package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

func TestContactFromJSON(t *testing.T) {
	str := func(s string) *leadscorev1.Value {
		return &leadscorev1.Value{Kind: &leadscorev1.Value_StringValue{StringValue: s}}
	}
	num := func(f float64) *leadscorev1.Value {
		return &leadscorev1.Value{Kind: &leadscorev1.Value_NumberValue{NumberValue: f}}
	}
	tests := []struct {
		name    string
		in      string
		want    *leadscorev1.Contact
		wantErr bool
	}{
		{"empty", `{}`, &leadscorev1.Contact{Properties: map[string]*leadscorev1.Value{}}, false},
		{"kinds", `{"contact_id": "C1", "employees": 120, "unsubscribed": true, "annual_revenue": null}`, &leadscorev1.Contact{
			Id: "C1",
			Properties: map[string]*leadscorev1.Value{
				"contact_id":   str("C1"),
				"employees":    num(120),
				"unsubscribed": {Kind: &leadscorev1.Value_BoolValue{BoolValue: true}},
			},
		}, false},
		{"nested object", `{"a": {"b": 1}}`, nil, true},
		{"array", `{"a": [1]}`, nil, true},
		{"not an object", `[1]`, nil, true},
		{"not JSON", `industry=Software`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := contactFromJSON([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
