package dataset

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/leadscore/leadscore/features"
)

// benchContact is the contact-like row of the benchmark file as a plain struct, for the
// GenericReader peer; pointers because every column WriteFile writes is optional.
type benchContact struct {
	ContactID             *string    `parquet:"contact_id"`
	CreatedAt             *time.Time `parquet:"created_at,timestamp(microsecond)"`
	Email                 *string    `parquet:"email"`
	JobTitle              *string    `parquet:"job_title"`
	Industry              *string    `parquet:"industry"`
	Employees             *float64   `parquet:"employees"`
	AnnualRevenue         *float64   `parquet:"annual_revenue"`
	Country               *string    `parquet:"country"`
	Source                *string    `parquet:"source"`
	Visits                *float64   `parquet:"visits"`
	PageViews             *float64   `parquet:"page_views"`
	PricingPageViews      *float64   `parquet:"pricing_page_views"`
	DemoPageViews         *float64   `parquet:"demo_page_views"`
	CareersPageViews      *float64   `parquet:"careers_page_views"`
	EmailOpens            *float64   `parquet:"email_opens"`
	EmailClicks           *float64   `parquet:"email_clicks"`
	FormsTofu             *float64   `parquet:"forms_tofu"`
	FormsMofu             *float64   `parquet:"forms_mofu"`
	FormsBofu             *float64   `parquet:"forms_bofu"`
	DaysSinceLastActivity *float64   `parquet:"days_since_last_activity"`
	LastActivityAt        *time.Time `parquet:"last_activity_at,timestamp(microsecond)"`
	Unsubscribed          *bool      `parquet:"unsubscribed"`
	DealStage             *string    `parquet:"deal_stage"`
	LifecycleStage        *string    `parquet:"lifecycle_stage"`
	CloseDate             *time.Time `parquet:"close_date,timestamp(microsecond)"`
}

// benchFrame builds n contact-like rows with 25 columns and some missing values.
func benchFrame(n int, seed uint64) *features.Frame {
	rng := rand.New(rand.NewPCG(seed, seed))
	pick := func(options ...string) func(int) (string, bool) {
		return func(int) (string, bool) { return options[rng.IntN(len(options))], true }
	}
	var cols []*features.Column
	str := func(name string, gen func(i int) (string, bool)) {
		c := &features.Column{Name: name, Kind: features.KindCategory, Str: make([]string, n), Valid: make([]bool, n)}
		for i := range n {
			c.Str[i], c.Valid[i] = gen(i)
		}
		cols = append(cols, c)
	}
	num := func(name string, kind features.Kind, gen func(i int) (float64, bool)) {
		c := &features.Column{Name: name, Kind: kind, Num: make([]float64, n), Valid: make([]bool, n)}
		for i := range n {
			if x, ok := gen(i); ok {
				c.Num[i], c.Valid[i] = x, true
			}
		}
		cols = append(cols, c)
	}
	count := func(mean float64) func(int) (float64, bool) {
		return func(int) (float64, bool) { return float64(int(rng.ExpFloat64() * mean)), true }
	}
	start := float64(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	str("contact_id", func(i int) (string, bool) { return fmt.Sprintf("C%07d", i), true })
	num("created_at", features.KindTime, func(int) (float64, bool) { return start + float64(rng.IntN(730*86400)), true })
	domains := []string{"gmail.com", "yahoo.com", "acme-robotics.com", "initech.io", "globex.net", "hotmail.com"}
	str("email", func(i int) (string, bool) { return "u" + strconv.Itoa(i) + "@" + domains[rng.IntN(len(domains))], true })
	str("job_title", pick("VP Sales", "Chief Marketing Officer", "Marketing Manager", "Software Engineer", "Student", "Marketing Intern"))
	str("industry", pick("Software", "Retail", "Manufacturing", "Finance", "Health"))
	num("employees", features.KindNumber, count(300))
	num("annual_revenue", features.KindNumber, func(int) (float64, bool) { return rng.ExpFloat64() * 5e6, rng.IntN(4) != 0 })
	str("country", pick("US", "DE", "FR", "GB", "BR", "IN"))
	str("source", pick("Organic Search", "Paid Search", "Paid Social", "Email Marketing", "Referrals", "Direct Traffic"))
	for _, name := range []string{"visits", "page_views", "pricing_page_views", "demo_page_views", "careers_page_views",
		"email_opens", "email_clicks", "forms_tofu", "forms_mofu", "forms_bofu", "days_since_last_activity"} {
		num(name, features.KindNumber, count(5))
	}
	num("last_activity_at", features.KindTime, func(int) (float64, bool) { return start + float64(rng.IntN(730*86400)), rng.IntN(10) != 0 })
	flag := &features.Column{Name: "unsubscribed", Kind: features.KindFlag, Bool: make([]bool, n), Valid: make([]bool, n)}
	for i := range n {
		flag.Bool[i], flag.Valid[i] = rng.IntN(20) == 0, true
	}
	cols = append(cols, flag)
	str("deal_stage", pick("closedwon", "closedlost", "open"))
	str("lifecycle_stage", pick("customer", "opportunity", "salesqualifiedlead", "lead"))
	num("close_date", features.KindTime, func(int) (float64, bool) { return start + float64(rng.IntN(730*86400)), rng.IntN(2) == 0 })
	return &features.Frame{Columns: cols}
}

// peakHeap samples the live heap every millisecond until stop is called, which returns the
// largest value seen in bytes.
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	finished := make(chan struct{})
	read := func() {
		metrics.Read(sample)
		mu.Lock()
		peak = max(peak, sample[0].Value.Uint64())
		mu.Unlock()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		read()
		return peak
	}
}

func benchRows() int {
	if s := os.Getenv("LEADSCORE_BENCH_ROWS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 100_000
}

// BenchmarkReadParquet compares ReadFile's page-by-page columnar read with parquet-go's
// GenericReader into a struct slice. The file is LEADSCORE_BENCH_PARQUET when set (`make bench`
// writes 1,000,000 contacts there with `leadscore generate`), else a contact-like file of
// LEADSCORE_BENCH_ROWS rows (default 100000) with the generator's 25 columns. It reports rows/s and
// the peak live heap in MB.
func BenchmarkReadParquet(b *testing.B) {
	path := os.Getenv("LEADSCORE_BENCH_PARQUET")
	n := 0
	if path == "" {
		n = benchRows()
		path = filepath.Join(b.TempDir(), "contacts.parquet")
		if err := WriteFile(path, benchFrame(n, 1)); err != nil {
			b.Fatal(err)
		}
	} else {
		f, err := ReadFile(path, ReadOptions{Columns: []string{"contact_id"}})
		if err != nil {
			b.Fatal(err)
		}
		n = f.Len()
	}
	read := map[string]func(b *testing.B) int{
		"columnar": func(b *testing.B) int {
			f, err := ReadFile(path, ReadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return f.Len()
		},
		"generic-structs": func(b *testing.B) int {
			file, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer file.Close()
			r := parquet.NewGenericReader[benchContact](file)
			defer r.Close()
			rows := make([]benchContact, r.NumRows())
			got := 0
			for got < len(rows) {
				k, err := r.Read(rows[got:])
				got += k
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			return got
		},
	}
	for _, name := range []string{"columnar", "generic-structs"} {
		b.Run(fmt.Sprintf("rows=%d/%s", n, name), func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				stop := peakHeap()
				b.StartTimer()
				if got := read[name](b); got != n {
					b.Fatalf("read %d rows, want %d", got, n)
				}
				b.StopTimer()
				peak = max(peak, stop())
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// BenchmarkReadCSV reads a contact-like CSV file of LEADSCORE_BENCH_ROWS rows (default 100000)
// and 25 columns (strings, numbers, flags, RFC 3339 times, some missing) with kind inference,
// with ReadFile and with the two-pass reader it replaced. It reports rows/s and the peak live
// heap in MB.
func BenchmarkReadCSV(b *testing.B) {
	n := benchRows()
	path := filepath.Join(b.TempDir(), "contacts.csv")
	if err := WriteFile(path, benchFrame(n, 1)); err != nil {
		b.Fatal(err)
	}
	read := map[string]func() (*features.Frame, error){
		"blocks": func() (*features.Frame, error) { return ReadFile(path, ReadOptions{}) },
		"two-pass": func() (*features.Frame, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return referenceReadCSV(f, path, ReadOptions{})
		},
	}
	for _, name := range []string{"blocks", "two-pass"} {
		b.Run(fmt.Sprintf("rows=%d/%s", n, name), func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				stop := peakHeap()
				b.StartTimer()
				f, err := read[name]()
				if err != nil {
					b.Fatal(err)
				}
				if got := f.Len(); got != n {
					b.Fatalf("read %d rows, want %d", got, n)
				}
				b.StopTimer()
				peak = max(peak, stop())
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}
