package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/metrics"
)

// Store is what Publish needs of a model store (*store.Store fits it).
type Store interface {
	// Serving returns the version that answers by default, or an error wrapping models.ErrNotFound
	// when there is none (a label naming a missing version is another error: models.ErrDanglingLabel).
	Serving(ctx context.Context, name string) (int, error)
	Load(ctx context.Context, name string, version int) (*models.Artifact, error)
	Publish(ctx context.Context, name string, a *models.Artifact) (int, error)
}

var _ Store = (*store.Store)(nil)

// Limits of the publish gate.
const (
	// DefaultGateShare is the share of the serving version's AUC, measured on the new holdout, that a
	// new version must reach.
	DefaultGateShare = 0.95
	// DefaultTooGoodAUC is the holdout AUC from which a lead-scoring model is taken to be leaking
	// rather than good: contacts' intake and engagement data rank real outcomes well, never almost
	// perfectly (the public CRM exports we tried reach 0.80-0.93 once the leaks are removed).
	DefaultTooGoodAUC = 0.97
)

// PublishOptions configures Publish. The zero value gates at DefaultGateShare and DefaultTooGoodAUC.
type PublishOptions struct {
	// Force publishes whatever the gate says; the gate is still measured and reported.
	Force bool
	// GateShare overrides DefaultGateShare; 0 means the default.
	GateShare float64
	// TooGoodAUC overrides DefaultTooGoodAUC; 0 means the default.
	TooGoodAUC float64
}

// Gate is what the publish gate measured. The serving version and the new one are scored on the
// same rows, the new model's holdout, so neither is flattered by an easier holdout of its own.
type Gate struct {
	// Serving is the version serving when the new one was trained; 0 when there is none.
	Serving int `json:"serving,omitempty"`
	// Rows is the number of holdout rows both versions were scored on.
	Rows int `json:"rows"`
	// AUC is the new version's holdout AUC; ServingAUC the serving version's on the same rows.
	AUC        float64 `json:"auc"`
	ServingAUC float64 `json:"serving_auc,omitempty"`
	// Leaky lists the columns the serving version uses that this training's audit excludes as
	// leakage: its AUC is then no fair bar and the gate does not hold the new version to it.
	Leaky []string `json:"serving_leaky_columns,omitempty"`
	// Passed says whether the gate let the new version through on its own merits (without Force).
	Passed bool `json:"passed"`
	// Reason says why the gate refused, or is empty.
	Reason string `json:"reason,omitempty"`
}

// Publish judges res against the version serving in st under name (Gate) and, if it passes or
// opts.Force is set, publishes it. labels are those res was trained with; the serving version is
// scored on the contacts of res's holdout rows, read again from its data. It returns the new version (0 when refused) and the
// gate; a refusal is an error wrapping ErrGate, with the gate filled in.
func Publish(ctx context.Context, st Store, name string, res *Result, labels []features.Label, opts PublishOptions) (int, *Gate, error) {
	a := res.Artifact
	a.Name = name
	g, err := judge(ctx, st, name, res, labels, opts)
	if err != nil {
		return 0, nil, err
	}
	a.Provenance.ParentVersion = g.Serving
	if !g.Passed && !opts.Force {
		return 0, g, fmt.Errorf("%w: %s; nothing published", ErrGate, g.Reason)
	}
	v, err := st.Publish(ctx, name, a)
	if err != nil {
		return 0, g, err
	}
	a.Version = v
	return v, g, nil
}

// judge measures the gate: the holdout AUC against too-good-to-be-true, then against the serving
// version scored on the same rows.
func judge(ctx context.Context, st Store, name string, res *Result, labels []features.Label, opts PublishOptions) (*Gate, error) {
	share := cmpOr(opts.GateShare, DefaultGateShare)
	tooGood := cmpOr(opts.TooGoodAUC, DefaultTooGoodAUC)
	a := res.Artifact
	g := &Gate{Rows: len(res.HoldoutRows), AUC: a.Metrics.AUC, Passed: true}
	if a.Metrics.AUC >= tooGood {
		g.Passed = false
		g.Reason = fmt.Sprintf("holdout AUC %.4f is too good to be true for lead scoring (at or above %.2f): some column is likely recorded because of the outcome; read the audit", a.Metrics.AUC, tooGood)
	}
	serving, err := st.Serving(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		return g, nil
	}
	if err != nil {
		return nil, err
	}
	g.Serving = serving
	prev, err := st.Load(ctx, name, serving)
	if err != nil {
		return nil, err
	}
	for _, e := range a.Audit {
		if e.Leak() && prev.Spec.Column(e.Column) != nil && prev.Spec.Column(e.Column).Use {
			g.Leaky = append(g.Leaky, e.Column)
		}
	}
	scores := make([]float64, len(res.HoldoutRows))
	y := make([]bool, len(res.HoldoutRows))
	at := a.Spec.ReferenceTime
	if res.src == nil {
		return nil, errors.New("train: the result has no data to score the serving version on (want a Result from Train)")
	}
	// The holdout's contacts, with what the serving version reads.
	var read []string
	for _, cs := range prev.Spec.Columns {
		if cs.Use && res.src.Kind(cs.Name) != features.KindNone {
			read = append(read, cs.Name)
		}
	}
	hold, in, err := res.src.Rows(res.HoldoutRows, read)
	if err != nil {
		return nil, err
	}
	for r, i := range res.HoldoutRows {
		p, err := prev.Predict(hold.Contact(in[r], ""), at)
		if err != nil {
			// A schema change (a column of another kind): no comparison, so no pass without Force.
			g.Passed = false
			g.Reason = fmt.Sprintf("version %d cannot score the new holdout (row %d: %v), so the two cannot be compared", serving, i+1, err)
			return g, nil
		}
		scores[r], y[r] = p.Probability, labels[i] == features.Won
	}
	g.ServingAUC = metrics.AUC(scores, y)
	if floor := share * g.ServingAUC; g.AUC < floor && len(g.Leaky) == 0 && g.Passed {
		g.Passed = false
		g.Reason = fmt.Sprintf("new model is worse than the serving one: holdout AUC %.4f is below %.0f%% of version %d's %.4f on the same %d rows",
			g.AUC, 100*share, serving, g.ServingAUC, g.Rows)
	}
	return g, nil
}

func cmpOr(x, def float64) float64 {
	if x > 0 {
		return x
	}
	return def
}

// NewProvenance records where a model came from: the data (its locations made absolute, so that compare and
// rules suggest find it again from any directory) and its SHA-256, the outcome and its counts, the
// seed and split, the training time and the leadscore version that trained it.
func NewProvenance(dataFile string, f features.Columns, out dataset.Outcome, counts dataset.OutcomeCounts, res *Result, seed uint64, version string) (models.Provenance, error) {
	sum, err := FileSHA256(dataFile)
	if err != nil {
		return models.Provenance{}, err
	}
	locs := dataset.Locations(dataFile)
	for i, l := range locs {
		if dataset.IsObject(l) {
			continue
		}
		if abs, err := filepath.Abs(l); err == nil {
			locs[i] = abs
		}
	}
	return models.Provenance{
		DataFile: strings.Join(locs, ","), DataSHA256: sum, Rows: f.Len(), Won: counts.Won, Lost: counts.Lost, Open: counts.Open,
		Label: out.Column, Positive: slices.Clone(out.Positive), Negative: slices.Clone(out.Negative),
		TrainedAt: time.Now().UTC(), LeadscoreVersion: version, Seed: seed, Split: res.Artifact.Holdout.Method,
	}, nil
}

// FileSHA256 is the hex SHA-256 of the bytes of the files that data names (comma-separated
// locations, see dataset.Locations and dataset.Expand), read one after another: for one file, that
// file's SHA-256.
func FileSHA256(data string) (string, error) {
	files, err := dataset.Expand(dataset.Locations(data))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, path := range files {
		f, err := dataset.Open(path)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
