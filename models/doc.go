// Package models holds the model artifact and its one scorer (score.go: Predict, ScoreEncoded,
// ScoreFrame), the honest reasons and their wording (reasons.go, words.go), the points scorecard
// (scorecard.go), the manual rules scorer, priority tiers and the versioned model store.
package models
