package models

// Metrics is how a model did on rows it never saw in training (the holdout).
// Fields are zero when not computed; ManualAUC is zero unless a rules file was given.
type Metrics struct {
	Rows      int     `json:"rows"`
	Positives int     `json:"positives"`
	AUC       float64 `json:"auc"`
	PRAUC     float64 `json:"pr_auc"`
	LogLoss   float64 `json:"log_loss"`
	Brier     float64 `json:"brier"`
	// ECE is the expected calibration error over Calibration's bins (count-weighted |mean p - rate|).
	ECE         float64          `json:"ece"`
	Calibration []CalibrationBin `json:"calibration"`
	Deciles     []Decile         `json:"deciles"`
	Threshold   float64          `json:"threshold"` // the F1-best probability cut
	Confusion   Confusion        `json:"confusion"` // at Threshold
	Manual      *ManualMetrics   `json:"manual,omitempty"`
}

// CalibrationBin is one of ten equal-width probability bins.
type CalibrationBin struct {
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Rows      int     `json:"rows"`
	MeanProb  float64 `json:"mean_prob"`
	Positives int     `json:"positives"`
	Rate      float64 `json:"rate"`
}

// Decile is one tenth of the rows ranked by score, best first.
type Decile struct {
	Decile    int     `json:"decile"` // 1 = top 10%
	Rows      int     `json:"rows"`
	Positives int     `json:"positives"`
	Rate      float64 `json:"rate"`
	Lift      float64 `json:"lift"`      // Rate / overall rate
	CumGain   float64 `json:"cum_gain"`  // share of all positives in deciles 1..Decile
	CumLift   float64 `json:"cum_lift"`  // CumGain / share of rows in deciles 1..Decile
	MinScore  float64 `json:"min_score"` // lowest score in the decile
}

// Confusion counts predictions at a threshold (score >= threshold predicts won).
type Confusion struct {
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	TN        int     `json:"tn"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// ManualMetrics is the manual rules score judged on the same holdout rows.
type ManualMetrics struct {
	AUC     float64  `json:"auc"`
	Deciles []Decile `json:"deciles"`
}
