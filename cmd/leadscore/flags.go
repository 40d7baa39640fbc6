package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/spf13/cobra"
)

// timeFlag reads the RFC 3339 time of flag (of command cmd); "" is the zero time, which every scorer
// reads as now (models.AsOf).
func timeFlag(cmd, flag, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("%s: --%s: want an RFC 3339 time such as 2026-01-02T00:00:00Z: %w", cmd, flag, err)}
	}
	return t, nil
}

// contactFlag reads the contact a --contact value gives: a JSON object, "-" for stdin, "@FILE" for
// a file (see features.ContactFromJSON).
func contactFlag(cmd, value string, stdin io.Reader) (features.Contact, error) {
	raw, err := []byte(value), error(nil)
	switch {
	case value == "-":
		raw, err = io.ReadAll(stdin)
	case strings.HasPrefix(value, "@"):
		raw, err = os.ReadFile(value[1:])
	}
	if err != nil {
		return features.Contact{}, fmt.Errorf("%s: reading the contact: %w", cmd, err)
	}
	c, err := features.ContactFromJSON(raw)
	if err != nil {
		return features.Contact{}, usageError{fmt.Errorf("%s: --contact: %w", cmd, err)}
	}
	return c, nil
}

// noArgs refuses positional arguments as a usage error of command name.
func noArgs(name string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("%s: unexpected argument %q", name, args[0])}
		}
		return nil
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
