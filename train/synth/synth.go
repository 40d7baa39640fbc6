package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// ErrConfig is wrapped by the error Generate returns for an invalid Config.
var ErrConfig = errors.New("synth: invalid config")

// The defaults that a zero Config field stands for.
const (
	DefaultRows      = 5000
	DefaultOpenShare = 0.15
	DefaultSpan      = 2 * 365 * 24 * time.Hour
)

// DefaultStart is the creation date of the oldest contacts when Config.Start is zero.
var DefaultStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// The outcome column and its values.
const (
	LabelColumn = "deal_stage"
	StageWon    = "closedwon"
	StageLost   = "closedlost"
	StageOpen   = "open"
	// TruthColumn holds each contact's true close probability when Config.WithTruth asks for it.
	TruthColumn = "true_probability"
)

// Config says what Generate produces. The zero value asks for 5000 contacts from seed 0.
type Config struct {
	// Rows is the number of contacts; 0 means DefaultRows. Negative is an error.
	Rows int
	// Seed fixes every random draw: the same Config gives the same frame.
	Seed uint64
	// OpenShare is the expected share of contacts whose deal is still open, chosen more often among
	// recently created contacts; 0 means DefaultOpenShare, any negative value means none, and 1 means
	// all. Above 1 or NaN is an error.
	OpenShare float64
	// Start is when the oldest contacts were created (truncated to whole seconds); the zero time
	// means DefaultStart.
	Start time.Time
	// Span is the period over which contacts are created: created_at lies in
	// [Start, Start+Span-24h) and every other time and day count is taken as of the snapshot time
	// Start+Span. 0 means DefaultSpan; otherwise it must exceed 24 hours.
	Span time.Duration
	// WithTruth adds the column true_probability, the probability the outcome was drawn from.
	WithTruth bool
	// Pathologies adds the columns and the drift of real CRM exports that a default training must
	// see through (see Pathologies).
	Pathologies
}

// Field is one column Generate writes.
type Field struct {
	Name     string
	Kind     features.Kind
	Optional bool // some rows are missing
}

// Schema lists the columns Generate writes, in order, before those Pathologies adds. Counts and days are whole numbers stored as
// KindNumber; times are KindTime.
func Schema(withTruth bool) []Field {
	fs := []Field{
		{"contact_id", features.KindCategory, false},
		{"created_at", features.KindTime, false},
		{"email", features.KindCategory, false},
		{"job_title", features.KindCategory, true},
		{"industry", features.KindCategory, false},
		{"employees", features.KindNumber, false},
		{"annual_revenue", features.KindNumber, true},
		{"country", features.KindCategory, false},
		{"source", features.KindCategory, false},
		{"visits", features.KindNumber, false},
		{"page_views", features.KindNumber, false},
		{"pricing_page_views", features.KindNumber, false},
		{"demo_page_views", features.KindNumber, false},
		{"careers_page_views", features.KindNumber, false},
		{"email_opens", features.KindNumber, false},
		{"email_clicks", features.KindNumber, false},
		{"forms_tofu", features.KindNumber, false},
		{"forms_mofu", features.KindNumber, false},
		{"forms_bofu", features.KindNumber, false},
		{"days_since_last_activity", features.KindNumber, false},
		{"last_activity_at", features.KindTime, false},
		{"unsubscribed", features.KindFlag, false},
		{LabelColumn, features.KindCategory, false},
		{"lifecycle_stage", features.KindCategory, false},
		{"close_date", features.KindTime, true},
	}
	if withTruth {
		fs = append(fs, Field{TruthColumn, features.KindNumber, false})
	}
	return fs
}

// withDefaults returns cfg with zero fields replaced by their defaults, or an error wrapping ErrConfig.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Rows < 0:
		return cfg, fmt.Errorf("%w: rows %d is negative", ErrConfig, cfg.Rows)
	case cfg.Rows == 0:
		cfg.Rows = DefaultRows
	}
	switch {
	case math.IsNaN(cfg.OpenShare) || cfg.OpenShare > 1:
		return cfg, fmt.Errorf("%w: open share %g is not at most 1", ErrConfig, cfg.OpenShare)
	case cfg.OpenShare == 0:
		cfg.OpenShare = DefaultOpenShare
	case cfg.OpenShare < 0:
		cfg.OpenShare = 0
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	cfg.Start = cfg.Start.Truncate(time.Second)
	switch {
	case cfg.Span == 0:
		cfg.Span = DefaultSpan
	case cfg.Span <= 24*time.Hour:
		return cfg, fmt.Errorf("%w: span %v is not above 24h", ErrConfig, cfg.Span)
	}
	return cfg, nil
}

const day = 86400.0 // seconds

// company is an account several contacts can belong to.
type company struct {
	Domain     string
	Industry   string
	Employees  float64
	Revenue    float64
	HasRevenue bool
	Country    string
}

// Generate returns cfg.Rows synthetic contacts with the columns of Schema(cfg.WithTruth), ordered
// by created_at (contact_id C0000001 is the oldest). Closed contacts are won with the probability
// TrueProbability gives (see TRUTH.md). The only error is an invalid cfg, wrapping ErrConfig.
func Generate(cfg Config) (*features.Frame, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed))
	n := cfg.Rows
	startSec := float64(cfg.Start.Unix())
	spanSec := math.Floor(cfg.Span.Seconds())
	snapshot := startSec + spanSec

	companies := make([]company, n/3+10)
	for i := range companies {
		companies[i] = newCompany(rng)
	}
	created := make([]float64, n)
	for i := range created {
		created[i] = math.Floor(startSec + rng.Float64()*(spanSec-day))
	}
	slices.Sort(created)
	open := chooseOpen(rng, created, snapshot, cfg.OpenShare)

	fields := Schema(cfg.WithTruth)
	f := &features.Frame{Columns: make([]*features.Column, len(fields))}
	col := make(map[string]*features.Column, len(fields))
	for i, fd := range fields {
		c := features.NewColumn(fd.Name, fd.Kind, n)
		f.Columns[i] = c
		col[fd.Name] = c
	}
	setStr := func(name string, i int, s string) {
		c := col[name]
		c.Str[i], c.Valid[i] = s, true
	}
	setNum := func(name string, i int, x float64) {
		c := col[name]
		c.Num[i], c.Valid[i] = x, true
	}

	for i := range n {
		co := &companies[int(float64(len(companies))*math.Pow(rng.Float64(), 1.6))]
		level := seniorityMix[pickWeighted(rng, len(seniorityMix), func(k int) float64 { return seniorityMix[k].Weight })].Level
		title := jobTitle(rng, level)
		src := sources[pickWeighted(rng, len(sources), func(k int) float64 { return sources[k].Weight })]
		email := emailAddress(rng, level, co)

		// intent is the latent buying interest behind all engagement.
		intent := src.Quality + rng.NormFloat64() + cfg.Trend*(float64(i)/float64(n)-0.5)
		if level == seniorityStudent {
			intent -= 0.3
		}
		seeker := 0.02
		switch level {
		case seniorityStudent:
			seeker = 0.25
		case seniorityIndividual:
			seeker = 0.06
		}
		jobSeeker := rng.Float64() < seeker
		e := engage(rng, intent, jobSeeker)

		ageDays := (snapshot - created[i]) / day
		idle := math.Min(rng.ExpFloat64()*math.Exp(3.6-0.6*intent), ageDays)
		last := math.Ceil(snapshot - idle*day)
		days := math.Floor((snapshot - last) / day)

		setStr("contact_id", i, fmt.Sprintf("C%07d", i+1))
		setNum("created_at", i, created[i])
		setStr("email", i, email)
		if title != "" {
			setStr("job_title", i, title)
		}
		setStr("industry", i, co.Industry)
		setNum("employees", i, co.Employees)
		// Enrichment by domain fails more often for free mail.
		if co.HasRevenue && (features.EmailDomainClass(email) == features.EmailCompany || rng.Float64() < 0.5) {
			setNum("annual_revenue", i, co.Revenue)
		}
		setStr("country", i, co.Country)
		setStr("source", i, src.Name)
		setNum("visits", i, e.Visits)
		setNum("page_views", i, e.PageViews)
		setNum("pricing_page_views", i, e.Pricing)
		setNum("demo_page_views", i, e.Demo)
		setNum("careers_page_views", i, e.Careers)
		setNum("email_opens", i, e.Opens)
		setNum("email_clicks", i, e.Clicks)
		setNum("forms_tofu", i, e.Tofu)
		setNum("forms_mofu", i, e.Mofu)
		setNum("forms_bofu", i, e.Bofu)
		setNum("days_since_last_activity", i, days)
		setNum("last_activity_at", i, last)
		u := col["unsubscribed"]
		u.Bool[i], u.Valid[i] = e.Unsub, true

		in := truthInputs{
			Industry:   co.Industry,
			Seniority:  level,
			EmailClass: features.EmailDomainClass(email),
			Employees:  co.Employees,
			Visits:     e.Visits,
			Pricing:    e.Pricing,
			Clicks:     e.Clicks,
			Days:       days,
			Mofu:       e.Mofu > 0,
			Bofu:       e.Bofu > 0,
			Careers:    e.Careers > 0,
			Unsub:      e.Unsub,
		}
		p := models.Sigmoid(in.logit())
		if cfg.WithTruth {
			setNum(TruthColumn, i, p)
		}
		won := rng.Float64() < p
		stage, lifecycle := outcome(rng, open[i], won)
		setStr(LabelColumn, i, stage)
		setStr("lifecycle_stage", i, lifecycle)
		if stage == StageWon || (stage == StageLost && rng.Float64() < 0.6) {
			setNum("close_date", i, closeDate(rng, created[i], snapshot, won))
		}
	}
	cfg.Pathologies.add(f, cfg.Seed)
	return f, nil
}

// chooseOpen marks each contact open with probability min(1, c*exp(-age/180 days)), c chosen by
// bisection so that the probabilities average share: young contacts are more often still open.
func chooseOpen(rng *rand.Rand, created []float64, snapshot, share float64) []bool {
	w := make([]float64, len(created))
	for i, t := range created {
		w[i] = math.Exp(-(snapshot - t) / day / 180)
	}
	mean := func(c float64) float64 {
		var s float64
		for _, x := range w {
			s += math.Min(1, c*x)
		}
		return s / float64(len(w))
	}
	lo, hi := 0.0, 1.0
	for mean(hi) < share && hi < 1e12 {
		hi *= 2
	}
	for range 60 {
		mid := (lo + hi) / 2
		if mean(mid) < share {
			lo = mid
		} else {
			hi = mid
		}
	}
	open := make([]bool, len(created))
	for i, x := range w {
		open[i] = rng.Float64() < math.Min(1, hi*x)
	}
	return open
}

// outcome returns the deal stage and the (leaky) lifecycle stage of a contact.
func outcome(rng *rand.Rand, open, won bool) (stage, lifecycle string) {
	u, v := rng.Float64(), rng.Float64()
	switch {
	case open:
		return StageOpen, pick3(v, 0.5, "lead", 0.25, "salesqualifiedlead", "opportunity")
	case won && u < 0.98:
		return StageWon, "customer"
	case won:
		return StageWon, "opportunity"
	case u < 0.005:
		return StageLost, "customer"
	}
	return StageLost, pick3(v, 0.30, "lead", 0.25, "salesqualifiedlead", "opportunity")
}

func pick3(u, pa float64, a string, pb float64, b, c string) string {
	switch {
	case u < pa:
		return a
	case u < pa+pb:
		return b
	}
	return c
}

// closeDate returns when a closed deal closed: a log-normal sales cycle after created (median 45
// days when won, 30 when lost), kept before the snapshot and at least a second after created.
func closeDate(rng *rand.Rand, created, snapshot float64, won bool) float64 {
	median, sigma := 30.0, 0.9
	if won {
		median, sigma = 45, 0.7
	}
	dur := median * day * math.Exp(sigma*rng.NormFloat64())
	if age := snapshot - created; dur >= age {
		dur = age * (0.5 + 0.5*rng.Float64())
	}
	return math.Max(math.Floor(created+dur), created+1)
}

// engagement holds a contact's activity counts.
type engagement struct {
	Visits, PageViews, Pricing, Demo, Careers float64
	Opens, Clicks, Tofu, Mofu, Bofu           float64
	Unsub                                     bool
}

// engage draws correlated activity counts: intent drives visits, and visits drive page, pricing,
// demo and form counts; job seekers look at the careers page.
func engage(rng *rand.Rand, intent float64, jobSeeker bool) engagement {
	var e engagement
	e.Visits = 1 + poisson(rng, math.Min(200, math.Exp(0.5+0.8*intent)*logNormal(rng, 0.6)))
	e.PageViews = e.Visits + poisson(rng, e.Visits*math.Exp(0.3+0.15*intent))
	e.Pricing = poisson(rng, e.Visits*models.Sigmoid(-2.2+0.9*intent))
	e.Demo = poisson(rng, e.Visits*models.Sigmoid(-3.2+1.0*intent))
	if jobSeeker {
		e.Careers = 1 + poisson(rng, 1.5)
	} else {
		e.Careers = poisson(rng, 0.01*e.Visits)
	}
	e.Unsub = rng.Float64() < models.Sigmoid(-2.6-0.6*intent)
	if e.Unsub {
		e.Opens = poisson(rng, 0.5)
	} else {
		e.Opens = poisson(rng, math.Min(100, math.Exp(1.2+0.35*intent)*logNormal(rng, 0.7)))
	}
	pc := models.Sigmoid(-2.2 + 0.6*intent)
	for range int(e.Opens) {
		if rng.Float64() < pc {
			e.Clicks++
		}
	}
	e.Tofu = poisson(rng, 0.25+0.08*e.Visits)
	e.Mofu = poisson(rng, math.Min(e.Visits, 15)*models.Sigmoid(-3.5+0.8*intent))
	demo := 0.0
	if e.Demo > 0 {
		demo = 0.8
	}
	if rng.Float64() < models.Sigmoid(-3.6+1.1*intent+demo) {
		e.Bofu = 1
		if rng.Float64() < 0.15 {
			e.Bofu = 2
		}
	}
	return e
}

// newCompany draws an account: industry, log-normal head count, revenue tied to head count (not
// always known), country and a domain such as acme-robotics.com.
func newCompany(rng *rand.Rand) company {
	ind := industries[pickWeighted(rng, len(industries), func(k int) float64 { return industries[k].Weight })]
	ctry := countries[pickWeighted(rng, len(countries), func(k int) float64 { return countries[k].Weight })]
	head := companyHeads[rng.IntN(len(companyHeads))]
	tail := companyTails[rng.IntN(len(companyTails))]
	employees := math.Round(ind.Employees * math.Exp(1.5*rng.NormFloat64()))
	employees = math.Max(1, math.Min(250000, employees))
	revenue := math.Round(employees*ind.RevenuePerEmployee*math.Exp(0.5*rng.NormFloat64())/1000) * 1000
	known := 0.85
	if employees < 50 {
		known = 0.6
	}
	sep := ""
	if rng.Float64() < 0.5 {
		sep = "-"
	}
	tld := companyTLDs[rng.IntN(len(companyTLDs))]
	if ctry.TLD != ".com" && rng.Float64() < 0.5 {
		tld = ctry.TLD
	}
	return company{
		Domain:     head + sep + tail + tld,
		Industry:   ind.Name,
		Employees:  employees,
		Revenue:    math.Max(revenue, 1000),
		HasRevenue: rng.Float64() < known,
		Country:    ctry.Name,
	}
}

// jobTitle writes a free-text title at the given level, with varied casing; "" for no title.
func jobTitle(rng *rand.Rand, level string) string {
	ts := titleTemplates[level]
	t := ts[rng.IntN(len(ts))]
	if strings.Contains(t, "%s") {
		t = fmt.Sprintf(t, functions[rng.IntN(len(functions))])
	}
	switch u := rng.Float64(); {
	case u < 0.08:
		t = strings.ToLower(t)
	case u < 0.11:
		t = strings.ToUpper(t)
	case u < 0.13:
		t = " " + t + " "
	}
	return t
}

// emailAddress writes a contact's address: free mail (more often at small companies and for
// students), a university address for some students, otherwise the company's domain.
func emailAddress(rng *rand.Rand, level string, co *company) string {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	pFree, pEdu := 0.18, 0.0
	switch {
	case level == seniorityStudent:
		pFree, pEdu = 0.45, 0.35
	case co.Employees < 10:
		pFree = 0.55
	case co.Employees < 50:
		pFree = 0.35
	}
	var local, domain string
	switch u := rng.Float64(); {
	case u < pFree:
		domain = freeMail[rng.IntN(len(freeMail))]
		switch rng.IntN(3) {
		case 0:
			local = fmt.Sprintf("%s.%s%d", first, last, 1+rng.IntN(99))
		case 1:
			local = first + last
		default:
			local = fmt.Sprintf("%s_%s%d", first, last, 1960+rng.IntN(45))
		}
	case u < pFree+pEdu:
		domain = universities[rng.IntN(len(universities))]
		local = first[:1] + last
	default:
		domain = co.Domain
		switch rng.IntN(4) {
		case 0:
			local = first
		case 1:
			local = first[:1] + last
		default:
			local = first + "." + last
		}
	}
	addr := local + "@" + domain
	if rng.Float64() < 0.03 {
		addr = titleCase(local) + "@" + titleCase(domain)
	}
	return addr
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// pickWeighted returns an index in [0, n) with probability proportional to weight(k).
func pickWeighted(rng *rand.Rand, n int, weight func(k int) float64) int {
	var total float64
	for k := range n {
		total += weight(k)
	}
	u := rng.Float64() * total
	for k := range n {
		u -= weight(k)
		if u < 0 {
			return k
		}
	}
	return n - 1
}

// poisson draws a Poisson count: Knuth's product of uniforms below 30, a rounded normal above.
func poisson(rng *rand.Rand, lambda float64) float64 {
	if !(lambda > 0) {
		return 0
	}
	if lambda >= 30 {
		return math.Max(0, math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64()))
	}
	limit, p, k := math.Exp(-lambda), rng.Float64(), 0.0
	for p > limit {
		p *= rng.Float64()
		k++
	}
	return k
}

// logNormal draws a log-normal multiplier with mean 1.
func logNormal(rng *rand.Rand, sigma float64) float64 {
	return math.Exp(sigma*rng.NormFloat64() - sigma*sigma/2)
}
