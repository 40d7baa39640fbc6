package features_test

import (
	"fmt"

	"github.com/leadscore/leadscore/features"
)

func ExampleWilson() {
	lo, hi := features.Wilson(1, 10, 1.96)
	fmt.Printf("1 of 10: %.1f%% - %.1f%%\n", 100*lo, 100*hi)
	lo, hi = features.Wilson(0, 10, 1.96)
	fmt.Printf("0 of 10: %.1f%% - %.1f%%\n", 100*lo, 100*hi)
	// Output:
	// 1 of 10: 1.8% - 40.4%
	// 0 of 10: 0.0% - 27.8%
}

func ExampleComputeRates() {
	// 200 contacts: referrals convert at 40%, paid search at 10%.
	source := &features.Column{Name: "source", Kind: features.KindCategory}
	var labels []features.Label
	for i := range 200 {
		s, won := "Referrals", i%5 < 2
		if i >= 100 {
			s, won = "Paid Search", i%10 == 0
		}
		source.Str, source.Valid = append(source.Str, s), append(source.Valid, true)
		labels = append(labels, map[bool]features.Label{true: features.Won, false: features.Lost}[won])
	}
	rep, err := features.ComputeRates(&features.Frame{Columns: []*features.Column{source}}, labels, features.RateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("overall %.0f%% of %d\n", 100*rep.Rate, rep.Contacts)
	for _, r := range rep.Tables[0].Rows {
		fmt.Printf("%-11s %3d %2d %4.0f%% lift %.1f\n", r.Label, r.Contacts, r.Customers, 100*r.Rate, r.Lift)
	}
	// No value was rare, so there is no "(other)" row for a source never seen.
	_, ok := rep.Tables[0].Lookup(features.String("Webinar"))
	fmt.Println("Webinar found:", ok)
	// Output:
	// overall 25% of 200
	// Referrals   100 40   40% lift 1.6
	// Paid Search 100 10   10% lift 0.4
	// Webinar found: false
}
