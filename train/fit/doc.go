// Package fit trains L2-penalised logistic regression on a compressed-row design (indicator columns as index lists, numbers as values) and chooses the penalty by cross-validation.
package fit
