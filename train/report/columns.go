package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/leadscore/leadscore/features"
)

// WriteColumns writes the columns of f as a table for people: name, kind and how many values are missing.
func WriteColumns(w io.Writer, f *features.Frame) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "column\tkind\tmissing")
	for _, c := range f.Columns {
		missing := 0
		for _, ok := range c.Valid {
			if !ok {
				missing++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Name, c.Kind, missing)
	}
	return tw.Flush()
}
