package train

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/dataset"
)

// Errors of finding a model's training data again.
var (
	// ErrNoData: the model records no training data, or its data is gone.
	ErrNoData = errors.New("train: the model's training data cannot be read again")
	// ErrDataChanged: the data's SHA-256 differs from the one the model recorded.
	ErrDataChanged = errors.New("train: the model's training data has changed")
	// ErrJoinedColumn: the contacts already hold a column named like the joined outcome.
	ErrJoinedColumn = errors.New("train: the contacts already have the joined outcome's column")
)

// Data says where contacts and their outcome come from.
type Data struct {
	// Locations are the data files: comma-separated files, folders of parts or globs (see
	// dataset.Locations and dataset.Expand).
	Locations string
	// Outcome names the outcome column and its values. With Outcomes, Outcome.Column is the name
	// the joined outcome takes in the frame.
	Outcome dataset.Outcome
	// Outcomes, if set, takes the outcome from a second file joined by a key (dataset.OutcomeJoin).
	Outcomes *models.OutcomesFile
	// Read says how to read the files.
	Read dataset.ReadOptions
	// SpillCSV is the size in bytes of CSV data from which OpenLabelled reads it a few columns at a
	// time into files of one column each (dataset.SpillCSV) instead of whole; 0 means
	// DefaultSpillCSV, a negative value never.
	SpillCSV int64
}

// DefaultSpillCSV is the default Data.SpillCSV: 256 MiB of CSV, about 1.2M contacts of the 25
// columns of `generate`, which held whole take about 1.2 GB.
const DefaultSpillCSV = 256 << 20

// ReadLabelled reads the contacts and their outcome labels: from the outcome column, or joined from a
// second file, in which case the frame gains the outcome as the column Outcome.Column (won, lost, or
// missing when open; see dataset.LabelColumn) and nothing else of that file.
func ReadLabelled(d Data) (*features.Frame, []features.Label, dataset.OutcomeCounts, error) {
	var none dataset.OutcomeCounts
	opts := d.Read
	if d.Outcomes == nil && len(d.Outcome.Positive)+len(d.Outcome.Negative) > 0 {
		// The outcome is read as text, so that the value "yes" matches a column the reader would
		// otherwise call a flag.
		opts.Kinds = map[string]features.Kind{d.Outcome.Column: features.KindCategory}
	}
	frame, err := dataset.ReadFiles(dataset.Locations(d.Locations), opts)
	if err != nil {
		return nil, nil, none, err
	}
	if d.Outcomes == nil {
		labels, counts, err := d.Outcome.Labels(frame)
		if err != nil {
			return nil, nil, counts, fmt.Errorf("%s: %w", d.Locations, err)
		}
		return frame, labels, counts, nil
	}
	o := d.Outcomes
	if frame.Column(d.Outcome.Column) != nil {
		return nil, nil, none, fmt.Errorf("%w: %s has a column %q", ErrJoinedColumn, d.Locations, d.Outcome.Column)
	}
	join := dataset.OutcomeJoin{File: o.File, Key: o.Key, Column: o.Column, Positive: o.Positive, Negative: o.Negative,
		TimeColumn: o.TimeColumn, Window: o.Window}
	read := d.Read
	read.Report, read.Progress = nil, nil
	labels, counts, err := join.Labels(frame, read)
	if err != nil {
		return nil, nil, counts, err
	}
	frame.Columns = append(frame.Columns, dataset.LabelColumn(d.Outcome.Column, labels))
	return frame, labels, counts, nil
}

// OpenLabelled is ReadLabelled for training a column at a time (TrainFrom): when every file is
// Parquet and the outcome is one of their columns, it reads the outcome column alone and returns the
// files as a Source whose columns are read when training asks for them (dataset.OpenColumns), so
// that the dataset is never held whole; otherwise (CSV, or an outcome joined from a second file) it
// reads the frame whole, as ReadLabelled does, unless it is CSV of d.SpillCSV bytes or more, which is
// read a few columns at a time into files of one column each (dataset.SpillCSV). The caller closes
// the Source when done with it (Publish reads it again). d.Read.Progress is not called for columns
// read later.
func OpenLabelled(d Data) (Source, []features.Label, dataset.OutcomeCounts, error) {
	var none dataset.OutcomeCounts
	whole := func() (Source, []features.Label, dataset.OutcomeCounts, error) {
		f, labels, counts, err := ReadLabelled(d)
		if err != nil {
			return nil, nil, counts, err
		}
		return FrameSource(f), labels, counts, nil
	}
	if d.Outcomes != nil {
		return whole()
	}
	opts := d.Read
	if len(d.Outcome.Positive)+len(d.Outcome.Negative) > 0 {
		// As in ReadLabelled: the outcome is read as text.
		opts.Kinds = map[string]features.Kind{d.Outcome.Column: features.KindCategory}
	}
	var src Source
	locs := dataset.Locations(d.Locations)
	cf, err := dataset.OpenColumns(locs, opts)
	src = cf
	if errors.Is(err, dataset.ErrFormat) {
		// Not Parquet: CSV past d.SpillCSV bytes is spilled, anything else read whole.
		limit := cmp.Or(d.SpillCSV, DefaultSpillCSV)
		size, serr := dataset.Size(locs)
		if serr != nil {
			return nil, nil, none, serr
		}
		if limit < 0 || size < limit {
			return whole()
		}
		var sc *dataset.SpilledColumns
		sc, err = dataset.SpillCSV(locs, opts, "")
		if errors.Is(err, dataset.ErrFormat) || errors.Is(err, dataset.ErrNoSpill) {
			return whole() // a mix of formats, a header that is not UTF-8, no room for the columns
		}
		src = sc
	}
	if err != nil {
		return nil, nil, none, err
	}
	labels, counts, err := d.Outcome.Labels(src)
	if err != nil {
		src.Close()
		return nil, nil, counts, fmt.Errorf("%s: %w", d.Locations, err)
	}
	return src, labels, counts, nil
}

// ModelData reads a model's training data again, as its provenance records it (files, outcome or
// joined outcomes file, the missing values its encoder keeps), checks that it is unchanged, labels it
// and finds the model's holdout rows in it: the contacts the model was evaluated on and never saw in
// training. Errors wrap ErrNoData or ErrDataChanged when the data cannot be trusted to be the same.
func ModelData(a *models.Artifact) (*features.Frame, []features.Label, []int, error) {
	p := a.Provenance
	if p.DataFile == "" {
		return nil, nil, nil, fmt.Errorf("%w: model %s version %d records no training data file", ErrNoData, a.Name, a.Version)
	}
	check := func(data, want string) error {
		sum, err := FileSHA256(data)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: model %s version %d was trained on %s, which is gone", ErrNoData, a.Name, a.Version, data)
		}
		if err != nil {
			return err
		}
		if sum != want {
			return fmt.Errorf("%w: %s has changed since model %s version %d was trained on it (sha256 %s, the model recorded %s), so its holdout cannot be found again",
				ErrDataChanged, data, a.Name, a.Version, sum, want)
		}
		return nil
	}
	if err := check(p.DataFile, p.DataSHA256); err != nil {
		return nil, nil, nil, err
	}
	if p.Outcomes != nil {
		if err := check(p.Outcomes.File, p.Outcomes.SHA256); err != nil {
			return nil, nil, nil, err
		}
	}
	d := Data{Locations: p.DataFile, Outcome: dataset.Outcome{Column: p.Label, Positive: p.Positive, Negative: p.Negative},
		Outcomes: p.Outcomes, Read: dataset.ReadOptions{MissingValues: a.Encoder.MissingValues}}
	frame, labels, _, err := ReadLabelled(d)
	if err != nil {
		return nil, nil, nil, err
	}
	hold, err := HoldoutRows(frame, labels, a.Holdout)
	if err != nil {
		return nil, nil, nil, err
	}
	return frame, labels, hold, nil
}

// TrainingRows returns a model's training rows: the closed rows of labels that are not in hold, the
// sorted holdout rows (as ModelData returns them).
func TrainingRows(labels []features.Label, hold []int) []int {
	var rows []int
	for i, l := range labels {
		if l.Closed() {
			if _, found := slices.BinarySearch(hold, i); !found {
				rows = append(rows, i)
			}
		}
	}
	return rows
}

// DescribeHoldout says for people which contacts ModelData's holdout rows are.
func DescribeHoldout(a *models.Artifact) string {
	split := a.Holdout.Method
	if a.Holdout.Column != "" {
		split += " split on " + a.Holdout.Column
	} else {
		split += " split"
	}
	return fmt.Sprintf("the holdout of %s (%s), contacts the model never saw in training", filepath.Base(a.Provenance.DataFile), split)
}

// NewOutcomesFile records an outcomes file joined by a key, with its absolute path and SHA-256, as a
// model's provenance keeps it (and ModelData checks it).
func NewOutcomesFile(j dataset.OutcomeJoin) (*models.OutcomesFile, error) {
	sum, err := FileSHA256(j.File)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(j.File)
	if err != nil {
		abs = j.File
	}
	return &models.OutcomesFile{File: abs, SHA256: sum, Key: j.Key, Column: j.Column,
		Positive: j.Positive, Negative: j.Negative, TimeColumn: j.TimeColumn, Window: j.Window}, nil
}

// Columns returns the columns to read (dataset.ReadOptions.Columns) for the properties only, sorted:
// them and the outcome column or, with Outcomes, the join's key and time column. Nil when only is.
func (d Data) Columns(only []string) []string {
	if len(only) == 0 {
		return nil
	}
	cols := slices.Clone(only)
	if d.Outcomes == nil {
		cols = append(cols, d.Outcome.Column)
	} else if cols = append(cols, d.Outcomes.Key); d.Outcomes.TimeColumn != "" {
		cols = append(cols, d.Outcomes.TimeColumn)
	}
	slices.Sort(cols)
	return slices.Compact(cols)
}

// ModelOutcome is o with what it leaves empty taken from the model's provenance: the outcome column
// and, when o names no values either, the won and lost values.
func ModelOutcome(a *models.Artifact, o dataset.Outcome) dataset.Outcome {
	if o.Column == "" {
		o.Column = a.Provenance.Label
		if len(o.Positive)+len(o.Negative) == 0 {
			o.Positive, o.Negative = a.Provenance.Positive, a.Provenance.Negative
		}
	}
	return o
}
