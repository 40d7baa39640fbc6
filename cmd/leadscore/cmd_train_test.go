package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// TestTrainMemoryLimit: --memory-limit takes a size (the run restores the process's limit when it
// returns), off and auto; anything else is a usage error naming the flag, given before any data is
// read and publishing nothing.
func TestTrainMemoryLimit(t *testing.T) {
	if prev := debug.SetMemoryLimit(-1); prev != math.MaxInt64 {
		t.Skipf("the test process runs under a memory limit (%d bytes)", prev)
	}
	store := filepath.Join(t.TempDir(), "models")
	var out bytes.Buffer
	err := run(context.Background(), []string{"train", "--data", fixture, "--label", "deal_stage", "--positive", "closedwon",
		"--models", store, "--name", "leads", "--memory-limit", "lots"}, &out, &out)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "--memory-limit") {
		t.Fatalf("--memory-limit lots: %v, want a usage error naming the flag", err)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("a refused --memory-limit left %s (%v)", store, err)
	}
	for i, limit := range []string{"3GiB", "off", "auto"} {
		if v := trainLeads(t, store, "--memory-limit", limit, "--force"); v != i+1 {
			t.Errorf("--memory-limit %s: version %d, want %d", limit, v, i+1)
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("after train --memory-limit %s the process's limit is %d, want none", limit, got)
		}
	}
}
