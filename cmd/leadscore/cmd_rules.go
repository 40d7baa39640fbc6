package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

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
	if (fl.models == "") != (fl.name == "") {
		return usageError{errors.New("rules check: --models and --name go together")}
	}
	if given := slices.DeleteFunc([]string{fl.spec, fl.data, fl.columns, fl.models}, func(s string) bool { return s == "" }); len(given) > 1 {
		return usageError{errors.New("rules check: give at most one of --spec, --data, --columns and --models")}
	}
	r, err := rules.ReadFile(fl.rules)
	if err != nil {
		return err
	}
	if err := r.WriteSummary(stdout, fl.rules); err != nil {
		return err
	}
	var against string
	var check func() error
	switch {
	case fl.spec != "":
		spec, err := features.ReadSpecFile(fl.spec)
		if err != nil {
			return fmt.Errorf("rules check: %w", err)
		}
		against, check = fl.spec, func() error { return r.CheckSchema(spec) }
	case fl.models != "":
		a, err := loadModel(fl.models, fl.name, 0, "")
		if err != nil {
			return fmt.Errorf("rules check: %w", err)
		}
		against, check = fmt.Sprintf("model %s version %d", fl.name, a.Version), func() error { return r.CheckSchema(a.Spec) }
	case fl.data != "":
		frame, err := dataset.ReadFile(fl.data, dataset.ReadOptions{})
		if err != nil {
			return fmt.Errorf("rules check: %w", err)
		}
		against, check = fl.data, func() error { return r.CheckColumns(frame.Kinds()) }
	case fl.columns != "":
		columns := map[string]features.Kind{}
		for _, name := range strings.Split(fl.columns, ",") {
			if name = strings.TrimSpace(name); name != "" {
				columns[name] = features.KindNone
			}
		}
		against, check = "the columns given", func() error { return r.CheckColumns(columns) }
	default:
		return nil
	}
	if err := check(); err != nil {
		return fmt.Errorf("rules check: against %s:\n%w", against, err)
	}
	fmt.Fprintf(stdout, "\nschema: every property the rules read is in %s\n", against)
	return nil
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
	at, err := timeFlag("rules test", "at", fl.at)
	if err != nil {
		return err
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
	} else if c, err = contactFlag("rules test", fl.contact, stdin); err != nil {
		return err
	}
	res := r.Score(c, models.AsOf(at))
	if fl.jsonOut {
		return writeJSON(stdout, res)
	}
	return r.WriteResult(stdout, res)
}

// rulesContactFromData reads a data file and returns the contact whose idColumn value is id.
func rulesContactFromData(path, idColumn, id string) (features.Contact, error) {
	frame, err := dataset.ReadFile(path, dataset.ReadOptions{})
	if err != nil {
		return features.Contact{}, fmt.Errorf("rules test: %w", err)
	}
	if frame.Column(idColumn) == nil {
		return features.Contact{}, usageError{fmt.Errorf("rules test: %s has no column %q (set --id)", path, idColumn)}
	}
	i, ok := frame.Find(idColumn, id)
	if !ok {
		return features.Contact{}, fmt.Errorf("rules test: %s has no contact with %s %q", path, idColumn, id)
	}
	return frame.Contact(i, idColumn), nil
}
