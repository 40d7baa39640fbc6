// Package fit trains L2-penalised logistic regression on a dense row-major matrix and chooses the penalty by cross-validation.
package fit
