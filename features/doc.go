// Package features holds the contact record, column kinds, the feature spec and encoder, derived
// features, conversion-rate tables and weight-of-evidence bins (woe.go): everything that turns raw
// contact properties into numbers.
package features
