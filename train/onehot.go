package train

import (
	"context"
	"fmt"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/train/fit"
)

// fitOneHot fits the one-hot model on the training rows: one weight per category level, range
// indicator and scaled number, with the penalty chosen by cross-validation. The artifact it returns
// has everything but the rates, audit, holdout, tiers, grade cuts and metrics.
func fitOneHot(ctx context.Context, f *features.Frame, labels []features.Label, trainRows []int, spec *features.Spec, rates *features.RateReport, cfg Config, res *Result, progress func(string)) (*models.Artifact, error) {
	encOpts := cfg.Encoder
	if !cfg.NoBins && encOpts.Bins == nil {
		encOpts.Bins = rangeCuts(rates)
	}
	enc, err := features.FitEncoder(spec, f, trainRows, encOpts)
	if err != nil {
		return nil, err
	}
	xTrain, err := encodeDesign(enc, f, trainRows)
	if err != nil {
		return nil, err
	}
	yTrain := labelFloats(labels, trainRows)

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress("cross-validate")
	best, start, cv, warns, err := choosePenalty(xTrain, yTrain, cfg, false)
	if err != nil {
		return nil, err
	}
	res.CV = cv
	res.Warnings = append(res.Warnings, warns...)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress("fit")
	model, err := fit.Fit(xTrain, yTrain, fit.Options{C: best, Start: start})
	if err != nil {
		return nil, err
	}
	if !model.Converged {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the solver stopped after %d iterations before converging", model.Iterations))
	}
	baseline := xTrain.ColumnMeans()
	return &models.Artifact{
		Format:    models.FormatVersion,
		Spec:      spec,
		Encoder:   enc,
		Intercept: model.Intercept,
		Weights:   model.Weights,
		Baseline:  baseline,
		Penalty:   best,
	}, nil
}
