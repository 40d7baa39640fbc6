package models

import "time"

// AsOf is the moment a contact is scored at: t when it is set, else the wall clock now (UTC, whole
// seconds). It is the one default of every path that scores (score, serve, predict, compare, rules
// test), so the same contact gets the same probability everywhere.
//
// Why now, and not the training data's snapshot: a live request is about a contact as it is now,
// and a batch rescoring of an export is about the export's contacts as they are now; both want recency
// features and time-based rules measured to today. A model's snapshot would freeze every contact's
// recency at the training date, so a contact active yesterday and one active six months after
// training would look alike. Judging historical data as it was (a holdout) is the one case that
// wants an earlier time, and it names it (--as-of, PredictRequest.as_of).
func AsOf(t time.Time) time.Time {
	if !t.IsZero() {
		return t
	}
	return time.Now().UTC().Truncate(time.Second)
}
