package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/leadscore/leadscore"
	"github.com/leadscore/leadscore/store"
)

// TestDemo runs `leadscore demo` as `make demo` does, but from this package's directory, where no
// testdata/ is at hand: it must run on its embedded data, train, serve, predict and end with the report.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out := mustRun(t, "demo", "--dir", dir)

	// The embedded contacts are the committed fixture, byte for byte.
	got, err := os.ReadFile(filepath.Join(dir, "contacts.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || !bytes.Equal(leadscore.DemoContacts, want) {
		sum := sha256.Sum256(got)
		t.Fatalf("demo contacts (sha256 %s) are not testdata/contacts.parquet", hex.EncodeToString(sum[:]))
	}
	for _, w := range []string{
		"5000 contacts: 549 won, 3691 lost, 760 still open", // testdata/README.md
		"Overall: 549 of 4,240 closed contacts became customers",
		"Published leads version 1",
		"CONTACT   OUTCOME  PROBABILITY",
		"Calling the top 20% by the predictive score reaches",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("demo output lacks %q:\n%s", w, out)
		}
	}
	// The generator's answer key is never learned from.
	a, err := store.OpenDir(filepath.Join(dir, "models")).Load(context.Background(), "leads", 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := a.Spec.Column("true_probability"); c != nil && c.Use {
		t.Error("the demo model uses true_probability")
	}
	// Six predictions over gRPC, each with both scores.
	rows := regexp.MustCompile(`(?m)^C\d+ +(WON|lost) +\d+\.\d% +(VERY_HIGH|HIGH|MEDIUM|LOW) +[A-D][1-4] +-?[\d.]+ +(LEAD|MQL|SQL) +\S`).FindAllString(out, -1)
	if len(rows) != 6 {
		t.Errorf("got %d prediction rows, want 6:\n%s", len(rows), out)
	}
	m := regexp.MustCompile(`(?m)^report: (.+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo did not end with the report path:\n%s", out)
	}
	html, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("<svg")) {
		t.Error("the report has no chart")
	}
	if _, err := os.Stat(filepath.Join(dir, "rules.yaml")); err != nil {
		t.Errorf("the demo's rules file: %v", err)
	}
}

// TestDemoModelsURL publishes the demo into a store given as a file:// URL, as it would into s3://.
func TestDemoModelsURL(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	mustRun(t, "demo", "--dir", filepath.Join(t.TempDir(), "demo"), "--models", "file://"+root)
	if _, err := loadStored(root, "leads", 1); err != nil {
		t.Fatalf("the demo's version in the store given: %v", err)
	}
	err := run(context.Background(), []string{"demo", "--dir", t.TempDir(), "--models", "ftp://host/models"}, io.Discard, io.Discard)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "ftp") {
		t.Errorf("demo --models ftp://: %v, want a usage error naming the scheme", err)
	}
}
