package main

import (
	"io"
	"strings"
	"testing"
)

// TestServeFlagsFromEnv checks that every serve flag is read from its LEADSCORE_ variable when the
// command line does not set it, that the command line wins, and that a bad value names the variable.
func TestServeFlagsFromEnv(t *testing.T) {
	t.Setenv("LEADSCORE_HTTP_ADDR", "127.0.0.1:8080")
	t.Setenv("LEADSCORE_MAX_BATCH", "77")
	t.Setenv("LEADSCORE_SHUTDOWN_DELAY", "3s")
	t.Setenv("LEADSCORE_LENIENT", "true")
	t.Setenv("LEADSCORE_ADDR", "127.0.0.1:1") // the command line wins
	cmd := newServeCmd(io.Discard, io.Discard)
	if err := cmd.ParseFlags([]string{"--addr", "127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	if err := flagsFromEnv(cmd.Flags()); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{
		"http-addr": "127.0.0.1:8080", "max-batch": "77", "shutdown-delay": "3s", "lenient": "true",
		"addr": "127.0.0.1:2", "drain": "10s",
	} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}

	t.Setenv("LEADSCORE_MAX_CONCURRENT", "lots")
	cmd = newServeCmd(io.Discard, io.Discard)
	err := flagsFromEnv(cmd.Flags())
	if err == nil || !strings.Contains(err.Error(), `LEADSCORE_MAX_CONCURRENT="lots"`) {
		t.Errorf("bad value: got %v, want an error naming LEADSCORE_MAX_CONCURRENT", err)
	}
}
