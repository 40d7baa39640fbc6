package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/leadscore/leadscore"
	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/models/rules"
	leadscorev1 "github.com/leadscore/leadscore/proto/leadscore/v1"
	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/compare"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/report"
	"github.com/leadscore/leadscore/train/suggest"
	"github.com/leadscore/leadscore/train/synth"
)

// Config is one demo run. Its zero value needs only Dir.
type Config struct {
	Dir       string // working directory for the demo's files (required)
	RulesFile string // manual rules file; "": the embedded testdata/rules.yaml, written to Dir
	Models    string // store to publish into (a directory or URL); "": a fresh Dir/models
	Rows      int    // contacts to generate; 0: the embedded testdata/contacts.parquet
	Seed      uint64 // generator seed (with Rows) and split seed
	Version   string // leadscore's version, recorded in the model's provenance
}

// Run runs the demo, writing its steps for people to stdout and the server's warnings to stderr.
// A Models location with an unknown scheme is store.ErrUnknownScheme.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	step := func(format string, args ...any) { fmt.Fprintf(stdout, "\n== "+format+"\n\n", args...) }
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	storeDir := cfg.Models
	if storeDir == "" {
		storeDir = filepath.Join(cfg.Dir, "models")
		if err := os.RemoveAll(storeDir); err != nil {
			return err
		}
	}

	dataFile := filepath.Join(cfg.Dir, "contacts.parquet")
	var exclude []string
	if cfg.Rows > 0 {
		step("1. generate %d HubSpot-like contacts with a known truth (seed %d)", cfg.Rows, cfg.Seed)
		frame, err := synth.Generate(synth.Config{Rows: cfg.Rows, Seed: cfg.Seed})
		if err != nil {
			return err
		}
		if err := dataset.WriteFile(dataFile, frame); err != nil {
			return err
		}
	} else {
		step("1. the committed testdata/contacts.parquet: generated HubSpot-like contacts with a known truth")
		if err := writeBytes(dataFile, leadscore.DemoContacts); err != nil {
			return err
		}
		// The generator's own answer key: a model must not learn from it.
		exclude = []string{synth.TruthColumn}
	}
	frame, err := dataset.ReadFile(dataFile, dataset.ReadOptions{})
	if err != nil {
		return err
	}
	out := dataset.Outcome{Column: synth.LabelColumn, Positive: []string{synth.StageWon}, Negative: []string{synth.StageLost}}
	labels, counts, err := out.Labels(frame)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d contacts: %d won, %d lost, %d still open (left out of learning)\n", dataFile, frame.Len(), counts.Won, counts.Lost, counts.Open)

	step("2. lead-to-customer conversion rates (the three strongest attributes)")
	rates, err := features.ComputeRates(frame, labels, features.RateOptions{Exclude: append([]string{synth.LabelColumn}, exclude...)})
	if err != nil {
		return err
	}
	top := *rates
	top.Tables = top.Tables[:min(3, len(top.Tables))]
	top.Skipped = nil
	if err := report.WriteRatesText(stdout, &top); err != nil {
		return err
	}

	rulesFile := cfg.RulesFile
	if rulesFile == "" {
		rulesFile = filepath.Join(cfg.Dir, "rules.yaml")
		if err := writeBytes(rulesFile, leadscore.DemoRules); err != nil {
			return err
		}
	}
	rs, err := rules.ReadFile(rulesFile)
	if err != nil {
		return err
	}

	step("3. train on closed deals, holding out the latest 20%% by created_at")
	res, err := train.Train(ctx, frame, labels, train.Config{Label: synth.LabelColumn, TimeColumn: "created_at", Seed: cfg.Seed, Rules: rs, Exclude: exclude})
	if err != nil {
		return err
	}
	a := res.Artifact
	if a.Provenance, err = train.NewProvenance(dataFile, frame, out, counts, res, cfg.Seed, cfg.Version); err != nil {
		return err
	}
	st, err := store.Open(ctx, storeDir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	v, gate, err := train.Publish(ctx, st, "leads", res, labels, train.PublishOptions{})
	if gate != nil {
		train.WriteSummary(stdout, a, res, counts, gate)
	}
	if err != nil {
		return err
	}

	step("4. serve it over gRPC on loopback and ask for a few holdout contacts")
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg, err := serve.NewRegistry(st, serve.RegistryOptions{RulesFile: rulesFile, Logger: log})
	if err != nil {
		return err
	}
	if err := reg.Refresh(ctx); err != nil {
		return err
	}
	srv, err := serve.New(reg, serve.Options{Logger: log})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Shutdown(2 * time.Second)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := leadscorev1.NewLeadScoringClient(conn)
	fmt.Fprintf(stdout, "serving %s version %d on %s\n\n", a.Name, v, lis.Addr())

	shown := picks(res.HoldoutRows, labels, 6)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTACT\tOUTCOME\tPROBABILITY\tPRIORITY\tFIT/ENG\tMANUAL\tSTAGE\tTOP REASON")
	for _, i := range shown {
		c := frame.Contact(i, "contact_id")
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := client.Predict(callCtx, &leadscorev1.PredictRequest{
			Model: a.Name, Contact: serve.ContactToProto(c), AsOf: timestamppb.New(a.Spec.ReferenceTime),
		})
		cancel()
		if err != nil {
			return fmt.Errorf("demo: predict %s: %w", c.ID, err)
		}
		outcome := "lost"
		if labels[i] == features.Won {
			outcome = "WON"
		}
		manual, stage := "-", "-"
		if m := resp.GetManual(); m != nil {
			manual, stage = fmt.Sprintf("%g", m.GetScore()), m.GetStage().String()
		}
		reason, strongest := "", 0.0
		for _, r := range resp.GetReasons() {
			if c := math.Abs(r.GetContribution()); c > strongest {
				reason, strongest = r.GetText(), c
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%s\t%s%d\t%s\t%s\t%s\n", c.ID, outcome, 100*resp.GetProbability(), resp.GetPriority(),
			resp.GetFitGrade(), resp.GetEngagementLevel(), manual, stage, reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	step("5. compare the predictive and the manual score on the holdout")
	rep, err := compare.Build(a, rs, frame, labels, res.HoldoutRows, a.Spec.ReferenceTime)
	if err != nil {
		return err
	}
	if sug, err := suggest.FromModel(a, frame, res.TrainRows, suggest.Options{Current: rs}); err == nil {
		rep.AddSuggested(sug, frame, labels)
		fmt.Fprintf(stdout, "rules suggested from the model: holdout AUC %.3f (manual %.3f, model %.3f)\n\n",
			rep.Suggested.AUC, rep.Headline.Manual.AUC, rep.Headline.Predictive.AUC)
	} else {
		fmt.Fprintf(stdout, "(no suggested rules: %v)\n", err)
	}
	rep.Summary(stdout)
	htmlPath, err := rep.WriteFiles(filepath.Join(cfg.Dir, "report"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nreport: %s\n", htmlPath)
	fmt.Fprintf(stdout, "\nTry it yourself:\n  ./bin/leadscore serve --models %s --rules %s\n  ./bin/leadscore predict --addr 127.0.0.1:50051 --model leads --contact '{\"job_title\":\"VP Sales\",\"visits\":12,\"forms_bofu\":1}'\n", storeDir, rulesFile)
	return nil
}

// writeBytes writes b to path atomically.
func writeBytes(path string, b []byte) error {
	return dataset.WriteAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// picks chooses n holdout rows spread over the range of outcomes: won and lost alternately.
func picks(hold []int, labels []features.Label, n int) []int {
	var won, lost []int
	for _, i := range hold {
		if labels[i] == features.Won {
			won = append(won, i)
		} else {
			lost = append(lost, i)
		}
	}
	var out []int
	for k := 0; len(out) < n && (k < len(won) || k < len(lost)); k++ {
		if k < len(won) {
			out = append(out, won[k*len(won)/n%len(won)])
		}
		if k < len(lost) && len(out) < n {
			out = append(out, lost[k*len(lost)/n%len(lost)])
		}
	}
	return slices.Compact(out)
}
