// Command leadscore learns, serves and judges predictive lead scores. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leadscore:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError marks a mistake in the command line (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// run executes one leadscore command line; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// commands lists the subcommand constructors; each lives in its own cmd_*.go file.
var commands = []func(stdout, stderr io.Writer) *cobra.Command{newServeCmd, newPredictCmd, newGenerateCmd, newRatesCmd, newImportCmd, newTrainCmd, newScoreCmd, newModelsCmd, newRulesCmd, newDemoCmd, newCompareCmd}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "leadscore",
		Short:         "Predictive lead scoring: learn from closed deals, serve scores over gRPC, compare with manual points",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, newCmd := range commands {
		root.AddCommand(newCmd(stdout, stderr))
	}
	return root
}
