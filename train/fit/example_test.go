package fit_test

import (
	"fmt"

	"github.com/leadscore/leadscore/train/fit"
)

func ExampleFit() {
	// Four contacts, two columns (visited pricing page, employees in thousands); 1 = won.
	X := []float64{
		1, 0.2,
		0, 5.0,
		1, 3.0,
		0, 0.1,
	}
	y := []float64{1, 0, 1, 0}
	// Dense stores the 0/1 column as indices and the other as numbers.
	d, err := fit.Dense(X, 4, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := fit.Fit(d, y, fit.Options{C: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("converged %v, P(won | pricing page, 1k employees) = %.2f\n", res.Converged, res.Probability([]float64{1, 1}))
	// Output: converged true, P(won | pricing page, 1k employees) = 0.63
}
