package features

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestTitleSeniority(t *testing.T) {
	tests := []struct {
		title string
		want  string
	}{
		{"Chief Marketing Officer", SeniorityExecutive},
		{"CEO", SeniorityExecutive},
		{"ceo & co-founder", SeniorityExecutive},
		{"CTO/Founder", SeniorityExecutive},
		{"Co-Founder", SeniorityExecutive},
		{"Cofounder", SeniorityExecutive},
		{"VP Sales", SeniorityExecutive},
		{"SVP, Marketing", SeniorityExecutive},
		{"Vice President of Engineering", SeniorityExecutive},
		{"President", SeniorityExecutive},
		{"Owner", SeniorityExecutive},
		{"Small Business Owner", SeniorityExecutive},
		{"Managing Partner", SeniorityExecutive},
		{"Partner", SeniorityExecutive},
		{"Head of Growth", SeniorityExecutive},
		{"Marketing Head", SeniorityExecutive},
		{"Managing Director", SeniorityExecutive},
		{"Chief of Staff", SeniorityExecutive},
		{"GESCHÄFTSFÜHRER", SeniorityExecutive},
		{"Director of Marketing", SeniorityDirector},
		{"Senior Director, Demand Generation", SeniorityDirector},
		{"Art Director", SeniorityDirector},
		{"General Manager", SeniorityDirector},
		{"Marketing Manager", SeniorityManager},
		{"Sr. Product Manager", SeniorityManager},
		{"Partner Marketing Manager", SeniorityManager},
		{"Team Lead", SeniorityManager},
		{"Lead Developer", SeniorityManager},
		{"Customer Support Supervisor", SeniorityManager},
		{"Teamleiter Vertrieb", SeniorityManager},
		{"Software Engineer", SeniorityIndividual},
		{"Senior Data Analyst", SeniorityIndividual},
		{"Account Executive", SeniorityIndividual},
		{"Executive Assistant to the CEO", SeniorityIndividual},
		{"Product Owner", SeniorityIndividual},
		{"Lead Generation Specialist", SeniorityIndividual},
		{"Head Chef", SeniorityIndividual},
		{"Student", SeniorityStudent},
		{"Marketing Intern", SeniorityStudent},
		{"Graduate Trainee", SeniorityStudent},
		{"Werkstudent Marketing", SeniorityStudent},
		{"PhD student", SeniorityStudent},
		{"", SeniorityUnknown},
		{"   ", SeniorityUnknown},
		{"n/a", SeniorityUnknown},
		{"-", SeniorityUnknown},
		{"Unknown", SeniorityUnknown},
		{"12345", SeniorityUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			if got := TitleSeniority(tt.title); got != tt.want {
				t.Errorf("TitleSeniority(%q) = %q, want %q", tt.title, got, tt.want)
			}
		})
	}
}

func TestEmailDomainClass(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"ana@acme-robotics.com", EmailCompany},
		{"ANA@ACME.IO", EmailCompany},
		{"ana@gmail.com", EmailFreeMail},
		{" Ana@GMail.Com ", EmailFreeMail},
		{"bob@yahoo.com", EmailFreeMail},
		{"bob@yahoo.co.uk", EmailFreeMail},
		{"bob@hotmail.fr", EmailFreeMail},
		{"bob@outlook.com", EmailFreeMail},
		{"bob@aol.com", EmailFreeMail},
		{"bob@icloud.com", EmailFreeMail},
		{"bob@gmx.de", EmailFreeMail},
		{"bob@proton.me", EmailFreeMail},
		{"bob@mail.ru", EmailFreeMail},
		{"bob@yandex.ru", EmailFreeMail},
		{"bob@web.de", EmailFreeMail},
		{"bob@gmail.com.", EmailFreeMail},
		{"bob@live.example.com", EmailCompany},
		{"bob@yahoo.example.com", EmailCompany},
		{"bob@gmailer.com", EmailCompany},
		{"bob@stanford.edu", EmailEducation},
		{"bob@ox.ac.uk", EmailEducation},
		{"bob@unam.edu.mx", EmailEducation},
		{"bob", EmailInvalid},
		{"@gmail.com", EmailInvalid},
		{"bob@", EmailInvalid},
		{"bob@localhost", EmailInvalid},
		{"bob@.com", EmailInvalid},
		{"bob@acme..com", EmailInvalid},
		{"", EmailInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := EmailDomainClass(tt.addr); got != tt.want {
				t.Errorf("EmailDomainClass(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestDerivedFunctionsDoNotAllocate(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"title", func() { TitleSeniority("Senior Vice President, Sales & Marketing EMEA") }},
		{"title non-ASCII", func() { TitleSeniority("Geschäftsführer") }},
		{"email", func() { EmailDomainClass("Ana.Maria@Acme-Robotics.COM") }},
		{"free-mail brand", func() { EmailDomainClass("x@yahoo.co.uk") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.f); got != 0 {
				t.Errorf("allocations = %v, want 0", got)
			}
		})
	}
}

func TestRecencyDays(t *testing.T) {
	// Expected values computed by hand: log1p(days), days = (asOf - t) / 86400 clamped at 0.
	asOf := UnixSeconds(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name string
		t    time.Time
		want float64
	}{
		{"same instant", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 0},
		{"in the future", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), 0},
		{"one day", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), math.Log(2)},
		{"half a day", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), math.Log(1.5)},
		{"leap year", time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), math.Log(367)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := recencyDays(asOf, UnixSeconds(tt.t))
			if math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("recencyDays = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMedianInPlace(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"one", []float64{7}, 7},
		{"two", []float64{4, 1}, 2.5},
		{"odd", []float64{5, 1, 4, 2, 3}, 3},
		{"even", []float64{6, 1, 5, 2, 4, 3}, 3.5},
		{"ties", []float64{0, 0, 0, 1, 0, 9, 0}, 0},
		{"negative", []float64{-3, -1, -2}, -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := medianInPlace(slices.Clone(tt.xs)); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
			}
		})
	}
	// Against sorting, on random data with many ties.
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 1; n < 300; n += 7 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(rng.IntN(10))
		}
		sorted := slices.Sorted(slices.Values(xs))
		want := sorted[n/2]
		if n%2 == 0 {
			want = sorted[n/2-1] + (sorted[n/2]-sorted[n/2-1])/2
		}
		if got := medianInPlace(xs); got != want {
			t.Errorf("n=%d: median = %v, want %v", n, got, want)
		}
	}
}

func TestSampleSkewness(t *testing.T) {
	// Expected values computed by hand: {0,0,0,3}: mean 0.75, m2 = 1.6875, m3 = 2.53125,
	// skew = 2.53125 / 1.6875^1.5 = 1.1547005.
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"symmetric", []float64{1, 2, 3}, 0},
		{"constant", []float64{4, 4, 4}, 0},
		{"right tail", []float64{0, 0, 0, 3}, 1.1547005383792515},
		{"left tail", []float64{0, 3, 3, 3}, -1.1547005383792515},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sampleSkewness(tt.xs); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("skewness = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNameWords(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"days_since_last_activity", []string{"days", "since", "last", "activity"}},
		{"PageValues", []string{"page", "values"}},
		{"ProductRelated_Duration", []string{"product", "related", "duration"}},
		{"contactID", []string{"contact", "id"}},
		{"HTMLPage", []string{"html", "page"}},
		{"e-mail", []string{"e", "mail"}},
		{"emp.var.rate", []string{"emp", "var", "rate"}},
		{"forms2go", []string{"forms2go"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nameWords(tt.name); !slices.Equal(got, tt.want) {
				t.Errorf("nameWords(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}
