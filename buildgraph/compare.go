package buildgraph

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// TargetResult is one built target of a comparison.
type TargetResult struct {
	// File is the Dockerfile of the target and Name what the comparison
	// calls it (the example's folder name, or the path): set only when a
	// comparison holds the targets of several Dockerfiles.
	File   string `json:"file,omitempty"`
	Name   string `json:"name,omitempty"`
	Target string `json:"target"`
	// Platform is the image's platform in a build for several
	// (compare_platforms.go); "" for a build for one.
	Platform string `json:"platform,omitempty"`
	// Node is the buildx builder's node that built the target, when the
	// targets of a comparison were built on several nodes (bake targets
	// of different platforms); "" otherwise.
	Node     string        `json:"node,omitempty"`
	Image    string        `json:"image,omitempty"`
	Size     *ImageSize    `json:"size,omitempty"`
	Duration time.Duration `json:"durationNs"`
	// StepsCached of StepsTotal steps came from the build cache.
	StepsCached int        `json:"stepsCached"`
	StepsTotal  int        `json:"stepsTotal"`
	Breakdown   *Breakdown `json:"breakdown,omitempty"`
	// Previous is the last saved measurement of the same target, if any:
	// in a platform row (Platform set), of that platform's image.
	Previous *SavedSize `json:"previous,omitempty"`
	// PlatformPrevious is, in the result of a build for several platforms
	// (before it is split into platform rows), the last saved measurement
	// of each platform's image, by platform: each platform row's Previous.
	// It is not part of the JSON, whose rows carry their own previous.
	PlatformPrevious map[string]SavedSize `json:"-"`
	// Error is set when the target failed to build or to be measured.
	Error string `json:"error,omitempty"`
	// Budget is the size limit given for the target (0: none) and
	// OverBudget whether the measured size exceeds it.
	Budget     int64 `json:"budget,omitempty"`
	OverBudget bool  `json:"overBudget,omitempty"`
	// Attestations are the index's attestation manifests of this
	// platform's image (provenance, SBOM): never a platform of their own.
	Attestations []Attestation `json:"attestations,omitempty"`
}

// SavedKey is the key of a target's SavedSize: engines measure differently
// (content store or image store), so results are kept by engine kind too.
func SavedKey(engineKind, target string) string { return engineKind + "/" + target }

// BakeSavedKey is the key of the saved size of a bake target's build:
// bake targets of one Dockerfile and stage (with different arguments, a
// matrix) each have their own. Stage names hold no ":".
func BakeSavedKey(engineKind, bakeTarget string) string {
	return SavedKey(engineKind, "bake:"+bakeTarget)
}

// DefaultSavedKey is the key of the saved size of a Dockerfile's default
// target, its last stage when that has no name: BuildKit calls it
// "stage-N", and N changes when a stage is added above it, so its saved
// results are also kept under this key, which survives the renumbering.
func DefaultSavedKey(engineKind string) string { return SavedKey(engineKind, "") }

// PlatformSavedKey is the key of the saved size of one platform's image
// in the builds saved under key (SavedKey, BakeSavedKey, DefaultSavedKey):
// that platform's image in the index of a build for several platforms, or
// the image of a build for that platform alone. platform is normalized
// (NormalizePlatform); "" gives key itself. Neither stage nor bake target
// names hold an "@".
func PlatformSavedKey(key, platform string) string {
	if platform == "" {
		return key
	}
	return key + "@" + platform
}

// NumberedStage reports whether a target's name is BuildKit's name for a
// stage without one ("stage-2"): a built target of that name was the
// Dockerfile's last stage, the only unnamed stage that can be built.
func NumberedStage(name string) bool {
	n, ok := strings.CutPrefix(strings.ToLower(name), "stage-")
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// LookupSaved finds the saved size of target, a stage of g, for an engine
// kind: the unnamed last stage by DefaultSavedKey, then, as for every other
// target (and for records kept before that key), by SavedKey.
func LookupSaved(saved map[string]SavedSize, engineKind string, g *Graph, target string) (SavedSize, bool) {
	return LookupSavedOn(saved, engineKind, g, target, "")
}

// LookupSavedOn is LookupSaved for the image of one platform, normalized
// (PlatformSavedKey); "" is LookupSaved.
func LookupSavedOn(saved map[string]SavedSize, engineKind string, g *Graph, target, platform string) (SavedSize, bool) {
	if g != nil && len(g.Stages) > 0 {
		if last := g.Stages[len(g.Stages)-1]; !last.Named && strings.EqualFold(last.Name, target) {
			if s, ok := saved[PlatformSavedKey(DefaultSavedKey(engineKind), platform)]; ok {
				return s, true
			}
		}
	}
	s, ok := saved[PlatformSavedKey(SavedKey(engineKind, target), platform)]
	return s, ok
}

// SavedSize is a measurement kept between runs.
type SavedSize struct {
	Uncompressed int64     `json:"uncompressed"`
	Compressed   int64     `json:"compressed"`
	At           time.Time `json:"at"`
	Engine       string    `json:"engine,omitempty"`
}

// Comparison is the sizes of several targets of one Dockerfile, or of
// several Dockerfiles (Files, and each result's File and Name, are set
// then; File is the first of them).
type Comparison struct {
	File    string         `json:"file"`
	Files   []string       `json:"files,omitempty"`
	Engine  string         `json:"engine,omitempty"`
	Results []TargetResult `json:"results"`
}

// Label is how a comparison names a target: NAME:TARGET when it holds
// several Dockerfiles, else the target alone.
func (r TargetResult) Label() string {
	if r.Name == "" {
		return r.Target
	}
	return r.Name + ":" + r.Target
}

// several reports whether the comparison holds several Dockerfiles.
func (c Comparison) several() bool {
	for _, r := range c.Results {
		if r.Name != "" {
			return true
		}
	}
	return false
}

// Measure is which size a comparison ranks by.
type Measure string

const (
	MeasureUncompressed Measure = "uncompressed"
	MeasureCompressed   Measure = "compressed"
)

func (r TargetResult) size(m Measure) int64 {
	if r.Size == nil {
		return Unknown
	}
	if m == MeasureCompressed {
		return r.Size.Compressed
	}
	return r.Size.Uncompressed
}

// Largest returns the largest known size by m, or Unknown.
func (c Comparison) Largest(m Measure) int64 {
	largest := Unknown
	for _, r := range c.Results {
		largest = max(largest, r.size(m))
	}
	return largest
}

// ApplyBudgets sets Budget and OverBudget from limits by target name (or
// NAME:TARGET, which goes first, for a target of one of several
// Dockerfiles; a bare target name then applies to that target of every
// Dockerfile), on the uncompressed size (what `docker image ls` shows) and
// returns the targets over their budget.
func (c *Comparison) ApplyBudgets(limits map[string]int64) []TargetResult {
	var over []TargetResult
	for i := range c.Results {
		r := &c.Results[i]
		limit, ok := limits[r.Label()]
		if !ok {
			limit, ok = limits[r.Target]
		}
		if !ok {
			continue
		}
		r.Budget = limit
		if s := r.size(MeasureUncompressed); s > limit {
			r.OverBudget = true
			over = append(over, *r)
		}
	}
	return over
}

// Relative describes size against largest: "98.2% smaller, 55× less",
// "largest", or "" when either is unknown.
func Relative(size, largest int64) string {
	switch {
	case size < 0 || largest <= 0:
		return ""
	case size == largest:
		return "largest"
	case size == 0:
		return "100% smaller"
	}
	pct := 100 * (1 - float64(size)/float64(largest))
	ratio := float64(largest) / float64(size)
	r := strconv.FormatFloat(ratio, 'f', 1, 64)
	if ratio >= 10 {
		r = strconv.FormatFloat(math.Round(ratio), 'f', 0, 64)
	}
	return fmt.Sprintf("%.1f%% smaller, %s× less", pct, r)
}

// HumanSize formats bytes in decimal units as `docker image ls` does
// ("1.43MB", "274MB"); "-" when unknown.
func HumanSize(n int64) string {
	if n < 0 {
		return "-"
	}
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", n)
	}
	return strconv.FormatFloat(f, 'g', 3, 64) + units[i]
}

// ParseSize reads a size such as "3MB", "1.5 GiB", "500kB" or "2048": KB,
// MB and GB are powers of 1000, KiB, MiB and GiB powers of 1024, no unit
// means bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || v < 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid size %q: want a number and a unit such as 3MB or 1.5GiB", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[strings.ToLower(unit)]
	if mult == 0 {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KB, MB, GB, KiB, MiB or GiB)", s, unit)
	}
	n := v * mult
	if n > math.MaxInt64/2 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(math.Round(n)), nil
}

// leftBehindLines says, per target, which stages its build ran that its
// image leaves behind: "stage-1 leaves behind builder (270MB)".
func (c Comparison) leftBehindLines() []string {
	var out []string
	for _, r := range c.Results {
		if r.Breakdown == nil || len(r.Breakdown.LeftBehind) == 0 {
			continue
		}
		var parts []string
		for _, lb := range r.Breakdown.LeftBehind {
			p := lb.Source
			if lb.Bytes >= 0 {
				p += " (" + HumanSize(lb.Bytes) + ")"
			}
			parts = append(parts, p)
		}
		out = append(out, r.rowName()+" leaves behind "+strings.Join(parts, ", "))
	}
	return out
}

// WriteTable writes the comparison as an aligned table for terminals: a
// FILE column when it holds several Dockerfiles, a PLATFORM column when a
// build was for several platforms.
func (c Comparison) WriteTable(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	several, platforms := c.several(), c.hasPlatforms()
	largest := c.Largest(MeasureUncompressed)
	head := []string{"TARGET", "UNCOMPRESSED", "COMPRESSED", "LAYERS", "BUILD TIME", "CACHED", "VS LARGEST", "LAST TIME"}
	if platforms {
		head = slices.Insert(head, 1, "PLATFORM")
	}
	if several {
		head = slices.Insert(head, 0, "FILE")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range c.Results {
		var row []string
		if several {
			row = append(row, r.Name)
		}
		row = append(row, r.Target)
		if platforms {
			row = append(row, r.Platform)
		}
		if r.Error != "" {
			row = append(row, "-", "-", "-", "-", "-", "failed: "+FirstLine(r.Error), previous(r, now))
		} else {
			rel := Relative(r.size(MeasureUncompressed), largest)
			if r.OverBudget {
				rel += " (over budget " + HumanSize(r.Budget) + ")"
			}
			row = append(row, r.cells(rel, now)...)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if lines := c.notes(); len(lines) > 0 {
		_, err := io.WriteString(w, "\n"+strings.Join(lines, "\n")+"\n")
		return err
	}
	return nil
}

// WriteMarkdown writes the comparison as a GitHub table, for pull
// requests, with the columns of WriteTable.
func (c Comparison) WriteMarkdown(w io.Writer, now time.Time) error {
	several, platforms := c.several(), c.hasPlatforms()
	largest := c.Largest(MeasureUncompressed)
	head := []string{"Target", "Uncompressed", "Compressed", "Layers", "Build time", "Cached", "vs largest", "Last time"}
	align := []string{"---", "---:", "---:", "---:", "---:", "---:", "---", "---"}
	if platforms {
		head, align = slices.Insert(head, 1, "Platform"), slices.Insert(align, 1, "---")
	}
	if several {
		head, align = slices.Insert(head, 0, "File"), slices.Insert(align, 0, "---")
	}
	var b strings.Builder
	mdRow := func(cells []string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
	mdRow(head)
	mdRow(align)
	for _, r := range c.Results {
		var row []string
		if several {
			row = append(row, "`"+mdEscape(r.Name)+"`")
		}
		row = append(row, "`"+mdEscape(r.Target)+"`")
		if platforms {
			row = append(row, mdEscape(r.Platform))
		}
		if r.Error != "" {
			row = append(row, "-", "-", "-", "-", "-", "failed: "+mdEscape(FirstLine(r.Error)), mdEscape(previous(r, now)))
		} else {
			rel := Relative(r.size(MeasureUncompressed), largest)
			if r.OverBudget {
				rel += " **over budget " + HumanSize(r.Budget) + "**"
			}
			cells := r.cells(rel, now)
			cells[len(cells)-1] = mdEscape(cells[len(cells)-1])
			row = append(row, cells...)
		}
		mdRow(row)
	}
	if lines := c.notes(); len(lines) > 0 {
		b.WriteString("\n")
		for _, l := range lines {
			b.WriteString("- " + mdEscape(l) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cells are a measured result's cells after its name: sizes, layers, build
// time, cached steps, rel (its difference to the largest) and last time.
func (r TargetResult) cells(rel string, now time.Time) []string {
	layers := "-"
	if r.Size != nil {
		layers = strconv.Itoa(nonEmpty(r.Size.Layers))
	}
	return []string{
		HumanSize(r.size(MeasureUncompressed)), HumanSize(r.size(MeasureCompressed)), layers,
		r.Duration.Round(100 * time.Millisecond).String(), fmt.Sprintf("%d/%d", r.StepsCached, r.StepsTotal), rel, previous(r, now),
	}
}

// notes are the lines under a table: what targets leave behind, and what
// an image index holds besides the images.
func (c Comparison) notes() []string {
	return append(c.leftBehindLines(), c.attestationLines()...)
}

// WriteJSON writes the comparison with its schema version (docs/compare-json.md).
func (c Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		SchemaVersion int `json:"schemaVersion"`
		Comparison
	}{1, c})
}

func nonEmpty(ls []Layer) int {
	n := 0
	for _, l := range ls {
		if !l.Empty {
			n++
		}
	}
	return n
}

func previous(r TargetResult, now time.Time) string {
	if r.Previous == nil {
		return ""
	}
	s := HumanSize(r.Previous.Uncompressed) + ", " + Ago(now.Sub(r.Previous.At))
	if cur := r.size(MeasureUncompressed); cur >= 0 && r.Previous.Uncompressed >= 0 && cur != r.Previous.Uncompressed {
		d := cur - r.Previous.Uncompressed
		sign := "+"
		if d < 0 {
			sign, d = "-", -d
		}
		s += " (" + sign + HumanSize(d) + ")"
	}
	return s
}

// Ago says how long ago in words: "just now", "5 minutes ago", "2 days ago".
func Ago(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return strconv.Itoa(n) + " " + unit + "s ago"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(int(d/(24*time.Hour)), "day")
	}
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
