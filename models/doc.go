// Package models holds the model artifact and its logistic scorer, the manual rules scorer, priority
// tiers and the versioned model store.
package models
