package dataset

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
)

// ErrJoin: the outcomes of a second file cannot be joined to the contacts.
var ErrJoin = errors.New("dataset: cannot join the outcomes file")

// OutcomeJoin takes contacts' outcomes from a second file (closed deals, customers) joined by a key
// column, as when marketing-qualified leads and closed deals are two exports. Only the outcome crosses
// the join: the second file is read for its key and outcome columns alone, so none of its other
// columns (deal amount, close date, owner) can reach a model.
type OutcomeJoin struct {
	// File is the outcomes file (.parquet or .csv).
	File string
	// Key is the column that identifies a contact, in both files. Keys match as text, trimmed of
	// spaces: 1641984 in one file matches "1641984" in the other.
	Key string
	// Column is the outcome column of File, read with Positive and Negative as Outcome reads one;
	// "" means every contact found in File is won.
	Column             string
	Positive, Negative []string
	// TimeColumn is the contacts' time column (when a contact came in). A contact not found in File
	// is lost once it is at least Window old at AsOf, and open (still undecided) before. Without a
	// TimeColumn, Window must be 0 and every contact not found is lost.
	TimeColumn string
	Window     time.Duration
	// AsOf is the snapshot time; zero means the latest time in TimeColumn.
	AsOf time.Time
}

// keyText is the text by which a key value matches.
func keyText(v features.Value) string {
	if v.Kind == features.KindNumber {
		return features.FormatNumber(v.Num)
	}
	if v.Kind == features.KindTime {
		return features.FormatTime(v.Time)
	}
	return strings.TrimSpace(v.Text())
}

// Labels labels every row of f, the contacts, from File. A contact whose key is missing is open. A
// key found several times in File takes won if any row says won, else lost if any says lost. Counts
// also say how many of File's keys matched no contact (Unmatched). Errors: a key or time column
// absent from either file (ErrJoin), File's own errors, and ErrOneClass as Outcome.Labels.
func (j OutcomeJoin) Labels(f *features.Frame, opts ReadOptions) ([]features.Label, OutcomeCounts, error) {
	var counts OutcomeCounts
	keys := f.Column(j.Key)
	if keys == nil {
		return nil, counts, fmt.Errorf("%w: the contacts have no key column %q (they have %s)", ErrJoin, j.Key, listNames(f.Names()))
	}
	var times *features.Column
	if j.TimeColumn != "" {
		if times = f.Column(j.TimeColumn); times == nil || times.Kind != features.KindTime {
			return nil, counts, fmt.Errorf("%w: the contacts have no time column %q", ErrJoin, j.TimeColumn)
		}
	} else if j.Window > 0 {
		return nil, counts, fmt.Errorf("%w: a window of %s needs the contacts' time column", ErrJoin, j.Window)
	}
	cols := []string{j.Key}
	if j.Column != "" {
		cols = append(cols, j.Column)
	}
	opts.Columns, opts.Kinds = cols, map[string]features.Kind{j.Key: features.KindCategory}
	if j.Column != "" && len(j.Positive)+len(j.Negative) > 0 {
		opts.Kinds[j.Column] = features.KindCategory
	}
	of, err := ReadFile(j.File, opts)
	if err != nil {
		return nil, counts, err
	}
	found := make(map[string]features.Label, of.Len())
	var outcomes []features.Label
	if j.Column != "" {
		if outcomes, _, err = (Outcome{Column: j.Column, Positive: j.Positive, Negative: j.Negative}).Labels(of); err != nil && !errors.Is(err, ErrOneClass) {
			return nil, counts, fmt.Errorf("%s: %w", j.File, err)
		}
	}
	ofKeys := of.Column(j.Key)
	for i := range of.Len() {
		if !ofKeys.Valid[i] {
			continue
		}
		l := features.Won
		if outcomes != nil {
			l = outcomes[i]
		}
		k := keyText(ofKeys.Value(i))
		if prev, ok := found[k]; !ok || l == features.Won || l == features.Lost && prev == features.Open {
			found[k] = l
		}
	}

	asOf := j.AsOf
	if asOf.IsZero() && times != nil {
		latest := 0.0
		for i := range times.Len() {
			if times.Valid[i] && (asOf.IsZero() || times.Num[i] > latest) {
				latest, asOf = times.Num[i], features.UnixTime(times.Num[i])
			}
		}
	}
	matched := make(map[string]bool, len(found))
	labels := make([]features.Label, f.Len())
	for i := range labels {
		l := features.Open
		if keys.Valid[i] {
			k := keyText(keys.Value(i))
			if fl, ok := found[k]; ok {
				l, matched[k] = fl, true
			} else if times == nil || times.Valid[i] && asOf.Sub(features.UnixTime(times.Num[i])) >= j.Window {
				l = features.Lost
			}
		}
		labels[i] = l
		counts.add(l)
	}
	counts.Unmatched = len(found) - len(matched)
	if counts.Won == 0 || counts.Lost == 0 {
		return nil, counts, fmt.Errorf("%w: joining %s by %q gives %d won, %d lost and %d open contacts (%d of its keys match no contact)",
			ErrOneClass, j.File, j.Key, counts.Won, counts.Lost, counts.Open, counts.Unmatched)
	}
	return labels, counts, nil
}

// LabelColumn returns labels as a category column named name: won, lost, or missing for open. It
// carries a joined outcome into the contacts' frame, where training expects its outcome column.
func LabelColumn(name string, labels []features.Label) *features.Column {
	c := newColumn(name, features.KindCategory, len(labels))
	for _, l := range labels {
		switch l {
		case features.Won:
			appendValue(c, features.String("won"))
		case features.Lost:
			appendValue(c, features.String("lost"))
		default:
			appendValue(c, features.Value{})
		}
	}
	return c
}
