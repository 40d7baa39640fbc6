package compare

import "testing"

func TestHeatColour(t *testing.T) {
	// Expected colours worked out by hand from the palette: cold #2b6cb0, neutral #f5f2e8, hot
	// #c82a1e, empty grey #f3f4f6 and a fade of 0.7 towards it.
	for _, c := range []struct {
		name              string
		rate, overall, hi float64
		contacts          int
		want              string
		light             bool
	}{
		{"no customers is coldest", 0, 0.2, 0.6, 50, "#2b6cb0", true},
		{"half the average", 0.1, 0.2, 0.6, 50, "#90afcc", false}, // midway: (43+245)/2, (108+242)/2, (176+232)/2
		{"the average is neutral", 0.2, 0.2, 0.6, 50, "#f5f2e8", false},
		{"the hottest cell", 0.6, 0.2, 0.6, 50, "#c82a1e", true},
		{"above the hottest is clamped", 0.9, 0.2, 0.6, 50, "#c82a1e", true},
		{"nothing above average: all cold side", 0.2, 0.2, 0.2, 50, "#f5f2e8", false},
		{"few contacts fade to grey", 0, 0.2, 0.6, 3, "#b7cbe1", false}, // 43+0.7*200, 108+0.7*136, 176+0.7*70,
	} {
		t.Run(c.name, func(t *testing.T) {
			got, light := heatColour(c.rate, c.overall, c.hi, c.contacts)
			if got != c.want || light != c.light {
				t.Errorf("heatColour(%v, %v, %v, %d) = %s, %v; want %s, %v", c.rate, c.overall, c.hi, c.contacts, got, light, c.want, c.light)
			}
		})
	}
}
