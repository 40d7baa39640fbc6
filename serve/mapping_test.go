package serve

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// TestContactWithoutModelProperties checks that a contact with none of the model's properties (empty,
// or only names the model does not read, as a broken CRM field mapping sends) is InvalidArgument, or
// with Lenient a score and a warning; and that a contact missing most of them gets a warning saying
// how many. The fixture's model reads 5 properties.
func TestContactWithoutModelProperties(t *testing.T) {
	fx := newFixture(t, RegistryOptions{})
	strict := mustServer(t, fx.reg, Options{})
	lenient := mustServer(t, fx.reg, Options{Lenient: true})
	props := func(names ...string) map[string]*leadscorev1.Value {
		all := sampleContact().Properties
		all["created_at"] = &leadscorev1.Value{Kind: &leadscorev1.Value_TimestampValue{TimestampValue: timestamppb.New(fixtureAsOf)}}
		m := map[string]*leadscorev1.Value{}
		for _, n := range names {
			if v, ok := all[n]; ok {
				m[n] = v
			} else {
				m[n] = str("x") // a name the model does not read
			}
		}
		return m
	}
	for _, tt := range []struct {
		name    string
		props   map[string]*leadscorev1.Value
		refused bool   // without Lenient
		warning string // a part of the warning every answer must carry; "" for none
	}{
		{"empty", nil, true, "has 0 of the 5 properties"},
		{"only unknown names", props("Industry", "Employees", "num_visits"), true, "has 0 of the 5 properties"},
		{"missing values only", map[string]*leadscorev1.Value{"industry": {}, "visits": {}}, true, "has 0 of the 5 properties"},
		{"one of five", props("industry"), false, "has 1 of the 5 properties the model reads; 4 are missing (created_at, employees, unsubscribed, visits)"},
		{"two of five", props("industry", "visits"), false, "has 2 of the 5 properties the model reads; 3 are missing"},
		{"three of five", props("industry", "visits", "employees"), false, ""},
		{"all five", props("industry", "visits", "employees", "unsubscribed", "created_at"), false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &leadscorev1.PredictRequest{Model: "lead", Contact: &leadscorev1.Contact{Id: "C9", Properties: tt.props}}
			resp, err := strict.Predict(context.Background(), req)
			if tt.refused {
				st := status.Convert(err)
				if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "none of the 5 properties model lead reads (created_at, employees, industry, unsubscribed, visits)") {
					t.Fatalf("got %v, want InvalidArgument naming the model's properties", err)
				}
				resp, err = lenient.Predict(context.Background(), req)
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range resp.GetWarnings() {
				if w.GetProperty() == "" {
					got = append(got, w.GetMessage())
				}
			}
			switch {
			case tt.warning == "" && len(got) != 0:
				t.Errorf("warnings %q, want none", got)
			case tt.warning != "" && (len(got) != 1 || !strings.Contains(got[0], tt.warning)):
				t.Errorf("warnings %q, want one with %q", got, tt.warning)
			}
		})
	}

	// The same over REST: an empty contact is 400.
	base := startREST(t, strict)
	code, body := restDo(t, "POST", base+"/v1/models/lead:predict", "", `{"contact": {"id": "C9", "properties": {}}}`)
	if e := restErrorOf(t, body); code != http.StatusBadRequest || !strings.Contains(e.Message, "none of the 5 properties") {
		t.Errorf("REST empty contact: %d %s, want 400 saying it has none of the model's properties", code, body)
	}
}
