// Package compare judges a predictive model against a manual points score on the same closed contacts and renders the comparison as an HTML report, CSV tables and a terminal summary.
package compare
