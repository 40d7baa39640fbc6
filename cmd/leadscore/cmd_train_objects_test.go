package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/leadscore/leadscore/internal/s3test"
	"github.com/leadscore/leadscore/store"
	"github.com/leadscore/leadscore/train"
	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/synth"
)

// TestTrainFromObjectStorage trains from Parquet parts on a real S3 server (versitygw) and from the
// same parts on disk: the models are the same, the provenance records the URL and the bytes' SHA-256,
// and compare finds the holdout again by reading the data back from the server.
func TestTrainFromObjectStorage(t *testing.T) {
	srv := s3test.Start(t)
	srv.SetEnv(t)
	f, err := synth.Generate(synth.Config{Rows: 3000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "export")
	remote := filepath.Join(srv.Dir(), "export")
	for _, dir := range []string{local, remote} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := dataset.WriteFile(filepath.Join(dir, "part-0.parquet"), f.Slice(0, 1200)); err != nil {
			t.Fatal(err)
		}
		if err := dataset.WriteFile(filepath.Join(dir, "part-1.parquet"), f.Slice(1200, 3000)); err != nil {
			t.Fatal(err)
		}
	}
	url := srv.URL("export", "")
	train1 := func(data string) (*store.Store, string) {
		t.Helper()
		root := filepath.Join(t.TempDir(), "models")
		var stdout, stderr bytes.Buffer
		args := []string{"train", "--data", data, "--label", "deal_stage", "--positive", "closedwon", "--negative", "closedlost",
			"--time-column", "created_at", "--models", root, "--name", "leads", "--quiet", "--json"}
		if err := run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("train --data %s: %v\n%s", data, err, stderr.String())
		}
		return store.OpenDir(root), root
	}
	stLocal, _ := train1(local)
	stRemote, root := train1(url)
	a, err := stLocal.Load(context.Background(), "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := stRemote.Load(context.Background(), "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := train.FileSHA256(local)
	if err != nil {
		t.Fatal(err)
	}
	if b.Provenance.DataFile != url || b.Provenance.DataSHA256 != sum {
		t.Errorf("provenance: data %q, sha256 %s; want %q and the local parts' %s", b.Provenance.DataFile, b.Provenance.DataSHA256, url, sum)
	}
	if !reflect.DeepEqual(a.Weights, b.Weights) || a.Intercept != b.Intercept || !reflect.DeepEqual(a.Metrics, b.Metrics) {
		t.Errorf("trained from S3: intercept %v, AUC %v; from disk: %v, %v", b.Intercept, b.Metrics.AUC, a.Intercept, a.Metrics.AUC)
	}
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "report")
	if err := run(context.Background(), []string{"compare", "--models", root, "--name", "leads", "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("compare of a model trained from S3: %v\n%s", err, stderr.String())
	}
}
