package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/models"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train/report"
)

func newModelsCmd(stdout, stderr io.Writer) *cobra.Command {
	var root string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List, show, promote and roll back model versions in a store",
	}
	logFormat, logLevel := "text", "info"
	cmd.PersistentFlags().StringVar(&root, "models", "", modelsFlagHelp)
	cmd.PersistentFlags().BoolVar(&jsonOut, "json", false, "print JSON")
	cmd.PersistentFlags().StringVar(&logFormat, "log-format", logFormat, "format of the log line promote and rollback write to stderr: text or json")
	cmd.PersistentFlags().StringVar(&logLevel, "log-level", logLevel, "log level: debug, info, warn or error")
	open := func(cmd *cobra.Command, opts store.Options) (*store.Store, error) {
		if root == "" {
			return nil, usageError{errors.New("models: --models is required")}
		}
		return openStore(cmd.Context(), root, opts)
	}
	// openLogged is open with a logger, so that a label change leaves a log line, as the server's
	// changes do.
	openLogged := func(cmd *cobra.Command) (*store.Store, error) {
		log, err := serve.NewLogger(stderr, logFormat, logLevel)
		var ce *serve.ConfigError
		if errors.As(err, &ce) {
			return nil, usageError{fmt.Errorf("models %s: --%s %s", cmd.Name(), strings.Join(ce.Options, ", --"), ce.Problem)}
		}
		return open(cmd, store.Options{Logger: log})
	}

	list := &cobra.Command{
		Use:   "list [NAME]",
		Short: "List models, or the versions of one model with their status and holdout AUC",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd, store.Options{})
			if err != nil {
				return err
			}
			defer s.Close()
			rows, err := report.Versions(cmd.Context(), s, args)
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(stdout, rows)
			}
			return report.WriteVersions(stdout, rows)
		},
	}
	show := &cobra.Command{
		Use:   "show NAME [VERSION]",
		Short: "Show one version (default: the serving one): metrics, audit, provenance",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			v := 0
			if len(args) == 2 {
				var err error
				if v, err = versionArg("models show", args[1]); err != nil {
					return err
				}
			}
			a, err := loadModel(root, args[0], v, "")
			if err != nil {
				return err
			}
			if jsonOut {
				// The artifact does not store its own number: it is the directory's name.
				return writeJSON(stdout, struct {
					Name    string `json:"name"`
					Version int    `json:"version"`
					*models.Artifact
				}{a.Name, a.Version, a})
			}
			return report.WriteModel(stdout, a)
		},
	}
	promote := &cobra.Command{
		Use:   "promote NAME VERSION [LABEL]",
		Short: "Point a label (default: stable) at a valid version",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openLogged(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := versionArg("models promote", args[1])
			if err != nil {
				return err
			}
			label := models.StableLabel
			if len(args) == 3 {
				label = args[2]
			}
			if err := s.SetLabel(cmd.Context(), args[0], label, v); err != nil {
				return err
			}
			return printLabelChange(stdout, jsonOut, args[0], label, v)
		},
	}
	rollback := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Point stable at the valid version before the one serving now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openLogged(cmd)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.Rollback(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printLabelChange(stdout, jsonOut, args[0], models.StableLabel, v)
		},
	}
	cmd.AddCommand(list, show, promote, rollback)
	return cmd
}

func printLabelChange(w io.Writer, jsonOut bool, name, label string, v int) error {
	if jsonOut {
		return writeJSON(w, map[string]any{"name": name, "label": label, "version": v})
	}
	fmt.Fprintf(w, "%s: %s -> version %d\n", name, label, v)
	return nil
}

// versionArg reads a version number argument of command cmd.
func versionArg(cmd, arg string) (int, error) {
	v, err := strconv.Atoi(arg)
	if err != nil || v <= 0 {
		return 0, usageError{fmt.Errorf("%s: version %q is not a positive integer", cmd, arg)}
	}
	return v, nil
}
