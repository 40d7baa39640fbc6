package models

// AuditEntry is the leakage audit of one column: how well it alone predicts the outcome on the
// training rows, and whether training kept it.
type AuditEntry struct {
	Column   string  `json:"column"`
	AUC      float64 `json:"auc"`
	Suspect  bool    `json:"suspect,omitempty"` // its name smells of the outcome
	Excluded bool    `json:"excluded"`
	Reason   string  `json:"reason,omitempty"`
}

// HoldoutRef lets the holdout rows be found again in the training data file.
// Method "random": a stratified random split of the closed rows by Seed and Share, in file order.
// Method "time" or "order": closed rows whose Column is at or above Cutoff (Unix seconds for time).
type HoldoutRef struct {
	Method string  `json:"method"`
	Column string  `json:"column,omitempty"`
	Cutoff float64 `json:"cutoff,omitempty"`
	Share  float64 `json:"share"`
	Seed   uint64  `json:"seed"`
}
