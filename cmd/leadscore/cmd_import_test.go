package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadscore/leadscore/features"
	"github.com/leadscore/leadscore/train/dataset"
)

func TestImport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(in, []byte("id;visits;won\r\n1001;3;yes\r\n1002;NA;no\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "contacts.parquet")
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"import", "--in", in, "--out", out, "--kind", "id=category"}, &stdout, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 rows, 3 columns", "id      category  0", "visits  number    1", "won     flag      0"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output %q lacks %q", stdout.String(), want)
		}
	}
	f, err := dataset.ReadFile(out, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Column("id"); c == nil || c.Kind != features.KindCategory || c.Str[1] != "1002" {
		t.Errorf("id column: got %+v, want categories 1001, 1002", c)
	}
}

func TestImportUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no input", []string{"import", "--out", "x.parquet"}},
		{"no output", []string{"import", "--in", "x.csv"}},
		{"bad kind", []string{"import", "--in", "x.csv", "--out", "x.parquet", "--kind", "a=text"}},
		{"argument", []string{"import", "x.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out, &out)
			var u usageError
			if !errors.As(err, &u) {
				t.Errorf("got %v, want a usage error", err)
			}
		})
	}
}
