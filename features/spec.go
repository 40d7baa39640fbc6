package features

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"
)

// The groups a used column belongs to, as HubSpot and Dynamics split a lead score.
const (
	GroupFit        = "fit"        // who the contact is: company, role, industry, country, ...
	GroupEngagement = "engagement" // what the contact did: visits, opens, clicks, forms, recency, ...
)

// ErrSpec marks an invalid feature spec; the error's text names the column and field.
var ErrSpec = errors.New("features: invalid spec")

// Spec says which columns of a dataset become features and how. InferSpec proposes one; users edit
// it as a YAML file (WriteYAML, ReadSpec).
type Spec struct {
	// Label is the outcome column. It is never a feature.
	Label string `yaml:"label" json:"label"`
	// ReferenceTime is the "now" that recency features count days back from when no other time is
	// given (the encoder's asOf). InferSpec sets it to the latest timestamp in the data's used time
	// columns, so that training rows and scoring on the same data agree.
	ReferenceTime time.Time `yaml:"reference_time,omitempty" json:"reference_time"`
	// Columns lists every column of the dataset, used or not, in file order.
	Columns []ColumnSpec `yaml:"columns" json:"columns"`
}

// ColumnSpec is one column of a Spec.
type ColumnSpec struct {
	Name string `yaml:"name" json:"name"`
	// Kind is how values are read: category, number, flag or time.
	Kind Kind `yaml:"kind" json:"kind"`
	// Group is GroupFit or GroupEngagement; required when Use is true.
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
	// Use is false for an excluded column; Reason then says why.
	Use    bool   `yaml:"use" json:"use"`
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
	// Derive, when set, replaces the raw column by a derived feature: DeriveEmailDomain or
	// DeriveTitleSeniority for a category column, DeriveRecency for a time column. A used time column
	// is always encoded as recency, so for it "" means DeriveRecency.
	Derive string `yaml:"derive,omitempty" json:"derive,omitempty"`
	// Suspect marks a column whose name suggests it is recorded because of the outcome (stage,
	// status, won, closed, customer, ...). InferSpec does not exclude it; the leakage audit decides.
	Suspect bool `yaml:"suspect,omitempty" json:"suspect,omitempty"`
}

// Column returns the spec of the column named name, or nil.
func (s *Spec) Column(name string) *ColumnSpec {
	for i := range s.Columns {
		if s.Columns[i].Name == name {
			return &s.Columns[i]
		}
	}
	return nil
}

// IDColumn returns the column of f that identifies contacts: the first column the spec excluded as an
// identifier that f has, else a column of f named "id", else "" (no identifier: rows go by number).
func (s *Spec) IDColumn(f *Frame) string {
	for _, c := range s.Columns {
		if !c.Use && strings.HasPrefix(c.Reason, ReasonIdentifier) && f.Column(c.Name) != nil {
			return c.Name
		}
	}
	if f.Column("id") != nil {
		return "id"
	}
	return ""
}

// Used returns the names of the used columns in spec order.
func (s *Spec) Used() []string {
	var names []string
	for _, c := range s.Columns {
		if c.Use {
			names = append(names, c.Name)
		}
	}
	return names
}

// Validate checks the spec: a label, unique column names, known kinds, groups and derivations that
// fit the kind, the label column not used, and a reference time when a time column is used. Errors
// wrap ErrSpec.
func (s *Spec) Validate() error {
	if s.Label == "" {
		return fmt.Errorf("%w: label is empty", ErrSpec)
	}
	seen := make(map[string]bool, len(s.Columns))
	for _, c := range s.Columns {
		if c.Name == "" {
			return fmt.Errorf("%w: a column has no name", ErrSpec)
		}
		if seen[c.Name] {
			return fmt.Errorf("%w: column %q: listed twice", ErrSpec, c.Name)
		}
		seen[c.Name] = true
		if c.Kind == KindNone || c.Kind > KindTime {
			return fmt.Errorf("%w: column %q: kind: %q is not category, number, flag or time", ErrSpec, c.Name, c.Kind)
		}
		if c.Group != "" && c.Group != GroupFit && c.Group != GroupEngagement {
			return fmt.Errorf("%w: column %q: group: %q is not %s or %s", ErrSpec, c.Name, c.Group, GroupFit, GroupEngagement)
		}
		switch c.Derive {
		case "":
		case DeriveEmailDomain, DeriveTitleSeniority:
			if c.Kind != KindCategory {
				return fmt.Errorf("%w: column %q: derive: %s needs a category column, not %s", ErrSpec, c.Name, c.Derive, c.Kind)
			}
		case DeriveRecency:
			if c.Kind != KindTime {
				return fmt.Errorf("%w: column %q: derive: %s needs a time column, not %s", ErrSpec, c.Name, c.Derive, c.Kind)
			}
		default:
			return fmt.Errorf("%w: column %q: derive: %q is not %s, %s or %s", ErrSpec, c.Name, c.Derive,
				DeriveEmailDomain, DeriveTitleSeniority, DeriveRecency)
		}
		if !c.Use {
			continue
		}
		if c.Name == s.Label {
			return fmt.Errorf("%w: column %q: use: the label column cannot be a feature", ErrSpec, c.Name)
		}
		if c.Group == "" {
			return fmt.Errorf("%w: column %q: group: empty; want %s or %s", ErrSpec, c.Name, GroupFit, GroupEngagement)
		}
		if c.Kind == KindTime && s.ReferenceTime.IsZero() {
			return fmt.Errorf("%w: column %q: reference_time: needed by a used time column", ErrSpec, c.Name)
		}
	}
	return nil
}

const specHeader = `# leadscore feature spec: one entry per column of the data.
#   kind:   category | number | flag | time
#   group:  fit (who they are) | engagement (what they did)
#   use:    false excludes the column; reason says why
#   derive: email_domain (free-mail/company/education/invalid) | title_seniority | recency (time columns)
#   suspect: the name suggests the column is recorded because of the outcome; the leakage audit checks it
# reference_time is the "now" of recency features.
`

// WriteYAML writes s as the YAML file ReadSpec reads, with a comment header explaining the fields.
func (s *Spec) WriteYAML(w io.Writer) error {
	if _, err := io.WriteString(w, specHeader); err != nil {
		return fmt.Errorf("features: write spec: %w", err)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("features: write spec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("features: write spec: %w", err)
	}
	return nil
}

// specFile is the YAML shape of a Spec; kinds are read as strings so that a bad one is reported with
// its column.
type specFile struct {
	Label         string       `yaml:"label"`
	ReferenceTime time.Time    `yaml:"reference_time"`
	Columns       []columnFile `yaml:"columns"`
}

type columnFile struct {
	Name    string `yaml:"name"`
	Kind    string `yaml:"kind"`
	Group   string `yaml:"group"`
	Use     bool   `yaml:"use"`
	Reason  string `yaml:"reason"`
	Derive  string `yaml:"derive"`
	Suspect bool   `yaml:"suspect"`
}

// ReadSpecFile reads the spec file at path (see ReadSpec); a parse error names the file.
func ReadSpecFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	spec, err := ReadSpec(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return spec, nil
}

// ReadSpec reads a spec written by WriteYAML (or by hand) and validates it. Unknown fields are errors
// that name the field and its line; invalid values name the column and field. All errors wrap ErrSpec.
func ReadSpec(r io.Reader) (*Spec, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f specFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty file", ErrSpec)
		}
		return nil, fmt.Errorf("%w: %v", ErrSpec, err)
	}
	s := &Spec{Label: f.Label, ReferenceTime: f.ReferenceTime, Columns: make([]ColumnSpec, len(f.Columns))}
	for i, c := range f.Columns {
		k, err := ParseKind(c.Kind)
		if err != nil || k == KindNone {
			return nil, fmt.Errorf("%w: column %q: kind: %q is not category, number, flag or time", ErrSpec, c.Name, c.Kind)
		}
		s.Columns[i] = ColumnSpec{Name: c.Name, Kind: k, Group: c.Group, Use: c.Use, Reason: c.Reason,
			Derive: c.Derive, Suspect: c.Suspect}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Limits of InferSpec's heuristics.
const (
	// inferSample bounds the rows InferSpec reads (evenly spaced) to count distinct values.
	inferSample = 50000
	// idShare: a category column whose sampled values are at least this share distinct is an id.
	idShare = 0.95
	// freeTextMin and freeTextShare: a category column with more than freeTextMin distinct sampled
	// values that are more than freeTextShare of its sampled values is free text.
	freeTextMin   = 50
	freeTextShare = 0.5
	// minIDRows: fewer sampled values than this are too few to call a column an id by its values.
	minIDRows = 20
)

// InferSpec proposes a spec for f with label as the outcome column. Every column of f is listed,
// in order. The heuristics, in order of precedence:
//
//   - the label column is excluded ("label");
//   - a column with fewer than two states (all missing, or one value and never missing) is excluded
//     ("constant");
//   - a time column is excluded ("time"): its only feature would be its age at the export snapshot,
//     and the age of a closed contact at export time is a censoring artefact (older contacts had
//     longer to close), not a trait of the contact. A user who wants it sets use: true (train's
//     recency option does), and train's audit then checks it against still-open contacts;
//   - an identifier is excluded by its content, whatever its name: a category column whose sampled
//     values are at least 95% distinct, or a column of whole numbers that are (and that is filled in
//     at least as often: a sparse amount is no identifier), or that rise or fall
//     with row order while at least half distinct (a sequential number); a column whose name is an
//     id word (id, *_id, *Id, uuid, guid) needs only more than half of its values distinct. With
//     fewer distinct values an id-named column is an attribute (a landing page id, a campaign id);
//   - a category column named like an e-mail (email, e_mail, mail, ...), or whose values are mostly
//     addresses, gets Derive DeriveEmailDomain; one named like a job title (title, job_title,
//     position) gets DeriveTitleSeniority;
//   - another category column with more than 50 distinct sampled values making up more than half of
//     them is excluded ("free text").
//
// Group is GroupEngagement when a word of the name (split at _, -, ., spaces and camelCase) says
// behaviour: visit, view, page, open, click, form, session, activity, email counts (emails, sent,
// replies), call, meeting, event, webinar, chat, download, demo, trial, bounce, exit, duration, last,
// since, recency, previous, campaign, contacted, (un)subscribed, opt-out, engagement; else, or when a
// word is "name" (last_name), GroupFit.
// Suspect is set when a word says outcome: stage, status, won, lost, close(d), converted, conversion,
// customer, lifecycle, outcome, opportunity, churn(ed), tag(s), result, duration(s): a call or stage
// duration is known once the call or stage, and often the outcome, is over. Distinct values are
// counted on at most 50,000 evenly spaced rows. ReferenceTime, the export snapshot, is the latest
// timestamp in any time column (zero without); train bounds it by the clock.
func InferSpec(f *Frame, label string) *Spec {
	cols := make([]inferred, len(f.Columns))
	for i, col := range f.Columns {
		cols[i] = inferOne(col, label)
	}
	return inferredSpec(label, cols)
}

// InferSpecFrom is InferSpec for columns loaded one at a time, on up to GOMAXPROCS goroutines; its
// errors are those of loading a column (the first in file order).
func InferSpecFrom(src Columns, label string) (*Spec, error) {
	names := src.Names()
	cols := make([]inferred, len(names))
	errs := make([]error, len(names))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, name := range names {
		g.Go(func() error {
			col, err := load(src, name)
			if err == nil && col == nil {
				err = fmt.Errorf("%w: %q", ErrMissingColumn, name)
			}
			if errs[i] = err; err == nil {
				cols[i] = inferOne(col, label)
			}
			return nil
		})
	}
	_ = g.Wait() // errors are kept per column, to report the first in file order
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return inferredSpec(label, cols), nil
}

// inferred is what InferSpec learns from one column: its spec and, for a time column other than the
// label with a value, its latest timestamp.
type inferred struct {
	spec     ColumnSpec
	latest   float64
	haveTime bool
}

func inferOne(col *Column, label string) inferred {
	in := inferred{spec: inferColumn(col, label)}
	if col.Kind == KindTime && col.Name != label {
		for i, ok := range col.Valid {
			if ok && (!in.haveTime || col.Num[i] > in.latest) {
				in.latest, in.haveTime = col.Num[i], true
			}
		}
	}
	return in
}

// inferredSpec assembles the spec of the columns, in order; its ReferenceTime is their latest
// timestamp.
func inferredSpec(label string, cols []inferred) *Spec {
	s := &Spec{Label: label, Columns: make([]ColumnSpec, 0, len(cols))}
	var latest float64
	haveTime := false
	for _, c := range cols {
		if c.haveTime && (!haveTime || c.latest > latest) {
			latest, haveTime = c.latest, true
		}
		s.Columns = append(s.Columns, c.spec)
	}
	if haveTime {
		s.ReferenceTime = UnixTime(latest)
	}
	return s
}

func inferColumn(col *Column, label string) ColumnSpec {
	words := nameWords(col.Name)
	cs := ColumnSpec{Name: col.Name, Kind: col.Kind, Use: true, Group: GroupFit}
	if hasWord(words, engagementWords, engagementPrefixes) && !hasWord(words, nameWordSet, nil) {
		cs.Group = GroupEngagement
	}
	cs.Suspect = hasWord(words, suspectWords, nil)
	exclude := func(reason string) ColumnSpec {
		cs.Use, cs.Reason, cs.Derive = false, reason, ""
		return cs
	}
	switch {
	case col.Name == label:
		cs.Group = ""
		return exclude("label")
	case col.Kind == KindNone || col.Kind > KindTime:
		return exclude("no kind")
	case isConstant(col):
		return exclude("constant")
	case col.Kind == KindTime:
		cs.Derive = DeriveRecency
		cs.Use, cs.Reason = false, ReasonTime
		return cs
	}
	st := sampleColumn(col)
	if col.Kind == KindCategory {
		// An address or a title is near-unique but derives a real attribute: derive before judging.
		switch {
		case (hasWord(words, emailWords, nil) && st.emails > 0) || st.emails*10 >= st.values*8:
			cs.Derive = DeriveEmailDomain
			return cs
		case hasWord(words, titleNameWords, nil) || strings.Contains(strings.ToLower(col.Name), "jobtitle"):
			cs.Derive = DeriveTitleSeniority
			return cs
		}
	}
	switch {
	case hasWord(words, idWords, nil) && 2*st.distinct > st.values:
		return exclude(fmt.Sprintf(ReasonIdentifier+" (named like one, %d distinct in %d sampled values)", st.distinct, st.values))
	case st.values < minIDRows:
	case col.Kind == KindCategory && float64(st.distinct) >= idShare*float64(st.values):
		return exclude(fmt.Sprintf(ReasonIdentifier+" (%d distinct in %d sampled values)", st.distinct, st.values))
	case st.whole && float64(st.distinct) >= idShare*float64(st.values) && float64(st.values) >= idShare*float64(st.rows):
		return exclude(fmt.Sprintf(ReasonIdentifier+" (whole numbers, %d distinct in %d sampled values)", st.distinct, st.values))
	case st.monotone && 2*st.distinct > st.values && (st.whole || col.Kind == KindCategory):
		return exclude(fmt.Sprintf(ReasonIdentifier+" (%d distinct in %d sampled values, in row order)", st.distinct, st.values))
	case col.Kind == KindCategory && st.distinct > freeTextMin && float64(st.distinct) > freeTextShare*float64(st.values):
		return exclude(fmt.Sprintf("free text (%d distinct in %d sampled values)", st.distinct, st.values))
	}
	return cs
}

// ReasonIdentifier starts the reason InferSpec gives a column it takes for an identifier.
const ReasonIdentifier = "identifier"

// ReasonTime is the reason InferSpec gives a time column it leaves out.
const ReasonTime = "time: its age at the export snapshot is a censoring artefact (older contacts had longer to close), not a trait of the contact"

var (
	engagementWords = wordSet("visit", "visits", "visited", "view", "views", "viewed", "pageview",
		"pageviews", "page", "pages", "open", "opens", "opened", "click", "clicks", "clicked", "form",
		"forms", "submission", "submissions", "session", "sessions", "emails", "sent", "reply", "replies",
		"replied", "call", "calls", "meeting", "meetings", "event", "events", "webinar", "webinars", "chat",
		"chats", "download", "downloads", "demo", "demos", "trial", "signup", "signups", "login", "logins",
		"bounce", "bounces", "exit", "exits", "duration", "last", "since", "recency", "previous", "pdays",
		"poutcome", "campaign", "campaigns", "contacted", "touches", "touchpoints", "subscribed",
		"optout", "opted")
	engagementPrefixes = []string{"activit", "engag", "unsubscri", "bounce"}
	suspectWords       = wordSet("stage", "status", "won", "lost", "close", "closed", "closedate",
		"closedwon", "closedlost", "converted", "conversion", "customer", "customers", "lifecycle",
		"lifecyclestage", "outcome", "opportunity", "churn", "churned", "tag", "tags", "result", "duration", "durations")
	idWords        = wordSet("id", "ids", "uuid", "guid")
	nameWordSet    = wordSet("name") // "last_name" is not about the last activity
	emailWords     = wordSet("email", "mail", "emailaddress")
	titleNameWords = wordSet("title", "jobtitle", "position", "designation")
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// hasWord reports whether one of words is in set or starts with one of prefixes.
func hasWord(words []string, set map[string]bool, prefixes []string) bool {
	for _, w := range words {
		if set[w] {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(w, p) {
				return true
			}
		}
	}
	return false
}

// nameWords splits a column name into lower-case words at non-alphanumeric characters, at
// lower-to-upper case changes ("pageViews") and before the last capital of a capital run followed by
// a lower-case letter ("HTMLPage" -> html, page).
func nameWords(name string) []string {
	var words []string
	rs := []rune(name)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(string(rs[start:end])))
		}
		start = -1
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start >= 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush(i)
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(rs))
	return words
}

// isConstant reports whether col has fewer than two states, counting missing as a state.
func isConstant(col *Column) bool {
	first, missing := -1, false
	for i, ok := range col.Valid {
		if !ok {
			missing = true
			continue
		}
		if first < 0 {
			first = i
			continue
		}
		var same bool
		switch col.Kind {
		case KindCategory:
			same = col.Str[i] == col.Str[first]
		case KindNumber, KindTime:
			same = col.Num[i] == col.Num[first]
		case KindFlag:
			same = col.Bool[i] == col.Bool[first]
		}
		if !same {
			return false
		}
	}
	return first < 0 || !missing
}

// columnStats are counts of a column's sampled values.
type columnStats struct {
	rows, values, distinct, emails int
	// whole: every sampled value is a whole number (number columns only).
	whole bool
	// monotone: the sampled values never fall, or never rise, in row order (ties allowed).
	monotone bool
}

// sampleColumn counts values, distinct values and e-mail-like values in at most inferSample evenly
// spaced rows of a category or number column, and whether they are whole numbers and in row order.
func sampleColumn(col *Column) columnStats {
	n := col.Len()
	step := 1
	if n > inferSample {
		step = n / inferSample
	}
	st := columnStats{whole: col.Kind == KindNumber}
	if col.Kind != KindCategory && col.Kind != KindNumber {
		return st
	}
	seen := make(map[string]struct{})
	seenNum := make(map[float64]struct{})
	up, down := true, true
	prev := -1
	for i := 0; i < n; i += step {
		st.rows++
		if !col.Valid[i] {
			continue
		}
		st.values++
		if col.Kind == KindNumber {
			x := col.Num[i]
			seenNum[x] = struct{}{}
			st.whole = st.whole && x == math.Trunc(x)
			if prev >= 0 {
				up, down = up && x >= col.Num[prev], down && x <= col.Num[prev]
			}
		} else {
			v := col.Str[i]
			seen[v] = struct{}{}
			if EmailDomainClass(v) != EmailInvalid {
				st.emails++
			}
			if prev >= 0 {
				up, down = up && v >= col.Str[prev], down && v <= col.Str[prev]
			}
		}
		prev = i
	}
	st.distinct = len(seen) + len(seenNum)
	st.monotone = st.values >= minIDRows && (up || down)
	return st
}
