package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/models/rules"
	"github.com/leadscore/leadscore/train/dataset"
)

func newRulesCmd(stdout, _ io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Check a manual points rules file and try it on one contact",
		Long: `Check a manual points rules file (HubSpot-style points, groups, limits, decay, stages, grades and
levels; testdata/rules.yaml documents the format) and try it on one contact.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("rules: unknown command %q; want check or test", args[0])}
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newRulesCheckCmd(stdout), newRulesTestCmd(stdout), newRulesSuggestCmd(stdout))
	return cmd
}

type rulesCheckFlags struct {
	rules, spec, columns, data, models, name string
}

func newRulesCheckCmd(stdout io.Writer) *cobra.Command {
	var fl rulesCheckFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate a rules file, print its summary and check its property names",
		Long: `Validate a rules file and print its groups, stages, exclusions and rules. Every problem is reported
with its line. With --spec, --data or --columns, the properties the rules read must exist (with a kind
their criteria can match, when the kind is known).`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			return runRulesCheck(fl, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.rules, "rules", "", "the rules file (required)")
	f.StringVar(&fl.spec, "spec", "", "check property names and kinds against this spec file (YAML)")
	f.StringVar(&fl.data, "data", "", "check property names and kinds against the columns of this data file (.csv or .parquet)")
	f.StringVar(&fl.columns, "columns", "", "check property names against this comma-separated list")
	f.StringVar(&fl.models, "models", "", "with --name: check property names and kinds against that model's schema")
	f.StringVar(&fl.name, "name", "", "model name in --models (its serving version)")
	return cmd
}

func runRulesCheck(fl rulesCheckFlags, stdout io.Writer) error {
	if fl.rules == "" {
		return usageError{errors.New("rules check: --rules is required")}
	}
	sources := 0
	if (fl.models == "") != (fl.name == "") {
		return usageError{errors.New("rules check: --models and --name go together")}
	}
	for _, s := range []string{fl.spec, fl.data, fl.columns, fl.models} {
		if s != "" {
			sources++
		}
	}
	if sources > 1 {
		return usageError{errors.New("rules check: give at most one of --spec, --data, --columns and --models")}
	}
	r, err := rules.ReadFile(fl.rules)
	if err != nil {
		return err
	}
	if err := printRulesSummary(stdout, fl.rules, r); err != nil {
		return err
	}
	var columns map[string]features.Kind
	var against string
	switch {
	case fl.spec != "":
		file, err := os.Open(fl.spec)
		if err != nil {
			return fmt.Errorf("rules check: %w", err)
		}
		spec, err := features.ReadSpec(file)
		file.Close()
		if err != nil {
			return fmt.Errorf("rules check: %s: %w", fl.spec, err)
		}
		if err := r.CheckSchema(spec); err != nil {
			return fmt.Errorf("rules check: against %s:\n%w", fl.spec, err)
		}
		fmt.Fprintf(stdout, "\nschema: every property the rules read is in %s\n", fl.spec)
		return nil
	case fl.models != "":
		a, err := loadModel(fl.models, fl.name, 0, "")
		if err != nil {
			return fmt.Errorf("rules check: %w", err)
		}
		if err := r.CheckSchema(a.Spec); err != nil {
			return fmt.Errorf("rules check: against model %s version %d:\n%w", fl.name, a.Version, err)
		}
		fmt.Fprintf(stdout, "\nschema: every property the rules read is in model %s version %d\n", fl.name, a.Version)
		return nil
	case fl.data != "":
		frame, err := dataset.ReadFile(fl.data, dataset.ReadOptions{})
		if err != nil {
			return fmt.Errorf("rules check: %w", err)
		}
		columns, against = make(map[string]features.Kind, len(frame.Columns)), fl.data
		for _, c := range frame.Columns {
			columns[c.Name] = c.Kind
		}
	case fl.columns != "":
		columns, against = map[string]features.Kind{}, "the columns given"
		for _, name := range strings.Split(fl.columns, ",") {
			if name = strings.TrimSpace(name); name != "" {
				columns[name] = features.KindNone
			}
		}
	default:
		return nil
	}
	if err := r.CheckColumns(columns); err != nil {
		return fmt.Errorf("rules check: against %s:\n%w", against, err)
	}
	fmt.Fprintf(stdout, "\nschema: every property the rules read is in %s\n", against)
	return nil
}

func printRulesSummary(w io.Writer, path string, r *rules.Rules) error {
	title := path
	if r.Name != "" {
		title += ": " + r.Name
	}
	fmt.Fprintln(w, title)
	fmt.Fprintf(w, "%d rules, %d exclusions, %d groups; the rules read %d properties\n",
		len(r.Rules), len(r.Exclusions), len(r.Groups), len(r.Properties()))
	fmt.Fprintf(w, "stages: MQL from %s points, SQL from %s; total limit: %s\n",
		rulesNum(r.Stages.MQL), rulesNum(r.Stages.SQL), rulesNum(r.TotalLimit))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(r.Groups) > 0 {
		fmt.Fprintln(tw, "\nGROUP\tLIMIT\tCUT POINTS")
		for _, g := range r.Groups {
			var cuts string
			if g.Grades != nil {
				cuts = fmt.Sprintf("grade C from %s, B from %s, A from %s (else D)", rulesNum(g.Grades[0]), rulesNum(g.Grades[1]), rulesNum(g.Grades[2]))
			}
			if g.Levels != nil {
				if cuts != "" {
					cuts += "; "
				}
				cuts += fmt.Sprintf("level 3 from %s, 2 from %s, 1 from %s (else 4)", rulesNum(g.Levels[0]), rulesNum(g.Levels[1]), rulesNum(g.Levels[2]))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Name, rulesNum(g.Limit), cuts)
		}
	}
	if len(r.Exclusions) > 0 {
		fmt.Fprintln(tw, "\nEXCLUSION\tWHEN")
		for _, x := range r.Exclusions {
			fmt.Fprintf(tw, "%s\t%s\n", x.Name, x.String())
		}
	}
	fmt.Fprintln(tw, "\nRULE\tGROUP\tPOINTS\tWHEN")
	for _, rule := range r.Rules {
		points := rulesSigned(rule.Points)
		if len(rule.Ranges) > 0 {
			points = "ranges"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", rule.Name, rule.Group, points, rule.String())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nproperties: %s\n", strings.Join(r.Properties(), ", "))
	return err
}

type rulesTestFlags struct {
	rules, contact, at, data, idColumn, row string
	jsonOut                                 bool
}

func newRulesTestCmd(stdout io.Writer) *cobra.Command {
	var fl rulesTestFlags
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Score one contact with a rules file and print every rule's outcome",
		Long: `Score one contact with a rules file and print every rule, hit or miss, with its points and why,
then the group totals, total, stage, fit grade and engagement level (like HubSpot's test contact).

The contact is a flat JSON object of properties: strings, numbers and booleans (null = missing); a string
is read as a time, number or flag where a rule needs one, exactly as the same text in a CSV file. For example
  --contact '{"job_title":"VP Sales","visits":4,"last_activity_at":"2025-12-20T00:00:00Z"}'
"-" reads it from stdin, "@FILE" from a file. Or take a row of a data file with --data, --id and --row.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRulesTest(fl, cmd.InOrStdin(), stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.rules, "rules", "", "the rules file (required)")
	f.StringVar(&fl.contact, "contact", "", "the contact as a JSON object (- reads stdin, @FILE a file)")
	f.StringVar(&fl.at, "at", "", "score at this RFC 3339 time (default: now)")
	f.StringVar(&fl.data, "data", "", "take the contact from this data file (.csv or .parquet) instead")
	f.StringVar(&fl.idColumn, "id", "contact_id", "with --data: the column that identifies contacts")
	f.StringVar(&fl.row, "row", "", "with --data: the id of the contact to score")
	f.BoolVar(&fl.jsonOut, "json", false, "print the result as JSON")
	return cmd
}

func runRulesTest(fl rulesTestFlags, stdin io.Reader, stdout io.Writer) error {
	switch {
	case fl.rules == "":
		return usageError{errors.New("rules test: --rules is required")}
	case (fl.contact == "") == (fl.data == ""):
		return usageError{errors.New("rules test: give either --contact or --data")}
	case fl.data != "" && fl.row == "":
		return usageError{errors.New("rules test: --data needs --row, the id of the contact")}
	}
	var at time.Time
	if fl.at != "" {
		t, err := time.Parse(time.RFC3339, fl.at)
		if err != nil {
			return usageError{fmt.Errorf("rules test: --at: want an RFC 3339 time such as 2026-01-02T00:00:00Z: %w", err)}
		}
		at = t
	}
	r, err := rules.ReadFile(fl.rules)
	if err != nil {
		return err
	}
	var c features.Contact
	if fl.data != "" {
		c, err = rulesContactFromData(fl.data, fl.idColumn, fl.row)
		if err != nil {
			return err
		}
	} else {
		raw := []byte(fl.contact)
		switch {
		case fl.contact == "-":
			raw, err = io.ReadAll(stdin)
		case strings.HasPrefix(fl.contact, "@"):
			raw, err = os.ReadFile(fl.contact[1:])
		}
		if err != nil {
			return fmt.Errorf("rules test: reading the contact: %w", err)
		}
		if c, err = features.ContactFromJSON(raw); err != nil {
			return usageError{fmt.Errorf("rules test: --contact: %w", err)}
		}
	}
	res := r.Score(c, models.AsOf(at))
	if fl.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printRulesResult(stdout, r, res)
}

// rulesContactFromData reads a data file and returns the contact whose idColumn value is id.
func rulesContactFromData(path, idColumn, id string) (features.Contact, error) {
	frame, err := dataset.ReadFile(path, dataset.ReadOptions{})
	if err != nil {
		return features.Contact{}, fmt.Errorf("rules test: %w", err)
	}
	col := frame.Column(idColumn)
	if col == nil {
		return features.Contact{}, usageError{fmt.Errorf("rules test: %s has no column %q (set --id)", path, idColumn)}
	}
	for i := range col.Len() {
		if col.Value(i).Text() == id {
			return frame.Contact(i, idColumn), nil
		}
	}
	return features.Contact{}, fmt.Errorf("rules test: %s has no contact with %s %q", path, idColumn, id)
}

func printRulesResult(w io.Writer, r *rules.Rules, res rules.Result) error {
	fmt.Fprintf(w, "scored at %s\n\n", res.At.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tGROUP\tHIT\tPOINTS\tDETAIL")
	raw := map[string]float64{}
	for _, h := range res.Hits {
		hit, group, points := "no", h.Group, rulesSigned(h.Points)
		if h.Matched {
			hit = "yes"
		}
		if h.Exclusion {
			group, points = "(exclusion)", ""
		}
		raw[h.Group] += h.Points
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Rule, group, hit, points, h.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Excluded {
		_, err := fmt.Fprintf(w, "\nexcluded by: %s (not scored)\n", res.ExcludedBy)
		return err
	}
	fmt.Fprintln(w)
	for _, g := range r.Groups {
		line := fmt.Sprintf("%s: %s", g.Name, rulesNum(res.Groups[g.Name]))
		if raw[g.Name] != res.Groups[g.Name] {
			line += fmt.Sprintf(" (%s before the group limit of %s)", rulesNum(raw[g.Name]), rulesNum(g.Limit))
		}
		fmt.Fprintln(w, line)
	}
	var beforeLimit float64
	for _, v := range res.Groups {
		beforeLimit += v
	}
	beforeLimit += raw[""]
	line := "total: " + rulesNum(res.Total)
	if beforeLimit != res.Total {
		line += fmt.Sprintf(" (%s before the total limit of %s)", rulesNum(beforeLimit), rulesNum(r.TotalLimit))
	}
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "stage: %s\n", res.Stage)
	if res.FitGrade != "" {
		fmt.Fprintf(w, "fit grade: %s\n", res.FitGrade)
	}
	if res.EngagementLevel != 0 {
		fmt.Fprintf(w, "engagement level: %d\n", res.EngagementLevel)
	}
	return nil
}

// rulesNum formats points: whole numbers without decimals, others to two decimals, +Inf as "none".
func rulesNum(f float64) string {
	if math.IsInf(f, 1) {
		return "none"
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func rulesSigned(f float64) string {
	if f > 0 {
		return "+" + rulesNum(f)
	}
	return rulesNum(f)
}
