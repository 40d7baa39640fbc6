package suggest

import (
	"fmt"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/metrics"
)

// Judged is how well a suggestion ranks a model's holdout, beside the model itself and the rules in
// use, each as an AUC.
type Judged struct {
	Contacts         int     // holdout contacts
	Model, Suggested float64 // AUC of the model's probability and of the suggested points
	Current          float64 // AUC of the rules in use; 0 without them
	HasCurrent       bool
}

// Judge scores the holdout rows hold of f (labels has one entry per row of f) with the model a, the
// suggested rules and, if not nil, the rules in use, at the model's reference time.
func (s *Suggestion) Judge(a *models.Artifact, current *rules.Rules, f *features.Frame, labels []features.Label, hold []int) (Judged, error) {
	at := a.Spec.ReferenceTime
	y := make([]bool, len(hold))
	sugg := make([]float64, len(hold))
	cur := make([]float64, len(hold))
	prob := make([]float64, len(hold))
	for r, i := range hold {
		c := f.Contact(i, "")
		y[r] = labels[i] == features.Won
		sugg[r] = s.Rules.Score(c, at).Total
		if current != nil {
			cur[r] = current.Score(c, at).Total
		}
		p, err := a.Predict(c, at)
		if err != nil {
			return Judged{}, fmt.Errorf("suggest: holdout row %d: %w", i+1, err)
		}
		prob[r] = p.Probability
	}
	j := Judged{Contacts: len(hold), Model: metrics.AUC(prob, y), Suggested: metrics.AUC(sugg, y), HasCurrent: current != nil}
	if current != nil {
		j.Current = metrics.AUC(cur, y)
	}
	return j, nil
}

// String is the judgement in one line for people.
func (j Judged) String() string {
	line := fmt.Sprintf("holdout AUC (%d contacts): model %.4f, suggested rules %.4f", j.Contacts, j.Model, j.Suggested)
	if j.HasCurrent {
		line += fmt.Sprintf(", current rules %.4f", j.Current)
	}
	return line
}
