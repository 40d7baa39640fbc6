package rules_test

import (
	"fmt"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models/rules"
)

// HubSpot's example: +3 for 2 to 5 visits, +6 for 6 or more, +50 for a demo request, -50 when they
// unsubscribe; MQL at 35, SQL at 65.
func ExampleParse() {
	r, err := rules.Parse([]byte(`
rules:
  - name: Website visits
    property: visits
    ranges:
      - {between: [2, 5], points: 3}
      - {at_least: 6, points: 6}
  - name: Demo request
    points: 50
    when: {forms_bofu: {at_least: 1}}
  - name: Unsubscribed
    points: -50
    when: {unsubscribed: true}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := features.Contact{ID: "C1", Props: map[string]features.Value{
		"visits":     features.Number(8),
		"forms_bofu": features.Number(1),
	}}
	res := r.Score(c, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	for _, h := range res.Hits {
		fmt.Printf("%-14s %-5v %3g  %s\n", h.Rule, h.Matched, h.Points, h.Detail)
	}
	fmt.Println("total", res.Total, res.Stage)
	// Output:
	// Website visits true    6  visits = 8, in 6 or more
	// Demo request   true   50  forms_bofu = 1
	// Unsubscribed   false   0  unsubscribed unknown, wanted unsubscribed is true
	// total 56 MQL
}

func ExampleParse_error() {
	_, err := rules.Parse([]byte(`rules:
  - name: Website visits
    property: visits
    ranges:
      - {between: [2, 5], points: 3}
      - {at_least: 5, points: 6}
`))
	fmt.Println(err)
	// Output:
	// rules: line 6: "Website visits": property visits: overlapping ranges: 5 or more overlaps 2 to 5 (line 5): a contact gets the points of one range only
}
