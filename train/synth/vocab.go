package synth

import "github.com/leadscore/leadscore/features"

// industry is one industry a company can belong to. Coef is its term in the true logit (see TRUTH.md);
// Employees is the median head count of its companies; RevenuePerEmployee the median annual revenue per
// employee in US dollars.
type industry struct {
	Name               string
	Weight             float64
	Coef               float64
	Employees          float64
	RevenuePerEmployee float64
}

// industries are LinkedIn-style industry names; Weight is the share of companies.
var industries = []industry{
	{"Computer Software", 0.15, 0.55, 80, 220e3},
	{"Information Technology and Services", 0.12, 0.35, 120, 150e3},
	{"Financial Services", 0.09, 0.30, 300, 300e3},
	{"Marketing and Advertising", 0.09, 0.20, 30, 120e3},
	{"Management Consulting", 0.06, 0.15, 50, 160e3},
	{"Telecommunications", 0.03, 0.10, 600, 350e3},
	{"Manufacturing", 0.08, 0.00, 250, 200e3},
	{"Logistics and Supply Chain", 0.05, 0.00, 300, 170e3},
	{"Hospital & Health Care", 0.07, -0.10, 400, 110e3},
	{"Real Estate", 0.05, -0.20, 40, 250e3},
	{"Retail", 0.07, -0.30, 150, 180e3},
	{"Government Administration", 0.03, -0.50, 800, 90e3},
	{"Education Management", 0.06, -0.60, 200, 80e3},
	{"Non-Profit Organization Management", 0.05, -0.70, 30, 70e3},
}

// industryCoef maps an industry name to its term in the true logit.
var industryCoef = func() map[string]float64 {
	m := make(map[string]float64, len(industries))
	for _, ind := range industries {
		m[ind.Name] = ind.Coef
	}
	return m
}()

// source is a HubSpot original source. Quality shifts the mean of a contact's latent intent, which
// drives engagement; the source itself has no term in the true logit.
type source struct {
	Name    string
	Weight  float64
	Quality float64
}

var sources = []source{
	{"Organic Search", 0.27, 0.0},
	{"Paid Search", 0.14, 0.1},
	{"Paid Social", 0.12, -0.4},
	{"Email Marketing", 0.10, 0.0},
	{"Referrals", 0.07, 0.8},
	{"Direct Traffic", 0.15, 0.3},
	{"Offline Sources", 0.06, 0.5},
	{"Social Media", 0.09, -0.5},
}

type country struct {
	Name   string
	Weight float64
	TLD    string
}

var countries = []country{
	{"United States", 0.38, ".com"},
	{"United Kingdom", 0.12, ".co.uk"},
	{"Germany", 0.10, ".de"},
	{"Canada", 0.06, ".ca"},
	{"France", 0.06, ".fr"},
	{"India", 0.06, ".in"},
	{"Australia", 0.05, ".com.au"},
	{"Netherlands", 0.04, ".nl"},
	{"Brazil", 0.04, ".com.br"},
	{"Spain", 0.03, ".es"},
	{"Sweden", 0.03, ".se"},
	{"Singapore", 0.03, ".sg"},
}

// freeMail are consumer mailbox domains, most common first.
var freeMail = []string{
	"gmail.com", "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "yahoo.com", "hotmail.com",
	"outlook.com", "outlook.com", "icloud.com", "aol.com", "gmx.de", "yahoo.co.uk", "hotmail.fr",
	"protonmail.com", "live.com",
}

// universities are the mail domains students use when not on free mail.
var universities = []string{
	"stanford.edu", "umich.edu", "utexas.edu", "bu.edu", "ox.ac.uk", "ucl.ac.uk", "unimelb.edu.au",
	"nyu.edu", "asu.edu", "ed.ac.uk",
}

var firstNames = []string{
	"ana", "james", "maria", "wei", "olivia", "liam", "sofia", "noah", "emma", "lucas", "priya", "arjun",
	"fatima", "omar", "yuki", "hiroshi", "chloe", "ethan", "isabella", "mateo", "amara", "kwame", "elena",
	"ivan", "sara", "david", "laura", "thomas", "nina", "jonas", "lea", "felix", "grace", "daniel", "mia",
	"carlos", "aisha", "ravi", "hannah", "peter", "julia", "marco", "zoe", "samuel", "ines", "tariq",
}

var lastNames = []string{
	"silva", "smith", "garcia", "chen", "johnson", "muller", "kumar", "nguyen", "brown", "rossi", "kim",
	"patel", "martin", "schmidt", "lopez", "wilson", "tanaka", "novak", "dubois", "andersson", "okafor",
	"haddad", "jones", "fischer", "costa", "murphy", "singh", "walker", "moreau", "ivanova", "berg",
	"rahman", "taylor", "weber", "santos", "clark", "cohen", "yamamoto", "lee", "baker",
}

// companyHeads and companyTails are combined into company names such as "Acme Robotics".
var companyHeads = []string{
	"acme", "blue", "north", "bright", "nova", "summit", "apex", "clear", "swift", "green", "iron",
	"silver", "cedar", "atlas", "vertex", "pioneer", "quantum", "harbor", "orbit", "crest", "maple",
	"stellar", "delta", "prime", "lumen", "terra", "echo", "zen", "pixel", "granite",
}

var companyTails = []string{
	"robotics", "labs", "systems", "analytics", "health", "logistics", "capital", "media", "works",
	"partners", "solutions", "foods", "retail", "energy", "cloud", "learning", "motors", "studio",
	"group", "tech", "consulting", "bank", "network", "supply",
}

var companyTLDs = []string{".com", ".com", ".com", ".io", ".co", ".net", ".ai"}

// The seniority levels of generated job titles; the values are those of features.TitleSeniority,
// which the true logit uses to read a title back.
const (
	seniorityExecutive  = features.SeniorityExecutive
	seniorityDirector   = features.SeniorityDirector
	seniorityManager    = features.SeniorityManager
	seniorityIndividual = features.SeniorityIndividual
	seniorityStudent    = features.SeniorityStudent
	seniorityUnknown    = features.SeniorityUnknown
)

// seniorityMix is the share of contacts at each level (a missing title counts as unknown).
var seniorityMix = []struct {
	Level  string
	Weight float64
}{
	{seniorityExecutive, 0.10},
	{seniorityDirector, 0.12},
	{seniorityManager, 0.24},
	{seniorityIndividual, 0.38},
	{seniorityStudent, 0.10},
	{seniorityUnknown, 0.06},
}

// functions are the departments combined into titles.
var functions = []string{
	"Marketing", "Sales", "Operations", "Engineering", "Finance", "Product", "IT", "HR", "Growth",
	"Customer Success", "Business Development", "Revenue Operations", "Data",
}

// titleTemplates lists title patterns per seniority level; %s is replaced by a function from
// functions. Every pattern, in every casing, must read back as its level through
// features.TitleSeniority (tested).
var titleTemplates = map[string][]string{
	seniorityExecutive: {
		"CEO", "Chief Executive Officer", "Chief Marketing Officer", "CMO", "CFO", "CTO", "COO",
		"Chief Revenue Officer", "VP %s", "VP of %s", "Vice President, %s", "SVP %s", "Founder",
		"Co-Founder & CEO", "Owner", "President", "Head of %s", "Managing Director", "Founder / CEO",
	},
	seniorityDirector: {
		"Director of %s", "%s Director", "Sr. Director, %s", "Senior Director of %s", "Director %s",
		"General Manager", "Associate Director, %s", "Regional Director",
	},
	seniorityManager: {
		"%s Manager", "Senior %s Manager", "Manager, %s", "%s Team Lead", "Team Lead - %s",
		"Marketing Operations Manager", "Account Manager", "Office Manager", "Project Manager",
		"%s Supervisor", "Product Manager",
	},
	seniorityIndividual: {
		"Software Engineer", "Senior Software Engineer", "%s Specialist", "%s Analyst",
		"Marketing Coordinator", "Sales Representative", "Account Executive", "Data Scientist",
		"Consultant", "Designer", "Accountant", "%s Associate", "SDR", "Business Development Representative",
		"Content Writer", "Developer", "Engineer", "Sr. Analyst", "Executive Assistant",
	},
	seniorityStudent: {
		"Student", "Marketing Intern", "%s Intern", "Intern", "MBA Student", "Graduate Student",
		"Summer Intern - %s", "Trainee", "student", "Working Student",
	},
	seniorityUnknown: {
		"", "n/a", "-", "unknown", "N/A",
	},
}
