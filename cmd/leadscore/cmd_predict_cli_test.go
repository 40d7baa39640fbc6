package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
)

// startServer trains "leads" into a new store, with last_activity_at's recency asked for and allowed
// (so that the time a contact is scored at matters), and serves it on loopback with the repository's
// rules file and a clock fixed at the model's reference time. It returns the address.
func startServer(tb testing.TB) string {
	tb.Helper()
	store := filepath.Join(tb.TempDir(), "models")
	trainLeads(tb, store, "--recency", "last_activity_at", "--allow", "last_activity_at")
	a, err := loadStored(store, "leads", 1)
	if err != nil {
		tb.Fatal(err)
	}
	now := a.Spec.ReferenceTime
	return serveStore(tb, store, serve.Options{Now: func() time.Time { return now }})
}

// serveStore serves the model store at dir on a loopback port with the repository's rules file until
// the test ends, and returns the address.
func serveStore(tb testing.TB, dir string, opts serve.Options) string {
	tb.Helper()
	reg, err := serve.NewRegistry(store.OpenDir(dir), serve.RegistryOptions{RulesFile: rulesFixture})
	if err != nil {
		tb.Fatal(err)
	}
	if err := reg.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
	srv, err := serve.New(reg, opts)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(func() { srv.Shutdown(time.Second) })
	return lis.Addr().String()
}

// predictContactJSON is an engaged executive at a target-industry company; predictContact is the
// same contact built by hand, as a client other than the CLI would send it.
const predictContactJSON = `{"contact_id": "C-42", "job_title": "VP Marketing", "email": "ana@acme-software.com",
	"industry": "Computer Software", "employees": 350, "visits": 9, "page_views": 40, "pricing_page_views": 3,
	"forms_bofu": 1, "email_clicks": 2, "unsubscribed": false, "source": "Referrals",
	"created_at": "2025-06-01T00:00:00Z", "last_activity_at": "2025-12-20T00:00:00Z"}`

func predictContact() *leadscorev1.Contact {
	str := func(s string) *leadscorev1.Value {
		return &leadscorev1.Value{Kind: &leadscorev1.Value_StringValue{StringValue: s}}
	}
	num := func(f float64) *leadscorev1.Value {
		return &leadscorev1.Value{Kind: &leadscorev1.Value_NumberValue{NumberValue: f}}
	}
	return &leadscorev1.Contact{Id: "C-42", Properties: map[string]*leadscorev1.Value{
		"contact_id": str("C-42"), "job_title": str("VP Marketing"), "email": str("ana@acme-software.com"),
		"industry": str("Computer Software"), "employees": num(350), "visits": num(9), "page_views": num(40),
		"pricing_page_views": num(3), "forms_bofu": num(1), "email_clicks": num(2),
		"unsubscribed": {Kind: &leadscorev1.Value_BoolValue{BoolValue: false}}, "source": str("Referrals"),
		"created_at": str("2025-06-01T00:00:00Z"), "last_activity_at": str("2025-12-20T00:00:00Z"),
	}}
}

// directPredict asks the server at addr for model leads' answer without the CLI.
// A zero asOf leaves the request's as_of unset.
func directPredict(tb testing.TB, addr string, c *leadscorev1.Contact, asOf time.Time) *leadscorev1.PredictResponse {
	tb.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := &leadscorev1.PredictRequest{Model: "leads", Contact: c}
	if !asOf.IsZero() {
		req.AsOf = timestamppb.New(asOf)
	}
	resp, err := leadscorev1.NewLeadScoringClient(conn).Predict(ctx, req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// TestPredictCLI runs `leadscore predict` against a real server and checks its answers against a
// direct gRPC Predict of the same contact.
func TestPredictCLI(t *testing.T) {
	addr := startServer(t)
	want := directPredict(t, addr, predictContact(), time.Time{})
	m := want.GetManual()
	if m == nil || m.GetExcluded() || len(want.GetReasons()) == 0 {
		t.Fatalf("direct Predict: manual %v, %d reasons; want a manual score and reasons", m, len(want.GetReasons()))
	}

	t.Run("text", func(t *testing.T) {
		out := mustRun(t, "predict", "--addr", addr, "--model", "leads", "--contact", predictContactJSON)
		wantParts := []string{
			"model        leads version 1\n",
			"contact      C-42\n",
			fmt.Sprintf("probability  %.1f%%\n", 100*want.GetProbability()),
			"priority     " + want.GetPriority().String() + "\n",
			fmt.Sprintf("manual       %g points, stage %s,", m.GetScore(), m.GetStage()),
			"\nmanual rules matched\n",
			"  +50  Bottom-of-funnel form (demo or quote request)",
			"\nreasons\n",
		}
		for _, w := range wantParts {
			if !strings.Contains(out, w) {
				t.Errorf("predict output does not contain %q:\n%s", w, out)
			}
		}
		// Each reason on its own line: contribution, property = value, sentence, padded by tabwriter.
		for _, r := range want.GetReasons() {
			line := `(?m)^  ` + regexp.QuoteMeta(fmt.Sprintf("%+.2f", r.GetContribution())) + ` +` +
				regexp.QuoteMeta(r.GetProperty()+" = "+r.GetValue()) + ` +` + regexp.QuoteMeta(r.GetText()) + `$`
			if !regexp.MustCompile(line).MatchString(out) {
				t.Errorf("predict output has no line for reason %v:\n%s", r, out)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		out := mustRun(t, "predict", "--addr", addr, "--model", "leads", "--contact", predictContactJSON, "--json")
		got := &leadscorev1.PredictResponse{}
		if err := protojson.Unmarshal([]byte(out), got); err != nil {
			t.Fatalf("predict --json: %v\n%s", err, out)
		}
		// Same contact, same clock: the same answer to the bit.
		if got.GetProbability() != want.GetProbability() {
			t.Errorf("probability %v from the CLI, %v from Predict", got.GetProbability(), want.GetProbability())
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("predict --json (-Predict +CLI):\n%s", diff)
		}
	})

	t.Run("as of", func(t *testing.T) {
		// A year after the reference time the recency features have aged: the CLI must send --as-of
		// for its answer to be the one Predict gives for that time, not for the server's clock.
		asOf := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
		out := mustRun(t, "predict", "--addr", addr, "--model", "leads", "--json", "--as-of", asOf.Format(time.RFC3339),
			"--contact", predictContactJSON)
		got := &leadscorev1.PredictResponse{}
		if err := protojson.Unmarshal([]byte(out), got); err != nil {
			t.Fatalf("predict --json: %v\n%s", err, out)
		}
		later := directPredict(t, addr, predictContact(), asOf)
		if got.GetProbability() != later.GetProbability() {
			t.Errorf("probability %v from the CLI, %v from Predict as of %v", got.GetProbability(), later.GetProbability(), asOf)
		}
		if later.GetProbability() == want.GetProbability() {
			t.Fatalf("probability %v both at the reference time and a year later: the case tests nothing", want.GetProbability())
		}
	})

	errTests := []struct {
		name     string
		args     []string
		code     codes.Code // codes.OK: not a gRPC error
		usage    bool
		wantText string
	}{
		{"unknown model", []string{"--model", "nope", "--contact", `{}`}, codes.NotFound, false, `"nope"`},
		{"unknown version", []string{"--model", "leads", "--version", "9", "--contact", `{}`}, codes.NotFound, false, "version 9"},
		{"unknown label", []string{"--model", "leads", "--label", "canary", "--contact", `{}`}, codes.NotFound, false, `"canary"`},
		{"contact not an object", []string{"--model", "leads", "--contact", `[1]`}, codes.OK, true, "not a JSON object"},
		{"no model", []string{"--contact", `{}`}, codes.OK, true, "--model"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"predict", "--addr", addr}, tt.args...), &out, &errOut)
			if err == nil {
				t.Fatalf("got no error, output %q", out.String())
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %s", err, tt.wantText)
			}
			if tt.code != codes.OK {
				if got := status.Code(err); got != tt.code {
					t.Errorf("code %v, want %v (error %v)", got, tt.code, err)
				}
				if !strings.Contains(err.Error(), tt.code.String()) {
					t.Errorf("error %q does not say %v", err, tt.code)
				}
			}
			var u usageError
			if got := errors.As(err, &u); got != tt.usage {
				t.Errorf("usage error %v, want %v", got, tt.usage)
			}
		})
	}
}
