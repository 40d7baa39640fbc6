package main

import (
	"bytes"
	"encoding/json"
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

// TestNewLogger checks --log-format and --log-level.
func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "model", "lead")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "shown" || rec["model"] != "lead" || rec["level"] != "WARN" {
		t.Errorf("json at warn wrote %q (%v)", buf.String(), err)
	}
	for _, bad := range [][2]string{{"xml", "info"}, {"text", "loud"}} {
		if _, err := newLogger(&buf, bad[0], bad[1]); err == nil {
			t.Errorf("newLogger(%q, %q): no error", bad[0], bad[1])
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"512MiB": 512 << 20, "2GiB": 2 << 30, "2g": 2 << 30, "300M": 300 << 20, "1.5GiB": 3 << 29,
		"500MB": 500e6, "1073741824": 1 << 30, "64KiB": 64 << 10,
	} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"lots", "-1GiB", "0", "MiB", "1e30GiB"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q): no error", bad)
		}
	}
	if got, err := memoryLimit("off"); got != 0 || err != nil {
		t.Errorf("memoryLimit(off) = %d, %v", got, err)
	}
}

func TestRulesFlags(t *testing.T) {
	shared, own, err := rulesFlags([]string{"rules.yaml", "leads=leads.yaml", "b2c=/etc/b2c=x.yaml"})
	if err != nil || shared != "rules.yaml" || len(own) != 2 || own["leads"] != "leads.yaml" || own["b2c"] != "/etc/b2c=x.yaml" {
		t.Errorf("got %q %v %v", shared, own, err)
	}
	for _, bad := range [][]string{{"a.yaml", "b.yaml"}, {"leads=a.yaml", "leads=b.yaml"}, {"leads="}} {
		if _, _, err := rulesFlags(bad); err == nil {
			t.Errorf("rulesFlags(%q): no error", bad)
		}
	}
}
