package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/synth"
)

type generateFlags struct {
	rows      int
	seed      uint64
	out       string
	withTruth bool
	openShare float64
	// Shapes of real exports (issue 10).
	outcomesOut  string
	encoding     string
	placeholders float64
	ills         synth.Pathologies
}

func newGenerateCmd(stdout, _ io.Writer) *cobra.Command {
	var fl generateFlags
	cmd := &cobra.Command{
		Use:   "generate --out FILE [--rows N] [--seed S]",
		Short: "Write synthetic contacts whose outcomes follow a known model",
		Long: `Write synthetic contacts whose outcomes follow a known model.

The contacts have fit properties (industry, employees, revenue, job title, e-mail), engagement counts
(visits, page views, forms, e-mails) and an outcome column deal_stage: closedwon, closedlost or open.
Closed contacts are won with a documented probability (train/synth/TRUTH.md); --with-truth adds it as
the column true_probability. lifecycle_stage and close_date leak the outcome on purpose, for leakage
audits to catch. The same --seed gives the same file.

Options reproduce what misleads a naive training on real CRM exports (the base columns stay the same):
--trend rises the conversion rate with creation date (recent contacts also still open), --sequence adds
a unique sequential opportunity_number, --won-only adds deal_amount filled in only for won deals, and
--status-tags adds a tags column whose values state the outcome.`,
		Args: noArgs("generate"),
		RunE: func(*cobra.Command, []string) error { return runGenerate(fl, stdout) },
	}
	f := cmd.Flags()
	f.IntVar(&fl.rows, "rows", synth.DefaultRows, "number of contacts")
	f.Uint64Var(&fl.seed, "seed", 1, "random seed; the same seed gives the same contacts")
	f.StringVarP(&fl.out, "out", "o", "", "output file: .parquet, .csv or .tsv (required)")
	f.BoolVar(&fl.withTruth, "with-truth", false, "add the column true_probability")
	f.Float64Var(&fl.openShare, "open-share", synth.DefaultOpenShare, "share of contacts whose deal is still open, 0 to 1")
	f.StringVar(&fl.outcomesOut, "outcomes-out", "", "write the won deals apart to this file (contact_id, deal_amount, deal_owner, close_date) and leave the outcome out of --out")
	f.StringVar(&fl.encoding, "encoding", "", "write a CSV --out in this encoding (windows-1252/latin1) with a city column outside ASCII")
	f.Float64Var(&fl.placeholders, "placeholders", 0, "share of category values replaced by form placeholders (Select, none, -, unknown) and of numbers by NaN or Inf, 0 to 1")
	f.Float64Var(&fl.ills.Trend, "trend", 0, "raise the latent intent by this many standard deviations from the oldest contact to the newest")
	f.BoolVar(&fl.ills.Sequence, "sequence", false, "add opportunity_number, a unique number rising with creation date")
	f.BoolVar(&fl.ills.WonOnly, "won-only", false, "add deal_amount, filled in only for won deals")
	f.BoolVar(&fl.ills.StatusTags, "status-tags", false, "add tags, a status tag whose values state the outcome")
	return cmd
}

func runGenerate(fl generateFlags, stdout io.Writer) error {
	switch {
	case fl.out == "":
		return usageError{errors.New("generate: --out is required")}
	case fl.rows < 1:
		return usageError{fmt.Errorf("generate: --rows must be at least 1, got %d", fl.rows)}
	case !(fl.openShare >= 0 && fl.openShare <= 1):
		return usageError{fmt.Errorf("generate: --open-share must be within [0, 1], got %g", fl.openShare)}
	}
	share := fl.openShare
	if share == 0 {
		share = -1 // synth reads 0 as the default and any negative share as none
	}
	if ext := strings.ToLower(filepath.Ext(fl.out)); fl.encoding != "" && ext != ".csv" && ext != ".tsv" && ext != ".txt" {
		return usageError{fmt.Errorf("generate: --encoding writes text: give a .csv --out, not %s", fl.out)}
	}
	if !(fl.placeholders >= 0 && fl.placeholders <= 1) {
		return usageError{fmt.Errorf("generate: --placeholders must be within [0, 1], got %g", fl.placeholders)}
	}
	c, err := synth.WriteExport(synth.Export{
		Config: synth.Config{Rows: fl.rows, Seed: fl.seed, OpenShare: share, WithTruth: fl.withTruth, Pathologies: fl.ills},
		Out:    fl.out, OutcomesOut: fl.outcomesOut, Encoding: fl.encoding, Placeholders: fl.placeholders,
	})
	if errors.Is(err, dataset.ErrFormat) {
		return usageError{err}
	} else if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %d contacts to %s: %s\n", c.Rows, fl.out, c)
	return err
}
