package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/leadscore/leadscore/serve"
	"github.com/leadscore/leadscore/store"
)

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	cfg := serve.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the models of a store over gRPC, reloading new versions and the rules file as they change",
		Args:  cobra.NoArgs,
		Long: `Serve the models of a store over gRPC (and REST/JSON with --http-addr), reloading new versions and
the rules file as they change.

Every flag can also be set by an environment variable: LEADSCORE_ and the flag's name in capitals with
_ for - (LEADSCORE_HTTP_ADDR=0.0.0.0:8080 for --http-addr). A flag on the command line wins.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd.Flags()); err != nil {
				return usageError{fmt.Errorf("serve: %w", err)}
			}
			err := serve.Run(cmd.Context(), cfg, stdout, stderr)
			var ce *serve.ConfigError
			switch {
			case errors.As(err, &ce):
				return usageError{errors.New(ce.Named("--"))}
			case errors.Is(err, store.ErrUnknownScheme):
				return usageError{fmt.Errorf("--models: %w", err)}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Models, "models", "", modelsFlagHelp+" (required)")
	f.StringVar(&cfg.CacheDir, "cache-dir", cfg.CacheDir, "keep verified model files from an object store here, so a restart does not download them again (\"\": no cache)")
	f.DurationVar(&cfg.RetireAfter, "retire-after", cfg.RetireAfter, "how long a model removed from the store keeps serving its last version before it is dropped")
	f.StringArrayVar(&cfg.Rules, "rules", cfg.Rules, "manual rules file (YAML) of every model, or NAME=FILE: the rules of model NAME only, checked against its properties; repeatable; reloaded when they change")
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "gRPC listen address")
	f.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "also serve the REST/JSON API (POST /v1/models/{model}:predict, /healthz, /readyz, /openapi.json) on ADDR, with the same TLS and token")
	f.DurationVar(&cfg.Poll, "poll", cfg.Poll, "how often to look for new model versions and rules (each wait within 20% of it)")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr, "serve Prometheus metrics on http://ADDR/metrics")
	f.StringVar(&cfg.HealthAddr, "health-addr", cfg.HealthAddr, "also serve gRPC health checks only, in plaintext and without a token, on ADDR")
	f.StringVar(&cfg.TLSCert, "tls-cert", cfg.TLSCert, "TLS certificate (PEM); with --tls-key")
	f.StringVar(&cfg.TLSKey, "tls-key", cfg.TLSKey, "TLS private key (PEM)")
	f.StringVar(&cfg.ClientCA, "client-ca", cfg.ClientCA, "require client certificates signed by this CA (mutual TLS)")
	f.StringVar(&cfg.AuthTokenFile, "auth-token-file", cfg.AuthTokenFile, "require \"authorization: Bearer <token>\" with a token in this file (one per line; reloaded when it changes)")
	f.BoolVar(&cfg.Strict, "strict", cfg.Strict, "reject contacts with properties neither the model nor the rules know")
	f.BoolVar(&cfg.Lenient, "lenient", cfg.Lenient, "score a contact that has none of the model's properties, with a warning (by default it is INVALID_ARGUMENT)")
	f.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", cfg.ShutdownDelay, "on SIGTERM, report health NOT_SERVING (and /readyz 503) and keep accepting calls this long before draining, so load balancers stop sending first")
	f.IntVar(&cfg.MaxBatch, "max-batch", cfg.MaxBatch, "most contacts in one PredictBatch")
	f.IntVar(&cfg.MaxConcurrent, "max-concurrent", cfg.MaxConcurrent, "most LeadScoring calls (and stream messages) in the server at once, counted from when their headers arrive; more are refused with RESOURCE_EXHAUSTED (-1: no limit)")
	f.DurationVar(&cfg.MaxConnectionAge, "max-connection-age", cfg.MaxConnectionAge, "ask clients to reconnect after a connection has lived this long (GOAWAY; calls in flight finish), so a load balancer can spread them over new replicas (0: never)")
	f.DurationVar(&cfg.Drain, "drain", cfg.Drain, "on shutdown, how long to let calls in flight finish")
	f.StringVar(&cfg.MemoryLimit, "memory-limit", cfg.MemoryLimit, "soft memory limit for the Go runtime (as GOMEMLIMIT), such as 512MiB or 2GiB; auto: 90% of the container's memory limit when there is one (GOMEMLIMIT, if set, is left alone); off: none")
	f.IntVar(&cfg.MaxBatchContacts, "max-batch-contacts", cfg.MaxBatchContacts, "most contacts of PredictBatch calls scored at once, summed over the calls; more wait (bounds the memory batches hold)")
	f.IntVar(&cfg.MaxResponseBytes, "max-response-bytes", cfg.MaxResponseBytes, "largest answer sent; a batch whose answer would be larger fails with RESOURCE_EXHAUSTED (clients set their receive limit to this)")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log format: text or json")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log level: debug, info, warn or error")
	f.StringVar(&cfg.RequestLog, "request-log", cfg.RequestLog, "write a JSON request log (model, version, label, code, latency, contact id) to FILE, or - for stdout")
	f.Float64Var(&cfg.RequestLogSample, "request-log-sample", cfg.RequestLogSample, "share of successful calls in the request log, evenly spread (failed calls are always logged)")
	f.BoolVar(&cfg.RequestLogProperties, "request-log-properties", cfg.RequestLogProperties, "also log the contact's property values in the request log (personal data: off by default)")
	f.IntVar(&cfg.GCPercent, "gc-percent", cfg.GCPercent, "garbage collector target percentage (as GOGC); ignored when GOGC is set")
	return cmd
}
