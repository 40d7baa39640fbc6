package models

import (
	"fmt"
	"math"
	"slices"
)

// Priority is a contact's tier by predicted probability, like HubSpot's contact priority.
// The zero Priority is PriorityUnspecified; tiers are ordered, so p >= PriorityHigh reads naturally.
type Priority uint8

// The priority tiers, lowest first.
const (
	PriorityUnspecified Priority = iota
	PriorityLow
	PriorityMedium
	PriorityHigh
	PriorityVeryHigh
)

var priorityNames = [...]string{"UNSPECIFIED", "LOW", "MEDIUM", "HIGH", "VERY_HIGH"}

// String returns the tier's name as the API spells it: "LOW", "MEDIUM", "HIGH" or "VERY_HIGH".
func (p Priority) String() string {
	if int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return fmt.Sprintf("Priority(%d)", p)
}

// ParsePriority is the inverse of Priority.String.
func ParsePriority(s string) (Priority, error) {
	for i, n := range priorityNames {
		if n == s {
			return Priority(i), nil
		}
	}
	return PriorityUnspecified, fmt.Errorf("models: unknown priority %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// PriorityOf places probability p among the tier cut points: p < tiers[0] is LOW, p < tiers[1] is
// MEDIUM, p < tiers[2] is HIGH, anything else VERY_HIGH. A cut point belongs to the tier above it.
func PriorityOf(p float64, tiers [3]float64) Priority {
	switch {
	case p < tiers[0]:
		return PriorityLow
	case p < tiers[1]:
		return PriorityMedium
	case p < tiers[2]:
		return PriorityHigh
	}
	return PriorityVeryHigh
}

// GradeCuts returns the cut points for a predictive fit grade or engagement level: the 25th, 50th and
// 75th percentiles of sums (the element at index floor(q*n) of the sorted sums, the same rule as the
// priority tiers). Sums are per-row totals of one group's contributions on the training rows. The cuts
// are non-decreasing; ties are kept (a group every row scores the same on puts everyone in the top
// grade). Empty sums give zero cuts. sums is not modified.
func GradeCuts(sums []float64) [3]float64 {
	if len(sums) == 0 {
		return [3]float64{}
	}
	s := slices.Clone(sums)
	slices.Sort(s)
	q := func(p float64) float64 {
		return s[min(len(s)-1, int(math.Floor(p*float64(len(s)))))]
	}
	return [3]float64{q(0.25), q(0.5), q(0.75)}
}

// FitGrade turns a sum of fit contributions into a grade: "A" at or above cuts[2], "B" at or above
// cuts[1], "C" at or above cuts[0], else "D". A is the best fit, as in HubSpot's lead scoring matrix.
func FitGrade(sum float64, cuts [3]float64) string {
	switch {
	case sum >= cuts[2]:
		return "A"
	case sum >= cuts[1]:
		return "B"
	case sum >= cuts[0]:
		return "C"
	}
	return "D"
}

// EngagementLevel turns a sum of engagement contributions into a level: 1 at or above cuts[2], 2 at
// or above cuts[1], 3 at or above cuts[0], else 4. Level 1 is the most engaged, as in HubSpot.
func EngagementLevel(sum float64, cuts [3]float64) int {
	switch {
	case sum >= cuts[2]:
		return 1
	case sum >= cuts[1]:
		return 2
	case sum >= cuts[0]:
		return 3
	}
	return 4
}
