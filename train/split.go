package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// split chooses training and holdout rows among the closed ones.
func split(f features.Columns, labels []features.Label, closed []int, cfg Config, share float64) (models.HoldoutRef, []int, []int, error) {
	ref := models.HoldoutRef{Share: share, Seed: cfg.Seed}
	orderCol := cfg.TimeColumn
	ref.Method = "time"
	if orderCol == "" && cfg.OrderBy != "" {
		orderCol, ref.Method = cfg.OrderBy, "order"
	}
	if orderCol == "" {
		ref.Method = "random"
		train, hold := stratifiedSplit(labels, closed, share, cfg.Seed)
		return ref, train, hold, nil
	}
	col, err := f.Load(orderCol)
	if err != nil {
		return ref, nil, nil, err
	}
	if col == nil {
		return ref, nil, nil, fmt.Errorf("train: split column %q is not in the data", orderCol)
	}
	if ref.Method == "time" && col.Kind != features.KindTime {
		return ref, nil, nil, fmt.Errorf("train: time column %q is a %s column, not a time", orderCol, col.Kind)
	}
	if ref.Method == "order" && col.Kind != features.KindNumber && col.Kind != features.KindTime {
		return ref, nil, nil, fmt.Errorf("train: order column %q is a %s column, not a number", orderCol, col.Kind)
	}
	rows := make([]int, 0, len(closed))
	for _, i := range closed {
		if col.Valid[i] {
			rows = append(rows, i)
		}
	}
	if len(rows) < len(closed) {
		return ref, nil, nil, fmt.Errorf("train: split column %q is missing in %d closed rows", orderCol, len(closed)-len(rows))
	}
	sort.SliceStable(rows, func(a, b int) bool { return col.Num[rows[a]] < col.Num[rows[b]] })
	cut := len(rows) - int(math.Round(share*float64(len(rows))))
	if cut <= 0 || cut >= len(rows) {
		return ref, nil, nil, fmt.Errorf("%w: %d closed rows cannot be split", ErrTooFewRows, len(rows))
	}
	// Rows tied with the first holdout value go to the holdout, so the cutoff alone finds them again.
	cutoff := col.Num[rows[cut]]
	for cut > 0 && col.Num[rows[cut-1]] >= cutoff {
		cut--
	}
	ref.Column, ref.Cutoff = orderCol, cutoff
	train, hold := slices.Clone(rows[:cut]), slices.Clone(rows[cut:])
	sort.Ints(train)
	sort.Ints(hold)
	return ref, train, hold, nil
}

// stratifiedSplit holds out share of the won and share of the lost rows, chosen at random by seed.
func stratifiedSplit(labels []features.Label, closed []int, share float64, seed uint64) (train, hold []int) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var won, lost []int
	for _, i := range closed {
		if labels[i] == features.Won {
			won = append(won, i)
		} else {
			lost = append(lost, i)
		}
	}
	for _, group := range [][]int{won, lost} {
		rng.Shuffle(len(group), func(a, b int) { group[a], group[b] = group[b], group[a] })
		n := int(math.Round(share * float64(len(group))))
		hold = append(hold, group[:n]...)
		train = append(train, group[n:]...)
	}
	sort.Ints(train)
	sort.Ints(hold)
	return train, hold
}

// HoldoutRows finds the holdout rows of a model again in the frame it was trained on.
func HoldoutRows(f *features.Frame, labels []features.Label, ref models.HoldoutRef) ([]int, error) {
	closed := make([]int, 0, len(labels))
	for i, l := range labels {
		if l.Closed() {
			closed = append(closed, i)
		}
	}
	switch ref.Method {
	case "random":
		_, hold := stratifiedSplit(labels, closed, ref.Share, ref.Seed)
		return hold, nil
	case "time", "order":
		col := f.Column(ref.Column)
		if col == nil {
			return nil, fmt.Errorf("train: holdout column %q is not in the data", ref.Column)
		}
		var hold []int
		for _, i := range closed {
			if col.Valid[i] && col.Num[i] >= ref.Cutoff {
				hold = append(hold, i)
			}
		}
		return hold, nil
	}
	return nil, fmt.Errorf("train: unknown holdout method %q", ref.Method)
}
