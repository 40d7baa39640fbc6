package suggest

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/report"
)

// Options configures FromModel. The zero value scales 20 points to a doubling of the odds and
// puts the MQL and SQL thresholds at the top 30% and 10% of contacts when no current rules are given.
type Options struct {
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

// FromModel turns a model into a points score marketers can read: for every used property with a
// conversion-rate table, each value or range gets the points of the model's average log-odds
// contribution among the training contacts in it (relative to the average contact), scaled so that
// PDO points double the odds, and rounded. f and rows are the training contacts (from the model's data
// file); they give the average contributions and the threshold shares. Derived properties get a rule
// per class, with the email_class and seniority operators; time properties are left out.
//
// A scorecard's rules are its points sheet itself (scorecardRules), rescaled to PDO: scored by the
// rules engine they rank contacts as the model does, up to the rounding of points.
func FromModel(a *models.Artifact, f *features.Frame, rows []int, opts Options) (*Suggestion, error) {
	if a.Rates == nil && a.Scorecard == nil {
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
	var tables []features.RateTable
	if a.Scorecard != nil {
		scorecardRules(&b, a, factor)
	} else {
		tables = a.Rates.Tables
	}
	for _, t := range tables {
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

// scorecardRules writes one rule per bin of a scorecard with its points (factor times its weight,
// rounded; bins of 0 points are left out): categories by equals, their other bin by not_in, derived
// classes by email_class or seniority, flags by is, missing values by unknown, number ranges by
// at_least and below. A time's bins are ranges of age, which rules read with within_days: the last
// bin's points go to every known time and each cut adds the difference to the next bin's points for
// times within it, so the points add up to the bin's.
func scorecardRules(b *strings.Builder, a *models.Artifact, factor float64) {
	pts := a.Points()
	classes := map[string][]string{
		features.DeriveEmailDomain:    {features.EmailFreeMail, features.EmailEducation, features.EmailCompany, features.EmailInvalid},
		features.DeriveTitleSeniority: {features.SeniorityExecutive, features.SeniorityDirector, features.SeniorityManager, features.SeniorityIndividual, features.SeniorityStudent, features.SeniorityUnknown},
	}
	classOp := map[string]string{features.DeriveEmailDomain: "email_class", features.DeriveTitleSeniority: "seniority"}
	for _, pp := range pts.Properties {
		prop := strconv.Quote(pp.Property)
		rule := func(name string, points float64, cond string, bin models.BinPoints) {
			p := math.Round(points * factor / a.Scorecard.Factor())
			if p == 0 {
				return
			}
			fmt.Fprintf(b, "  - name: %s\n    group: %s\n    points: %s  # %.1f%% of %d became customers\n    when: {%s: %s}\n",
				strconv.Quote(pp.Property+" "+name), pp.Group, num(p), 100*bin.Rate(), bin.Contacts, prop, cond)
		}
		var named []string
		for _, bin := range pp.Bins {
			if v := bin.Feature.Value; v != features.LevelOther && v != features.LevelMissing && !bin.Feature.Range() {
				named = append(named, v)
			}
		}
		if pp.Kind == features.KindTime {
			last := pp.Bins[len(pp.Bins)-2] // the bins are the ranges, then missing
			rule("is known", last.Points, "{known: true}", last)
			for k := len(pp.Bins) - 3; k >= 0; k-- {
				bin := pp.Bins[k]
				rule("within "+num(bin.Feature.Hi)+" days", bin.Points-pp.Bins[k+1].Points, "{within_days: "+num(bin.Feature.Hi)+"}", bin)
			}
			rule("is missing", pp.Bins[len(pp.Bins)-1].Points, "{unknown: true}", pp.Bins[len(pp.Bins)-1])
			continue
		}
		for _, bin := range pp.Bins {
			v := bin.Feature.Value
			var cond string
			switch {
			case v == features.LevelMissing:
				cond = "{unknown: true}"
			case bin.Feature.Range():
				var bounds []string
				if !math.IsInf(bin.Feature.Lo, -1) {
					bounds = append(bounds, "at_least: "+num(bin.Feature.Lo))
				}
				if !math.IsInf(bin.Feature.Hi, 1) {
					bounds = append(bounds, "below: "+num(bin.Feature.Hi))
				}
				cond = "{known: true}"
				if len(bounds) > 0 {
					cond = "{" + strings.Join(bounds, ", ") + "}"
				}
			case classOp[pp.Derive] != "":
				in := []string{v}
				if v == features.LevelOther {
					in = nil
					for _, c := range classes[pp.Derive] {
						if !slices.Contains(named, c) {
							in = append(in, c)
						}
					}
				}
				if len(in) == 0 {
					continue
				}
				cond = "{" + classOp[pp.Derive] + ": [" + strings.Join(in, ", ") + "]}"
			case pp.Kind == features.KindFlag:
				cond = "{is: " + v + "}"
			case v == features.LevelOther:
				cond = "{known: true}"
				if len(named) > 0 {
					q := make([]string, len(named))
					for i, n := range named {
						q[i] = strconv.Quote(n)
					}
					cond = "{known: true, not_in: [" + strings.Join(q, ", ") + "]}"
				}
			default:
				cond = "{equals: " + strconv.Quote(v) + "}"
			}
			rule("is "+report.BinLabel(bin.Feature), bin.Points, cond, bin)
		}
	}
}
