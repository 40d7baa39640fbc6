package dataset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/leadscore/leadscore/features"
)

// Outcome says which column holds a contact's outcome and which of its values mean won and lost.
// Values match case-insensitively after trimming spaces; a number matches its text ("1", "2.5"),
// and a flag matches true, yes or 1 when true and false, no or 0 when false.
type Outcome struct {
	Column   string
	Positive []string // values meaning won
	Negative []string // values meaning lost
}

// OutcomeCounts counts the labels of a frame. OpenValues lists, sorted, the distinct values that
// were labelled Open (missing values are Open too but are not listed), so a caller can show which
// values it left out of learning.
type OutcomeCounts struct {
	Won        int      `json:"won"`
	Lost       int      `json:"lost"`
	Open       int      `json:"open"`
	OpenValues []string `json:"open_values,omitempty"`
	// Unmatched counts the keys of an outcomes file that match no contact (OutcomeJoin only).
	Unmatched int `json:"unmatched,omitempty"`
}

// add counts one label.
func (c *OutcomeCounts) add(l features.Label) {
	switch l {
	case features.Won:
		c.Won++
	case features.Lost:
		c.Lost++
	default:
		c.Open++
	}
}

// openValues are outcome values that mean the deal is still undecided, whatever the lists say.
var openValues = []string{"open", "in progress", "pending", "new", "unknown", "active", "ongoing"}

// Default value lists: for a category column when Positive and Negative are both empty, and, when
// only one list is given, to recognise values of the other side.
var (
	defaultPositive = []string{"won", "closed won", "win", "yes", "true", "1", "customer", "converted"}
	defaultNegative = []string{"lost", "closed lost", "loss", "no", "false", "0", "disqualified", "unqualified", "churned", "churn"}
)

// Labels labels every row of f. A missing value is always Open. Then:
//
//   - Positive and Negative both given: Positive values are Won, Negative values are Lost and
//     everything else is Open.
//   - Only Positive given: Positive values are Won, lost-looking values (lost, closed lost, loss,
//     no, false, 0, disqualified, unqualified, churned, churn) are Lost, and every other value is
//     Open: a deal stage such as "contractsent" is still open, never silently lost. A column whose
//     lost values look like none of these needs Negative.
//   - Only Negative given: the mirror image, with won-looking values (won, closed won, win, yes,
//     true, 1, customer, converted) Won.
//
// Values match whatever their case and punctuation: "Closed Lost", "closed_lost", "closed-lost"
// and "ClosedLost" are one value.
//   - Neither given: a flag column is Won when true and Lost when false; a number column is Won
//     for 1 and Lost for 0; a category column uses the won-looking values for Won, the
//     lost-looking values for Lost and the open-looking values for Open. Any other value is an
//     error wrapping ErrLabelValue that names it.
//
// A column absent from f is ErrNoLabelColumn (the message lists the columns f has), a time
// column or a value listed as both won and lost is ErrLabelValue, and labels without both a Won
// and a Lost row are ErrOneClass, whose message lists the values taken as open. Counts are
// returned with ErrOneClass.
func (o Outcome) Labels(f features.Columns) ([]features.Label, OutcomeCounts, error) {
	var counts OutcomeCounts
	col, err := f.Load(o.Column)
	if err != nil {
		return nil, counts, err
	}
	if col == nil {
		return nil, counts, fmt.Errorf("%w: %q (the data has %s)", ErrNoLabelColumn, o.Column, listNames(f.Names()))
	}
	if col.Kind == features.KindTime {
		return nil, counts, fmt.Errorf("%w: column %q holds times, not outcomes", ErrLabelValue, o.Column)
	}
	for _, p := range o.Positive {
		if contains(o.Negative, p) {
			return nil, counts, fmt.Errorf("%w: %q is listed as both won and lost", ErrLabelValue, p)
		}
	}
	place := o.rule(col.Kind)
	memo := make(map[string]features.Label) // outcome columns hold few distinct values
	labels := make([]features.Label, col.Len())
	for i := range labels {
		l := features.Open
		if col.Valid[i] {
			text := col.Value(i).Text()
			if col.Kind == features.KindNumber {
				text = features.FormatNumber(col.Num[i])
			}
			var seen bool
			if l, seen = memo[text]; !seen {
				var ok bool
				if l, ok = place(text); !ok {
					return nil, OutcomeCounts{}, fmt.Errorf("%w: column %q row %d holds %q; name the won and lost values", ErrLabelValue, o.Column, i+1, text)
				}
				memo[text] = l
				if l == features.Open {
					counts.OpenValues = append(counts.OpenValues, text)
				}
			}
		}
		labels[i] = l
		counts.add(l)
	}
	slices.Sort(counts.OpenValues)
	if counts.Won == 0 || counts.Lost == 0 {
		open := ""
		if len(counts.OpenValues) > 0 {
			open = fmt.Sprintf(" (taken as open: %s; name the won and lost values)", listNames(counts.OpenValues))
		}
		return nil, counts, fmt.Errorf("%w: column %q has %d won, %d lost and %d open rows%s", ErrOneClass, o.Column, counts.Won, counts.Lost, counts.Open, open)
	}
	return labels, counts, nil
}

// rule returns the function labelling the text of a non-missing value of a column of kind k; it
// reports false for a value it cannot place.
func (o Outcome) rule(k features.Kind) func(string) (features.Label, bool) {
	pos, neg := o.Positive, o.Negative
	if k == features.KindFlag {
		pos, neg = flagAliases(pos), flagAliases(neg)
	}
	// oneSided places values when only the given list is known: given values are the given side,
	// values that look like the other side are the other side, and the rest are open. No value is
	// guessed to be the other side from what else the file holds: the same value would then change
	// sides from one file to the next.
	oneSided := func(given, looks []string, side, other features.Label) func(string) (features.Label, bool) {
		return func(s string) (features.Label, bool) {
			switch {
			case contains(given, s):
				return side, true
			case contains(looks, s):
				return other, true
			}
			return features.Open, true
		}
	}
	switch {
	case len(pos) > 0 && len(neg) > 0:
		return func(s string) (features.Label, bool) {
			switch {
			case contains(pos, s):
				return features.Won, true
			case contains(neg, s):
				return features.Lost, true
			}
			return features.Open, true
		}
	case len(pos) > 0:
		return oneSided(pos, defaultNegative, features.Won, features.Lost)
	case len(neg) > 0:
		return oneSided(neg, defaultPositive, features.Lost, features.Won)
	}
	switch k {
	case features.KindFlag:
		pos, neg = []string{"true"}, []string{"false"}
	case features.KindNumber:
		pos, neg = []string{"1"}, []string{"0"}
	default:
		pos, neg = defaultPositive, defaultNegative
	}
	return func(s string) (features.Label, bool) {
		switch {
		case contains(pos, s):
			return features.Won, true
		case contains(neg, s):
			return features.Lost, true
		case k == features.KindCategory && contains(openValues, s):
			return features.Open, true
		}
		return features.Open, false
	}
}

// flagAliases rewrites yes/no and 1/0 as true/false, the text of a flag value, so that a list
// written for the file ("yes") matches the column it was read into.
func flagAliases(list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = v
		if b, err := features.Parse(features.KindFlag, features.String(v), features.NewMissingValues([]string{})); err == nil && !b.Missing() {
			out[i] = strconv.FormatBool(b.Bool)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	s = outcomeKey(s)
	for _, v := range list {
		if outcomeKey(v) == s {
			return true
		}
	}
	return false
}

// outcomeKey is an outcome value folded (see features.Fold) and, unless it is a number, stripped of
// spaces, underscores, hyphens and slashes, so that "Closed Lost", "closed_lost" and "ClosedLost" are
// one value.
func outcomeKey(s string) string {
	s = features.Fold(s)
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '-' || r == '/' {
			return -1
		}
		return r
	}, s)
}
