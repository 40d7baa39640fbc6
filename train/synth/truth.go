package synth

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
)

// The coefficients of the true logit; TRUTH.md gives the formula they belong to. Industry terms are
// in industries.
const (
	coefIntercept  = -5.8
	coefExecutive  = 0.55
	coefDirector   = 0.60
	coefManager    = 0.35
	coefIndividual = 0.0
	coefStudent    = -1.6
	coefUnknown    = -0.3
	coefCompany    = 0.7  // company e-mail domain (not free mail, not a school)
	coefEmployees  = 0.18 // times ln(employees)
	coefVisits     = 2.0  // times 1 - exp(-visits / scaleVisits)
	scaleVisits    = 5.0
	coefPricing    = 0.45 // times ln(1 + pricing_page_views)
	coefClicks     = 0.3  // times ln(1 + email_clicks)
	coefMofu       = 0.35 // at least one middle-of-funnel form
	coefBofu       = 1.6  // at least one bottom-of-funnel (demo request) form
	coefRecency    = 1.4  // times exp(-days_since_last_activity / scaleRecency)
	scaleRecency   = 30.0
	coefCareers    = -1.0 // at least one careers page view
	coefUnsub      = -1.0 // unsubscribed
)

// seniorityCoef maps a features.TitleSeniority level to its term in the true logit.
var seniorityCoef = map[string]float64{
	seniorityExecutive:  coefExecutive,
	seniorityDirector:   coefDirector,
	seniorityManager:    coefManager,
	seniorityIndividual: coefIndividual,
	seniorityStudent:    coefStudent,
	seniorityUnknown:    coefUnknown,
}

// Errors returned by TrueLogit and TrueProbability, inside a *PropertyError.
var (
	ErrMissing   = errors.New("synth: property is missing")
	ErrWrongKind = errors.New("synth: property has the wrong kind")
)

// PropertyError says which property of a contact the true model could not read.
type PropertyError struct {
	Property string
	Err      error // ErrMissing or ErrWrongKind
}

func (e *PropertyError) Error() string {
	return fmt.Sprintf("synth: property %q: %s", e.Property, strings.TrimPrefix(e.Err.Error(), "synth: "))
}

func (e *PropertyError) Unwrap() error { return e.Err }

// truthInputs are the properties the true logit reads, already classified.
type truthInputs struct {
	Industry   string
	Seniority  string // a features.TitleSeniority level
	EmailClass string // a features.EmailDomainClass class
	Employees  float64
	Visits     float64
	Pricing    float64
	Clicks     float64
	Days       float64
	Mofu       bool
	Bofu       bool
	Careers    bool
	Unsub      bool
}

// logit is the true logit of TRUTH.md. Generate and TrueLogit both call it, so the true_probability
// column and TrueProbability agree to the bit.
func (in *truthInputs) logit() float64 {
	z := coefIntercept + industryCoef[in.Industry] + seniorityCoef[in.Seniority]
	if in.EmailClass == features.EmailCompany {
		z += coefCompany
	}
	z += coefEmployees * math.Log(math.Max(in.Employees, 1))
	z += coefVisits * (1 - math.Exp(-in.Visits/scaleVisits))
	z += coefPricing * math.Log1p(in.Pricing)
	z += coefClicks * math.Log1p(in.Clicks)
	z += coefRecency * math.Exp(-in.Days/scaleRecency)
	if in.Mofu {
		z += coefMofu
	}
	if in.Bofu {
		z += coefBofu
	}
	if in.Careers {
		z += coefCareers
	}
	if in.Unsub {
		z += coefUnsub
	}
	return z
}

// TrueLogit returns the log-odds that c, a contact with the columns Generate writes, is won: the
// model of TRUTH.md that Generate draws outcomes from. It reads industry, job_title, email,
// employees, visits, pricing_page_views, email_clicks, forms_mofu, forms_bofu, careers_page_views,
// days_since_last_activity and unsubscribed; the other properties are ignored. A missing industry,
// job title or e-mail contributes like an unknown one; any other missing property is an error
// wrapping ErrMissing, and a property of the wrong kind one wrapping ErrWrongKind, both inside a
// *PropertyError.
func TrueLogit(c features.Contact) (float64, error) {
	in := truthInputs{
		Industry:   c.Props["industry"].Str,
		Seniority:  features.TitleSeniority(c.Props["job_title"].Str),
		EmailClass: features.EmailDomainClass(c.Props["email"].Str),
	}
	for name, dst := range map[string]*float64{
		"employees":                &in.Employees,
		"visits":                   &in.Visits,
		"pricing_page_views":       &in.Pricing,
		"email_clicks":             &in.Clicks,
		"days_since_last_activity": &in.Days,
	} {
		x, err := number(c, name)
		if err != nil {
			return 0, err
		}
		*dst = x
	}
	for name, dst := range map[string]*bool{
		"forms_mofu":         &in.Mofu,
		"forms_bofu":         &in.Bofu,
		"careers_page_views": &in.Careers,
	} {
		x, err := number(c, name)
		if err != nil {
			return 0, err
		}
		*dst = x > 0
	}
	v, ok := c.Props["unsubscribed"]
	switch {
	case !ok || v.Missing():
		return 0, &PropertyError{Property: "unsubscribed", Err: ErrMissing}
	case v.Kind != features.KindFlag:
		return 0, &PropertyError{Property: "unsubscribed", Err: ErrWrongKind}
	}
	in.Unsub = v.Bool
	return in.logit(), nil
}

// TrueProbability returns the probability that c is won, 1/(1+exp(-TrueLogit(c))).
func TrueProbability(c features.Contact) (float64, error) {
	z, err := TrueLogit(c)
	if err != nil {
		return 0, err
	}
	return models.Sigmoid(z), nil
}

func number(c features.Contact, name string) (float64, error) {
	v, ok := c.Props[name]
	switch {
	case !ok || v.Missing():
		return 0, &PropertyError{Property: name, Err: ErrMissing}
	case v.Kind != features.KindNumber:
		return 0, &PropertyError{Property: name, Err: ErrWrongKind}
	}
	return v.Num, nil
}
