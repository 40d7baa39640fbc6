package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/report"
)

type importFlags struct {
	in, out string
	columns []string
	kinds   map[string]string
}

func newImportCmd(stdout, _ io.Writer) *cobra.Command {
	var fl importFlags
	cmd := &cobra.Command{
		Use:   "import --in FILE --out FILE",
		Short: "Convert a contacts file between CSV and Parquet, inferring column kinds",
		Long: `Convert a contacts file between CSV and Parquet, inferring column kinds.

The formats follow the extensions (.parquet; .csv, .tsv or .txt). A CSV delimiter (comma,
semicolon or tab) is detected; each column becomes a category, number, flag (true/false,
yes/no) or time (RFC 3339 or 2006-01-02), and NA, null, NaN, None and empty fields are missing.
Use --kind to keep, for example, a numeric identifier as a category.`,
		Args: noArgs("import"),
		RunE: func(*cobra.Command, []string) error { return runImport(fl, stdout) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.in, "in", "", "file to read: .parquet, .csv, .tsv or .txt (required)")
	f.StringVar(&fl.out, "out", "", "file to write: .parquet, .csv or .tsv (required)")
	f.StringSliceVar(&fl.columns, "columns", nil, "only these columns (default: all)")
	f.StringToStringVar(&fl.kinds, "kind", nil, "force column kinds, e.g. --kind zip=category,score=number")
	return cmd
}

func runImport(fl importFlags, stdout io.Writer) error {
	switch {
	case fl.in == "":
		return usageError{errors.New("import: --in is required")}
	case fl.out == "":
		return usageError{errors.New("import: --out is required")}
	}
	kinds, err := features.ParseKinds(fl.kinds)
	if err != nil {
		return usageError{fmt.Errorf("import: --kind: %w", err)}
	}
	opts := dataset.ReadOptions{Columns: fl.columns, Kinds: kinds}
	f, err := dataset.ReadFile(fl.in, opts)
	if err != nil {
		return err
	}
	if err := dataset.WriteFile(fl.out, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d rows, %d columns\n", fl.out, f.Len(), len(f.Columns))
	return report.WriteColumns(stdout, f)
}
