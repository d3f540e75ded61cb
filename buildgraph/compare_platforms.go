package buildgraph

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// hasPlatforms reports whether the comparison's rows are per target and
// platform (a build for several platforms).
func (c Comparison) hasPlatforms() bool {
	for _, r := range c.Results {
		if r.Platform != "" {
			return true
		}
	}
	return false
}

// rowName names a row in the notes under a table: "stage-1" or
// "stage-1 (linux/arm64)".
func (r TargetResult) rowName() string {
	if r.Platform == "" {
		return r.Label()
	}
	return r.Label() + " (" + r.Platform + ")"
}

// attestationLines say, per row, what the index holds besides the image:
// "stage-1 (linux/arm64): provenance attestation, 1.2kB (sha256:0123456789ab), not a platform".
func (c Comparison) attestationLines() []string {
	var out []string
	for _, r := range c.Results {
		for _, a := range r.Attestations {
			out = append(out, fmt.Sprintf("%s: %s attestation, %s (%s), not a platform", r.rowName(), a.Kind, HumanSize(a.Size), shortDigest(a.Digest)))
		}
	}
	return out
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// writePlatformTable is WriteTable with a PLATFORM column.
func (c Comparison) writePlatformTable(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	largest := c.Largest(MeasureUncompressed)
	fmt.Fprintln(tw, "TARGET\tPLATFORM\tUNCOMPRESSED\tCOMPRESSED\tLAYERS\tBUILD TIME\tCACHED\tVS LARGEST\tLAST TIME")
	for _, r := range c.Results {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\tfailed: %s\t%s\n", r.Target, r.Platform, FirstLine(r.Error), previous(r, now))
			continue
		}
		layers := "-"
		if r.Size != nil {
			layers = strconv.Itoa(nonEmpty(r.Size.Layers))
		}
		rel := Relative(r.size(MeasureUncompressed), largest)
		if r.OverBudget {
			rel += " (over budget " + HumanSize(r.Budget) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", r.Target, r.Platform,
			HumanSize(r.size(MeasureUncompressed)), HumanSize(r.size(MeasureCompressed)), layers,
			r.Duration.Round(100*time.Millisecond), r.StepsCached, r.StepsTotal, rel, previous(r, now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := append(c.leftBehindLines(), c.attestationLines()...)
	if len(lines) > 0 {
		_, err := io.WriteString(w, "\n"+strings.Join(lines, "\n")+"\n")
		return err
	}
	return nil
}

// writePlatformMarkdown is WriteMarkdown with a Platform column.
func (c Comparison) writePlatformMarkdown(w io.Writer, now time.Time) error {
	largest := c.Largest(MeasureUncompressed)
	var b strings.Builder
	fmt.Fprintf(&b, "| Target | Platform | Uncompressed | Compressed | Layers | Build time | Cached | vs largest | Last time |\n")
	fmt.Fprintf(&b, "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |\n")
	for _, r := range c.Results {
		if r.Error != "" {
			fmt.Fprintf(&b, "| `%s` | %s | - | - | - | - | - | failed: %s | %s |\n", mdEscape(r.Target), mdEscape(r.Platform), mdEscape(FirstLine(r.Error)), mdEscape(previous(r, now)))
			continue
		}
		layers := "-"
		if r.Size != nil {
			layers = strconv.Itoa(nonEmpty(r.Size.Layers))
		}
		rel := Relative(r.size(MeasureUncompressed), largest)
		if r.OverBudget {
			rel += " **over budget " + HumanSize(r.Budget) + "**"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %d/%d | %s | %s |\n", mdEscape(r.Target), mdEscape(r.Platform),
			HumanSize(r.size(MeasureUncompressed)), HumanSize(r.size(MeasureCompressed)), layers,
			r.Duration.Round(100*time.Millisecond), r.StepsCached, r.StepsTotal, rel, mdEscape(previous(r, now)))
	}
	lines := append(c.leftBehindLines(), c.attestationLines()...)
	if len(lines) > 0 {
		b.WriteString("\n")
		for _, l := range lines {
			b.WriteString("- " + mdEscape(l) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
