package train

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/leadscore/leadscore/features"
)

// snapshot returns the export's time: the latest timestamp of any time column of f that is not
// after now (Unix seconds; ok false when f holds none), and a warning for each time column with
// dates after it. Such dates (a 2030 typed for 2023, a planned follow-up) are not taken at face
// value: the snapshot ignores them, and recency clamps them to the snapshot.
func snapshot(f features.Columns, now time.Time) (snap float64, ok bool, warns []string, err error) {
	limit := features.UnixSeconds(now)
	var times []*features.Column
	for _, name := range f.Names() {
		if f.Kind(name) != features.KindTime {
			continue
		}
		col, err := f.Load(name)
		if err != nil {
			return 0, false, nil, err
		}
		times = append(times, col)
	}
	for _, col := range times {
		for i, valid := range col.Valid {
			if valid && col.Num[i] <= limit && (!ok || col.Num[i] > snap) {
				snap, ok = col.Num[i], true
			}
		}
	}
	if !ok {
		return 0, false, nil, nil
	}
	for _, col := range times {
		n, latest := 0, math.Inf(-1)
		for i, valid := range col.Valid {
			if valid && col.Num[i] > snap {
				n++
				latest = max(latest, col.Num[i])
			}
		}
		if n > 0 {
			warns = append(warns, fmt.Sprintf("column %q has %d dates after the export snapshot %s (latest %s): they are after the clock and count as the snapshot",
				col.Name, n, day(snap), day(latest)))
		}
	}
	return snap, true, warns, nil
}

func day(sec float64) string { return features.UnixTime(sec).Format("2 January 2006") }

// ageBins is the number of age groups censored compares.
const ageBins = 5

// censoredGap is the difference in the share of still-open contacts between the youngest and the
// oldest age group from which a time column's age is taken to be a censoring artefact.
const censoredGap = 0.05

// censored says why the age of col at the snapshot is a censoring artefact, or "" when it is not.
// Closed and still-open contacts of the same age are compared: contacts are cut into ageBins groups
// by age, and if the youngest group holds clearly more still-open contacts than the oldest
// (censoredGap), young contacts are closed only when they closed fast, so among closed contacts age
// stands for time-to-close, which differs between won and lost, and not for the contact. Without
// still-open contacts the export cannot show that it is not an artefact, and says so.
func censored(col *features.Column, labels []features.Label, snap float64) string {
	type aged struct {
		age  float64
		open bool
	}
	var rows []aged
	nOpen := 0
	for i, valid := range col.Valid {
		if valid {
			o := !labels[i].Closed()
			rows = append(rows, aged{max(0, snap-col.Num[i]), o})
			if o {
				nOpen++
			}
		}
	}
	if nOpen == 0 {
		return "the data holds no still-open contacts to compare closed ones of the same age with"
	}
	if len(rows) < 2*ageBins*auditMinCount {
		return fmt.Sprintf("%d contacts with a value are too few to compare closed and still-open ones of the same age", len(rows))
	}
	slices.SortFunc(rows, func(a, b aged) int {
		switch {
		case a.age < b.age:
			return -1
		case a.age > b.age:
			return 1
		}
		return 0
	})
	share := func(part []aged) float64 {
		n := 0
		for _, r := range part {
			if r.open {
				n++
			}
		}
		return float64(n) / float64(len(part))
	}
	size := len(rows) / ageBins
	young, old := share(rows[:size]), share(rows[len(rows)-size:])
	if young-old < censoredGap {
		return ""
	}
	return fmt.Sprintf("%.0f%% of the youngest fifth of contacts are still open against %.0f%% of the oldest fifth", 100*young, 100*old)
}
