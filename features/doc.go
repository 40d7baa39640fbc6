// Package features holds the contact record, column kinds, the feature spec and encoder, derived
// features and conversion-rate tables: everything that turns raw contact properties into numbers.
package features
