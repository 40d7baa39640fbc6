// Package suggest turns a model into a points rules file marketers can read and edit, and judges it on
// the model's holdout beside the model and the rules in use.
package suggest
