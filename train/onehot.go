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
// has everything but the rates, audit, holdout, tiers, grade cuts and metrics; the design is that of
// the training rows, whose columns are the encoder's outputs.
func fitOneHot(ctx context.Context, src Source, labels []features.Label, trainRows []int, spec *features.Spec, rates *features.RateReport, cfg Config, res *Result, progress func(string)) (*models.Artifact, *fit.Design, error) {
	// The one-hot design is encoded from a frame of the used columns.
	var used []string
	for _, cs := range spec.Columns {
		if cs.Use {
			used = append(used, cs.Name)
		}
	}
	f, err := frameOf(src, used)
	if err != nil {
		return nil, nil, err
	}
	encOpts := cfg.Encoder
	if !cfg.NoBins && encOpts.Bins == nil {
		encOpts.Bins = rangeCuts(rates)
	}
	enc, err := features.FitEncoder(spec, f, trainRows, encOpts)
	if err != nil {
		return nil, nil, err
	}
	xTrain, err := encodeDesign(enc, f, trainRows)
	if err != nil {
		return nil, nil, err
	}
	yTrain := labelFloats(labels, trainRows)

	model, best, err := fitPenalised(ctx, xTrain, yTrain, cfg, false, "solver", res, progress)
	if err != nil {
		return nil, nil, err
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
	}, xTrain, nil
}

// fitPenalised chooses the penalty by cross-validation (choosePenalty) and fits x on every row at
// it, reporting both steps to progress and adding the cross-validation points and every warning to
// res. nonNegative keeps every weight >= 0 (fit.FitNonNegative); solver names the fit in the warning
// given when it stops before converging. It returns the fit and its penalty C.
func fitPenalised(ctx context.Context, x *fit.Design, y []float64, cfg Config, nonNegative bool, solver string, res *Result, progress func(string)) (*fit.Result, float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	progress("cross-validate")
	best, start, cv, warns, err := choosePenalty(x, y, cfg, nonNegative)
	if err != nil {
		return nil, 0, err
	}
	res.CV = cv
	res.Warnings = append(res.Warnings, warns...)
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	progress("fit")
	fitter := fit.Fit
	if nonNegative {
		fitter = fit.FitNonNegative
	}
	model, err := fitter(x, y, fit.Options{C: best, Start: start})
	if err != nil {
		return nil, 0, err
	}
	if !model.Converged {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the %s stopped after %d iterations before converging", solver, model.Iterations))
	}
	return model, best, nil
}
