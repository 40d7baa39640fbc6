// Package features holds the contact record, column kinds, the one value parser (parse.go: Parse reads
// any raw value as its column's kind, for files, JSON and the wire alike), the feature spec and
// encoder, derived features, conversion-rate tables and weight-of-evidence bins (woe.go): everything
// that turns raw contact properties into numbers.
package features
