package rules

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/leadscore/leadscore/features"
)

// benchContacts returns n contacts shaped like the generated ones (see generatedColumns).
func benchContacts(n int, seed uint64) []features.Contact {
	rng := rand.New(rand.NewPCG(seed, seed))
	titles := []string{"VP Sales", "Chief Marketing Officer", "Marketing Manager", "Software Engineer",
		"Student", "Marketing Intern", "Director of Operations", ""}
	domains := []string{"acme-robotics.com", "gmail.com", "yahoo.co.uk", "stanford.edu", "northcloud.io"}
	industries := []string{"Computer Software", "Financial Services", "Retail", "Education Management", "Manufacturing"}
	sources := []string{"Organic Search", "Paid Search", "Referrals", "Direct Traffic", "Offline Sources"}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	count := func(mean float64) features.Value { return features.Number(float64(rng.IntN(int(2*mean) + 1))) }
	out := make([]features.Contact, n)
	for i := range out {
		p := map[string]features.Value{
			"email":              features.String("ana@" + domains[rng.IntN(len(domains))]),
			"industry":           features.String(industries[rng.IntN(len(industries))]),
			"employees":          features.Number(float64(1 + rng.IntN(3000))),
			"country":            features.String("Germany"),
			"source":             features.String(sources[rng.IntN(len(sources))]),
			"visits":             count(4),
			"page_views":         count(10),
			"pricing_page_views": count(1),
			"demo_page_views":    count(0.5),
			"careers_page_views": count(0.3),
			"email_opens":        count(4),
			"email_clicks":       count(1),
			"forms_tofu":         count(0.5),
			"forms_mofu":         count(0.3),
			"forms_bofu":         count(0.1),
			"last_activity_at":   features.Timestamp(at.Add(-time.Duration(rng.IntN(120*24)) * time.Hour)),
			"unsubscribed":       features.Flag(rng.IntN(10) == 0),
		}
		if t := titles[rng.IntN(len(titles))]; t != "" {
			p["job_title"] = features.String(t)
		}
		if rng.IntN(3) > 0 {
			p["annual_revenue"] = features.Number(float64(rng.IntN(50_000_000)))
		}
		out[i] = features.Contact{ID: "C", Props: p}
	}
	return out
}

// BenchmarkScore scores contacts with testdata/rules.yaml (21 rules, 2 exclusions) on one goroutine.
// Run with -benchtime=1000000x for one million contacts. contacts/s is by wall time; contacts/cpu-s
// divides by the CPU time the process used (garbage collection included), which other load on a shared
// machine does not inflate.
func BenchmarkScore(b *testing.B) {
	r := readRepoRules(b)
	contacts := benchContacts(4096, 1)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name  string
		score func(features.Contact, time.Time) Result
	}{
		{"explain", r.Score},
		{"summary", r.Summary},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink float64
			cpu0, cpuOK := cpuSeconds()
			for i := 0; b.Loop(); i++ {
				sink += bc.score(contacts[i%len(contacts)], at).Total
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "contacts/s")
			if cpu1, ok := cpuSeconds(); ok && cpuOK && cpu1 > cpu0 {
				b.ReportMetric(float64(b.N)/(cpu1-cpu0), "contacts/cpu-s")
			}
			if sink == 0.5 {
				b.Log(sink)
			}
		})
	}
}
