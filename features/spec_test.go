package features_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// encCol builds a column from values: string, float64, int, bool, time.Time, or nil for missing.
func encCol(name string, kind features.Kind, vals ...any) *features.Column {
	n := len(vals)
	c := &features.Column{Name: name, Kind: kind, Valid: make([]bool, n)}
	switch kind {
	case features.KindCategory:
		c.Str = make([]string, n)
	case features.KindNumber, features.KindTime:
		c.Num = make([]float64, n)
	case features.KindFlag:
		c.Bool = make([]bool, n)
	}
	for i, v := range vals {
		if v == nil {
			continue
		}
		c.Valid[i] = true
		switch v := v.(type) {
		case string:
			c.Str[i] = v
		case float64:
			c.Num[i] = v
		case int:
			c.Num[i] = float64(v)
		case bool:
			c.Bool[i] = v
		case time.Time:
			c.Num[i] = features.UnixSeconds(v)
		default:
			panic(fmt.Sprintf("encCol: unsupported value %T", v))
		}
	}
	return c
}

// encRepeat returns n values made by f.
func encRepeat(n int, f func(i int) any) []any {
	vals := make([]any, n)
	for i := range vals {
		vals[i] = f(i)
	}
	return vals
}

var specRef = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// specInferFrame is 100 rows shaped like the generated contact schema, with columns made to trip
// each heuristic of InferSpec.
func specInferFrame() *features.Frame {
	const n = 100
	day := func(d int) time.Time { return specRef.AddDate(0, 0, -d) }
	industries := []string{"Software", "Retail", "Banking", "Health", "Education"}
	titles := []string{"VP Sales", "Marketing Manager", "Software Engineer", "Student", "CEO"}
	cols := []*features.Column{
		encCol("contact_id", features.KindCategory, encRepeat(n, func(i int) any { return fmt.Sprintf("C%07d", i) })...),
		encCol("ref", features.KindCategory, encRepeat(n, func(i int) any { return fmt.Sprintf("R-%d", i*7) })...),
		encCol("notes", features.KindCategory, encRepeat(n, func(i int) any { return fmt.Sprintf("called on %d", i%60) })...),
		encCol("email", features.KindCategory, encRepeat(n, func(i int) any {
			if i%10 == 0 {
				return nil
			}
			return fmt.Sprintf("u%d@acme%d.com", i, i%3)
		})...),
		encCol("work_address", features.KindCategory, encRepeat(n, func(i int) any { return fmt.Sprintf("u%d@gmail.com", i) })...),
		encCol("job_title", features.KindCategory, encRepeat(n, func(i int) any { return titles[i%len(titles)] })...),
		encCol("industry", features.KindCategory, encRepeat(n, func(i int) any { return industries[i%len(industries)] })...),
		encCol("country", features.KindCategory, encRepeat(n, func(i int) any {
			if i%4 == 0 {
				return nil
			}
			return []string{"DE", "FR"}[i%2]
		})...),
		encCol("employees", features.KindNumber, encRepeat(n, func(i int) any { return 10 * (i%9 + 1) })...),
		encCol("visits", features.KindNumber, encRepeat(n, func(i int) any { return i % 13 })...),
		encCol("email_opens", features.KindNumber, encRepeat(n, func(i int) any { return i % 5 })...),
		encCol("days_since_last_activity", features.KindNumber, encRepeat(n, func(i int) any { return i % 40 })...),
		encCol("last_activity_at", features.KindTime, encRepeat(n, func(i int) any { return day(i % 30) })...),
		encCol("created_at", features.KindTime, encRepeat(n, func(i int) any { return day(100 + i) })...),
		encCol("unsubscribed", features.KindFlag, encRepeat(n, func(i int) any { return i%17 == 0 })...),
		encCol("lifecycle_stage", features.KindCategory, encRepeat(n, func(i int) any { return []string{"customer", "lead"}[i%2] })...),
		encCol("close_date", features.KindTime, encRepeat(n, func(i int) any {
			if i%2 == 1 {
				return nil
			}
			return specRef.AddDate(0, 0, 3)
		})...),
		encCol("plan", features.KindCategory, encRepeat(n, func(int) any { return "pro" })...),
		encCol("all_missing", features.KindNumber, encRepeat(n, func(int) any { return nil })...),
		encCol("partner_flag", features.KindCategory, encRepeat(n, func(i int) any {
			if i%3 == 0 {
				return "yes"
			}
			return nil
		})...),
		encCol("last_name", features.KindCategory, encRepeat(n, func(i int) any { return fmt.Sprintf("Name%d", i%10) })...),
		encCol("PageValues", features.KindNumber, encRepeat(n, func(i int) any { return float64(i) / 3 })...),
		encCol("Opportunity Number", features.KindNumber, encRepeat(n, func(i int) any { return 1641000 + 3*i })...),
		encCol("lead_number", features.KindNumber, encRepeat(n, func(i int) any { return 660000 + 2*i/3 })...),
		encCol("landing_page_id", features.KindCategory, encRepeat(n, func(i int) any { return fmt.Sprintf("lp%d", i%7) })...),
		encCol("deal_stage", features.KindCategory, encRepeat(n, func(i int) any { return []string{"closedwon", "closedlost", "open"}[i%3] })...),
	}
	return &features.Frame{Columns: cols}
}

func TestInferSpec(t *testing.T) {
	spec := features.InferSpec(specInferFrame(), "deal_stage")
	const (
		cat  = features.KindCategory
		num  = features.KindNumber
		flag = features.KindFlag
		tim  = features.KindTime
		fit  = features.GroupFit
		eng  = features.GroupEngagement
	)
	tests := []struct {
		name    string
		kind    features.Kind
		group   string
		use     bool
		reason  string // prefix of the exclusion reason
		derive  string
		suspect bool
	}{
		{name: "contact_id", kind: cat, group: fit, reason: "identifier (named like one, 100 distinct in 100"},
		{name: "ref", kind: cat, group: fit, reason: "identifier (100 distinct in 100"},
		{name: "notes", kind: cat, group: fit, reason: "free text (60 distinct in 100"},
		{name: "email", kind: cat, group: fit, use: true, derive: features.DeriveEmailDomain},
		{name: "work_address", kind: cat, group: fit, use: true, derive: features.DeriveEmailDomain},
		{name: "job_title", kind: cat, group: fit, use: true, derive: features.DeriveTitleSeniority},
		{name: "industry", kind: cat, group: fit, use: true},
		{name: "country", kind: cat, group: fit, use: true},
		{name: "employees", kind: num, group: fit, use: true},
		{name: "visits", kind: num, group: eng, use: true},
		{name: "email_opens", kind: num, group: eng, use: true},
		{name: "days_since_last_activity", kind: num, group: eng, use: true},
		{name: "last_activity_at", kind: tim, group: eng, reason: "time: ", derive: features.DeriveRecency},
		{name: "created_at", kind: tim, group: fit, reason: "time: ", derive: features.DeriveRecency},
		{name: "unsubscribed", kind: flag, group: eng, use: true},
		{name: "lifecycle_stage", kind: cat, group: fit, use: true, suspect: true},
		{name: "close_date", kind: tim, group: fit, reason: "time: ", derive: features.DeriveRecency, suspect: true},
		{name: "plan", kind: cat, group: fit, reason: "constant"},
		{name: "all_missing", kind: num, group: fit, reason: "constant"},
		{name: "partner_flag", kind: cat, group: fit, use: true},
		{name: "last_name", kind: cat, group: fit, use: true},
		{name: "PageValues", kind: num, group: eng, use: true},
		{name: "Opportunity Number", kind: num, group: fit, suspect: true, reason: "identifier (whole numbers, 100 distinct in 100"},
		{name: "lead_number", kind: num, group: fit, reason: "identifier (67 distinct in 100 sampled values, in row order)"},
		{name: "landing_page_id", kind: cat, group: eng, use: true},
		{name: "deal_stage", kind: cat, reason: "label", suspect: true},
	}
	if got, want := len(spec.Columns), len(tests); got != want {
		t.Fatalf("len(Columns) = %d, want %d", got, want)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := spec.Columns[i]
			if got.Name != tt.name {
				t.Fatalf("column %d is %q, want %q (file order)", i, got.Name, tt.name)
			}
			if got.Kind != tt.kind || got.Group != tt.group || got.Use != tt.use || got.Derive != tt.derive || got.Suspect != tt.suspect {
				t.Errorf("got kind %s group %q use %v derive %q suspect %v, want %s %q %v %q %v",
					got.Kind, got.Group, got.Use, got.Derive, got.Suspect, tt.kind, tt.group, tt.use, tt.derive, tt.suspect)
			}
			if !strings.HasPrefix(got.Reason, tt.reason) || (tt.reason == "") != (got.Reason == "") {
				t.Errorf("reason = %q, want prefix %q", got.Reason, tt.reason)
			}
		})
	}
	// The latest timestamp (the export snapshot) is close_date's, three days after specRef.
	if got, want := spec.ReferenceTime, specRef.AddDate(0, 0, 3); !got.Equal(want) {
		t.Errorf("ReferenceTime = %v, want %v", got, want)
	}
	if err := spec.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestInferSpecNoTime(t *testing.T) {
	f := &features.Frame{Columns: []*features.Column{
		encCol("x", features.KindNumber, 1, 2, 3),
		encCol("y", features.KindFlag, true, false, true),
	}}
	spec := features.InferSpec(f, "y")
	if !spec.ReferenceTime.IsZero() {
		t.Errorf("ReferenceTime = %v, want zero without time columns", spec.ReferenceTime)
	}
	if got, want := spec.Used(), []string{"x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Used() = %q, want %q", got, want)
	}
}

func TestSpecYAMLRoundTrip(t *testing.T) {
	spec := features.InferSpec(specInferFrame(), "deal_stage")
	var buf bytes.Buffer
	if err := spec.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := features.ReadSpec(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("ReadSpec: %v\n%s", err, buf.String())
	}
	if !got.ReferenceTime.Equal(spec.ReferenceTime) {
		t.Errorf("ReferenceTime = %v, want %v", got.ReferenceTime, spec.ReferenceTime)
	}
	if got.Label != spec.Label || !reflect.DeepEqual(got.Columns, spec.Columns) {
		t.Errorf("round trip changed the spec:\ngot  %+v\nwant %+v", got, spec)
	}
	if !strings.Contains(buf.String(), "kind: category") || !strings.HasPrefix(buf.String(), "# leadscore feature spec") {
		t.Errorf("unexpected YAML:\n%s", buf.String())
	}
}

func TestReadSpecErrors(t *testing.T) {
	const good = "label: won\nreference_time: 2024-03-01T00:00:00Z\ncolumns:\n"
	tests := []struct {
		name string
		yaml string
		want string // a fragment of the error naming the problem
	}{
		{"empty", "", "empty file"},
		{"unknown top field", "label: won\ncolour: red\n", "field colour not found"},
		{"unknown column field", good + "  - name: a\n    kind: number\n    use: true\n    group: fit\n    weight: 2\n", "line 8: field weight not found"},
		{"bad kind", good + "  - name: visits\n    kind: integer\n", `column "visits": kind: "integer"`},
		{"no kind", good + "  - name: visits\n", `column "visits": kind: ""`},
		{"bad group", good + "  - name: a\n    kind: number\n    use: true\n    group: behaviour\n", `column "a": group: "behaviour"`},
		{"used without group", good + "  - name: a\n    kind: number\n    use: true\n", `column "a": group: empty`},
		{"bad derive", good + "  - name: a\n    kind: category\n    derive: domain\n", `column "a": derive: "domain"`},
		{"derive on wrong kind", good + "  - name: a\n    kind: number\n    derive: email_domain\n", `column "a": derive: email_domain needs a category`},
		{"twice", good + "  - name: a\n    kind: number\n  - name: a\n    kind: flag\n", `column "a": listed twice`},
		{"label used", good + "  - name: won\n    kind: flag\n    use: true\n    group: fit\n", `column "won": use: the label`},
		{"no label", "columns: []\n", "label is empty"},
		{"time without reference", "label: won\ncolumns:\n  - name: t\n    kind: time\n    use: true\n    group: fit\n", `column "t": reference_time`},
		{"not yaml", "label: [won\n", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := features.ReadSpec(strings.NewReader(tt.yaml))
			if !errors.Is(err, features.ErrSpec) {
				t.Fatalf("ReadSpec error = %v, want one wrapping ErrSpec", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadSpec error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func ExampleInferSpec() {
	f := &features.Frame{Columns: []*features.Column{
		encCol("contact_id", features.KindCategory, "C1", "C2", "C3"),
		encCol("job_title", features.KindCategory, "VP Sales", "Intern", nil),
		encCol("page_views", features.KindNumber, 3, 0, 12),
		encCol("won", features.KindFlag, true, false, false),
	}}
	for _, c := range features.InferSpec(f, "won").Columns {
		fmt.Printf("%s: use=%v group=%s derive=%s reason=%s\n", c.Name, c.Use, c.Group, c.Derive, c.Reason)
	}
	// Output:
	// contact_id: use=false group=fit derive= reason=identifier (named like one, 3 distinct in 3 sampled values)
	// job_title: use=true group=fit derive=title_seniority reason=
	// page_views: use=true group=engagement derive= reason=
	// won: use=false group= derive= reason=label
}

// TestSpecIDColumn: the spec's identifier wins over a column named "id", which wins over none.
func TestSpecIDColumn(t *testing.T) {
	spec := &features.Spec{Columns: []features.ColumnSpec{
		{Name: "email", Kind: features.KindCategory, Use: true},
		{Name: "crm_key", Kind: features.KindCategory, Reason: features.ReasonIdentifier + " (5 distinct in 5 sampled values)"},
	}}
	frame := func(names ...string) *features.Frame {
		f := &features.Frame{}
		for _, n := range names {
			f.Columns = append(f.Columns, features.NewColumn(n, features.KindCategory, 1))
		}
		return f
	}
	for _, tt := range []struct {
		cols []string
		want string
	}{
		{[]string{"email", "id", "crm_key"}, "crm_key"},
		{[]string{"email", "id"}, "id"},
		{[]string{"email"}, ""},
	} {
		if got := spec.IDColumn(frame(tt.cols...)); got != tt.want {
			t.Errorf("columns %v: IDColumn %q, want %q", tt.cols, got, tt.want)
		}
	}
}
