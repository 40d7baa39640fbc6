package synth

import (
	"math"
	"math/rand/v2"

	"github.com/leadscore/leadscore/features"
)

// Columns Pathologies adds.
const (
	SequenceColumn = "opportunity_number"
	WonOnlyColumn  = "deal_amount"
	TagsColumn     = "tags"
)

// Pathologies are the traits of real CRM exports that mislead a naive training. Each adds a column
// (after the Schema columns, in the order below) or a drift; the zero value adds none, and the base
// columns are the same with or without them for the same seed.
type Pathologies struct {
	// Trend raises the latent intent of contacts linearly with their creation order, by Trend
	// standard deviations from the oldest to the newest, so the conversion rate rises over time
	// (about 9% to 35% of closed contacts with Trend 2.5) while the true model stays the same: the rise is
	// carried by the engagement it drives. Recent contacts are also the ones still open.
	Trend float64
	// Sequence adds opportunity_number, a unique whole number rising with creation order, as CRMs
	// number records. With a Trend it ranks the outcome, and it is still no trait of the contact.
	Sequence bool
	// WonOnly adds deal_amount, filled in only for won deals (as a closed-deals export joined on).
	WonOnly bool
	// StatusTags adds tags, a sales team's status tag whose values state the outcome: "Closed by
	// sales" for most won deals, "Lost to competitor" or "Not interested" for most lost ones, and
	// "Will revert after reading the email" or "Ringing" for open ones and some of the rest.
	StatusTags bool
}

// add appends the columns p asks for to f, drawn from their own generator so that the base columns
// do not change.
func (p Pathologies) add(f *features.Frame, seed uint64) {
	n := f.Len()
	rng := rand.New(rand.NewPCG(seed^0xbad, seed))
	stage := f.Column(LabelColumn)
	newCol := func(name string, kind features.Kind) *features.Column {
		c := features.NewColumn(name, kind, n)
		f.Columns = append(f.Columns, c)
		return c
	}
	if p.Sequence {
		c := newCol(SequenceColumn, features.KindNumber)
		next := 1640000.0
		for i := range n {
			next += float64(1 + rng.IntN(3))
			c.Num[i], c.Valid[i] = next, true
		}
	}
	if p.WonOnly {
		c := newCol(WonOnlyColumn, features.KindNumber)
		for i := range n {
			if stage.Str[i] == StageWon {
				c.Num[i], c.Valid[i] = math.Round(5000*math.Exp(0.8*rng.NormFloat64())), true
			}
		}
	}
	if p.StatusTags {
		c := newCol(TagsColumn, features.KindCategory)
		for i := range n {
			u := rng.Float64()
			var tag string
			switch stage.Str[i] {
			case StageWon:
				tag = pick3(u, 0.85, "Closed by sales", 0.10, "Will revert after reading the email", "Ringing")
			case StageLost:
				tag = pick3(u, 0.45, "Lost to competitor", 0.35, "Not interested", pick3(rng.Float64(), 0.5, "Ringing", 0.5, "Will revert after reading the email", ""))
			default:
				tag = pick3(u, 0.5, "Will revert after reading the email", 0.5, "Ringing", "")
			}
			c.Str[i], c.Valid[i] = tag, true
		}
	}
}
