package models

import "testing"

func TestPriorityOf(t *testing.T) {
	tiers := [3]float64{0.2, 0.5, 0.8}
	tests := []struct {
		name string
		p    float64
		want Priority
	}{
		{"zero", 0, PriorityLow},
		{"just below first cut", 0.19999, PriorityLow},
		{"at first cut", 0.2, PriorityMedium},
		{"just below second cut", 0.49999, PriorityMedium},
		{"at second cut", 0.5, PriorityHigh},
		{"just below third cut", 0.79999, PriorityHigh},
		{"at third cut", 0.8, PriorityVeryHigh},
		{"one", 1, PriorityVeryHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PriorityOf(tt.p, tiers); got != tt.want {
				t.Errorf("PriorityOf(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestPriorityText(t *testing.T) {
	tests := []struct {
		p    Priority
		want string
	}{
		{PriorityUnspecified, "UNSPECIFIED"},
		{PriorityLow, "LOW"},
		{PriorityMedium, "MEDIUM"},
		{PriorityHigh, "HIGH"},
		{PriorityVeryHigh, "VERY_HIGH"},
		{Priority(9), "Priority(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if tt.p > PriorityVeryHigh {
				if _, err := ParsePriority(tt.want); err == nil {
					t.Errorf("ParsePriority(%q) succeeded, want an error", tt.want)
				}
				return
			}
			var back Priority
			if err := back.UnmarshalText([]byte(tt.want)); err != nil || back != tt.p {
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tt.want, back, err, tt.p)
			}
		})
	}
}

func TestGradeCuts(t *testing.T) {
	// Expected values by hand: sorted sums, then the element at floor(q*n) for q = .25, .5, .75.
	tests := []struct {
		name string
		sums []float64
		want [3]float64
	}{
		{"empty", nil, [3]float64{}},
		{"one", []float64{3}, [3]float64{3, 3, 3}},
		{"four unsorted", []float64{4, 1, 3, 2}, [3]float64{2, 3, 4}},
		{"eight", []float64{-4, -3, -2, -1, 1, 2, 3, 4}, [3]float64{-2, 1, 3}},
		{"ties", []float64{0, 0, 0, 0, 0, 1}, [3]float64{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]float64(nil), tt.sums...)
			if got := GradeCuts(tt.sums); got != tt.want {
				t.Errorf("GradeCuts(%v) = %v, want %v", tt.sums, got, tt.want)
			}
			for i := range before {
				if before[i] != tt.sums[i] {
					t.Fatalf("GradeCuts modified its input: %v, was %v", tt.sums, before)
				}
			}
		})
	}
}

func TestGrades(t *testing.T) {
	cuts := [3]float64{-1, 0, 1}
	tests := []struct {
		name       string
		sum        float64
		grade      string
		engagement int
	}{
		{"far below", -5, "D", 4},
		{"just below first cut", -1.0001, "D", 4},
		{"at first cut", -1, "C", 3},
		{"at second cut", 0, "B", 2},
		{"just below third cut", 0.9999, "B", 2},
		{"at third cut", 1, "A", 1},
		{"far above", 7, "A", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FitGrade(tt.sum, cuts); got != tt.grade {
				t.Errorf("FitGrade(%v) = %q, want %q", tt.sum, got, tt.grade)
			}
			if got := EngagementLevel(tt.sum, cuts); got != tt.engagement {
				t.Errorf("EngagementLevel(%v) = %d, want %d", tt.sum, got, tt.engagement)
			}
		})
	}
}
