package dataset

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
)

func categoryColumn(name string, values ...string) *features.Column {
	c := &features.Column{Name: name, Kind: features.KindCategory}
	for _, v := range values {
		c.Str = append(c.Str, v)
		c.Valid = append(c.Valid, v != "")
	}
	return c
}

// oc is the counts of won, lost and open rows, with the values taken as open.
func oc(won, lost, open int, openValues ...string) OutcomeCounts {
	return OutcomeCounts{Won: won, Lost: lost, Open: open, OpenValues: openValues}
}

func TestOutcomeLabels(t *testing.T) {
	const W, L, O = features.Won, features.Lost, features.Open
	stage := categoryColumn("stage", "closedwon", "closedlost", "open", "", "Closed Won", "churned", "In Progress")
	flag := &features.Column{Name: "y", Kind: features.KindFlag,
		Bool: []bool{true, false, false, true}, Valid: []bool{true, true, false, true}}
	number := &features.Column{Name: "n", Kind: features.KindNumber,
		Num: []float64{1, 0, 0, 1}, Valid: []bool{true, true, false, true}}
	badNumber := &features.Column{Name: "n", Kind: features.KindNumber,
		Num: []float64{1, 0, 2}, Valid: []bool{true, true, true}}
	when := &features.Column{Name: "t", Kind: features.KindTime, Num: []float64{1, 2}, Valid: []bool{true, true}}
	frame := func(c ...*features.Column) *features.Frame { return &features.Frame{Columns: c} }

	tests := []struct {
		name    string
		outcome Outcome
		frame   *features.Frame
		want    []features.Label
		counts  OutcomeCounts
		wantErr error
	}{
		{"positive only: lost-looking values lost, the rest open", Outcome{Column: "stage", Positive: []string{"closedwon", "closed won"}},
			frame(stage), []features.Label{W, L, O, O, W, L, O}, oc(2, 2, 3, "In Progress", "open"), nil},
		{"positive only: HubSpot's open deal stages stay open", Outcome{Column: "stage", Positive: []string{"closedwon"}},
			frame(categoryColumn("stage", "closedwon", "appointmentscheduled", "closedlost", "contractsent", "closedlost")),
			[]features.Label{W, O, L, O, L}, oc(1, 2, 2, "appointmentscheduled", "contractsent"), nil},
		{"positive only: another value is never guessed to be lost", Outcome{Column: "y", Positive: []string{"buy"}},
			frame(categoryColumn("y", "buy", "skip", "", "skip", "pending")),
			nil, oc(1, 0, 4, "pending", "skip"), ErrOneClass},
		{"positive only: nothing lost-looking among several values", Outcome{Column: "stage", Positive: []string{"closedwon"}},
			frame(categoryColumn("stage", "closedwon", "appointmentscheduled", "contractsent")),
			nil, oc(1, 0, 2, "appointmentscheduled", "contractsent"), ErrOneClass},
		{"negative only: won-looking values are won", Outcome{Column: "y", Negative: []string{"skip"}},
			frame(categoryColumn("y", "yes", "skip", "open", "buy")),
			[]features.Label{W, L, O, O}, oc(1, 1, 2, "buy", "open"), nil},
		{"positive and negative: rest open", Outcome{Column: "stage", Positive: []string{"closedwon"}, Negative: []string{"closedlost"}},
			frame(stage), []features.Label{W, L, O, O, W, O, O}, oc(2, 1, 4, "In Progress", "churned", "open"), nil},
		{"negative only: rest won except open-looking", Outcome{Column: "stage", Negative: []string{" CLOSEDLOST ", "churned"}},
			frame(stage), []features.Label{W, L, O, O, W, L, O}, oc(2, 2, 3, "In Progress", "open"), nil},
		{"category defaults", Outcome{Column: "stage"},
			frame(categoryColumn("stage", "closedwon", "closedlost", "open", "", "Closed Won", "yes", "no")),
			[]features.Label{W, L, O, O, W, W, L}, oc(3, 2, 2, "open"), nil},
		{"category defaults reject unknown value", Outcome{Column: "stage"},
			frame(categoryColumn("stage", "closedwon", "closedlost", "demo booked")), nil, OutcomeCounts{}, ErrLabelValue},
		// Issue 10: the outcome words of real exports, in any case and punctuation.
		{"category defaults: lost words", Outcome{Column: "stage"},
			frame(categoryColumn("stage", "Won", "Loss", "Closed_Lost", "closed-lost", "Unqualified", "DISQUALIFIED", "Churned", "Closed Won", "Open")),
			[]features.Label{W, L, L, L, L, L, L, W, O}, oc(2, 6, 1, "Open"), nil},
		{"flag", Outcome{Column: "y"}, frame(flag), []features.Label{W, L, O, W}, oc(2, 1, 1), nil},
		{"flag with file values", Outcome{Column: "y", Positive: []string{"Yes"}}, frame(flag),
			[]features.Label{W, L, O, W}, oc(2, 1, 1), nil},
		{"flag with 1/0 values", Outcome{Column: "y", Positive: []string{"0"}, Negative: []string{"1"}}, frame(flag),
			[]features.Label{L, W, O, L}, oc(1, 2, 1), nil},
		{"number 1/0", Outcome{Column: "n"}, frame(number), []features.Label{W, L, O, W}, oc(2, 1, 1), nil},
		{"number other than 1/0", Outcome{Column: "n"}, frame(badNumber), nil, OutcomeCounts{}, ErrLabelValue},
		{"number with values: 0 lost, 1 open", Outcome{Column: "n", Positive: []string{"2"}}, frame(badNumber),
			[]features.Label{O, L, W}, oc(1, 1, 1, "1"), nil},
		{"number with values: 1 is not guessed lost", Outcome{Column: "n", Positive: []string{"2"}},
			frame(&features.Column{Name: "n", Kind: features.KindNumber, Num: []float64{2, 1, 1}, Valid: []bool{true, true, true}}),
			nil, oc(1, 0, 2, "1"), ErrOneClass},
		{"time column", Outcome{Column: "t"}, frame(when), nil, OutcomeCounts{}, ErrLabelValue},
		{"value both won and lost", Outcome{Column: "stage", Positive: []string{"open"}, Negative: []string{"OPEN"}},
			frame(stage), nil, OutcomeCounts{}, ErrLabelValue},
		{"missing column", Outcome{Column: "deal_stage"}, frame(stage, flag), nil, OutcomeCounts{}, ErrNoLabelColumn},
		{"no lost rows", Outcome{Column: "stage", Positive: []string{"closedwon"}, Negative: []string{"nothing"}},
			frame(stage), nil, oc(2, 0, 5, "In Progress", "churned", "closedlost", "open"), ErrOneClass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, counts, err := tt.outcome.Labels(tt.frame)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(counts, tt.counts) {
				t.Errorf("counts: got %+v, want %+v", counts, tt.counts)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("labels: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutcomeErrorMessages(t *testing.T) {
	f := &features.Frame{Columns: []*features.Column{categoryColumn("email", "a"), categoryColumn("stage", "won", "weird")}}
	tests := []struct {
		name    string
		outcome Outcome
		want    []string
	}{
		{"missing column lists the columns", Outcome{Column: "deal_stage"}, []string{`"deal_stage"`, `"email"`, `"stage"`}},
		{"unknown value is named", Outcome{Column: "stage"}, []string{`"weird"`, "row 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.outcome.Labels(f)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %s", err, w)
				}
			}
		})
	}
}
