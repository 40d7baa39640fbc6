package compare

import (
	"fmt"
	"math"
	"strconv"
)

// wholePercent formats a share as whole percents: 0.614 -> "61%".
func wholePercent(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// percent1 formats a share with one decimal: 0.1234 -> "12.3%".
func percent1(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// decimal3 formats an AUC or a probability: "0.812".
func decimal3(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

// points formats a manual total: whole numbers without decimals, others with one.
func points(x float64) string {
	if x == math.Trunc(x) {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// signedPoints formats a rule's points with their sign: "+50", "-10".
func signedPoints(x float64) string {
	if x > 0 {
		return "+" + points(x)
	}
	return points(x)
}

// csvFloat formats a number for a CSV cell: the shortest text that reads back exactly.
func csvFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
