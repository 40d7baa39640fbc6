package rules

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// referenceDetail is the straightforward wording of a hit's detail, one string per piece, that Score
// formatted before it wrote every detail into one buffer; appendDetail must give the same bytes.
func referenceDetail(rule *Rule, c features.Contact, at time.Time, matched bool, failed int, band *Range, factor float64) string {
	if !matched && failed >= 0 {
		cr := &rule.Criteria[failed]
		return referenceShow(cr.Property, c.Props[cr.Property]) + ", wanted " + cr.describe()
	}
	var b strings.Builder
	for i := range rule.Criteria {
		cr := &rule.Criteria[i]
		if i > 0 {
			b.WriteString("; ")
		}
		v := c.Props[cr.Property]
		b.WriteString(referenceShow(cr.Property, v))
		if d, ok := cr.Decay(); ok {
			if age, ok := ageDays(v, at); ok {
				b.WriteString(" (" + num(max(age, 0)) + " days old, x" + num(d.factor(age)) + ")")
			}
		}
	}
	if len(rule.Ranges) > 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(referenceShow(rule.Property, c.Props[rule.Property]))
		if band != nil {
			b.WriteString(", in " + band.String())
		} else {
			b.WriteString(", in no range")
		}
	}
	if matched && factor != 1 && len(rule.Criteria) > 1 {
		b.WriteString("; x" + num(factor) + " in all")
	}
	return b.String()
}

func referenceShow(property string, v features.Value) string {
	if !known(v) {
		return property + " unknown"
	}
	switch v.Kind {
	case features.KindCategory:
		return property + " = \"" + v.Str + "\""
	case features.KindNumber:
		return property + " = " + num(v.Num)
	}
	return property + " = " + v.Text()
}

// referenceDetails words every hit Score should list for c with referenceDetail.
func referenceDetails(r *Rules, c features.Contact, at time.Time) []string {
	vals := r.resolve(c)
	defer release(vals)
	var out []string
	for i := range r.Exclusions {
		x := &r.Exclusions[i]
		ok, _, failed := matchAll(x.Criteria, *vals, at, nil)
		out = append(out, referenceDetail(x, c, at, ok, failed, nil, 1))
		if ok {
			return out
		}
	}
	for i := range r.Rules {
		rule := &r.Rules[i]
		ok, factor, failed := matchAll(rule.Criteria, *vals, at, nil)
		var band *Range
		if ok && len(rule.Ranges) > 0 {
			if b := rule.band(c.Props[rule.Property]); b >= 0 {
				band = &rule.Ranges[b]
			} else {
				ok = false
			}
		}
		out = append(out, referenceDetail(rule, c, at, ok, failed, band, factor))
	}
	return out
}

// detailValues are property values of every kind, including ones that are unknown, unusual or long.
var detailValues = []features.Value{
	{}, features.String(""), features.String("  "), features.String("5"), features.String(" 2.5 "),
	features.String("VP Sales"), features.String("ana@gmail.com"), features.String("bob@ox.ac.uk"),
	features.String("yes"), features.String("2025-12-01"), features.String("2025-12-20T10:00:00+02:00"),
	features.String(`say "hi"; ` + strings.Repeat("é", 300)), features.Number(0), features.Number(1),
	features.Number(3), features.Number(4.567), features.Number(-1e300), features.Number(1e15),
	features.Number(12345678.125), features.Number(math.NaN()), features.Number(math.Inf(1)),
	features.Number(math.Inf(-1)), features.Flag(true), features.Flag(false),
	features.Timestamp(time.Date(2025, 12, 31, 12, 0, 0, 0, time.FixedZone("x", 3600))),
	features.Timestamp(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)),
	features.Timestamp(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)), {Kind: 9},
	features.Timestamp(time.Unix(0, 0)), {Kind: features.KindTime}, features.Number(math.Copysign(0, -1)),
}

// TestKeyOf checks which values are left out of the detail caches, and that the outcome is part of
// the key.
func TestKeyOf(t *testing.T) {
	for _, tc := range []struct {
		v    features.Value
		want bool
	}{
		{features.String(strings.Repeat("x", maxCachedValue)), true},
		{features.String(strings.Repeat("x", maxCachedValue+1)), false},
		{features.Number(3), true},
		{features.Number(math.NaN()), false},
		{features.Timestamp(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)), false},
	} {
		if _, ok := keyOf(tc.v, false); ok != tc.want {
			t.Errorf("keyOf(%.20v...) cached = %v, want %v", tc.v, ok, tc.want)
		}
	}
	k1, _ := keyOf(features.Number(3), false)
	k2, _ := keyOf(features.Number(3), true)
	if k1 == k2 {
		t.Error("a match and a miss share a key")
	}
}

// detailContacts are contacts that an exclusion of the test files catches, or that match every
// criterion of a rule with a decay and several criteria (so the detail ends in "x... in all").
func detailContacts(at time.Time) []features.Contact {
	return []features.Contact{
		{Props: map[string]features.Value{"email": features.String("ana@example.com")}},
		{Props: map[string]features.Value{"email": features.String("bob@leadscore.io"), "visits": features.Number(3)}},
		{Props: map[string]features.Value{
			"seen_at": features.Timestamp(at.Add(-40 * 24 * time.Hour)), "country": features.String("France"),
			"ok": features.Flag(false), "size": features.Number(3), "code": features.String("007"),
			"job_title": features.String("Chief Growth Officer"), "industry": features.String("Retail"),
			"last_activity_at": features.String("2025-12-20"), "visits": features.String("9"),
			"pricing_page_views": features.Number(2), "demo_page_views": features.Number(1),
		}},
	}
}

// TestDetailsMatchReference checks that Score words every hit exactly as referenceDetail does, for the
// repository's rules file and the valid test files, over generated contacts and contacts whose every
// property takes each of detailValues in turn, each scored twice. All results are kept and checked at
// the end, so a detail that shared memory with a later call would show.
func TestDetailsMatchReference(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	files := map[string]*Rules{"testdata/rules.yaml": readRepoRules(t)}
	for _, tt := range validFiles {
		files[tt.name] = mustParse(t, tt.src)
	}
	for name, r := range files {
		t.Run(name, func(t *testing.T) {
			contacts := benchContacts(300, 7)
			props := r.Properties()
			for i := range detailValues {
				p := map[string]features.Value{}
				for j, prop := range props {
					p[prop] = detailValues[(i+j)%len(detailValues)]
				}
				contacts = append(contacts, features.Contact{Props: p})
			}
			contacts = append(contacts, detailContacts(at)...)
			// Twice: the second pass finds the details of values seen in the first in the rules'
			// caches, some of which the first pass filled.
			results := make([]Result, 2*len(contacts))
			for i := range results {
				results[i] = r.Score(contacts[i%len(contacts)], at)
			}
			for i := range results {
				c := contacts[i%len(contacts)]
				want := referenceDetails(r, c, at)
				got := results[i].Hits
				if len(got) != len(want) {
					t.Fatalf("contact %d: got %d hits, want %d", i, len(got), len(want))
				}
				for j := range want {
					if got[j].Detail != want[j] {
						t.Errorf("contact %d, %s: got %q, want %q", i, got[j].Rule, got[j].Detail, want[j])
					}
				}
			}
		})
	}
}

// TestDetailsConcurrent scores from several goroutines at once, as the server does, and checks every
// detail against the reference; run with -race it also checks that the calls share no buffer.
func TestDetailsConcurrent(t *testing.T) {
	r := readRepoRules(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	contacts := append(benchContacts(100, 3), detailContacts(at)...)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range contacts {
				c := contacts[(i+g*25)%len(contacts)]
				res := r.Score(c, at)
				for j, want := range referenceDetails(r, c, at) {
					if res.Hits[j].Detail != want {
						errs <- fmt.Sprintf("%s: got %q, want %q", res.Hits[j].Rule, res.Hits[j].Detail, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestOutcomesKept checks that rules that keep their outcomes by value (see cacheOutcomes) score
// exactly as the same rules keeping none: every contact of TestDetailsMatchReference, scored twice
// (the second pass finds the outcomes the first kept), with and without hits.
func TestOutcomesKept(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	files := map[string]func() *Rules{"testdata/rules.yaml": func() *Rules { return readRepoRules(t) }}
	for _, tt := range validFiles {
		files[tt.name] = func() *Rules { return mustParse(t, tt.src) }
	}
	for name, parse := range files {
		t.Run(name, func(t *testing.T) {
			r, fresh := parse(), parse()
			kept := 0
			for _, list := range [][]Rule{fresh.Exclusions, fresh.Rules} {
				for i := range list {
					list[i].outcomes = nil
				}
			}
			contacts := append(benchContacts(300, 7), detailContacts(at)...)
			for pass := range 2 {
				for i, c := range contacts {
					for _, score := range []func(*Rules) Result{
						func(r *Rules) Result { return r.Score(c, at) },
						func(r *Rules) Result { return r.Summary(c, at) },
					} {
						if got, want := score(r), score(fresh); !reflect.DeepEqual(got, want) {
							t.Fatalf("pass %d, contact %d:\n got %+v\nwant %+v", pass, i, got, want)
						}
					}
				}
			}
			for _, list := range [][]Rule{r.Exclusions, r.Rules} {
				for i := range list {
					if o := list[i].outcomes; o != nil {
						kept += o.Len()
					}
				}
			}
			if kept == 0 && name == "testdata/rules.yaml" {
				t.Fatal("no outcomes were kept")
			}
		})
	}
}

// TestAppendNumWholeNumbers checks that a whole number is written as strconv.AppendFloat(f, 'f', 0)
// writes it, which appendNum did before it wrote them as integers.
func TestAppendNumWholeNumbers(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 3, 42, -20, 1 << 53, -(1 << 53), 1e15 - 1, -(1e15 - 1), 123456789012345} {
		if got, want := string(appendNum(nil, f)), strconv.FormatFloat(f, 'f', 0, 64); got != want {
			t.Errorf("appendNum(%v) = %q, want %q", f, got, want)
		}
	}
}

// TestAppendNumFractions checks that a number that is not whole is written as
// strconv.AppendFloat(math.Round(f*100)/100, 'f', -1) writes it, which appendNum did before it wrote
// the hundredths itself: edge cases and a million random numbers of every size up to 1e9, both signs.
func TestAppendNumFractions(t *testing.T) {
	want := func(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }
	cases := []float64{0.5, -0.5, 0.004, -0.004, 0.005, -0.005, 0.994, 0.995, 0.999, 1.005, 3.56, 2.675, 1.1,
		0.1 + 0.2, 9999999.994, 9999999.995, -9999999.995, 1e7 + 0.5, 1e9 - 0.5, 123456.785, math.Nextafter(1, 2), math.SmallestNonzeroFloat64,
		math.Inf(-1), math.NaN()}
	rng := rand.New(rand.NewPCG(3, 3))
	for range 1000000 {
		f := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(12)-3))
		cases = append(cases, f)
	}
	for _, f := range cases {
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			continue // whole: TestAppendNumWholeNumbers
		}
		if got, want := string(appendNum(nil, f)), want(f); got != want {
			t.Fatalf("appendNum(%v) = %q, want %q", f, got, want)
		}
	}
}
