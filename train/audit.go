package train

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// Thresholds of the leakage audit. How a production AutoML tool decides: H2O Driverless AI
// (check_leakage, on by default) fits a model for the variable importance of every feature, then a
// simple model on each feature of significant importance, and reports those whose one-feature model
// reaches a high AUC as potential leaks (dropping them above drop_features_leakage_threshold_auc).
// We measure the same one-feature AUC (columnAUC, on the training rows, rare values pooled and bins
// cross-fitted) and exclude from leakAUC up (0.95). A lead list also shows leaks the AUC alone misses,
// so the audit adds: a column the spec marks suspect (its name says outcome, stage, status, tags or
// duration) that ranks the outcome well; one filled in for one outcome and empty for the other; one
// whose values never occur among still-open contacts; and one far stronger than every other
// attribute (the importance-dominance test, read as one-feature AUCs).
const (
	// auditMinCount is the number of contacts below which a value is pooled in the audit.
	auditMinCount = 20
	// strongAUC is the single-column AUC at which a kept column is named in a warning: strong enough
	// that it may be recorded during or after the sale (a call's duration, a meeting count).
	strongAUC = 0.8
	// suspectAUC is the single-column AUC at which a column the spec marks suspect is excluded. Set
	// between a session's page durations in the UCI Online Shoppers data (0.62-0.67, recorded before
	// the purchase) and a call's duration in the UCI Bank Marketing data (0.82, known only once the
	// call, and so the outcome, is over).
	suspectAUC = 0.70
	// fillGap is the difference between the share of won and of lost contacts that have a value, from
	// which a column is taken to be filled in because of the outcome (a closed-deals export joined
	// on, a field the sales team fills in when the deal is won).
	fillGap = 0.5
	// openShare is the share of closed contacts whose value never occurs among still-open contacts
	// (though at least openExpected of them would, were open contacts like closed ones) from which a
	// column that ranks the outcome (suspectAUC) is taken to be recorded at closing.
	openShare    = 0.2
	openExpected = 5.0
	// openMin is the number of still-open contacts the open-values rule needs to say anything.
	openMin = 30
	// aloneGap is how far a strong column (strongAUC) must rank above every other column to be taken
	// as too strong for an attribute known before the outcome.
	aloneGap = 0.12
)

// auditInput is what the audit reads: the data, the labels of every row, the training rows and the
// user's overrides.
type auditInput struct {
	src     features.Columns
	labels  []features.Label
	rows    []int
	leakAUC float64
	allow   []string
	exclude []string
	// snapshot is the export's time (Unix seconds), for the censoring check of time columns.
	snapshot float64
}

// auditLeakage measures every column's single-column AUC on the training rows, excludes used
// columns that the rules of the audit find recorded because of the outcome (unless allowed), and
// returns one entry per column, strongest first, and the warnings to show. Each column is loaded once
// (on up to GOMAXPROCS goroutines) for its evidence; the errors are those of loading a column.
func auditLeakage(in auditInput, spec *features.Spec) ([]models.AuditEntry, []string, error) {
	y := labelBools(in.labels, in.rows)
	open := openRows(in.labels)
	// The columns' evidence is independent: measured on up to GOMAXPROCS goroutines.
	ev := make([]evidence, len(spec.Columns))
	errs := make([]error, len(spec.Columns))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range spec.Columns {
		if spec.Columns[i].Name == spec.Label {
			continue
		}
		g.Go(func() error {
			col, err := in.src.Load(spec.Columns[i].Name)
			if col != nil {
				ev[i] = gather(in, col, &spec.Columns[i], y, open)
			}
			errs[i] = err
			return nil
		})
	}
	_ = g.Wait() // errors are kept per column, to report the first in spec order
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	aucs := make([]float64, len(ev))
	for i := range ev {
		aucs[i] = ev[i].auc
	}
	var audit []models.AuditEntry
	var warns []string
	for i := range spec.Columns {
		cs := &spec.Columns[i]
		if in.src.Kind(cs.Name) == features.KindNone || cs.Name == spec.Label {
			continue
		}
		e := models.AuditEntry{Column: cs.Name, AUC: aucs[i], Suspect: cs.Suspect}
		allowed := slices.Contains(in.allow, cs.Name)
		switch {
		case !cs.Use && slices.Contains(in.exclude, cs.Name):
			e.Excluded, e.Rule, e.Reason = true, models.RuleUser, cs.Reason
		case !cs.Use:
			e.Excluded, e.Rule, e.Reason = true, specRule(cs), cs.Reason
		default:
			e.Rule, e.Reason = leakRule(in, ev[i], cs, strongestOther(spec, aucs, i))
			e.Excluded = e.Rule != "" && e.Rule != models.RuleStrong && !allowed
		}
		switch {
		case e.Excluded && cs.Use:
			cs.Use, cs.Reason = false, "leakage: "+e.Reason
			warns = append(warns, fmt.Sprintf("excluded column %q: %s", cs.Name, e.Reason))
		case e.Rule != "" && cs.Use && allowed && e.Rule != models.RuleStrong:
			warns = append(warns, fmt.Sprintf("column %q kept because it is allowed, though %s", cs.Name, e.Reason))
		case e.Rule != "" && cs.Use:
			warns = append(warns, fmt.Sprintf("column %q: %s", cs.Name, e.Reason))
		}
		audit = append(audit, e)
	}
	sort.SliceStable(audit, func(a, b int) bool { return audit[a].AUC > audit[b].AUC })
	return audit, warns, nil
}

// evidence is what the audit's rules read of one column: its single-column AUC and, for a used
// column, why its age is a censoring artefact (a time), the shares of won and of lost training rows
// it is filled in for, and which values occur only among closed contacts (when it ranks the outcome
// well enough for that rule).
type evidence struct {
	auc               float64
	censored          string
	fillWon, fillLost float64
	closedOnly        string
}

// gather measures the evidence of col, whose spec is cs; y are the outcomes of in.rows, open the
// still-open rows.
func gather(in auditInput, col *features.Column, cs *features.ColumnSpec, y []bool, open []int) evidence {
	ev := evidence{auc: columnAUC(col, cs, in.rows, y)}
	if !cs.Use {
		return ev
	}
	if col.Kind == features.KindTime {
		ev.censored = censored(col, in.labels, in.snapshot)
	}
	ev.fillWon, ev.fillLost = fillRates(col, in.rows, y)
	if ev.auc >= suspectAUC {
		ev.closedOnly = closedOnly(col, cs, in.labels, in.rows, open)
	}
	return ev
}

// specRule is the audit rule of a column the spec leaves out.
func specRule(cs *features.ColumnSpec) string {
	switch {
	case cs.Reason == features.ReasonTime || cs.Reason == reasonOrders:
		return models.RuleTime
	case strings.HasPrefix(cs.Reason, features.ReasonIdentifier):
		return models.RuleIdentifier
	}
	return models.RuleSpec
}

// strongestOther is the highest single-column AUC among the used columns other than column i.
func strongestOther(spec *features.Spec, aucs []float64, i int) float64 {
	best := 0.5
	for j, a := range aucs {
		if j != i && spec.Columns[j].Use && spec.Columns[j].Name != spec.Label {
			best = max(best, a)
		}
	}
	return best
}

// leakRule returns the first rule of the audit a used column breaks, with its reason and figure, or
// RuleStrong when it only ranks the outcome well enough to be checked, or "".
func leakRule(in auditInput, ev evidence, cs *features.ColumnSpec, other float64) (string, string) {
	auc := ev.auc
	if ev.censored != "" {
		return models.RuleTime, "its age at the export snapshot is a censoring artefact: " + ev.censored
	}
	if fw, fl := ev.fillWon, ev.fillLost; fw-fl >= fillGap || fl-fw >= fillGap {
		return models.RuleMissingness, fmt.Sprintf("it is filled in for %.0f%% of won and %.0f%% of lost contacts (AUC %.3f): recorded because of the outcome", 100*fw, 100*fl, auc)
	}
	if auc >= suspectAUC {
		if why := ev.closedOnly; why != "" {
			return models.RuleOpenValues, fmt.Sprintf("%s, and it ranks the outcome (AUC %.3f): recorded at closing", why, auc)
		}
	}
	if auc >= in.leakAUC {
		return models.RuleStrength, fmt.Sprintf("alone it predicts the outcome almost perfectly (AUC %.3f >= %.2f): likely leakage", auc, in.leakAUC)
	}
	if cs.Suspect && auc >= suspectAUC {
		return models.RuleSuspect, fmt.Sprintf("its name suggests it is recorded because of the outcome and it ranks it (AUC %.3f >= %.2f)", auc, suspectAUC)
	}
	if auc >= strongAUC && auc-other >= aloneGap {
		return models.RuleIntake, fmt.Sprintf("alone it ranks the outcome far better than any other attribute (AUC %.3f against at most %.3f): an attribute known before the outcome is rarely that strong", auc, other)
	}
	if auc >= strongAUC {
		return models.RuleStrong, fmt.Sprintf("alone it ranks the outcome very well (AUC %.3f): check it is known before the deal closes", auc)
	}
	if cs.Suspect {
		return models.RuleStrong, fmt.Sprintf("its name suggests the outcome; check it is known before the deal closes (AUC %.3f)", auc)
	}
	return "", ""
}

// openRows returns the rows whose deal is still open.
func openRows(labels []features.Label) []int {
	var open []int
	for i, l := range labels {
		if !l.Closed() {
			open = append(open, i)
		}
	}
	return open
}

// fillRates returns the share of won and of lost rows (of rows) in which col has a value.
func fillRates(col *features.Column, rows []int, y []bool) (won, lost float64) {
	var nw, nl, fw, fl float64
	for r, i := range rows {
		if y[r] {
			nw++
			if col.Valid[i] {
				fw++
			}
		} else {
			nl++
			if col.Valid[i] {
				fl++
			}
		}
	}
	return fw / max(nw, 1), fl / max(nl, 1)
}

// closedOnly looks for values of col (for a number or time column: having a value at all) that
// never occur among still-open contacts though open contacts like closed ones would hold at least
// openExpected of each. When such values cover at least openShare of the training rows it says which
// and how many; otherwise, or with fewer than openMin open contacts, it returns "".
func closedOnly(col *features.Column, cs *features.ColumnSpec, labels []features.Label, rows, open []int) string {
	if len(open) < openMin {
		return ""
	}
	key := func(i int) string {
		switch {
		case !col.Valid[i]:
			return "\x00missing"
		case col.Kind == features.KindCategory:
			return strings.ToLower(features.DerivedClass(cs.Derive, col.Str[i]))
		case col.Kind == features.KindFlag:
			return fmt.Sprint(col.Bool[i])
		}
		return "(filled in)"
	}
	closed := map[string]int{}
	for _, i := range rows {
		closed[key(i)]++
	}
	inOpen := map[string]int{}
	for _, i := range open {
		inOpen[key(i)]++
	}
	scale := float64(len(open)) / float64(len(rows))
	var only []string
	covered := 0
	for v, n := range closed {
		if n >= auditMinCount && inOpen[v] == 0 && float64(n)*scale >= openExpected {
			only = append(only, v)
			covered += n
		}
	}
	if float64(covered) < openShare*float64(len(rows)) {
		return ""
	}
	slices.Sort(only)
	for k, v := range only {
		if v == "\x00missing" {
			only[k] = "(missing)"
		} else if v != "(filled in)" {
			only[k] = fmt.Sprintf("%q", v)
		}
	}
	if len(only) > 4 {
		only = append(only[:4], "...")
	}
	return fmt.Sprintf("its values %s (%.0f%% of closed contacts) never occur among the %d still-open contacts",
		strings.Join(only, ", "), 100*float64(covered)/float64(len(rows)), len(open))
}
