package features

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestWilson(t *testing.T) {
	// Expected values computed by hand with bc -l (scale=12) from
	// lo, hi = (p + z²/2n ∓ z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), p = k/n, z = 1.96. For k=1, n=10:
	// z² = 3.8416, den = 1.38416, center = 0.1 + 0.19208 = 0.29208,
	// half = 1.96·sqrt(0.009 + 0.009604) = 0.267336..., lo = 0.024744/1.38416 = 0.0178757,
	// hi = 0.559416/1.38416 = 0.4041564.
	const tol = 1e-9
	tests := []struct {
		name     string
		k, n     int
		z        float64
		lo, hi   float64
		exactEnd bool
	}{
		{name: "1 of 10", k: 1, n: 10, z: 1.96, lo: 0.017875749515, hi: 0.404156385497},
		{name: "half", k: 5, n: 10, z: 1.96, lo: 0.236589593616, hi: 0.763410406383},
		{name: "none won", k: 0, n: 10, z: 1.96, lo: 0, hi: 0.277540168766},
		{name: "all won", k: 10, n: 10, z: 1.96, lo: 0.722459831233, hi: 1},
		{name: "one of one", k: 1, n: 1, z: 1.96, lo: 0.206543291473, hi: 1},
		{name: "bank marketing overall", k: 4640, n: 41188, z: 1.96, lo: 0.109636774451, hi: 0.115743816444},
		{name: "no trials", k: 0, n: 0, z: 1.96, lo: 0, hi: 1},
		{name: "z zero is the point estimate", k: 3, n: 12, z: 0, lo: 0.25, hi: 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := Wilson(tt.k, tt.n, tt.z)
			if math.Abs(lo-tt.lo) > tol || math.Abs(hi-tt.hi) > tol {
				t.Errorf("Wilson(%d, %d, %g) = %.12f, %.12f, want %.12f, %.12f", tt.k, tt.n, tt.z, lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestWilsonPanics(t *testing.T) {
	tests := []struct {
		name string
		k, n int
		z    float64
	}{
		{name: "k above n", k: 3, n: 2, z: 1.96},
		{name: "negative k", k: -1, n: 2, z: 1.96},
		{name: "negative n", k: 0, n: -1, z: 1.96},
		{name: "negative z", k: 1, n: 2, z: -1},
		{name: "NaN z", k: 1, n: 2, z: math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Wilson(%d, %d, %g) did not panic", tt.k, tt.n, tt.z)
				}
			}()
			Wilson(tt.k, tt.n, tt.z)
		})
	}
}

// stepRates draws n values of x uniform in [0, 30) (whole numbers when integral) with a conversion
// rate of 5% below 10, 30% from 10 to 20 and 60% from 20.
func stepRates(n int, integral bool, seed uint64) (xs []float64, labels []Label) {
	rng := rand.New(rand.NewPCG(seed, seed))
	for range n {
		x := rng.Float64() * 30
		if integral {
			x = math.Floor(x)
		}
		p := 0.05
		if x >= 10 {
			p = 0.30
		}
		if x >= 20 {
			p = 0.60
		}
		l := Lost
		if rng.Float64() < p {
			l = Won
		}
		xs, labels = append(xs, x), append(labels, l)
	}
	return xs, labels
}

func numberColumn(name string, xs []float64) *Column {
	c := &Column{Name: name, Kind: KindNumber, Num: xs, Valid: make([]bool, len(xs))}
	for i := range c.Valid {
		c.Valid[i] = true
	}
	return c
}

func TestComputeRatesFindsSteps(t *testing.T) {
	tests := []struct {
		name     string
		integral bool
		tol      float64 // how far a cut may sit from 10 and 20: one base bin of 4000/32 rows is ~0.94 wide
		labels   []string
	}{
		{name: "continuous", integral: false, tol: 1},
		{name: "whole numbers", integral: true, tol: 0, labels: []string{"< 10", "10 - 19", ">= 20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xs, labels := stepRates(4000, tt.integral, 1)
			rep, err := ComputeRates(&Frame{Columns: []*Column{numberColumn("x", xs)}}, labels, RateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tab := rep.Table("x")
			if tab == nil || len(tab.Rows) != 3 {
				t.Fatalf("got table %+v, want 3 ranges", tab)
			}
			rows := tab.Rows
			if !math.IsInf(rows[0].Lo, -1) || !math.IsInf(rows[2].Hi, 1) || rows[0].Hi != rows[1].Lo || rows[1].Hi != rows[2].Lo {
				t.Errorf("ranges %v-%v, %v-%v, %v-%v do not tile the line", rows[0].Lo, rows[0].Hi, rows[1].Lo, rows[1].Hi, rows[2].Lo, rows[2].Hi)
			}
			if got1, got2 := rows[1].Lo, rows[2].Lo; math.Abs(got1-10) > tt.tol || math.Abs(got2-20) > tt.tol {
				t.Errorf("cuts at %g and %g, want 10 and 20 within %g", got1, got2, tt.tol)
			}
			for i, want := range []float64{0.05, 0.30, 0.60} {
				if rows[i].Lower > want || rows[i].Upper < want {
					t.Errorf("range %s: 95%% interval [%.3f, %.3f] misses the true rate %.2f", rows[i].Label, rows[i].Lower, rows[i].Upper, want)
				}
			}
			if tt.labels != nil {
				var got []string
				for _, r := range rows {
					got = append(got, r.Label)
				}
				if !reflect.DeepEqual(got, tt.labels) {
					t.Errorf("labels %q, want %q", got, tt.labels)
				}
			}
		})
	}
}

func TestRangeBinsWithoutSignalKeepOneRange(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed))
			var won, lost []float64
			for range 5000 {
				x := rng.NormFloat64()*10 + 50
				if rng.Float64() < 0.2 {
					won = append(won, x)
				} else {
					lost = append(lost, x)
				}
			}
			rows := rangeBins(won, lost, false, RateOptions{MinContacts: 30, MaxRanges: 10})
			if len(rows) != 1 {
				t.Errorf("got %d ranges %+v, want 1", len(rows), rows)
			}
		})
	}
}

func TestComputeRatesTimeRangesAreDates(t *testing.T) {
	// Conversion jumps from 10% to 50% on 2024-02-20 (day 50); times carry hours and minutes.
	rng := rand.New(rand.NewPCG(7, 7))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Column{Name: "created_at", Kind: KindTime}
	var labels []Label
	for range 3000 {
		day := rng.IntN(100)
		ts := start.AddDate(0, 0, day).Add(time.Duration(rng.IntN(86400)) * time.Second)
		c.Num, c.Valid = append(c.Num, UnixSeconds(ts)), append(c.Valid, true)
		p := 0.1
		if day >= 50 {
			p = 0.5
		}
		l := Lost
		if rng.Float64() < p {
			l = Won
		}
		labels = append(labels, l)
	}
	rep, err := ComputeRates(&Frame{Columns: []*Column{c}}, labels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tab := rep.Table("created_at")
	if tab == nil || len(tab.Rows) != 2 {
		t.Fatalf("got %+v, want 2 ranges", tab)
	}
	cut := UnixTime(tab.Rows[1].Lo)
	if want := start.AddDate(0, 0, 50); cut.Sub(want).Abs() > 4*24*time.Hour {
		t.Errorf("cut at %v, want within 4 days of %v", cut, want)
	}
	date := regexp.MustCompile(`^(< |>= )\d{4}-\d{2}-\d{2}$`)
	for _, r := range tab.Rows {
		if !date.MatchString(r.Label) {
			t.Errorf("label %q is not a date range", r.Label)
		}
	}
}

// categoryFrame builds 107 rows: value "a" 40 closed (20 won) and 7 open, "b" 40 (4 won), rare "c" 10
// (5 won) and "d" 5 (0 won), 5 missing (1 won); an id column unique per row; a flag true exactly for "a".
func categoryFrame() (*Frame, []Label) {
	src := &Column{Name: "source", Kind: KindCategory}
	id := &Column{Name: "id", Kind: KindCategory}
	flag := &Column{Name: "vip", Kind: KindFlag}
	var labels []Label
	add := func(value string, n, won int, l Label) {
		for i := range n {
			src.Str, src.Valid = append(src.Str, value), append(src.Valid, value != "")
			id.Str, id.Valid = append(id.Str, fmt.Sprintf("C%04d", len(id.Str))), append(id.Valid, true)
			flag.Bool, flag.Valid = append(flag.Bool, value == "a"), append(flag.Valid, true)
			if l == Open {
				labels = append(labels, Open)
			} else if i < won {
				labels = append(labels, Won)
			} else {
				labels = append(labels, Lost)
			}
		}
	}
	add("d", 5, 0, Lost)
	add("b", 40, 4, Lost)
	add("", 5, 1, Lost)
	add("a", 40, 20, Lost)
	add("c", 10, 5, Lost)
	add("a", 7, 0, Open)
	return &Frame{Columns: []*Column{id, src, flag}}, labels
}

func TestComputeRatesCategories(t *testing.T) {
	f, labels := categoryFrame()
	rep, err := ComputeRates(f, labels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Contacts != 100 || rep.Customers != 30 || rep.Open != 7 || rep.Rate != 0.3 {
		t.Errorf("overall %d of %d (%d open), rate %g; want 30 of 100 (7 open), 0.3", rep.Customers, rep.Contacts, rep.Open, rep.Rate)
	}
	wantSkipped := []SkippedColumn{{Property: "id", Kind: KindCategory, Reason: "100 distinct values in 100 contacts: an identifier or free text"}}
	if !reflect.DeepEqual(rep.Skipped, wantSkipped) {
		t.Errorf("skipped %+v, want %+v", rep.Skipped, wantSkipped)
	}
	tab := rep.Table("source")
	if tab == nil {
		t.Fatal("no source table")
	}
	// Lifts are rates over 0.3.
	want := []RateRow{
		{Label: "a", Value: "a", Contacts: 40, Customers: 20, Rate: 0.5, Lift: 0.5 / 0.3},
		{Label: "b", Value: "b", Contacts: 40, Customers: 4, Rate: 0.1, Lift: 0.1 / 0.3},
		{Label: "(other)", Pooled: true, Values: 2, Contacts: 15, Customers: 5, Rate: 5.0 / 15, Lift: 5.0 / 15 / 0.3},
		{Label: "(missing)", Missing: true, Contacts: 5, Customers: 1, Rate: 0.2, Lift: 0.2 / 0.3},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(tab.Rows), tab.Rows, len(want))
	}
	const tol = 1e-12
	for i, w := range want {
		got := tab.Rows[i]
		w.Lower, w.Upper = Wilson(w.Customers, w.Contacts, z95)
		if got.Label != w.Label || got.Value != w.Value || got.Pooled != w.Pooled || got.Missing != w.Missing ||
			got.Values != w.Values || got.Contacts != w.Contacts || got.Customers != w.Customers ||
			math.Abs(got.Rate-w.Rate) > tol || math.Abs(got.Lift-w.Lift) > tol ||
			got.Lower != w.Lower || got.Upper != w.Upper {
			t.Errorf("row %d = %+v, want %+v", i, got, w)
		}
	}
	// Information value computed by hand (Python, float64): smoothed won shares (k+0.5)/32 and lost
	// shares (n-k+0.5)/72 over the four rows give 0.28861 + 0.46973 + 0.00428 + 0.00450.
	if got, want := tab.Strength, 0.7671192003272663; math.Abs(got-want) > 1e-12 {
		t.Errorf("strength %.16g, want %.16g", got, want)
	}
	vip := rep.Table("vip")
	if vip == nil || len(vip.Rows) != 2 || vip.Rows[0].Label != "true" || vip.Rows[0].Contacts != 40 || vip.Rows[1].Contacts != 60 {
		t.Errorf("vip table %+v, want true (40) then false (60)", vip)
	}
	if rep.Tables[0].Property != "source" || rep.Tables[0].Strength < rep.Tables[1].Strength {
		t.Errorf("tables ordered %s, %s: want source (strongest) first", rep.Tables[0].Property, rep.Tables[1].Property)
	}
}

func TestComputeRatesCapsValues(t *testing.T) {
	// 60 values of 40 contacts each: MaxValues 50 keeps the 50 largest (ties by value), pools 10.
	c := &Column{Name: "country", Kind: KindCategory}
	var labels []Label
	for v := range 60 {
		for i := range 40 + v {
			c.Str, c.Valid = append(c.Str, fmt.Sprintf("v%02d", v)), append(c.Valid, true)
			labels = append(labels, Label(min(i%(2+v%3), 1)))
		}
	}
	rep, err := ComputeRates(&Frame{Columns: []*Column{c}}, labels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tab := rep.Table("country")
	if tab == nil || len(tab.Rows) != 51 {
		t.Fatalf("got %+v, want 50 values and (other)", tab)
	}
	other := tab.Rows[50]
	if !other.Pooled || other.Values != 10 || other.Contacts != 40*10+45 {
		t.Errorf("(other) = %+v, want the 10 smallest values v00-v09 with 445 contacts", other)
	}
}

func TestComputeRatesSkips(t *testing.T) {
	labels := []Label{Won, Lost, Lost, Won, Lost, Open}
	num := numberColumn("n", []float64{1, 2, 3, 4, 5, 6})
	empty := &Column{Name: "empty", Kind: KindNumber, Num: make([]float64, 6), Valid: make([]bool, 6)}
	one := &Column{Name: "one", Kind: KindCategory, Str: []string{"x", "x", "x", "x", "x", "y"}, Valid: []bool{true, true, true, true, true, true}}
	rep, err := ComputeRates(&Frame{Columns: []*Column{num, empty, one}}, labels, RateOptions{MinContacts: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []SkippedColumn{
		{Property: "n", Kind: KindNumber, Reason: "no range differs in conversion rate"},
		{Property: "empty", Kind: KindNumber, Reason: "no closed contact has a value"},
		{Property: "one", Kind: KindCategory, Reason: "a single value"},
	}
	if !reflect.DeepEqual(rep.Skipped, want) || len(rep.Tables) != 0 {
		t.Errorf("skipped %+v, tables %+v; want skipped %+v and no tables", rep.Skipped, rep.Tables, want)
	}
}

func TestComputeRatesErrors(t *testing.T) {
	f := &Frame{Columns: []*Column{numberColumn("x", []float64{1, 2})}}
	tests := []struct {
		name   string
		labels []Label
		opts   RateOptions
		is     error
	}{
		{name: "label count", labels: []Label{Won}},
		{name: "only open", labels: []Label{Open, Open}, is: ErrNoClosedContacts},
		{name: "negative option", labels: []Label{Won, Lost}, opts: RateOptions{MinContacts: -1}},
		{name: "unknown column", labels: []Label{Won, Lost}, opts: RateOptions{Columns: []string{"nope"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ComputeRates(f, tt.labels, tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), "features: ") {
				t.Fatalf("got error %v, want one starting with features:", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v, want %v", err, tt.is)
			}
		})
	}
}

func TestComputeRatesColumnsAndExclude(t *testing.T) {
	f, labels := categoryFrame()
	rep, err := ComputeRates(f, labels, RateOptions{Columns: []string{"vip", "id"}, Exclude: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tables) != 1 || rep.Tables[0].Property != "vip" || len(rep.Skipped) != 0 {
		t.Errorf("got tables %+v skipped %+v, want only vip", rep.Tables, rep.Skipped)
	}
}

// mixedFrame builds n rows with a step number column, a category, a flag and a time column.
func mixedFrame(n int, seed uint64) (*Frame, []Label) {
	rng := rand.New(rand.NewPCG(seed, seed))
	xs, labels := stepRates(n, false, seed)
	cat := &Column{Name: "source", Kind: KindCategory}
	flag := &Column{Name: "unsubscribed", Kind: KindFlag}
	ts := &Column{Name: "created_at", Kind: KindTime}
	sources := []string{"Organic Search", "Paid Search", "Referrals", "Direct Traffic", "Email Marketing"}
	for i := range n {
		won := labels[i] == Won
		s := sources[rng.IntN(len(sources))]
		if won && rng.Float64() < 0.3 {
			s = "Referrals"
		}
		cat.Str, cat.Valid = append(cat.Str, s), append(cat.Valid, rng.Float64() > 0.05)
		flag.Bool, flag.Valid = append(flag.Bool, !won && rng.Float64() < 0.2), append(flag.Valid, true)
		ts.Num, ts.Valid = append(ts.Num, 1.7e9+rng.Float64()*3e7), append(ts.Valid, true)
		if rng.Float64() < 0.1 {
			labels[i] = Open
		}
	}
	x := numberColumn("visits", xs)
	x.Valid[0] = false
	return &Frame{Columns: []*Column{cat, x, flag, ts}}, labels
}

func TestComputeRatesIgnoresRowOrder(t *testing.T) {
	f, labels := mixedFrame(3000, 3)
	want, err := ComputeRates(f, labels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := ComputeRates(f, labels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, want) {
		t.Fatal("two runs on the same data differ")
	}
	perm := rand.New(rand.NewPCG(9, 9)).Perm(f.Len())
	g := &Frame{}
	for _, c := range f.Columns {
		d := &Column{Name: c.Name, Kind: c.Kind, Valid: make([]bool, len(perm))}
		for i, p := range perm {
			d.Valid[i] = c.Valid[p]
			switch c.Kind {
			case KindCategory:
				d.Str = append(d.Str, c.Str[p])
			case KindFlag:
				d.Bool = append(d.Bool, c.Bool[p])
			default:
				d.Num = append(d.Num, c.Num[p])
			}
		}
		g.Columns = append(g.Columns, d)
	}
	permLabels := make([]Label, len(perm))
	for i, p := range perm {
		permLabels[i] = labels[p]
	}
	got, err := ComputeRates(g, permLabels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shuffled rows give a different report:\n got %+v\nwant %+v", got, want)
	}
}

type lookupCase struct {
	name  string
	table *RateTable
	v     Value
	label string // the row's label when ok
	ok    bool
}

func TestRateTableLookup(t *testing.T) {
	f, labels := categoryFrame()
	rep, err := ComputeRates(f, labels, RateOptions{MinContacts: 20})
	if err != nil {
		t.Fatal(err)
	}
	src, vip := rep.Table("source"), rep.Table("vip")
	tests := []lookupCase{
		{name: "known value", table: src, v: String("b"), label: "b", ok: true},
		{name: "rare value", table: src, v: String("c"), label: "(other)", ok: true},
		{name: "unseen value", table: src, v: String("zzz"), label: "(other)", ok: true},
		{name: "missing", table: src, v: Value{}, label: "(missing)", ok: true},
		{name: "flag", table: vip, v: Flag(false), label: "false", ok: true},
		{name: "flag missing without missing row", table: vip, v: Value{}, ok: false},
	}

	xs, xl := stepRates(3000, true, 2)
	col := numberColumn("x", xs)
	col.Valid[0] = false
	steps, err := ComputeRates(&Frame{Columns: []*Column{col}}, xl, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := steps.Table("x")
	if x == nil || len(x.Rows) != 4 {
		t.Fatalf("got %+v, want three ranges and (missing)", x)
	}
	for _, r := range x.Rows[:3] {
		tests = append(tests,
			lookupCase{name: "lower end of " + r.Label, table: x, v: Number(r.Lo), label: r.Label, ok: true},
			lookupCase{name: "numeric string just below the end of " + r.Label, table: x,
				v: String(fmt.Sprint(math.Nextafter(r.Hi, math.Inf(-1)))), label: r.Label, ok: true},
		)
	}
	tests = append(tests,
		lookupCase{name: "far below", table: x, v: Number(-1e300), label: "< 10", ok: true},
		lookupCase{name: "+Inf", table: x, v: Number(math.Inf(1)), label: ">= 20", ok: true},
		lookupCase{name: "NaN is missing", table: x, v: Number(math.NaN()), label: "(missing)", ok: true},
		lookupCase{name: "wrong kind", table: x, v: Flag(true), ok: false},
		lookupCase{name: "not a number", table: x, v: String("many"), ok: false},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.table == nil {
				t.Fatal("no table")
			}
			got, ok := tt.table.Lookup(tt.v)
			if ok != tt.ok || (ok && got.Label != tt.label) {
				t.Errorf("Lookup(%+v) = %q, %v; want %q, %v", tt.v, got.Label, ok, tt.label, tt.ok)
			}
		})
	}
}

func TestRateReportJSONRoundTrip(t *testing.T) {
	f, labels := mixedFrame(2000, 5)
	rep, err := ComputeRates(f, labels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"lo":"-Inf"`) || !strings.Contains(string(b), `"hi":"+Inf"`) {
		t.Errorf("JSON lacks infinite range ends: %.300s", b)
	}
	var got RateReport
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, rep) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, *rep)
	}
}

func TestRangeLabels(t *testing.T) {
	inf := math.Inf(1)
	day := func(s string) float64 {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return UnixSeconds(tm)
	}
	ints := rangeFormat{min: 0, max: 99, integral: true}
	reals := rangeFormat{min: 0.25, max: 80.5}
	dates := rangeFormat{min: day("2024-01-03"), max: day("2024-12-30"), isTime: true, dateOnly: true}
	tests := []struct {
		name   string
		f      rangeFormat
		lo, hi float64
		want   string
	}{
		{name: "integer first", f: ints, lo: -inf, hi: 5, want: "< 5"},
		{name: "integer middle", f: ints, lo: 5, hi: 13, want: "5 - 12"},
		{name: "integer single", f: ints, lo: 5, hi: 6, want: "5"},
		{name: "integer last", f: ints, lo: 40, hi: inf, want: ">= 40"},
		{name: "integer first is one value", f: ints, lo: -inf, hi: 1, want: "0"},
		{name: "integer last is one value", f: ints, lo: 99, hi: inf, want: "99"},
		{name: "integer whole line", f: ints, lo: -inf, hi: inf, want: "0 - 99"},
		{name: "real middle", f: reals, lo: 1.5, hi: 12.25, want: "1.5 - 12.25"},
		{name: "real first", f: reals, lo: -inf, hi: 0.5, want: "< 0.5"},
		{name: "real last", f: reals, lo: 1e-5, hi: inf, want: ">= 1e-05"},
		{name: "date first", f: dates, lo: -inf, hi: day("2024-03-01"), want: "< 2024-03-01"},
		{name: "date middle inclusive", f: dates, lo: day("2024-03-01"), hi: day("2024-04-01"), want: "2024-03-01 - 2024-03-31"},
		{name: "date single day", f: dates, lo: day("2024-03-01"), hi: day("2024-03-02"), want: "2024-03-01"},
		{name: "date last", f: dates, lo: day("2024-04-01"), hi: inf, want: ">= 2024-04-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.label(tt.lo, tt.hi); got != tt.want {
				t.Errorf("label(%g, %g) = %q, want %q", tt.lo, tt.hi, got, tt.want)
			}
		})
	}
}

func TestRoundCut(t *testing.T) {
	tests := []struct {
		a, b, want float64
	}{
		{a: 12, b: 40, want: 20},
		{a: 9.62172000843067, b: 9.65, want: 9.63},
		{a: 1.1, b: 1.4, want: 1.2},
		{a: -1.8, b: -0.1, want: -1},
		{a: 0.1, b: 0.3, want: 0.2},
		{a: 5, b: 5.0000001, want: 5.0000001},
		{a: 99, b: 100, want: 100},
		{a: -5, b: 0, want: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.a, "_", tt.b), func(t *testing.T) {
			if got := roundCut(tt.a, tt.b); got != tt.want {
				t.Errorf("roundCut(%g, %g) = %g, want %g", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func BenchmarkComputeRates(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1e5", 1e5}} {
		f, labels := mixedFrame(size.n, 1)
		b.Run("rows="+size.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ComputeRates(f, labels, RateOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestComputeRatesRowsAndDerive: counting some rows of a frame, a category by its derived class, gives
// the report of a copy of those rows holding the classes (what training did before RateOptions.Rows).
func TestComputeRatesRowsAndDerive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 3000
	domains := []string{"gmail.com", "acme.com", "mit.edu", "yahoo.com", "initech.io"}
	email := NewColumn("email", KindCategory, n)
	visits := NewColumn("visits", KindNumber, n)
	labels := make([]Label, n)
	for i := range n {
		d := rng.IntN(len(domains))
		email.Str[i], email.Valid[i] = fmt.Sprintf("p%d@%s", i, domains[d]), i%17 != 0
		visits.Num[i], visits.Valid[i] = float64(rng.IntN(40)), i%13 != 0
		switch won := rng.Float64() < 0.1+0.05*float64(d)+0.01*visits.Num[i]; {
		case i%9 == 0:
			labels[i] = Open
		case won:
			labels[i] = Won
		default:
			labels[i] = Lost
		}
	}
	f := &Frame{Columns: []*Column{email, visits}}
	var rows []int
	for i := range n {
		if i%5 != 2 {
			rows = append(rows, i)
		}
	}
	got, err := ComputeRates(f, labels, RateOptions{Rows: rows, Derive: map[string]string{"email": DeriveEmailDomain}})
	if err != nil {
		t.Fatal(err)
	}
	sub := &Frame{Columns: []*Column{NewColumn("email", KindCategory, len(rows)), NewColumn("visits", KindNumber, len(rows))}}
	subLabels := make([]Label, len(rows))
	for r, i := range rows {
		e, v := sub.Columns[0], sub.Columns[1]
		e.Str[r], e.Valid[r] = DerivedClass(DeriveEmailDomain, email.Str[i]), email.Valid[i]
		v.Num[r], v.Valid[r] = visits.Num[i], visits.Valid[i]
		subLabels[r] = labels[i]
	}
	want, err := ComputeRates(sub, subLabels, RateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rates of rows:\n%+v\nwant those of the copy:\n%+v", got, want)
	}
	if len(got.Tables) != 2 || got.Table("email") == nil || len(got.Table("email").Rows) > 4 {
		t.Errorf("want a table of each column, email by its classes: %+v", got.Tables)
	}
	if _, err := ComputeRates(f, labels, RateOptions{Rows: []int{0, n}}); err == nil {
		t.Error("a row past the frame: no error")
	}
}
