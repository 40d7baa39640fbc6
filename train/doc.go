// Package train reads labelled contacts, fits, evaluates and audits a model, and publishes it through
// the gate (publish.go) with its provenance; it also writes the summary after training, scores files in
// batch (score.go) and finds a model's holdout and training rows again (data.go).
package train
