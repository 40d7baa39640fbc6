package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/demo"
	"github.com/leadscore/leadscore/store"
)

func newDemoCmd(stdout, stderr io.Writer) *cobra.Command {
	cfg := demo.Config{Version: version}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run everything end to end on generated contacts: rates, train, serve, predict, compare",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := demo.Run(cmd.Context(), cfg, stdout, stderr)
			if errors.Is(err, store.ErrUnknownScheme) {
				return usageError{fmt.Errorf("--models: %w", err)}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "dir", filepath.Join("out", "demo"), "working directory for the demo's files")
	f.StringVar(&cfg.RulesFile, "rules", "", "manual rules file (default: the embedded testdata/rules.yaml, written to the demo directory)")
	f.IntVar(&cfg.Rows, "rows", 0, "contacts to generate instead of the embedded testdata/contacts.parquet")
	f.Uint64Var(&cfg.Seed, "seed", 1, "generator seed (with --rows) and split seed")
	f.StringVar(&cfg.Models, "models", "", "publish into this store instead of a fresh DIR/models (a directory or a URL, as every --models takes; not emptied first)")
	return cmd
}
