package serve

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
)

// Limits on one contact, far above what a CRM record holds, so that a hostile or broken caller gets
// InvalidArgument naming what is too large rather than the server spending memory on it.
const (
	MaxProperties    = 1000     // properties in one contact
	MaxPropertyName  = 256      // bytes of a property name
	MaxPropertyValue = 64 << 10 // bytes of a string value
)

// ErrTooLarge is the cause of a *features.PropertyError for a property name or value over its limit.
var ErrTooLarge = errors.New("serve: too large")

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "..."
}

// checkSize refuses a contact with more than MaxProperties properties.
func checkSize(pc *leadscorev1.Contact) error {
	if n := len(pc.GetProperties()); n > MaxProperties {
		return fmt.Errorf("%w: contact %q has %d properties, the limit is %d", ErrBadRequest, clip(pc.GetId()), n, MaxProperties)
	}
	return nil
}

// valueFromProto converts the wire value of property name; an unset value is missing (the zero
// Value). A name or string over its limit is a *features.PropertyError wrapping ErrTooLarge; a NaN or
// infinite number, or an out-of-range timestamp, one wrapping features.ErrNotFinite.
func valueFromProto(name string, v *leadscorev1.Value) (features.Value, error) {
	if len(name) > MaxPropertyName {
		return features.Value{}, &features.PropertyError{Property: clip(name), Row: -1, Value: fmt.Sprintf("a name of %d bytes, the limit is %d", len(name), MaxPropertyName), Err: ErrTooLarge}
	}
	switch k := v.GetKind().(type) {
	case *leadscorev1.Value_StringValue:
		if n := len(k.StringValue); n > MaxPropertyValue {
			return features.Value{}, &features.PropertyError{Property: name, Row: -1, Value: fmt.Sprintf("%s (%d bytes, the limit is %d)", clip(k.StringValue), n, MaxPropertyValue), Kind: features.KindCategory, Err: ErrTooLarge}
		}
		return features.String(k.StringValue), nil
	case *leadscorev1.Value_NumberValue:
		if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return features.Value{}, &features.PropertyError{Property: name, Row: -1, Value: fmt.Sprint(k.NumberValue), Kind: features.KindNumber, Err: features.ErrNotFinite}
		}
		return features.Number(k.NumberValue), nil
	case *leadscorev1.Value_BoolValue:
		return features.Flag(k.BoolValue), nil
	case *leadscorev1.Value_TimestampValue:
		if err := k.TimestampValue.CheckValid(); err != nil {
			return features.Value{}, &features.PropertyError{Property: name, Row: -1, Value: k.TimestampValue.String(), Kind: features.KindTime, Err: features.ErrNotFinite}
		}
		return features.Timestamp(k.TimestampValue.AsTime()), nil
	}
	return features.Value{}, nil
}

// PropertiesFromJSON converts contact properties decoded from JSON into wire values, through
// features.ContactFromMap, the one JSON conversion that the REST front and the command line share: null
// is missing and left out, strings stay text for the column's kind to read, numbers (float64 or
// json.Number) and booleans keep their type. Anything else, or a number that is not finite, is a
// *features.PropertyError naming the property.
func PropertiesFromJSON(m map[string]any) (map[string]*leadscorev1.Value, error) {
	c, err := features.ContactFromMap(m)
	if err != nil {
		var pe *features.PropertyError
		if errors.As(err, &pe) {
			pe.Value = clip(pe.Value)
		}
		return nil, err
	}
	return ContactToProto(c).Properties, nil
}

// ContactToProto converts a contact for the wire.
func ContactToProto(c features.Contact) *leadscorev1.Contact {
	pc := &leadscorev1.Contact{Id: c.ID, Properties: make(map[string]*leadscorev1.Value, len(c.Props))}
	for k, v := range c.Props {
		switch v.Kind {
		case features.KindCategory:
			pc.Properties[k] = &leadscorev1.Value{Kind: &leadscorev1.Value_StringValue{StringValue: v.Str}}
		case features.KindNumber:
			pc.Properties[k] = &leadscorev1.Value{Kind: &leadscorev1.Value_NumberValue{NumberValue: v.Num}}
		case features.KindFlag:
			pc.Properties[k] = &leadscorev1.Value{Kind: &leadscorev1.Value_BoolValue{BoolValue: v.Bool}}
		case features.KindTime:
			pc.Properties[k] = &leadscorev1.Value{Kind: &leadscorev1.Value_TimestampValue{TimestampValue: timestamppb.New(v.Time)}}
		}
	}
	return pc
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

// priorityToProto and stageToProto map domain values to wire enums; anything else is unspecified.
func priorityToProto(p models.Priority) leadscorev1.Priority {
	switch p {
	case models.PriorityVeryHigh:
		return leadscorev1.Priority_VERY_HIGH
	case models.PriorityHigh:
		return leadscorev1.Priority_HIGH
	case models.PriorityMedium:
		return leadscorev1.Priority_MEDIUM
	case models.PriorityLow:
		return leadscorev1.Priority_LOW
	}
	return leadscorev1.Priority_PRIORITY_UNSPECIFIED
}

func stageToProto(s string) leadscorev1.Stage {
	switch s {
	case "LEAD":
		return leadscorev1.Stage_LEAD
	case "MQL":
		return leadscorev1.Stage_MQL
	case "SQL":
		return leadscorev1.Stage_SQL
	}
	return leadscorev1.Stage_STAGE_UNSPECIFIED
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

// answer is the memory of one answer to a contact, allocated at once: the response, its manual score,
// and room for every reason and the rule hits of most rules files. Only its response escapes.
type answer struct {
	resp    leadscorev1.PredictResponse
	manual  leadscorev1.ManualScore
	reasons [models.MaxReasons]*leadscorev1.Reason
	reason  [models.MaxReasons]leadscorev1.Reason
	hits    [answerHits]*leadscorev1.RuleHit
	hit     [answerWorded]leadscorev1.RuleHit
}

// answerHits is the room for rule hits in an answer: testdata/rules.yaml has 25 rules and exclusions.
// answerWorded is the room for the hits of rules worded at every call (see manualToProto), which
// testdata/rules.yaml has 3 of (those that read the scoring time).
const (
	answerHits   = 32
	answerWorded = 4
)

// predictionToProto converts a prediction. A non-finite number anywhere is an error: a response never
// carries NaN.
func predictionToProto(name string, version int, contactID string, p models.Prediction) (*leadscorev1.PredictResponse, error) {
	return new(answer).prediction(name, version, contactID, p)
}

// prediction is predictionToProto into a's memory; it returns &a.resp.
func (a *answer) prediction(name string, version int, contactID string, p models.Prediction) (*leadscorev1.PredictResponse, error) {
	if !finite(p.Probability) || p.Probability < 0 || p.Probability > 1 {
		return nil, fmt.Errorf("serve: model %s version %d gave probability %v", name, version, p.Probability)
	}
	resp := &a.resp
	resp.Model, resp.ModelVersion, resp.Probability, resp.Priority = name, int64(version), p.Probability, priorityToProto(p.Priority)
	resp.FitGrade, resp.EngagementLevel, resp.ContactId = p.FitGrade, int32(p.EngagementLevel), contactID
	ptrs, reasons := a.reasons[:0:0], a.reason[:0:0]
	if n := len(p.Reasons); n <= len(a.reasons) {
		ptrs, reasons = a.reasons[:n:n], a.reason[:n:n]
	} else {
		ptrs, reasons = make([]*leadscorev1.Reason, n), make([]leadscorev1.Reason, n)
	}
	for i, r := range p.Reasons {
		if !finite(r.Contribution, r.ConversionRate) {
			return nil, fmt.Errorf("serve: model %s version %d gave a non-finite reason for %q", name, version, r.Property)
		}
		pr := &reasons[i]
		pr.Property, pr.Value, pr.Contribution, pr.ConversionRate, pr.Contacts, pr.Text =
			r.Property, r.Value, r.Contribution, r.ConversionRate, int64(r.Contacts), r.Text
		ptrs[i] = pr
	}
	resp.Reasons = ptrs
	if len(p.Warnings) > 0 {
		warnings := make([]leadscorev1.Warning, len(p.Warnings))
		resp.Warnings = make([]*leadscorev1.Warning, len(p.Warnings))
		for i, w := range p.Warnings {
			warnings[i].Property, warnings[i].Message = w.Property, w.Message
			resp.Warnings[i] = &warnings[i]
		}
	}
	return resp, nil
}

// maxSharedHits bounds the rule hit messages kept per rule (see manualToProto): as many as the rules
// package keeps details (the details of up to 256 values).
const maxSharedHits = 256

// manualToProto converts a rules result of lr's rules into a's memory; a non-finite score is an error. A rule hit
// with the same rule, outcome and detail string as an earlier answer's is that answer's message, shared:
// messages are only read once made (gRPC marshals answers concurrently, which is safe for messages
// nobody writes), and most rule hits repeat, as the rules package keeps the detail of each value it
// has worded and gives the same string again. Details are matched by identity, not by hashing their
// text: by where their bytes are, then by length. A shared message holds the detail it was made for,
// so that memory cannot be reused for another string while it is kept. The others share one backing
// array. r.Groups becomes the answer's, so r must
// not be used afterwards.
func (lr *loadedRules) manualToProto(r rules.Result, a *answer) (*leadscorev1.ManualScore, error) {
	if !finite(r.Total) {
		return nil, fmt.Errorf("serve: rules gave score %v", r.Total)
	}
	for g, pts := range r.Groups {
		if !finite(pts) {
			return nil, fmt.Errorf("serve: rules gave group %s score %v", g, pts)
		}
	}
	m := &a.manual
	m.Score, m.Stage, m.FitGrade, m.EngagementLevel = r.Total, stageToProto(r.Stage), r.FitGrade, int32(r.EngagementLevel)
	m.Excluded, m.ExcludedBy = r.Excluded, r.ExcludedBy
	if len(r.Groups) > 0 {
		m.Groups = r.Groups
	}
	if len(r.Hits) == 0 {
		return m, nil
	}
	if n := len(r.Hits); n <= len(a.hits) {
		m.Hits = a.hits[:n:n]
	} else {
		m.Hits = make([]*leadscorev1.RuleHit, n)
	}
	fresh := a.hit[:] // the hits not shared, in the answer's memory, then in one allocation
	for i, h := range r.Hits {
		if !finite(h.Points) {
			return nil, fmt.Errorf("serve: rule %s gave %v points", h.Rule, h.Points)
		}
		if shared := lr.hits[i]; shared != nil {
			// A pointer key takes the map's fast path: a {pointer, length} key cost two and a half
			// times as much to look up.
			at := unsafe.StringData(h.Detail)
			if ph, ok := shared.Get(at); ok && len(ph.Detail) == len(h.Detail) && ph.Matched == h.Matched && ph.Points == h.Points {
				m.Hits[i] = ph
				continue
			}
			if shared.Len() < maxSharedHits {
				// The message holds h.Detail itself, keeping its memory for this string alone.
				ph := &leadscorev1.RuleHit{Rule: h.Rule, Group: h.Group, Matched: h.Matched, Points: h.Points, Detail: h.Detail}
				shared.Add(at, ph)
				m.Hits[i] = ph
				continue
			}
		}
		if len(fresh) == 0 {
			fresh = make([]leadscorev1.RuleHit, len(r.Hits)-i)
		}
		ph := &fresh[0]
		fresh = fresh[1:]
		ph.Rule, ph.Group, ph.Matched, ph.Points, ph.Detail = h.Rule, h.Group, h.Matched, h.Points, h.Detail
		m.Hits[i] = ph
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
