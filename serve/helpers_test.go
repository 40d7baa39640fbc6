package serve

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/store"
)

// fixtureAsOf is the scoring time of the fixtures, so that recency is the same in every run.
var fixtureAsOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// fixtureFrame is a small hand-made dataset: 200 contacts with a category, two numbers, a flag, a time
// and an outcome, drawn from a fixed seed.
func fixtureFrame(tb testing.TB) (*features.Frame, []features.Label) {
	tb.Helper()
	const n = 200
	rng := rand.New(rand.NewPCG(7, 7))
	industries := []string{"Software", "Retail", "Health"}
	industry := &features.Column{Name: "industry", Kind: features.KindCategory, Str: make([]string, n), Valid: make([]bool, n)}
	employees := &features.Column{Name: "employees", Kind: features.KindNumber, Num: make([]float64, n), Valid: make([]bool, n)}
	visits := &features.Column{Name: "visits", Kind: features.KindNumber, Num: make([]float64, n), Valid: make([]bool, n)}
	unsub := &features.Column{Name: "unsubscribed", Kind: features.KindFlag, Bool: make([]bool, n), Valid: make([]bool, n)}
	created := &features.Column{Name: "created_at", Kind: features.KindTime, Num: make([]float64, n), Valid: make([]bool, n)}
	outcome := &features.Column{Name: "outcome", Kind: features.KindCategory, Str: make([]string, n), Valid: make([]bool, n)}
	labels := make([]features.Label, n)
	for i := range n {
		industry.Str[i], industry.Valid[i] = industries[rng.IntN(3)], true
		employees.Num[i], employees.Valid[i] = float64(5+rng.IntN(500)), rng.IntN(10) > 0
		visits.Num[i], visits.Valid[i] = float64(rng.IntN(20)), true
		unsub.Bool[i], unsub.Valid[i] = rng.IntN(8) == 0, true
		created.Num[i], created.Valid[i] = features.UnixSeconds(fixtureAsOf.Add(-time.Duration(rng.IntN(700))*24*time.Hour)), true
		won := rng.Float64() < 0.1+0.02*visits.Num[i]
		if industry.Str[i] == "Software" {
			won = won || rng.IntN(4) == 0
		}
		outcome.Str[i], outcome.Valid[i], labels[i] = "lost", true, features.Lost
		if won {
			outcome.Str[i], labels[i] = "won", features.Won
		}
	}
	return &features.Frame{Columns: []*features.Column{industry, employees, visits, unsub, created, outcome}}, labels
}

// mustArtifact fits an encoder on the fixture and sets weights by hand; intercept shifts every
// probability, so versions built with different intercepts answer differently.
func mustArtifact(tb testing.TB, intercept float64) *models.Artifact {
	tb.Helper()
	f, labels := fixtureFrame(tb)
	spec := features.InferSpec(f, "outcome")
	// A time column is left out by default; the fixture asks for its recency, as train's Recency does.
	created := spec.Column("created_at")
	created.Use, created.Reason, created.Derive = true, "", features.DeriveRecency
	enc, err := features.FitEncoder(spec, f, nil, features.EncoderOptions{MinCount: 5})
	if err != nil {
		tb.Fatal(err)
	}
	rates, err := features.ComputeRates(f, labels, features.RateOptions{MinContacts: 10, Exclude: []string{"outcome"}})
	if err != nil {
		tb.Fatal(err)
	}
	w := enc.Width()
	x, err := enc.EncodeFrame(f, nil, time.Time{})
	if err != nil {
		tb.Fatal(err)
	}
	baseline := make([]float64, w)
	for r := range f.Len() {
		for j := range w {
			baseline[j] += x[r*w+j] / float64(f.Len())
		}
	}
	weights := make([]float64, w)
	for j := range weights {
		weights[j] = 0.3 * float64(j%5-2)
	}
	a := &models.Artifact{
		Format:         models.FormatVersion,
		Spec:           spec,
		Encoder:        enc,
		Intercept:      intercept,
		Weights:        weights,
		Baseline:       baseline,
		Penalty:        1,
		Tiers:          [3]float64{0.1, 0.25, 0.5},
		FitCuts:        [3]float64{-0.5, 0, 0.5},
		EngagementCuts: [3]float64{-0.5, 0, 0.5},
		Rates:          rates,
		Metrics:        models.Metrics{Rows: 50, Positives: 10, AUC: 0.75, PRAUC: 0.4, LogLoss: 0.5, Brier: 0.15},
		Provenance:     models.Provenance{DataFile: "fixture", Rows: f.Len(), Label: "outcome", Split: "random", TrainedAt: fixtureAsOf},
	}
	if err := a.Validate(); err != nil {
		tb.Fatal(err)
	}
	return a
}

// mustPublish publishes a as a new version of name and returns the version.
func mustPublish(tb testing.TB, st *store.Store, name string, a *models.Artifact) int {
	tb.Helper()
	v, err := st.Publish(context.Background(), name, a)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// mustPublishCorrupt renames into place, atomically, a version whose MANIFEST is right but whose
// model.json does not decode, and returns its number.
func mustPublishCorrupt(tb testing.TB, st *store.Store, name string) int {
	tb.Helper()
	dir := filepath.Join(st.Dir(), name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	next := 1
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil && v >= next {
			next = v + 1
		}
	}
	tmp, err := os.MkdirTemp(dir, ".tmp-corrupt-")
	if err != nil {
		tb.Fatal(err)
	}
	data := []byte(`{"format": 1, "name": "` + name + `", "weights": [1, 2`)
	manifest := fmt.Sprintf("%x  %s\n", sha256.Sum256(data), store.ModelFile)
	if err := os.WriteFile(filepath.Join(tmp, store.ModelFile), data, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, store.ManifestFile), []byte(manifest), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, strconv.Itoa(next))); err != nil {
		tb.Fatal(err)
	}
	return next
}

const fixtureRules = `
groups:
  - {name: fit, limit: 50, grades: {C: 10, B: 20, A: 35}}
  - {name: engagement, limit: 80, levels: {3: 10, 2: 25, 1: 45}}
rules:
  - name: Software
    group: fit
    points: 30
    when: {industry: Software}
  - name: Visits
    group: engagement
    property: visits
    ranges:
      - {between: [2, 5], points: 10}
      - {at_least: 6, points: 40}
  - name: Webinar
    group: engagement
    points: 5
    when: {webinar: "yes"}
`

// fixture is a store with one published version of model "lead", a rules file and a registry over
// both, refreshed once.
type fixture struct {
	st    *store.Store
	rules string
	reg   *Registry
}

func newFixture(tb testing.TB, ropts RegistryOptions) *fixture {
	tb.Helper()
	dir := tb.TempDir()
	fx := &fixture{st: store.OpenDir(filepath.Join(dir, "models")), rules: filepath.Join(dir, "rules.yaml")}
	if err := os.MkdirAll(fx.st.Dir(), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(fx.rules, []byte(fixtureRules), 0o644); err != nil {
		tb.Fatal(err)
	}
	mustPublish(tb, fx.st, "lead", mustArtifact(tb, -1))
	if ropts.RulesFile == "" {
		ropts.RulesFile = fx.rules
	}
	reg, err := NewRegistry(fx.st, ropts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
	fx.reg = reg
	return fx
}

// mustRefresh refreshes the registry and fails the test on error.
func (fx *fixture) mustRefresh(tb testing.TB) {
	tb.Helper()
	if err := fx.reg.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// startBufconn serves srv over an in-memory listener and returns a connection to it; both are closed
// when the test ends.
func startBufconn(tb testing.TB, srv *Server, dial ...grpc.DialOption) *grpc.ClientConn {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(lis) }()
	dial = append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, dial...)
	conn, err := grpc.NewClient("passthrough:///bufnet", dial...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Close()
		srv.Shutdown(time.Second)
	})
	return conn
}

// startTCP serves srv on a loopback port and returns its address.
func startTCP(tb testing.TB, srv *Server) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(func() { srv.Shutdown(time.Second) })
	return lis.Addr().String()
}

// mustServer builds a server over reg.
func mustServer(tb testing.TB, reg *Registry, opts Options) *Server {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixtureAsOf }
	}
	srv, err := New(reg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

// str, num, flag and ts build wire values.
func str(s string) *leadscorev1.Value {
	return &leadscorev1.Value{Kind: &leadscorev1.Value_StringValue{StringValue: s}}
}
func num(f float64) *leadscorev1.Value {
	return &leadscorev1.Value{Kind: &leadscorev1.Value_NumberValue{NumberValue: f}}
}
func flag(b bool) *leadscorev1.Value {
	return &leadscorev1.Value{Kind: &leadscorev1.Value_BoolValue{BoolValue: b}}
}

// sampleContact is a contact of the fixture's schema.
func sampleContact() *leadscorev1.Contact {
	return &leadscorev1.Contact{Id: "C1", Properties: map[string]*leadscorev1.Value{
		"industry":     str("Software"),
		"employees":    num(120),
		"visits":       num(7),
		"unsubscribed": flag(false),
	}}
}

// contactFromProto converts a wire contact into a contact with a property map, as the server's values
// (valueFromProto), for tests that score it through the map path (models.Artifact.Predict) to check
// the server's answer, which converts it into a row (borrowRow). Unset values are left out (missing); NaN or infinite numbers and out-of-range
// timestamps are a *features.PropertyError wrapping features.ErrNotFinite, whatever the property,
// because no column or rule can use them.
func contactFromProto(pc *leadscorev1.Contact) (features.Contact, error) {
	c := features.Contact{ID: pc.GetId(), Props: make(map[string]features.Value, len(pc.GetProperties()))}
	if err := checkSize(pc); err != nil {
		return c, err
	}
	for name, v := range pc.GetProperties() {
		fv, err := valueFromProto(name, v)
		if err != nil {
			return c, err
		}
		if !fv.Missing() {
			c.Props[name] = fv
		}
	}
	return c, nil
}
