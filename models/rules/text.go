package rules

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary writes the rules for people under title (the file's path, say): counts, stages and
// limits, then tables of the groups with their cut points, the exclusions and the rules, then the
// properties they read.
func (r *Rules) WriteSummary(w io.Writer, title string) error {
	if r.Name != "" {
		title += ": " + r.Name
	}
	fmt.Fprintln(w, title)
	fmt.Fprintf(w, "%d rules, %d exclusions, %d groups; the rules read %d properties\n",
		len(r.Rules), len(r.Exclusions), len(r.Groups), len(r.Properties()))
	fmt.Fprintf(w, "stages: MQL from %s points, SQL from %s; total limit: %s\n",
		num(r.Stages.MQL), num(r.Stages.SQL), limit(r.TotalLimit))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(r.Groups) > 0 {
		fmt.Fprintln(tw, "\nGROUP\tLIMIT\tCUT POINTS")
		for _, g := range r.Groups {
			var cuts string
			if g.Grades != nil {
				cuts = fmt.Sprintf("grade C from %s, B from %s, A from %s (else D)", num(g.Grades[0]), num(g.Grades[1]), num(g.Grades[2]))
			}
			if g.Levels != nil {
				if cuts != "" {
					cuts += "; "
				}
				cuts += fmt.Sprintf("level 3 from %s, 2 from %s, 1 from %s (else 4)", num(g.Levels[0]), num(g.Levels[1]), num(g.Levels[2]))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Name, limit(g.Limit), cuts)
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
		points := signed(rule.Points)
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

// WriteResult writes res, the result of r.Score, for people: every rule, hit or miss, with its points
// and why, then the group totals (and what a limit took off), total, stage, fit grade and engagement
// level, like HubSpot's test contact.
func (r *Rules) WriteResult(w io.Writer, res Result) error {
	fmt.Fprintf(w, "scored at %s\n\n", res.At.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tGROUP\tHIT\tPOINTS\tDETAIL")
	raw := map[string]float64{}
	for _, h := range res.Hits {
		hit, group, points := "no", h.Group, signed(h.Points)
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
		line := fmt.Sprintf("%s: %s", g.Name, num(res.Groups[g.Name]))
		if raw[g.Name] != res.Groups[g.Name] {
			line += fmt.Sprintf(" (%s before the group limit of %s)", num(raw[g.Name]), num(g.Limit))
		}
		fmt.Fprintln(w, line)
	}
	var beforeLimit float64
	for _, v := range res.Groups {
		beforeLimit += v
	}
	beforeLimit += raw[""]
	line := "total: " + num(res.Total)
	if beforeLimit != res.Total {
		line += fmt.Sprintf(" (%s before the total limit of %s)", num(beforeLimit), num(r.TotalLimit))
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

// limit formats a group's or the total's limit: its points, or "none" when the file sets none.
func limit(f float64) string {
	if math.IsInf(f, 1) {
		return "none"
	}
	return num(f)
}
