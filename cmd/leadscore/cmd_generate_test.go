package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/leadscore/leadscore/train/dataset"
	"github.com/leadscore/leadscore/train/synth"
)

func TestGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		args    []string
		usage   bool   // want a usage error
		out     string // file to check, relative to dir
		rows    int
		columns int
		open    string // the open count the summary must report, as a regexp
	}{
		{"parquet with truth", []string{"--rows", "300", "--seed", "2", "--with-truth", "--out", "a.parquet"}, false, "a.parquet", 300, 26, `\d+`},
		{"csv without truth", []string{"--rows", "200", "--out", "b.csv"}, false, "b.csv", 200, 25, `\d+`},
		{"no open contacts", []string{"--rows", "200", "--open-share", "0", "--out", "c.csv"}, false, "c.csv", 200, 25, `0`},
		{"pathologies", []string{"--rows", "200", "--trend", "2", "--sequence", "--won-only", "--status-tags", "--out", "p.csv"}, false, "p.csv", 200, 28, `\d+`},
		{"missing --out", []string{"--rows", "10"}, true, "", 0, 0, ""},
		{"zero rows", []string{"--rows", "0", "--out", "d.csv"}, true, "", 0, 0, ""},
		{"open share above 1", []string{"--open-share", "1.5", "--out", "d.csv"}, true, "", 0, 0, ""},
		{"unknown format", []string{"--rows", "10", "--out", "d.json"}, true, "", 0, 0, ""},
		{"bad flag", []string{"--rows", "many", "--out", "d.csv"}, true, "", 0, 0, ""},
		{"extra argument", []string{"--out", "d.csv", "more"}, true, "", 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"generate"}, tc.args...)
			for i, a := range args {
				if i > 0 && args[i-1] == "--out" {
					args[i] = filepath.Join(dir, a)
				}
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			var u usageError
			if got := errors.As(err, &u); got != tc.usage {
				t.Fatalf("run %v: error %v, want usage error %v", tc.args, err, tc.usage)
			}
			if tc.usage {
				return
			}
			if err != nil {
				t.Fatalf("run %v: %v", tc.args, err)
			}
			path := filepath.Join(dir, tc.out)
			want := regexp.MustCompile(`^wrote \d+ contacts to ` + regexp.QuoteMeta(path) +
				`: \d+ won, \d+ lost, ` + tc.open + ` open \(\d+\.\d% of closed won\)\n$`)
			if !want.MatchString(stdout.String()) {
				t.Errorf("stdout = %q, want it to match %s", stdout.String(), want)
			}
			f, err := dataset.ReadFile(path, dataset.ReadOptions{})
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			if f.Len() != tc.rows || len(f.Columns) != tc.columns {
				t.Errorf("read back %d rows x %d columns, want %d x %d", f.Len(), len(f.Columns), tc.rows, tc.columns)
			}
			if f.Column(synth.LabelColumn) == nil {
				t.Errorf("no column %q", synth.LabelColumn)
			}
		})
	}
}

func TestGenerateCommandDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		path := filepath.Join(dir, fmt.Sprintf("run%d.csv", i))
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{"generate", "--rows", "150", "--seed", "7", "--out", path}, &stdout, &stderr); err != nil {
			t.Fatalf("run: %v", err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = b
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Errorf("two runs with seed 7 wrote different files")
	}
}
