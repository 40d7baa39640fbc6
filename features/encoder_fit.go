package features

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
)

// FitEncoder fits an encoder for the used columns of spec on the given rows of f (nil rows: every
// row): category vocabularies with rare values pooled, missing indicators where training had missing
// values, the log1p choice, medians, means and standard deviations. Recency is measured from
// spec.ReferenceTime. A value of the wrong kind or NaN in a training row is a *PropertyError; a used
// column absent from f wraps ErrMissingColumn; an invalid spec wraps ErrSpec. Columns are fitted on up
// to GOMAXPROCS goroutines, each loaded when its turn comes (Columns), so no more than GOMAXPROCS are
// held at once.
func FitEncoder(spec *Spec, f Columns, rows []int, opts EncoderOptions) (*Encoder, error) {
	if spec == nil || f == nil {
		return nil, errors.New("features: FitEncoder needs a spec and a frame")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	rows, err := encodeRows(rows, f.Len())
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("features: FitEncoder: no training rows")
	}
	opts = opts.withDefaults()
	e := &Encoder{ReferenceTime: spec.ReferenceTime, MissingValues: NewMissingValues(opts.MissingValues).List()}
	missing := NewMissingValues(e.MissingValues)
	asOf := UnixSeconds(spec.ReferenceTime)
	used := make(map[string]bool)
	for _, cs := range spec.Columns {
		if !cs.Use {
			continue
		}
		used[cs.Name] = true
		if !has(f, cs.Name) {
			return nil, fmt.Errorf("%w: %q", ErrMissingColumn, cs.Name)
		}
		ce := ColumnEncoding{Property: cs.Name, Kind: cs.Kind, Derive: cs.Derive, Group: cs.Group}
		if ce.Kind == KindNumber {
			ce.Cuts = slices.Clone(opts.Bins[cs.Name])
		}
		if ce.Kind == KindTime {
			ce.Derive = DeriveRecency
		}
		e.Columns = append(e.Columns, ce)
	}
	// Columns are fitted independently, on up to GOMAXPROCS goroutines; the error reported is the
	// first column's in spec order.
	errs := make([]error, len(e.Columns))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range e.Columns {
		g.Go(func() error {
			col, err := load(f, e.Columns[i].Property)
			if err == nil && col == nil {
				err = fmt.Errorf("%w: %q", ErrMissingColumn, e.Columns[i].Property)
			}
			if err == nil {
				err = e.Columns[i].fit(col, rows, asOf, opts, missing)
			}
			errs[i] = err
			return nil
		})
	}
	_ = g.Wait() // errors are kept per column, to report the first in spec order
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, cs := range spec.Columns {
		if !cs.Use && !used[cs.Name] {
			e.Ignore = append(e.Ignore, cs.Name)
		}
	}
	if spec.Label != "" && spec.Column(spec.Label) == nil {
		e.Ignore = append(e.Ignore, spec.Label)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// encodeRows returns rows, or 0..n-1 when rows is nil, after checking every index is in [0, n).
func encodeRows(rows []int, n int) ([]int, error) {
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		return rows, nil
	}
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("features: row %d out of range [0, %d)", r, n)
		}
	}
	return rows, nil
}

func (ce *ColumnEncoding) fit(col *Column, rows []int, asOf float64, opts EncoderOptions, mv *MissingValues) error {
	var (
		counts    map[string]int // vocabulary key -> rows
		spellings map[string]int // raw value -> rows, for a category that is not derived
		xs        []float64
		missing   int
	)
	if ce.Kind == KindCategory {
		counts, spellings = make(map[string]int), make(map[string]int)
	} else {
		xs = make([]float64, 0, len(rows))
	}
	for _, i := range rows {
		c, err := ce.frameCell(col, i, mv)
		if err != nil {
			return err
		}
		if !c.ok {
			missing++
			continue
		}
		switch ce.Kind {
		case KindCategory:
			if ce.Derive == "" {
				spellings[c.s]++
			} else {
				counts[ce.key(c.s)]++
			}
		case KindNumber:
			xs = append(xs, c.x)
		case KindTime:
			xs = append(xs, recencyDays(asOf, c.x))
		}
	}
	ce.Missing = missing > 0
	switch ce.Kind {
	case KindCategory:
		// Spellings of one folded value count together; the level is written as its most
		// frequent spelling, trimmed.
		type spelling struct {
			text string
			n    int
		}
		shown := make(map[string]spelling)
		for raw, n := range spellings {
			k := Fold(raw)
			counts[k] += n
			text := strings.TrimSpace(raw)
			if b, ok := shown[k]; !ok || n > b.n || n == b.n && text < b.text {
				shown[k] = spelling{text, n}
			}
		}
		type vc struct {
			v string
			n int
		}
		var all []vc
		for v, n := range counts {
			all = append(all, vc{v, n})
		}
		slices.SortFunc(all, func(a, b vc) int {
			if c := cmp.Compare(b.n, a.n); c != 0 {
				return c
			}
			return strings.Compare(a.v, b.v)
		})
		for k, x := range all {
			if x.n < opts.MinCount || k >= opts.MaxCategories {
				ce.Other = true
				break
			}
			level := x.v
			if b, ok := shown[x.v]; ok {
				level = b.text
			}
			ce.Levels = append(ce.Levels, level)
		}
	case KindNumber:
		if !opts.NoLog && len(xs) > 0 && slices.Min(xs) >= 0 && sampleSkewness(xs) > opts.SkewThreshold {
			ce.Log = true
			for k, x := range xs {
				xs[k] = numberValue(x, true)
			}
		}
		ce.scaling(xs)
	case KindTime:
		ce.scaling(xs)
	}
	return nil
}
