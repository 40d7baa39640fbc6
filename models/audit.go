package models

// AuditEntry is the audit of one column: how well it alone predicts the outcome on the training
// rows, whether training kept it, and which rule decided.
type AuditEntry struct {
	Column   string  `json:"column"`
	AUC      float64 `json:"auc"`
	Suspect  bool    `json:"suspect,omitempty"` // the spec marks it suspect: its name smells of the outcome
	Excluded bool    `json:"excluded"`
	// Rule names the rule that excluded (or flagged) the column, one of the Rule constants.
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// The rules of the audit, as AuditEntry.Rule.
const (
	RuleUser        = "user"        // excluded by the user
	RuleSpec        = "spec"        // excluded by the spec (inferred or edited): constant, free text, label
	RuleIdentifier  = "identifier"  // near-unique or in row order: an identifier, whatever its name
	RuleTime        = "time"        // a time column: its age at the export snapshot is a censoring artefact
	RuleStrength    = "strength"    // alone it predicts the outcome almost perfectly
	RuleSuspect     = "suspect"     // the spec marks it suspect and it predicts the outcome
	RuleMissingness = "missingness" // filled in for one outcome and empty for the other
	RuleOpenValues  = "open-values" // its values never occur among still-open contacts
	RuleIntake      = "intake"      // far stronger than any intake attribute
	RuleStrong      = "strong"      // kept, but strong enough that a person should check it
)

// Leak reports whether the entry excluded its column as leakage (recorded because of the outcome).
func (e AuditEntry) Leak() bool {
	if !e.Excluded {
		return false
	}
	switch e.Rule {
	case RuleStrength, RuleSuspect, RuleMissingness, RuleOpenValues, RuleIntake:
		return true
	}
	return false
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
