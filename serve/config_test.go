package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestNewLogger checks --log-format and --log-level.
func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "json", "warn")
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
		if _, err := NewLogger(&buf, bad[0], bad[1]); err == nil {
			t.Errorf("NewLogger(%q, %q): no error", bad[0], bad[1])
		}
	}
}

func TestMemoryLimitFlag(t *testing.T) {
	if got, err := (Config{MemoryLimit: "off"}).memoryLimit(); got != 0 || err != nil {
		t.Errorf("memoryLimit(off) = %d, %v", got, err)
	}
	if got, err := (Config{MemoryLimit: "2GiB"}).memoryLimit(); got != 2<<30 || err != nil {
		t.Errorf("memoryLimit(2GiB) = %d, %v", got, err)
	}
	var ce *ConfigError
	if _, err := (Config{MemoryLimit: "lots"}).memoryLimit(); !errors.As(err, &ce) || !strings.Contains(err.Error(), "memory-limit") {
		t.Errorf("memoryLimit(lots) = %v, want a ConfigError naming memory-limit", err)
	}
}

func TestRulesFlags(t *testing.T) {
	shared, own, err := splitRules([]string{"rules.yaml", "leads=leads.yaml", "b2c=/etc/b2c=x.yaml"})
	if err != nil || shared != "rules.yaml" || len(own) != 2 || own["leads"] != "leads.yaml" || own["b2c"] != "/etc/b2c=x.yaml" {
		t.Errorf("got %q %v %v", shared, own, err)
	}
	for _, bad := range [][]string{{"a.yaml", "b.yaml"}, {"leads=a.yaml", "leads=b.yaml"}, {"leads="}} {
		if _, _, err := splitRules(bad); err == nil {
			t.Errorf("splitRules(%q): no error", bad)
		}
	}
}

// TestConfigValidate checks that DefaultConfig with a store is valid and that each bad option is a
// *ConfigError naming it.
func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Models = t.TempDir()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, tt := range []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"no store", func(c *Config) { c.Models = "" }, "serve: --models is required"},
		{"cert without key", func(c *Config) { c.TLSCert = "c.pem" }, "serve: --tls-cert and --tls-key go together"},
		{"zero poll", func(c *Config) { c.Poll = 0 }, "serve: --poll, --retire-after and --max-batch must be positive"},
		{"negative drain", func(c *Config) { c.Drain = -1 }, "serve: --drain, --shutdown-delay and --max-connection-age must not be negative"},
		{"bad size", func(c *Config) { c.MemoryLimit = "lots" }, `serve: --memory-limit "lots" is not a size (such as 512MiB, 2GiB or a number of bytes), auto or off`},
		{"bad level", func(c *Config) { c.LogLevel = "loud" }, `serve: --log-level "loud": want debug, info, warn or error`},
		{"two shared rules", func(c *Config) { c.Rules = []string{"a.yaml", "b.yaml"} }, "serve: --rules has two files for every model (a.yaml, b.yaml); name a model with NAME=FILE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.set(&c)
			var ce *ConfigError
			if err := c.Validate(); !errors.As(err, &ce) || ce.Named("--") != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
