package features_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

func TestParse(t *testing.T) {
	at := func(s string) features.Value {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return features.Timestamp(tm)
	}
	str, num, flag := features.String, features.Number, features.Flag
	none := features.Value{}
	tests := []struct {
		name string
		kind features.Kind
		in   features.Value
		want features.Value
		err  error
	}{
		{"time with offset and space", features.KindTime, str("2024-01-02 10:00:00+02:00"), at("2024-01-02T08:00:00Z"), nil},
		{"time RFC 3339", features.KindTime, str("2024-01-02T10:00:00Z"), at("2024-01-02T10:00:00Z"), nil},
		{"date", features.KindTime, str(" 2024-01-02 "), at("2024-01-02T00:00:00Z"), nil},
		{"time without zone is UTC", features.KindTime, str("2024-01-02 10:00:00.5"), at("2024-01-02T10:00:00.5Z"), nil},
		{"time from a timestamp", features.KindTime, at("2024-01-02T10:00:00Z"), at("2024-01-02T10:00:00Z"), nil},
		{"not a time", features.KindTime, str("yesterday"), none, features.ErrWrongType},
		{"number for a time", features.KindTime, num(1.7e9), none, features.ErrWrongType},
		{"number text", features.KindNumber, str(" 3.5 "), num(3.5), nil},
		{"leading zero in a number column", features.KindNumber, str("007"), num(7), nil},
		{"Inf is missing", features.KindNumber, str("Inf"), none, nil},
		{"-infinity is missing", features.KindNumber, str("-Infinity"), none, nil},
		{"placeholder is missing", features.KindNumber, str("N/A"), none, nil},
		{"NaN number refused", features.KindNumber, num(math.NaN()), none, features.ErrNotFinite},
		{"word for a number", features.KindNumber, str("abc"), none, features.ErrWrongType},
		{"flag for a number", features.KindNumber, flag(true), none, features.ErrWrongType},
		{"yes", features.KindFlag, str("YES"), flag(true), nil},
		{"0 text", features.KindFlag, str("0"), flag(false), nil},
		{"1 number", features.KindFlag, num(1), flag(true), nil},
		{"2 for a flag", features.KindFlag, num(2), none, features.ErrWrongType},
		{"category kept as written", features.KindCategory, str(" Software "), str(" Software "), nil},
		{"Select is missing", features.KindCategory, str("select"), none, nil},
		{"none is missing", features.KindCategory, str("NONE"), none, nil},
		{"number as a category", features.KindCategory, num(2134), str("2134"), nil},
		{"fraction as a category", features.KindCategory, num(0.1), str("0.1"), nil},
		{"flag as a category", features.KindCategory, flag(false), str("false"), nil},
		{"missing", features.KindNumber, none, none, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := features.Parse(tt.kind, tt.in, nil)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if got.Kind != tt.want.Kind || got.Str != tt.want.Str || got.Num != tt.want.Num || got.Bool != tt.want.Bool || !got.Time.Equal(tt.want.Time) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMissingValues(t *testing.T) {
	own := features.NewMissingValues([]string{"n.v.", "Ø"})
	for _, tt := range []struct {
		m    *features.MissingValues
		text string
		want bool
	}{
		{nil, "", true},
		{nil, "  ", true},
		{nil, "Select", true},
		{nil, "SELECT", true},
		{nil, "none", true},
		{nil, "Unknown", true},
		{nil, "-", true},
		{nil, "Selected", false},
		{nil, "Software", false},
		{own, "N.V.", true},
		{own, "ø", true},
		{own, "NA", false},
	} {
		if got := tt.m.Has(tt.text); got != tt.want {
			t.Errorf("Has(%q) = %v, want %v", tt.text, got, tt.want)
		}
		if got := tt.m.HasBytes([]byte(tt.text)); tt.text == " " && got != tt.want {
			t.Errorf("HasBytes(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestInferKind(t *testing.T) {
	for text, want := range map[string]features.Kind{
		"true": features.KindFlag, "No": features.KindFlag, "1": features.KindNumber, "-2.5e3": features.KindNumber,
		"inf": features.KindNumber, "02134": features.KindCategory, "2024-01-02 10:00:00+02:00": features.KindTime,
		"2024-02-30": features.KindCategory, "Software": features.KindCategory,
	} {
		if got := features.InferKind(text); got != want {
			t.Errorf("InferKind(%q) = %s, want %s", text, got, want)
		}
	}
}

// Categories differing only in case and surrounding spaces are one level, written as their most
// frequent spelling (issue 10: category values match case-insensitively, as the rules do).
func TestEncoderFoldsCategories(t *testing.T) {
	values := []string{"Software", "Software", "software ", "SOFTWARE", "Retail", "retail", "Retail"}
	valid := []bool{true, true, true, true, true, true, true}
	col := &features.Column{Name: "industry", Kind: features.KindCategory, Str: values, Valid: valid}
	out := &features.Column{Name: "outcome", Kind: features.KindCategory, Str: []string{"won", "lost", "won", "lost", "won", "lost", "won"}, Valid: valid}
	f := &features.Frame{Columns: []*features.Column{col, out}}
	spec := features.InferSpec(f, "outcome")
	c := spec.Column("industry")
	c.Use, c.Reason, c.Group = true, "", features.GroupFit
	e, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{MinCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Columns[0].Levels; len(got) != 2 || got[0] != "Software" || got[1] != "Retail" {
		t.Fatalf("levels %q, want [Software Retail]", got)
	}
	want := make([]float64, e.Width())
	if _, err := e.EncodeContact(features.Contact{Props: map[string]features.Value{"industry": features.String("Software")}}, time.Time{}, want); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"software", " SOFTWARE ", "SoftWare"} {
		got := make([]float64, e.Width())
		if _, err := e.EncodeContact(features.Contact{Props: map[string]features.Value{"industry": features.String(s)}}, time.Time{}, got); err != nil {
			t.Fatal(err)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Errorf("%q encodes as %v, want %v", s, got, want)
				break
			}
		}
	}
}

// Rate tables group category values as the encoder does: once folded, under their first spelling.
func TestRatesFoldCategories(t *testing.T) {
	values := []string{"Software", "software ", "SOFTWARE", "Retail", "retail", "Retail"}
	labels := []features.Label{features.Won, features.Won, features.Lost, features.Lost, features.Lost, features.Won}
	valid := []bool{true, true, true, true, true, true}
	f := &features.Frame{Columns: []*features.Column{{Name: "industry", Kind: features.KindCategory, Str: values, Valid: valid}}}
	rep, err := features.ComputeRates(f, labels, features.RateOptions{MinContacts: 1})
	if err != nil {
		t.Fatal(err)
	}
	tab := rep.Table("industry")
	if tab == nil {
		t.Fatal("no table for industry")
	}
	row, ok := tab.Lookup(features.String(" software"))
	if !ok || row.Value != "Software" || row.Contacts != 3 || row.Customers != 2 {
		t.Errorf("Lookup(software) = %+v, %v; want the row Software with 3 contacts, 2 customers", row, ok)
	}
}
