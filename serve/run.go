package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leadscore/leadscore/store"
)

// Run serves cfg's store until ctx is done, then shuts down gracefully (Options.ShutdownDelay, then
// cfg.Drain for calls in flight), or until a listener fails. It logs to stderr (the address it
// listens on as "serve: listening"), writes a request log of "-" to stdout, and sets the process's
// GOGC and memory limit as cfg says. An invalid cfg is a *ConfigError; a store location of unknown
// scheme is store.ErrUnknownScheme.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, set := os.LookupEnv("GOGC"); !set && cfg.GCPercent != 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	memLimit, _ := cfg.memoryLimit() // checked by Validate
	if memLimit > 0 {
		debug.SetMemoryLimit(memLimit)
	}
	log, _ := NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	opts := Options{Logger: log, Strict: cfg.Strict, Lenient: cfg.Lenient, MaxBatch: cfg.MaxBatch, MaxConcurrent: cfg.MaxConcurrent,
		ShutdownDelay: cfg.ShutdownDelay, MaxConnectionAge: cfg.MaxConnectionAge, MaxResponseBytes: cfg.MaxResponseBytes,
		MaxBatchContacts: cfg.MaxBatchContacts, AuthTokenFile: cfg.AuthTokenFile}
	if cfg.RequestLog != "" {
		w := stdout
		if cfg.RequestLog != "-" {
			f, err := os.OpenFile(cfg.RequestLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
			if err != nil {
				return fmt.Errorf("serve: request log: %w", err)
			}
			defer f.Close()
			w = f
		}
		opts.RequestLog = slog.New(slog.NewJSONHandler(w, nil))
		opts.RequestLogSample, opts.RequestLogProperties = cfg.RequestLogSample, cfg.RequestLogProperties
	}
	if cfg.TLSCert != "" {
		tlsCfg, err := TLSConfig(cfg.TLSCert, cfg.TLSKey, cfg.ClientCA, log)
		if err != nil {
			return err
		}
		opts.TLS = tlsCfg
	}
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts.Metrics = promReg

	shared, own, _ := splitRules(cfg.Rules) // checked by Validate
	st, err := store.Open(ctx, cfg.Models, store.Options{CacheDir: cfg.CacheDir, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if dir := st.Dir(); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("serve: model store %s is not a directory", cfg.Models)
		}
	}
	reg, err := NewRegistry(st, RegistryOptions{
		Poll: cfg.Poll, RetireAfter: cfg.RetireAfter, RulesFile: shared, ModelRules: own, Logger: log, Metrics: promReg,
	})
	if err != nil {
		return err
	}
	if err := reg.Refresh(ctx); err != nil {
		return err
	}
	srv, err := New(reg, opts)
	if err != nil {
		return err
	}

	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	errc := make(chan error, 4)
	go func() { errc <- srv.Serve(lis) }()
	servers := 1
	// listen starts one more listener (what names it in an error, logged in the log), or shuts the
	// server down when it cannot.
	listen := func(what, logged, addr string, serve func(net.Listener) error) error {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			srv.Shutdown(0)
			return fmt.Errorf("serve: %s: %w", what, err)
		}
		servers++
		go func() { errc <- serve(l) }()
		log.Info("serve: "+logged, "addr", l.Addr().String())
		return nil
	}
	var metricsSrv *http.Server
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(promReg, promhttp.HandlerOpts{Registry: promReg}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		err := listen("metrics", "metrics", cfg.MetricsAddr, func(l net.Listener) error {
			if err := metricsSrv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if cfg.HealthAddr != "" {
		if err := listen("health", "health-only listener", cfg.HealthAddr, srv.ServeHealth); err != nil {
			return err
		}
	}
	if cfg.HTTPAddr != "" {
		if err := listen("REST", "REST/JSON", cfg.HTTPAddr, srv.ServeREST); err != nil {
			return err
		}
	}
	runCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go reg.Run(runCtx)
	log.Info("serve: listening", "addr", lis.Addr().String(), "models", st.Location(), "tls", opts.TLS != nil, "auth", cfg.AuthTokenFile != "", "memory_limit", memLimit)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		servers--
	}
	log.Info("serve: shutting down", "delay", cfg.ShutdownDelay, "drain", cfg.Drain)
	stopPoll()
	srv.Shutdown(cfg.Drain)
	if metricsSrv != nil { // metrics stay up while the server drains
		sctx, cancel := context.WithTimeout(context.Background(), cfg.Drain)
		_ = metricsSrv.Shutdown(sctx)
		cancel()
	}
	for ; servers > 0; servers-- {
		if err := <-errc; err != nil && serveErr == nil {
			serveErr = err
		}
	}
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}
