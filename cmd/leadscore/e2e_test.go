package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore/models"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/train/dataset"
)

const fixture = "../../testdata/contacts.parquet"

func mustRun(tb testing.TB, args ...string) string {
	tb.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		tb.Fatalf("leadscore %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// TestTrainScoreServeAgree trains through the CLI, scores the fixture with `leadscore score` and asks
// the gRPC server for the same contacts: the probabilities must be identical to the bit.
func TestTrainScoreServeAgree(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	out := mustRun(t, "train", "--data", fixture, "--label", "deal_stage", "--positive", "closedwon",
		"--models", store, "--name", "leads", "--time-column", "created_at", "--exclude", "true_probability",
		"--rules", "../../testdata/rules.yaml", "--json")
	var summary struct {
		Version int            `json:"version"`
		Metrics models.Metrics `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &summary); err != nil {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	if summary.Version != 1 || summary.Metrics.AUC < 0.8 || summary.Metrics.Manual == nil {
		t.Fatalf("train: version %d, AUC %.3f, manual %v; want version 1, AUC >= 0.8 and manual metrics", summary.Version, summary.Metrics.AUC, summary.Metrics.Manual)
	}
	// The reference time, as the serve request will send it.
	a, err := loadStored(store, "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	asOf := a.Spec.ReferenceTime
	scored := filepath.Join(dir, "scored.parquet")
	mustRun(t, "score", "--models", store, "--name", "leads", "--data", fixture, "--out", scored,
		"--id", "contact_id", "--rules", "../../testdata/rules.yaml", "--as-of", asOf.Format(time.RFC3339Nano))
	got, err := dataset.ReadFile(scored, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := dataset.ReadFile(fixture, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != data.Len() {
		t.Fatalf("score wrote %d rows for %d contacts", got.Len(), data.Len())
	}

	conn, err := grpc.NewClient(serveStore(t, store, serve.Options{}), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := leadscorev1.NewLeadScoringClient(conn)
	prob, manual, stage := got.Column("probability"), got.Column("manual_score"), got.Column("manual_stage")
	for i := 0; i < data.Len(); i += 97 {
		c := data.Contact(i, "contact_id")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := client.Predict(ctx, &leadscorev1.PredictRequest{Model: "leads", Contact: serve.ContactToProto(c), AsOf: timestamppb.New(asOf)})
		cancel()
		if err != nil {
			t.Fatalf("row %d: %v", i+1, err)
		}
		if resp.GetProbability() != prob.Num[i] {
			t.Errorf("row %d (%s): Predict %v, score %v", i+1, c.ID, resp.GetProbability(), prob.Num[i])
		}
		if m := resp.GetManual(); m != nil && manual.Valid[i] {
			if m.GetScore() != manual.Num[i] || m.GetStage().String() != stage.Str[i] {
				t.Errorf("row %d: manual %v %v from Predict, %v %v from score", i+1, m.GetScore(), m.GetStage(), manual.Num[i], stage.Str[i])
			}
		}
	}
}

// TestTrainLeavesNoVersionOnError checks that a failing train publishes nothing.
func TestTrainLeavesNoVersionOnError(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("a,deal_stage\n1,closedwon\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"malformed csv", []string{"--data", bad, "--label", "deal_stage", "--positive", "closedwon"}, "bad.csv"},
		{"missing label", []string{"--data", fixture, "--label", "nope", "--positive", "yes"}, "nope"},
		{"too few rows", []string{"--data", fixture, "--label", "deal_stage", "--positive", "closedwon", "--min-class", "100000"}, "too few"},
		{"one class", []string{"--data", fixture, "--label", "deal_stage", "--positive", "closedwon", "--negative", "nothing-like-this"}, "lost"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"train", "--models", store, "--name", "leads"}, tc.args...)
			var out, errOut bytes.Buffer
			err := run(context.Background(), args, &out, &errOut)
			if err == nil {
				t.Fatal("got no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(filepath.Join(store, "leads")); len(entries) != 0 {
				t.Errorf("a failed train left %d entries in the store", len(entries))
			}
		})
	}
}

// TestPublishGate refuses a much worse model unless --force.
func TestPublishGate(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	base := []string{"train", "--data", fixture, "--label", "deal_stage", "--positive", "closedwon", "--models", store, "--name", "leads", "--quiet"}
	mustRun(t, append(base, "--exclude", "true_probability")...)
	// Only two weak columns left: far below 95% of the first model's AUC.
	weak := append(base, "--exclude", "true_probability,visits,page_views,pricing_page_views,demo_page_views,email_clicks,email_opens,forms_bofu,forms_mofu,forms_tofu,days_since_last_activity,last_activity_at,job_title,email,industry,unsubscribed,careers_page_views,source,employees,annual_revenue")
	var out, errOut bytes.Buffer
	err := run(context.Background(), weak, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "worse") {
		t.Fatalf("weak model: got %v, want the publish gate to refuse", err)
	}
	mustRun(t, append(weak, "--force")...)
	versions, err := storedVersions(store, "leads")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 {
		t.Errorf("got %d versions, want 2 (the refused one never written)", len(versions))
	}
}

// TestRulesCheckAgainstModel checks a rules file against a trained model's schema.
func TestRulesCheckAgainstModel(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "models")
	mustRun(t, "train", "--data", fixture, "--label", "deal_stage", "--positive", "closedwon", "--models", store, "--name", "leads", "--quiet", "--c", "0.1")
	out := mustRun(t, "rules", "check", "--rules", "../../testdata/rules.yaml", "--models", store, "--name", "leads")
	if !strings.Contains(out, "every property the rules read is in model leads version 1") {
		t.Errorf("rules check against the model: %s", out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - name: x\n    points: 5\n    when: {no_such_prop: 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"rules", "check", "--rules", bad, "--models", store, "--name", "leads"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "no_such_prop") {
		t.Errorf("got %v, want an error naming line 4 and no_such_prop", err)
	}
}
