package serve

import (
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// contactFromProto converts a wire contact. Unset values are left out (missing); NaN or infinite numbers
// and out-of-range timestamps are a *features.PropertyError wrapping features.ErrNotFinite, whatever the
// property, because no column or rule can use them.
func contactFromProto(pc *leadscorev1.Contact) (features.Contact, error) {
	c := features.Contact{ID: pc.GetId(), Props: make(map[string]features.Value, len(pc.GetProperties()))}
	for name, v := range pc.GetProperties() {
		switch k := v.GetKind().(type) {
		case *leadscorev1.Value_StringValue:
			c.Props[name] = features.String(k.StringValue)
		case *leadscorev1.Value_NumberValue:
			if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
				return c, &features.PropertyError{Property: name, Row: -1, Value: fmt.Sprint(k.NumberValue), Kind: features.KindNumber, Err: features.ErrNotFinite}
			}
			c.Props[name] = features.Number(k.NumberValue)
		case *leadscorev1.Value_BoolValue:
			c.Props[name] = features.Flag(k.BoolValue)
		case *leadscorev1.Value_TimestampValue:
			if err := k.TimestampValue.CheckValid(); err != nil {
				return c, &features.PropertyError{Property: name, Row: -1, Value: k.TimestampValue.String(), Kind: features.KindTime, Err: features.ErrNotFinite}
			}
			c.Props[name] = features.Timestamp(k.TimestampValue.AsTime())
		}
	}
	return c, nil
}

// asOfFromProto returns the scoring time: ts, or now when ts is unset.
func asOfFromProto(ts *timestamppb.Timestamp, now time.Time) (time.Time, error) {
	if ts == nil {
		return now, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("%w: as_of: %v", ErrBadRequest, err)
	}
	return ts.AsTime(), nil
}

var priorities = map[models.Priority]leadscorev1.Priority{
	models.PriorityVeryHigh: leadscorev1.Priority_VERY_HIGH,
	models.PriorityHigh:     leadscorev1.Priority_HIGH,
	models.PriorityMedium:   leadscorev1.Priority_MEDIUM,
	models.PriorityLow:      leadscorev1.Priority_LOW,
}

var stages = map[string]leadscorev1.Stage{
	"LEAD": leadscorev1.Stage_LEAD,
	"MQL":  leadscorev1.Stage_MQL,
	"SQL":  leadscorev1.Stage_SQL,
}

// finite reports whether every x is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// predictionToProto converts a prediction. A non-finite number anywhere is an error: a response never
// carries NaN.
func predictionToProto(name string, version int, contactID string, p models.Prediction) (*leadscorev1.PredictResponse, error) {
	if !finite(p.Probability) || p.Probability < 0 || p.Probability > 1 {
		return nil, fmt.Errorf("serve: model %s version %d gave probability %v", name, version, p.Probability)
	}
	resp := &leadscorev1.PredictResponse{
		Model:           name,
		ModelVersion:    int64(version),
		Probability:     p.Probability,
		Priority:        priorities[p.Priority],
		FitGrade:        p.FitGrade,
		EngagementLevel: int32(p.EngagementLevel),
		ContactId:       contactID,
		Reasons:         make([]*leadscorev1.Reason, 0, len(p.Reasons)),
	}
	for _, r := range p.Reasons {
		if !finite(r.Contribution, r.ConversionRate) {
			return nil, fmt.Errorf("serve: model %s version %d gave a non-finite reason for %q", name, version, r.Property)
		}
		resp.Reasons = append(resp.Reasons, &leadscorev1.Reason{
			Property:       r.Property,
			Value:          r.Value,
			Contribution:   r.Contribution,
			ConversionRate: r.ConversionRate,
			Contacts:       int64(r.Contacts),
			Text:           r.Text,
		})
	}
	for _, w := range p.Warnings {
		resp.Warnings = append(resp.Warnings, &leadscorev1.Warning{Property: w.Property, Message: w.Message})
	}
	return resp, nil
}

// manualToProto converts a rules result; a non-finite score is an error.
func manualToProto(r rules.Result) (*leadscorev1.ManualScore, error) {
	if !finite(r.Total) {
		return nil, fmt.Errorf("serve: rules gave score %v", r.Total)
	}
	m := &leadscorev1.ManualScore{
		Score:           r.Total,
		Stage:           stages[r.Stage],
		FitGrade:        r.FitGrade,
		EngagementLevel: int32(r.EngagementLevel),
		Excluded:        r.Excluded,
		ExcludedBy:      r.ExcludedBy,
		Hits:            make([]*leadscorev1.RuleHit, 0, len(r.Hits)),
	}
	if len(r.Groups) > 0 {
		m.Groups = make(map[string]float64, len(r.Groups))
		for g, pts := range r.Groups {
			if !finite(pts) {
				return nil, fmt.Errorf("serve: rules gave group %s score %v", g, pts)
			}
			m.Groups[g] = pts
		}
	}
	for _, h := range r.Hits {
		if !finite(h.Points) {
			return nil, fmt.Errorf("serve: rule %s gave %v points", h.Rule, h.Points)
		}
		m.Hits = append(m.Hits, &leadscorev1.RuleHit{Rule: h.Rule, Group: h.Group, Matched: h.Matched, Points: h.Points, Detail: h.Detail})
	}
	return m, nil
}

func metricsToProto(a *models.Artifact) *leadscorev1.ModelMetrics {
	m := a.Metrics
	pm := &leadscorev1.ModelMetrics{
		Rows:      int64(m.Rows),
		Positives: int64(m.Positives),
		Auc:       m.AUC,
		PrAuc:     m.PRAUC,
		LogLoss:   m.LogLoss,
		Brier:     m.Brier,
		Ece:       m.ECE,
		Threshold: m.Threshold,
	}
	if m.Manual != nil {
		pm.ManualAuc = m.Manual.AUC
	}
	return pm
}

func provenanceToProto(a *models.Artifact) *leadscorev1.Provenance {
	p := a.Provenance
	return &leadscorev1.Provenance{
		DataFile:         p.DataFile,
		DataSha256:       p.DataSHA256,
		Rows:             int64(p.Rows),
		Won:              int64(p.Won),
		Lost:             int64(p.Lost),
		Open:             int64(p.Open),
		Label:            p.Label,
		Positive:         p.Positive,
		Negative:         p.Negative,
		TrainedAt:        timestampOrNil(p.TrainedAt),
		LeadscoreVersion: p.LeadscoreVersion,
		ParentVersion:    int64(p.ParentVersion),
		Seed:             p.Seed,
		Split:            p.Split,
	}
}
