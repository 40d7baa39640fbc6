package train

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
)

// SuggestOptions configures Suggest. The zero value scales 20 points to a doubling of the odds and
// puts the MQL and SQL thresholds at the top 30% and 10% of contacts when no current rules are given.
type SuggestOptions struct {
	// PDO is the points that double the odds (a credit scorecard's "points to double the odds").
	// 0 means 20.
	PDO float64
	// Current, if not nil, is the manual score in use: the suggested thresholds give the same share
	// of contacts MQL-or-better and SQL as it does on the same rows.
	Current *rules.Rules
	// At is the scoring time for time rules of Current; zero means the model's reference time.
	At time.Time
}

// Suggestion is a rules file derived from a model.
type Suggestion struct {
	YAML  []byte
	Rules *rules.Rules
	// MQL and SQL are the thresholds chosen, and MQLShare and SQLShare the shares of the rows at or
	// above them.
	MQL, SQL           float64
	MQLShare, SQLShare float64
}

// Suggest turns a model into a points score marketers can read: for every used property with a
// conversion-rate table, each value or range gets the points of the model's average log-odds
// contribution among the training contacts in it (relative to the average contact), scaled so that
// PDO points double the odds, and rounded. f and rows are the training contacts (from the model's data
// file); they give the average contributions and the threshold shares. Derived properties get a rule
// per class, with the email_class and seniority operators; time properties are left out.
func Suggest(a *models.Artifact, f *features.Frame, rows []int, opts SuggestOptions) (*Suggestion, error) {
	if a.Rates == nil {
		return nil, fmt.Errorf("train: model %s version %d has no conversion-rate tables to suggest rules from", a.Name, a.Version)
	}
	pdo := opts.PDO
	if pdo <= 0 {
		pdo = 20
	}
	factor := pdo / math.Ln2
	width := a.Encoder.Width()
	x, err := a.Encoder.EncodeFrame(f, rows, time.Time{})
	if err != nil {
		return nil, err
	}
	feats := a.Encoder.Features()
	var b strings.Builder
	fmt.Fprintf(&b, "# Suggested by leadscore from model %s version %d: points proportional to the model's log-odds,\n", a.Name, a.Version)
	fmt.Fprintf(&b, "# %g points double the odds of becoming a customer. Edit freely; check with `leadscore rules check`.\n", pdo)
	b.WriteString("name: " + strconv.Quote(fmt.Sprintf("suggested from %s v%d", a.Name, a.Version)) + "\n")
	b.WriteString("stages: {mql: MQL_PLACEHOLDER, sql: SQL_PLACEHOLDER}\n")
	b.WriteString("groups:\n  - name: fit\n  - name: engagement\n")
	b.WriteString("rules:\n")
	for _, t := range a.Rates.Tables {
		cs := a.Spec.Column(t.Property)
		if cs == nil || !cs.Use {
			continue
		}
		// A derived property's table is by class (free-mail, executive, ...): its rules use the
		// email_class and seniority operators, which read the class the same way.
		classOp := map[string]string{features.DeriveEmailDomain: "email_class", features.DeriveTitleSeniority: "seniority"}[cs.Derive]
		col := f.Column(t.Property)
		if col == nil {
			continue
		}
		var idx []int
		for j, ft := range feats {
			if ft.Property == t.Property {
				idx = append(idx, j)
			}
		}
		sum := make([]float64, len(t.Rows))
		n := make([]int, len(t.Rows))
		labelOf := map[string]int{}
		for k, row := range t.Rows {
			labelOf[row.Label] = k
		}
		for r, i := range rows {
			v := col.Value(i)
			if classOp != "" && !v.Missing() {
				v = features.String(features.DerivedClass(cs.Derive, v.Str))
			}
			row, ok := t.Lookup(v)
			if !ok {
				continue
			}
			k := labelOf[row.Label]
			var c float64
			for _, j := range idx {
				c += a.Weights[j] * (x[r*width+j] - a.Baseline[j])
			}
			sum[k] += c
			n[k]++
		}
		group := cs.Group
		if group == "" {
			group = features.GroupFit
		}
		prop := strconv.Quote(t.Property)
		switch t.Kind {
		case features.KindNumber:
			var ranges []string
			for k, row := range t.Rows {
				if n[k] == 0 || row.Missing {
					continue
				}
				pts := math.Round(factor * sum[k] / float64(n[k]))
				if pts == 0 {
					continue
				}
				var bounds []string
				if !math.IsInf(row.Lo, -1) {
					bounds = append(bounds, "at_least: "+num(row.Lo))
				}
				if !math.IsInf(row.Hi, 1) {
					bounds = append(bounds, "below: "+num(row.Hi))
				}
				if len(bounds) == 0 {
					continue
				}
				ranges = append(ranges, fmt.Sprintf("      - {%s, points: %s}  # %s: %.1f%% of %d became customers", strings.Join(bounds, ", "), num(pts), row.Label, 100*row.Rate, row.Contacts))
			}
			if len(ranges) > 0 {
				fmt.Fprintf(&b, "  - name: %s\n    group: %s\n    property: %s\n    ranges:\n%s\n", strconv.Quote(t.Property+" ranges"), group, prop, strings.Join(ranges, "\n"))
			}
		case features.KindCategory, features.KindFlag:
			var named []string
			for _, row := range t.Rows {
				if !row.Missing && !row.Pooled {
					named = append(named, strconv.Quote(row.Value))
				}
			}
			for k, row := range t.Rows {
				if n[k] == 0 {
					continue
				}
				pts := math.Round(factor * sum[k] / float64(n[k]))
				if pts == 0 {
					continue
				}
				var cond string
				switch {
				case row.Missing:
					cond = "{unknown: true}"
				case row.Pooled && classOp != "":
					continue // classes are few; a pooled one is too rare to score
				case classOp != "":
					cond = "{" + classOp + ": [" + strconv.Quote(row.Value) + "]}"
				case row.Pooled:
					if len(named) == 0 {
						continue
					}
					cond = "{known: true, not_in: [" + strings.Join(named, ", ") + "]}"
				case t.Kind == features.KindFlag:
					cond = "{is: " + row.Value + "}"
				default:
					cond = "{equals: " + strconv.Quote(row.Value) + "}"
				}
				fmt.Fprintf(&b, "  - name: %s\n    group: %s\n    points: %s  # %.1f%% of %d became customers\n    when: {%s: %s}\n",
					strconv.Quote(t.Property+" is "+row.Label), group, num(pts), 100*row.Rate, row.Contacts, prop, cond)
			}
		}
	}
	draft := b.String()
	// Thresholds: parse once with placeholder stages to score the rows, then set them by share.
	probe, err := rules.Parse([]byte(strings.NewReplacer("MQL_PLACEHOLDER", "1e8", "SQL_PLACEHOLDER", "2e8").Replace(draft)))
	if err != nil {
		return nil, fmt.Errorf("train: the suggested rules do not parse: %w", err)
	}
	at := opts.At
	if at.IsZero() {
		at = a.Spec.ReferenceTime
	}
	mqlShare, sqlShare := 0.3, 0.1
	if opts.Current != nil {
		var mql, sql int
		for _, i := range rows {
			switch opts.Current.Score(f.Contact(i, ""), at).Stage {
			case "MQL":
				mql++
			case "SQL":
				sql++
			}
		}
		mqlShare = float64(mql+sql) / float64(len(rows))
		sqlShare = float64(sql) / float64(len(rows))
	}
	totals := make([]float64, len(rows))
	for r, i := range rows {
		totals[r] = probe.Score(f.Contact(i, ""), at).Total
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(totals)))
	cut := func(share float64) float64 {
		k := int(math.Round(share*float64(len(totals)))) - 1
		k = max(0, min(k, len(totals)-1))
		return totals[k]
	}
	s := &Suggestion{MQL: cut(mqlShare), SQL: cut(sqlShare)}
	if s.SQL <= s.MQL {
		s.SQL = s.MQL + 1
	}
	for _, t := range totals {
		if t >= s.MQL {
			s.MQLShare++
		}
		if t >= s.SQL {
			s.SQLShare++
		}
	}
	s.MQLShare /= float64(len(totals))
	s.SQLShare /= float64(len(totals))
	s.YAML = []byte(strings.NewReplacer("MQL_PLACEHOLDER", num(s.MQL), "SQL_PLACEHOLDER", num(s.SQL)).Replace(draft))
	if s.Rules, err = rules.Parse(s.YAML); err != nil {
		return nil, fmt.Errorf("train: the suggested rules do not parse: %w", err)
	}
	return s, nil
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
