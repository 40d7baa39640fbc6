// Package models holds the model artifact and its one scorer (score.go: Predict and ScoreFrame), the
// honest reasons and their wording (reasons.go, words.go), the points scorecard (scorecard.go),
// priority tiers and version resolution (resolve.go); the manual rules scorer is models/rules.
package models
