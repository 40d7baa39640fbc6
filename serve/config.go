package serve

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/leadscore/leadscore/internal/memlimit"
)

// EnvPrefix starts the environment variables that set a Config's options: LEADSCORE_ and the option's
// name in capitals with _ for - (see EnvName).
const EnvPrefix = "LEADSCORE_"

// EnvName is the environment variable of an option: LEADSCORE_HTTP_ADDR for http-addr.
func EnvName(option string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(option, "-", "_"))
}

// Config is a whole server as Run runs it: the store, its listeners, limits and logs. Each field
// names, in brackets, its option: the name of the `leadscore serve` flag and of the environment
// variable (EnvName) that set it, and the name a *ConfigError uses. DefaultConfig gives the defaults.
type Config struct {
	Models      string        // [models] the model store: a directory or a store URL (required)
	CacheDir    string        // [cache-dir] keeps verified files of an object store; "": no cache
	RetireAfter time.Duration // [retire-after] how long a model removed from the store keeps serving
	// Rules are manual rules files [rules]: at most one for every model, and NAME=FILE for model NAME
	// only (a value that names an existing file is a file for every model even when it holds "=").
	Rules []string

	Addr        string // [addr] the gRPC listen address
	HTTPAddr    string // [http-addr] also serve the REST/JSON API here; "": not
	MetricsAddr string // [metrics-addr] serve Prometheus metrics at /metrics here; "": not
	HealthAddr  string // [health-addr] also serve plaintext gRPC health checks only here; "": not

	TLSCert, TLSKey string // [tls-cert, tls-key] serve TLS with this certificate and key (PEM)
	ClientCA        string // [client-ca] require client certificates signed by this CA
	AuthTokenFile   string // [auth-token-file] require a bearer token of this file (see Options)

	Poll             time.Duration // [poll] how often to look for new versions and rules
	Drain            time.Duration // [drain] how long calls in flight may finish on shutdown
	ShutdownDelay    time.Duration // [shutdown-delay] see Options.ShutdownDelay
	MaxConnectionAge time.Duration // [max-connection-age] see Options.MaxConnectionAge

	Strict, Lenient  bool // [strict, lenient] see Options
	MaxBatch         int  // [max-batch] see Options
	MaxConcurrent    int  // [max-concurrent] see Options
	MaxBatchContacts int  // [max-batch-contacts] see Options
	MaxResponseBytes int  // [max-response-bytes] see Options

	// MemoryLimit [memory-limit] is the Go runtime's soft memory limit (as GOMEMLIMIT): a size such as
	// 512MiB or 2GiB; "auto" is 90% of the container's memory limit when there is one and GOMEMLIMIT is
	// not set; "off" is none (memlimit.Resolve).
	MemoryLimit string
	// GCPercent [gc-percent] is the collector's target percentage (as GOGC), ignored when GOGC is set;
	// 0 leaves the runtime's. The server keeps little live memory (a few MB of models), so GOGC=100
	// collects very often under load; 400 cut server CPU per call by 10-25% in
	// scripts/bench/serve-vs-trivial.sh.
	GCPercent int

	LogFormat string // [log-format] text or json
	LogLevel  string // [log-level] debug, info, warn or error
	// RequestLog [request-log] is a file the JSON request log is appended to; "-" is Run's stdout,
	// "" none. RequestLogSample [request-log-sample] and RequestLogProperties
	// [request-log-properties] are those of Options.
	RequestLog           string
	RequestLogSample     float64
	RequestLogProperties bool
}

// DefaultConfig returns the defaults of every option; only Models is left to set.
func DefaultConfig() Config {
	return Config{
		CacheDir: defaultCacheDir(), RetireAfter: 5 * time.Minute, Addr: "127.0.0.1:50051",
		Poll: 2 * time.Second, Drain: 10 * time.Second,
		MaxBatch: DefaultMaxBatch, MaxConcurrent: DefaultMaxConcurrent, MaxBatchContacts: DefaultMaxBatchContacts,
		MaxResponseBytes: DefaultMaxResponseBytes, MemoryLimit: "auto", GCPercent: 400,
		LogFormat: "text", LogLevel: "info", RequestLogSample: 1,
	}
}

// defaultCacheDir is the user's cache directory's leadscore/models, or "" when there is none.
func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "leadscore", "models")
}

// ConfigError is an option of a Config that is missing or wrong.
type ConfigError struct {
	Options []string // the options at fault, by name (see Config)
	Problem string   // what is wrong with them
}

// Error names the options as they are; Named prefixes them, with "--" for flags.
func (e *ConfigError) Error() string { return e.Named("") }

// Named is the message with each option's name after prefix: "serve: --tls-cert and --tls-key go
// together" for prefix "--".
func (e *ConfigError) Named(prefix string) string {
	names := make([]string, len(e.Options))
	for i, o := range e.Options {
		names[i] = prefix + o
	}
	list := strings.Join(names, ", ")
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return "serve: " + list + " " + e.Problem
}

func configError(problem string, options ...string) error {
	return &ConfigError{Options: options, Problem: problem}
}

// Validate reports the first option that is missing or out of range as a *ConfigError.
func (c Config) Validate() error {
	switch {
	case c.Models == "":
		return configError("is required", "models")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return configError("go together", "tls-cert", "tls-key")
	case c.ClientCA != "" && c.TLSCert == "":
		return configError("needs a TLS certificate and key", "client-ca")
	case c.RequestLogSample <= 0 || c.RequestLogSample > 1:
		return configError("must be in (0, 1]", "request-log-sample")
	case c.Poll <= 0 || c.RetireAfter <= 0 || c.MaxBatch <= 0:
		return configError("must be positive", "poll", "retire-after", "max-batch")
	case c.Drain < 0 || c.ShutdownDelay < 0 || c.MaxConnectionAge < 0:
		return configError("must not be negative", "drain", "shutdown-delay", "max-connection-age")
	case c.MaxConcurrent == 0:
		return configError("must not be 0", "max-concurrent")
	}
	if _, err := c.memoryLimit(); err != nil {
		return err
	}
	if _, _, err := splitRules(c.Rules); err != nil {
		return err
	}
	_, err := NewLogger(io.Discard, c.LogFormat, c.LogLevel)
	return err
}

// NewLogger returns a logger writing format ("text" or "json") at level (debug, info, warn, error)
// to w; another format or level is a *ConfigError.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, configError(fmt.Sprintf("%q: want debug, info, warn or error", level), "log-level")
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, configError(fmt.Sprintf("%q: want text or json", format), "log-format")
}

// memoryLimit is MemoryLimit in bytes: 0 for none (memlimit.Resolve).
func (c Config) memoryLimit() (int64, error) {
	n, err := memlimit.Resolve(c.MemoryLimit)
	if err != nil {
		return 0, configError(err.Error(), "memory-limit")
	}
	return n, nil
}

// splitRules splits Config.Rules into the file of every model and the files of single models.
func splitRules(values []string) (shared string, own map[string]string, err error) {
	for _, v := range values {
		name, file, ok := strings.Cut(v, "=")
		if _, statErr := os.Stat(v); statErr == nil || !ok || name == "" || strings.ContainsAny(name, `/\`) {
			if shared != "" {
				return "", nil, configError(fmt.Sprintf("has two files for every model (%s, %s); name a model with NAME=FILE", shared, v), "rules")
			}
			shared = v
			continue
		}
		if own == nil {
			own = make(map[string]string)
		}
		if _, dup := own[name]; dup || file == "" {
			return "", nil, configError(fmt.Sprintf("%s: model %s needs exactly one file", v, name), "rules")
		}
		own[name] = file
	}
	return shared, own, nil
}
